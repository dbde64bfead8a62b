"""A rebuild whose items did not change carries the previous records over in SQL
(`pipeline.build._carry_unchanged_records`); it must give exactly what the full path gives."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline import build
from tests.helpers import CATALOG_LIMIT

SOURCE = "udemy_kaggle_2017"


def _copy_home(built_home: Path, target: Path) -> Path:
    target.mkdir()
    for name in ("crawl.duckdb", "catalog.duckdb"):
        shutil.copyfile(built_home / name, target / name)
    return target


def _crawl_again(crawl_db: Path, change_price_of: str | None = None) -> object:
    """A new finished run of SOURCE an hour after its last, with the same items (one price changed)."""
    with duckdb.connect(str(crawl_db)) as con:
        (run_id, finished_at) = con.execute(
            "SELECT run_id, finished_at FROM crawl_runs WHERE source = ? AND status = 'finished' "
            "ORDER BY finished_at DESC LIMIT 1",
            [SOURCE],
        ).fetchone()
        later = finished_at + timedelta(hours=1)
        con.execute(
            "INSERT INTO crawl_runs SELECT * REPLACE ('again' AS run_id, ? AS started_at, ? AS finished_at) "
            "FROM crawl_runs WHERE run_id = ? AND source = ?",
            [later, later, run_id, SOURCE],
        )
        con.execute(
            "INSERT INTO crawl_items SELECT * REPLACE ('again' AS run_id) FROM crawl_items "
            "WHERE run_id = ? AND source = ?",
            [run_id, SOURCE],
        )
        if change_price_of:
            (item,) = con.execute(
                "SELECT item FROM crawl_items WHERE run_id = 'again' AND course_id = ?", [change_price_of]
            ).fetchone()
            raw = json.loads(item)
            raw["price"] = 123.45
            con.execute(
                "UPDATE crawl_items SET item = ? WHERE run_id = 'again' AND course_id = ?",
                [json.dumps(raw), change_price_of],
            )
    return later


def _tables(catalog_db: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(catalog_db), read_only=True) as con:
        return {
            "courses": con.execute("SELECT * FROM courses ORDER BY id").fetchall(),
            "course_records": con.execute("SELECT * FROM course_records ORDER BY id").fetchall(),
            "course_skills": con.execute("SELECT * FROM course_skills ORDER BY ALL").fetchall(),
            "offers": con.execute("SELECT * EXCLUDE (observed_at) FROM offers ORDER BY ALL").fetchall(),
        }


def _both_ways(built_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change=None):
    """Rebuild two copies of the built home, one as shipped and one forced down the full path."""
    reports, tables = {}, {}
    for way in ("carried", "full"):
        home = _copy_home(built_home, tmp_path / way)
        later = change(home / "crawl.duckdb") if change else None
        with monkeypatch.context() as patch:
            if way == "full":
                patch.setattr(build, "_carry_unchanged_records", lambda *args: False)
            reports[way] = build.build_catalog(home / "crawl.duckdb", home / "catalog.duckdb")
        tables[way] = _tables(home / "catalog.duckdb")
    return reports, tables, later


def _same_report(a: build.BuildReport, b: build.BuildReport) -> None:
    for name in ("courses", "active", "records", "new", "changed", "removed", "merged", "merged_pairs",
                 "ambiguous", "embedded", "skill_links", "per_source"):  # fmt: skip
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.slow
def test_an_unchanged_rebuild_carries_the_records_over_and_equals_the_full_path(built_home, tmp_path, monkeypatch):
    reports, tables, _ = _both_ways(built_home, tmp_path, monkeypatch)
    assert "carry_records" in reports["carried"].timings
    assert "normalise" not in reports["carried"].timings
    assert "normalise" in reports["full"].timings
    _same_report(reports["carried"], reports["full"])
    assert reports["carried"].per_source[SOURCE]["active"] == CATALOG_LIMIT
    assert tables["carried"] == tables["full"]
    assert len(tables["carried"]["course_records"]) == reports["carried"].records


@pytest.mark.slow
def test_a_new_crawl_of_the_same_items_moves_last_seen_and_nothing_else(built_home, tmp_path, monkeypatch):
    reports, tables, later = _both_ways(built_home, tmp_path, monkeypatch, change=_crawl_again)
    assert "carry_records" in reports["carried"].timings
    _same_report(reports["carried"], reports["full"])
    assert tables["carried"] == tables["full"]
    with duckdb.connect(str(tmp_path / "carried" / "catalog.duckdb"), read_only=True) as con:
        last_seen = dict(con.execute("SELECT id, last_seen FROM course_records").fetchall())
        course_last_seen = con.execute(
            "SELECT count(*) FROM courses WHERE source = ? AND last_seen = ?", [SOURCE, later]
        ).fetchone()[0]
    assert sum(seen == later for record_id, seen in last_seen.items() if record_id.startswith(SOURCE)) == CATALOG_LIMIT
    assert all(seen < later for record_id, seen in last_seen.items() if not record_id.startswith(SOURCE))
    assert course_last_seen == CATALOG_LIMIT  # no Udemy course is listed by another source


@pytest.mark.slow
def test_a_changed_item_takes_the_full_path(built_home, tmp_path, monkeypatch):
    with duckdb.connect(str(built_home / "crawl.duckdb"), read_only=True) as con:
        (course_id,) = con.execute(
            "SELECT course_id FROM crawl_items WHERE source = ? ORDER BY course_id LIMIT 1", [SOURCE]
        ).fetchone()
    home = _copy_home(built_home, tmp_path / "home")
    _crawl_again(home / "crawl.duckdb", change_price_of=course_id)
    report = build.build_catalog(home / "crawl.duckdb", home / "catalog.duckdb")
    assert "carry_records" not in report.timings
    assert "normalise" in report.timings
    assert report.changed == 1
    assert report.new == 0
    with duckdb.connect(str(home / "catalog.duckdb"), read_only=True) as con:
        assert con.execute("SELECT price FROM course_records WHERE id = ?", [course_id]).fetchone() == (123.45,)
