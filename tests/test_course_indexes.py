"""The course indexes kept beside the catalogue (`recommender.index_cache.course_indexes`), on real catalogues.

The first open of a build builds them and keeps them in `cache/`; later opens read them and answer
exactly as a cold build does; a new build (a new `built_at`) is never served the old ones; a damaged
directory is rebuilt with a warning.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from recommender import course_side, index_cache
from recommender.api import Filters
from recommender.engine import Engine
from tests.helpers import run_skillstack

GOALS = ("data analyst", "I want to build websites", "project manager")
# No pickle: numbers in .npy/.npz, the course frame in Parquet, the rest JSON.
KEPT_FILES = {"vectors.npy", "courses.parquet", "arrays", "state.json"}


def _copy_home(built_home: Path, home: Path) -> Path:
    home.mkdir()
    for name in ("catalog.duckdb", "crawl.duckdb"):
        shutil.copy2(built_home / name, home / name)
    return home / "catalog.duckdb"


def _kept(home: Path) -> list[Path]:
    return sorted((home / "cache").glob("course-indexes-*"))


def _answers(eng: Engine) -> list:
    """What a user sees for a few goals: the ranked results (scores, skills, evidence) and the stack."""
    answers = []
    for goal in GOALS:
        [occupation] = eng.resolve_goal(goal, k=1)
        required = eng.required_skills(occupation.uri)
        ranking = eng.rank(goal, occupation, required, Filters(), k=10)
        answers.append((ranking.results, eng.stack(ranking, required), ranking.scores.tolist()))
    return answers


def _no_build(*_args):
    raise AssertionError("the course indexes were built again instead of read")


@pytest.mark.slow
def test_a_second_open_reads_the_kept_indexes_and_answers_as_a_cold_build(
    built_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    catalog = _copy_home(built_home, tmp_path / "home")
    cold = Engine.open(catalog)
    [kept] = _kept(tmp_path / "home")
    assert {p.name for p in kept.iterdir()} == KEPT_FILES

    with monkeypatch.context() as patched:
        patched.setattr(course_side, "build_course_indexes", _no_build)
        warm = Engine.open(catalog)
    assert _kept(tmp_path / "home") == [kept]
    # The vectors are mapped read-only from the kept file: several processes share one copy.
    assert not warm.course_matrix.flags.writeable

    pd.testing.assert_frame_equal(warm.courses, cold.courses)
    assert np.array_equal(warm.course_matrix, cold.course_matrix)
    assert (warm.links != cold.links).nnz == 0
    assert np.array_equal(warm.prior, cold.prior)
    assert warm.course_row == cold.course_row
    assert _answers(warm) == _answers(cold)
    # Evidence is still there for the results, read from the kept indexes: a real declared tag or sentence.
    evidence = [e for results, _stack, _scores in _answers(warm) for r in results for e in r["evidence"]]
    assert evidence
    assert all(e.startswith(("declared", "title", "description")) for e in evidence), evidence[:5]

    # And each link's evidence is the catalogue's own.
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        links = con.execute("SELECT course_id, skill_uri, evidence FROM course_skills").fetchall()
    finally:
        con.close()
    for course_id, skill_uri, text in links[:: max(1, len(links) // 500)]:
        row, col = warm.course_row[course_id], warm.skill_index[skill_uri]
        start, end = warm.links.indptr[row], warm.links.indptr[row + 1]
        [entry] = np.flatnonzero(warm.links.indices[start:end] == col) + start
        assert warm.evidence_texts[warm.link_evidence[entry]] == text


@pytest.mark.slow
def test_a_republished_catalogue_is_never_served_the_old_indexes(built_home: Path, tmp_path: Path):
    home = tmp_path / "home"
    catalog = _copy_home(built_home, home)
    Engine.open(catalog)
    [first] = _kept(home)

    # A publish as `build` does it: a new file, with a new build time, renamed over the catalogue.
    staging = catalog.with_name(".catalog.duckdb.test.building")
    shutil.copy2(catalog, staging)
    con = duckdb.connect(str(staging))
    try:
        [course_id] = con.execute("SELECT min(id) FROM courses WHERE status = 'active'").fetchone()
        con.execute("UPDATE courses SET name = 'Renamed by the next build' WHERE id = ?", [course_id])
        con.execute("UPDATE catalog_meta SET value = '2099-01-01T00:00:00' WHERE key = 'built_at'")
    finally:
        con.close()
    os.replace(staging, catalog)

    republished = Engine.open(catalog)
    assert republished.courses.loc[republished.course_row[course_id], "name"] == "Renamed by the next build"
    [second] = _kept(home)
    assert second != first  # the old build's indexes are gone, the new one's kept

    # A real build publishes a new build time, so a new key, even when nothing changed. (Its items
    # are unchanged, so it carries the records over, the in-place rename included: see
    # `pipeline.build._carry_unchanged_records`.)
    run_skillstack(home, "build")
    rebuilt = Engine.open(catalog)
    [third] = _kept(home)
    assert third not in (first, second)
    assert rebuilt.meta["built_at"] not in (republished.meta["built_at"], "2099-01-01T00:00:00")


@pytest.mark.slow
@pytest.mark.parametrize("damaged", ["state.json", "vectors.npy", "courses.parquet"])
def test_a_damaged_kept_index_is_rebuilt_with_a_warning_never_an_error(
    built_home: Path, tmp_path: Path, damaged: str, caplog: pytest.LogCaptureFixture
):
    catalog = _copy_home(built_home, tmp_path / "home")
    first = Engine.open(catalog)
    [kept] = _kept(tmp_path / "home")
    target = kept / damaged
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 3])  # a truncated write

    with caplog.at_level(logging.WARNING, logger="recommender.index_cache"):
        repaired = Engine.open(catalog)
    assert "rebuilding the course indexes" in caplog.text
    assert _answers(repaired) == _answers(first)

    # The rebuilt directory replaced the damaged one and is read from now on.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="recommender.index_cache"):
        again = Engine.open(catalog)
    assert "rebuilding" not in caplog.text
    assert _kept(tmp_path / "home") == [kept]
    assert _answers(again) == _answers(first)
    assert not list((tmp_path / "home" / "cache").glob(".course-indexes-*"))  # no staging left behind


@pytest.mark.slow
def test_indexes_built_from_a_catalogue_replaced_meanwhile_are_served_but_not_kept(
    built_home: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    home = tmp_path / "home"
    catalog = _copy_home(built_home, home)
    opened = index_cache.file_identity(catalog)
    con = Engine.connect(catalog)
    try:
        # The next build publishes over the catalogue while this process is still building its indexes.
        staging = catalog.with_name(".catalog.duckdb.test.building")
        shutil.copy2(catalog, staging)
        os.replace(staging, catalog)
        with caplog.at_level(logging.INFO, logger="recommender.index_cache"):
            stale = Engine._load(con, catalog, opened)
    finally:
        con.close()

    [occupation] = stale.resolve_goal("welder", k=1)
    assert occupation.label == "welder"  # served all the same
    assert not (home / "cache").exists() or not any((home / "cache").iterdir())
    assert f"not keeping the taxonomy indexes: {catalog} was replaced" in caplog.text
    assert f"not keeping the course indexes: {catalog} was replaced" in caplog.text

    # The reader of the new file keeps both, as any first open does.
    Engine.open(catalog)
    assert len(_kept(home)) == 1
    assert len(list((home / "cache").glob("taxonomy-indexes-*"))) == 1
