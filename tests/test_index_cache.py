"""The index cache's files cannot run code when read: a codec test on real objects, and files
crafted the way someone with write access to `cache/` would craft them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from recommender import index_cache
from recommender.lexical import Bm25Index

TEXTS = ["SQL for data analysis", "Excel pivot tables", "Python, pandas and SQL", "Welding basics"]


def test_objects_round_trip_without_pickle(tmp_path: Path):
    index = Bm25Index(TEXTS)
    links = sparse.random(40, 300, density=0.05, format="csr", dtype=np.float32, random_state=1)
    values = {
        "lexical": index,
        "links": links,
        "lexicon": {("data", "analysis"): (1, 2), ("sql",): (3,)},
        "words": {"sql", "excel"},
        "small": np.arange(5, dtype=np.int64),
        "large": np.linspace(0, 1, 1000, dtype=np.float32),
        "labels": ["ä", "b"],
    }
    index_cache._write_state(tmp_path, values)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays", "state.json"]
    state, _arrays = index_cache._read_state(tmp_path)

    read = state["lexical"]
    assert type(read) is Bm25Index
    for query in ("SQL", "pivot tables excel", "nothing here"):
        assert np.array_equal(read.scores(query), index.scores(query))
    assert (state["links"] != links).nnz == 0
    assert state["links"].format == "csr"
    assert state["lexicon"] == values["lexicon"]
    assert state["words"] == values["words"]
    assert np.array_equal(state["small"], values["small"])
    assert state["small"].dtype == np.int64
    assert np.array_equal(state["large"], values["large"])
    assert state["labels"] == ["ä", "b"]


def test_a_class_off_the_allowed_list_is_refused_when_written_and_when_read(tmp_path: Path):
    with pytest.raises(TypeError, match="not a type the index cache keeps"):
        index_cache._write_state(tmp_path, {"x": Path("/")})

    marker = tmp_path / "ran"
    # What a pickle would do on load, spelt in the cache's JSON: it names a class and its state.
    index_cache._write_state(tmp_path, {"x": 1})
    (tmp_path / "state.json").write_text(
        json.dumps({"$dict": {"x": {"$object": "subprocess.Popen", "state": {"$dict": {"args": f"touch {marker}"}}}}})
    )
    with pytest.raises(ValueError, match="'subprocess.Popen' is not a type the index cache keeps"):
        index_cache._read_state(tmp_path)
    assert not marker.exists()


def test_an_array_file_holding_a_pickle_is_refused(tmp_path: Path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (subprocess.call, (["touch", str(marker)],))

    index_cache._write_state(tmp_path, {"x": np.zeros(1000)})
    # An object array is stored as a pickle inside the .npy: np.load(allow_pickle=False) refuses it
    # (memory-mapped, it says that Python objects cannot be mapped) before anything is unpickled.
    np.save(tmp_path / "arrays" / "a0.npy", np.array([Payload(), 1], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle|Python objects"):
        index_cache._read_state(tmp_path)
    assert not marker.exists()


def test_staging_directories_of_dead_writers_are_reaped_and_a_live_writers_kept(tmp_path: Path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=60)
    cache = tmp_path / "cache"
    left = [
        cache / f".taxonomy-indexes-abc.{dead.pid}",
        cache / f".course-indexes-def.{dead.pid}",
        cache / f".course-indexes-old.{dead.pid}.removed",
    ]
    live = cache / f".taxonomy-indexes-ghi.{index_cache.os.getppid()}"
    for directory in (*left, live):
        directory.mkdir(parents=True)
        (directory / "state.json").write_text("{}")
    assert sorted(index_cache.reap_staging(cache)) == sorted(left)
    assert [p.name for p in cache.iterdir()] == [live.name]


def test_the_kept_bm25_index_analyses_queries_as_scikit_learn_does_without_it():
    from sklearn.feature_extraction.text import CountVectorizer

    index = Bm25Index(TEXTS)
    fitted = CountVectorizer(lowercase=True, stop_words="english", token_pattern=index.token_pattern).fit(TEXTS)
    analyse = fitted.build_analyzer()
    for query in ("SQL for Data-Analysis!", "C++ and C# .NET", "Ünïcode café, naïve", "the and of", "AWS S3 v2.0"):
        assert index.analyse(query) == analyse(query)
    assert index.vocabulary == fitted.vocabulary_
    assert "vectorizer" not in vars(index)  # nothing of scikit-learn's is kept


def test_arrays_are_read_mapped_and_a_reader_changing_one_changes_only_its_own_copy(tmp_path: Path):
    index_cache._write_state(tmp_path, {"large": np.arange(1000, dtype=np.float32)})
    assert [p.name for p in (tmp_path / "arrays").iterdir()] == ["a0.npy"]
    first, _ = index_cache._read_state(tmp_path)
    assert type(first["large"]) is np.ndarray
    assert first["large"][999] == 999.0
    first["large"][:10] = -1.0
    again, _ = index_cache._read_state(tmp_path)
    assert again["large"][:3].tolist() == [0.0, 1.0, 2.0]
