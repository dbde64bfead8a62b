"""The goal memo (recommender.goal_memo) changes how fast an answer comes, never the answer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import embed
from recommender.goal_memo import GoalMemo, Remembered, memo_key
from recommender.goals import OccupationHit

REPO_ROOT = Path(__file__).resolve().parents[1]

META = {"built_at": "2026-12-05T10:16:34", "records": "2d29f0ed7364b9ab"}
GOALS = ("I want to become a data analyst", "welder", "protect companies from hackers", "ux desinger", "nurse")


def _remembered(seed: int) -> Remembered:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(3, embed.DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return Remembered(
        (OccupationHit("http://data.europa.eu/esco/occupation/x", "data analyst", 0.7432119846343994),),
        {"data analyst": vectors[0], "statistician": vectors[1]},
        "en",
        {"http://data.europa.eu/esco/occupation/x": vectors[2]},
    )


def test_an_entry_reads_back_bit_for_bit(tmp_path: Path):
    memo = GoalMemo.for_catalog(tmp_path / "catalog.duckdb", META)
    kept = _remembered(1)
    assert memo.read("data analyst", 5) is None
    memo.write("data analyst", 5, kept)

    read = memo.read("data analyst", 5)
    assert read is not None
    assert read.occupations == kept.occupations  # the exact floats
    assert read.language == "en"
    for text, vector in kept.vectors.items():
        assert read.vectors[text].dtype == np.float32
        assert read.vectors[text].tobytes() == vector.tobytes()
    [(uri, vector)] = kept.occupation_vectors.items()
    assert read.occupation_vectors[uri].tobytes() == vector.tobytes()
    assert memo.read("data analyst", 3) is None  # another k is another resolution
    assert memo.read("Data analyst", 5) is None


def test_a_new_build_or_model_starts_an_empty_memo_and_the_old_one_goes(tmp_path: Path, monkeypatch):
    catalog = tmp_path / "catalog.duckdb"
    GoalMemo.for_catalog(catalog, META).write("welder", 5, _remembered(2))
    rebuilt = GoalMemo.for_catalog(catalog, {**META, "built_at": "2026-12-06T02:00:00"})
    assert rebuilt.directory != GoalMemo.for_catalog(catalog, META).directory
    assert rebuilt.read("welder", 5) is None
    rebuilt.write("nurse", 5, _remembered(3))
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [rebuilt.directory.name]

    monkeypatch.setenv("SKILLSTACK_MODEL_VARIANT", "fp32")
    fp32 = memo_key(META)
    monkeypatch.setenv("SKILLSTACK_MODEL_VARIANT", "bf16")
    assert memo_key(META) != fp32


def test_a_damaged_entry_is_a_miss_and_the_memo_can_be_turned_off(tmp_path: Path, monkeypatch):
    memo = GoalMemo.for_catalog(tmp_path / "catalog.duckdb", META)
    memo.write("welder", 5, _remembered(4))
    [entry] = memo.directory.glob("*.json")
    data = json.loads(entry.read_text())
    data["vectors"]["data analyst"] = data["vectors"]["data analyst"][:100]  # a cut vector
    entry.write_text(json.dumps(data))
    assert memo.read("welder", 5) is None
    entry.write_text("{not json")
    assert memo.read("welder", 5) is None

    monkeypatch.setenv("SKILLSTACK_GOAL_MEMO", "off")
    off = GoalMemo.for_catalog(tmp_path / "catalog.duckdb", META)
    assert not off.enabled
    off.write("nurse", 5, _remembered(5))
    assert off.read("nurse", 5) is None


def test_the_recommend_path_imports_no_model_crawler_dashboard_or_scikit_learn():
    code = (
        "import sys; import skillstack.cli, recommender.api, recommender.engine; "
        "print(sorted(m for m in ('torch', 'sklearn', 'scrapy', 'streamlit') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_answer_is_the_same_with_and_without_the_goal_memo(built_home: Path, tmp_path: Path):
    """Each goal answered by a process with the memo off, then by one that fills the memo and one
    that reads it (no model, no resolver): the same JSON, byte for byte."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy2(built_home / "catalog.duckdb", home / "catalog.duckdb")
    goals = tmp_path / "goals.txt"
    goals.write_text("\n".join(GOALS) + "\n")

    def answers(**env: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "skillstack.cli", "recommend", "--goals-file", str(goals), "--json"],
            cwd=REPO_ROOT, capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "SKILLSTACK_HOME": str(home), **env},
        )  # fmt: skip
        return done.stdout

    without = answers(SKILLSTACK_GOAL_MEMO="off")
    filled = answers()
    assert len(list((home / "cache").glob("goal-memo-*/*.json"))) == len(GOALS)
    read = answers()
    assert [json.loads(line)["goal"] for line in without.splitlines()] == list(GOALS)
    assert filled == without
    assert read == without


@pytest.mark.slow
def test_an_engine_never_reads_its_lazy_parts_from_a_catalogue_published_over_it(built_home: Path, tmp_path: Path):
    from recommender.engine import Engine
    from recommender.errors import CatalogReplacedError

    path = tmp_path / "catalog.duckdb"
    shutil.copy(built_home / "catalog.duckdb", path)
    engine = Engine.open(path, lazy_taxonomy=True)
    assert engine.taxonomy is None  # read at first use
    newer = tmp_path / "newer.duckdb"
    shutil.copy(path, newer)
    os.replace(newer, path)  # what a publish does: a new file renamed over the old one
    with pytest.raises(CatalogReplacedError, match="was replaced or removed since it was opened"):
        engine.resolve_goal("data analyst")
    with pytest.raises(CatalogReplacedError):
        engine.normalise_have(["SQL"])
    path.unlink()
    with pytest.raises(CatalogReplacedError):
        _ = engine.goals
    # A fresh engine on the current file reads them.
    shutil.copy(built_home / "catalog.duckdb", path)
    assert Engine.open(path, lazy_taxonomy=True).resolve_goal("data analyst")[0].label == "data analyst"


def test_the_cli_can_tell_a_remembered_goal_before_opening_the_catalogue(tmp_path: Path, monkeypatch):
    from recommender.goal_memo import holds_any

    catalog = tmp_path / "catalog.duckdb"
    assert not holds_any(catalog, ["data analyst"], 5)  # no cache folder yet
    GoalMemo.for_catalog(catalog, META).write("data analyst", 5, _remembered(4))
    assert holds_any(catalog, ["--free", "20", "data analyst"], 5)
    assert not holds_any(catalog, ["data analyst"], 3)
    assert not holds_any(catalog, ["Data analyst", "welder"], 5)
    monkeypatch.setenv("SKILLSTACK_GOAL_MEMO", "off")
    assert not holds_any(catalog, ["data analyst"], 5)
