"""The model's bf16 form against fp32 on real course texts, and catalogues keyed by the variant.

The bf16 form is what builds and queries use on this project's machines (`settings.model_variant`);
its vectors must stay interchangeable in quality with fp32's, and a catalogue must never hold or
compare vectors of two forms.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from core import embed, skill_extract
from crawlers.spiders.coursera_skills_2024 import CourseraSkills2024Spider
from crawlers.spiders.edx_kaggle_2020 import EdxKaggle2020Spider
from pipeline.skills import CourseDocument
from skillstack import progress, settings
from skillstack.settings import mirror_file_for
from tests.helpers import MIRROR_DIR, run_skillstack

REPOSITORY = Path(__file__).resolve().parents[1]

MIN_COSINE = 0.99


@pytest.fixture(scope="module")
def titles() -> list[str]:
    """300 real Coursera titles of the 2024 dataset capture (accented ones included)."""
    frame = pd.read_csv(mirror_file_for(CourseraSkills2024Spider.start_urls[0], MIRROR_DIR), dtype=str)
    return frame["Title"].dropna().drop_duplicates().head(300).tolist()


@pytest.fixture(scope="module")
def edx() -> pd.DataFrame:
    return pd.read_csv(mirror_file_for(EdxKaggle2020Spider.start_urls[0], MIRROR_DIR), dtype=str)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


@pytest.mark.slow
def test_bf16_vectors_agree_with_fp32_on_real_titles(titles):
    fp32 = embed.encode(titles, variant="fp32")
    bf16 = embed.encode(titles, variant="bf16")
    assert bf16.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    cosines = _cosines(fp32, bf16)
    assert cosines.min() >= MIN_COSINE
    assert cosines.mean() >= 0.999
    # Two different titles stay further apart than one title in its two forms.
    assert _cosines(fp32[:-1], fp32[1:]).max() < cosines.min()


@pytest.mark.slow
def test_bf16_document_pass_agrees_with_fp32(edx):
    """The build's pass: document vectors and the segment and span vectors the skill extractor reads."""
    documents = [
        CourseDocument.of(f"edx-{i}", row.title, None, row.course_description)
        for i, row in enumerate(edx.head(40).itertuples())
    ]
    texts = [document.text for document in documents]
    segments = [[where for _, _, where in document.segments] for document in documents]
    read = {}
    for variant in ("fp32", "bf16"):
        # read_documents runs the configured variant, as the build does.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SKILLSTACK_MODEL_VARIANT", variant)
            batches = list(skill_extract.read_documents(texts, segments))
        read[variant] = {i: (v, s) for b in batches for i, v, s in zip(b.indices, b.vectors, b.segments, strict=True)}
    assert len(read["bf16"]) == len(texts)
    spans = 0
    for index in range(len(texts)):
        (fp32_vector, fp32_segments), (bf16_vector, bf16_segments) = read["fp32"][index], read["bf16"][index]
        assert float(fp32_vector @ bf16_vector) >= MIN_COSINE
        assert [s is None for s in fp32_segments] == [s is None for s in bf16_segments]
        for mine, theirs in zip(fp32_segments, bf16_segments, strict=True):
            if mine is not None:
                assert float(mine[0] @ theirs[0]) >= MIN_COSINE
                assert mine[1].shape == theirs[1].shape
                assert _cosines(mine[1], theirs[1]).min() >= 0.98  # a one-word span averages one or two tokens
                spans += len(mine[1])
    assert spans > 1000


def test_each_variant_has_its_own_model_key(monkeypatch):
    keys = {variant: embed.model_key(variant) for variant in settings.MODEL_VARIANTS}
    assert keys["fp32"] == "all-MiniLM-L6-v2@128"  # catalogues made before variants existed stay valid
    assert len(set(keys.values())) == len(keys)
    for variant in settings.MODEL_VARIANTS:
        monkeypatch.setenv("SKILLSTACK_MODEL_VARIANT", variant)
        assert keys[variant] == embed.MODEL_KEY
    monkeypatch.setenv("SKILLSTACK_MODEL_VARIANT", "int4")
    with pytest.raises(ValueError, match="SKILLSTACK_MODEL_VARIANT"):
        settings.model_variant()


@pytest.mark.slow
def test_queries_are_remembered_per_variant(monkeypatch):
    monkeypatch.setenv("SKILLSTACK_MODEL_VARIANT", "fp32")
    fp32 = embed.encode_queries(["data analyst"])
    monkeypatch.setenv("SKILLSTACK_MODEL_VARIANT", "bf16")
    bf16 = embed.encode_queries(["data analyst"])
    np.testing.assert_array_equal(bf16, embed.encode(["data analyst"], variant="bf16"))
    assert not np.array_equal(fp32, bf16)


@pytest.mark.slow
def test_the_bf16_form_is_made_from_the_package_files_alone(tmp_path):
    """Loading and running it opens no socket, reads model files only from the installed package, and writes none."""
    script = (
        "import sys, json\n"
        "events = []\n"
        "def hook(event, args):\n"
        "    if event.startswith('socket.'):\n"
        "        events.append([event, str(args[:1]), ''])\n"
        "    elif event == 'open' and isinstance(args[0], str):\n"
        "        events.append([event, args[0], str(args[1] or '')])\n"
        "sys.addaudithook(hook)\n"
        "import safetensors.torch\n"
        "read_weights = safetensors.torch.load_file\n"  # safetensors opens its file in Rust: no audit event
        "def load_file(path, *args, **kwargs):\n"
        "    events.append(['open', str(path), 'r'])\n"
        "    return read_weights(path, *args, **kwargs)\n"
        "safetensors.torch.load_file = load_file\n"
        "from core import embed\n"
        "vector = embed.encode(['data analyst'], variant='bf16')\n"
        "assert vector.shape == (1, 384)\n"
        "print(json.dumps(events))\n"
    )
    env = {key: value for key, value in __import__("os").environ.items() if not key.startswith("SKILLSTACK_")}
    env.update(SKILLSTACK_HOME=str(tmp_path), HF_HUB_OFFLINE="1", PYTHONPATH=str(REPOSITORY))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=300, check=True
    )
    events = json.loads(result.stdout.strip().splitlines()[-1])
    assert not [e for e in events if e[0].startswith("socket.")]
    package = str(settings.embedding_model_path().resolve())
    model_files = [path for event, path, _ in events if event == "open" and Path(path).suffix in
                   {".json", ".safetensors", ".onnx", ".bin", ".pt"} and "site-packages/torch" not in path]  # fmt: skip
    assert {Path(path).name for path in model_files} >= {"model.safetensors", "config.json", "tokenizer.json"}
    assert all(str(Path(path).resolve()).startswith(package) for path in model_files)
    written = [path for event, path, mode in events if event == "open" and any(m in mode for m in "wax+")]
    assert not [path for path in written if not path.startswith(("/dev/", "/proc/"))]
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- catalogues keyed by the variant


@pytest.fixture(scope="module")
def small_crawl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with 40 real Coursera items crawled from the mirror and no taxonomy: a build embeds courses only."""
    home = tmp_path_factory.mktemp("variant_home")
    run_skillstack(home, "crawl", "coursera_skills_2024", "--limit", "40")
    return home


@pytest.mark.slow
def test_a_change_of_variant_embeds_every_course_again(small_crawl, tmp_path, monkeypatch):
    from pipeline import build

    catalog = tmp_path / "catalog.duckdb"
    monkeypatch.setenv("SKILLSTACK_MODEL_VARIANT", "fp32")
    first = build.build_catalog(small_crawl / "crawl.duckdb", catalog)
    assert first.embedded >= 30
    again = build.build_catalog(small_crawl / "crawl.duckdb", catalog)
    assert again.embedded == 0
    with duckdb.connect(str(catalog), read_only=True) as con:
        fp32 = dict(con.execute("SELECT content_hash, vector FROM course_embeddings").fetchall())
        meta = dict(con.execute("SELECT key, value FROM catalog_meta").fetchall())
    assert (meta["model"], meta["model_variant"]) == ("all-MiniLM-L6-v2@128", "fp32")

    monkeypatch.setenv("SKILLSTACK_MODEL_VARIANT", "bf16")
    switched = build.build_catalog(small_crawl / "crawl.duckdb", catalog)
    assert switched.embedded == first.embedded
    with duckdb.connect(str(catalog), read_only=True) as con:
        models = con.execute("SELECT DISTINCT model FROM course_embeddings").fetchall()
        bf16 = dict(con.execute("SELECT content_hash, vector FROM course_embeddings").fetchall())
        meta = dict(con.execute("SELECT key, value FROM catalog_meta").fetchall())
    assert models == [(embed.model_key("bf16"),)]  # the fp32 vectors are gone, not mixed in
    assert (meta["model"], meta["model_variant"]) == (embed.model_key("bf16"), "bf16")
    assert bf16.keys() == fp32.keys()
    assert min(float(np.dot(fp32[h], bf16[h])) for h in fp32) >= MIN_COSINE


@pytest.mark.slow
def test_bench_encode_times_both_variants_on_the_same_texts(small_crawl, monkeypatch):
    from bench.scale import encode_rate

    monkeypatch.setenv("SKILLSTACK_MODEL_VARIANT", "bf16")
    figures = encode_rate(small_crawl, 40, chunk=10)
    assert figures["texts"] == 40
    assert figures["variant"] == "bf16"
    assert set(figures["variants"]) == {"fp32", "bf16"}
    assert figures["texts_per_s"] == figures["variants"]["bf16"]["texts_per_s"]
    assert figures["variants"]["bf16"]["cosine_to_fp32"]["min"] >= MIN_COSINE
    assert figures["variants"]["bf16"]["speedup_over_fp32"] > 0


def test_progress_goes_to_log_lines_off_a_terminal(monkeypatch, caplog):
    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)
    with (
        caplog.at_level(logging.INFO, logger="skillstack.progress"),
        progress.progress_bar(1000, "embedding taxonomy", unit="texts") as bar,
    ):
        for _ in range(4):
            bar.update(250)
    lines = [record.getMessage() for record in caplog.records if record.name == "skillstack.progress"]
    assert lines[-1].startswith("embedding taxonomy: 100% 1000/1000")
    assert "texts/s" in lines[-1]
    assert "<" in lines[0]  # an ETA while running
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="skillstack.progress"), progress.progress_bar(8, "a query") as bar:
        bar.update(8)
    assert not caplog.records  # short calls stay quiet
