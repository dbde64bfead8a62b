"""What SKILLSTACK_HOME keeps (`pipeline.retention`): the next build's runs and a window of the last
N, on a real crawl.duckdb; reports, HTTP cache entries and interrupted downloads on real files."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from core.store import open_crawl_db
from pipeline.build import usable_runs
from pipeline.retention import prune_crawl_db, prune_http_cache, prune_reports, reap_partial_downloads

START = datetime(2026, 1, 1, 2, 30)


def _crawl(con: duckdb.DuckDBPyConnection, source: str, night: int, items: int, *, limit: int | None = None,
           status: str = "finished") -> str:  # fmt: skip
    run_id = f"{source}-{night:03d}"
    started = START + timedelta(days=night)
    stats = json.dumps({"skillstack/limit": limit} if limit else {})
    con.execute(
        "INSERT INTO crawl_runs (run_id, source, started_at, finished_at, status, items, errors, stats) "
        "VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
        [run_id, source, started, started + timedelta(minutes=5), status, items, stats],
    )
    con.execute(
        """
        INSERT INTO crawl_items (run_id, source, course_id, url, item, scraped_at)
        SELECT ?, ?, ? || '/' || i, 'https://example.org/' || i,
               json_object('id', ? || '/' || i, 'name', 'Course ' || i, 'description', repeat('words ', 200)), ?
        FROM range(?) t(i)
        """,
        [run_id, source, source, source, started, items],
    )
    return run_id


def _runs(crawl_db: Path) -> dict[str, int]:
    with duckdb.connect(str(crawl_db), read_only=True) as con:
        return dict(
            con.execute(
                "SELECT r.run_id, count(i.run_id) FROM crawl_runs r LEFT JOIN crawl_items i USING (run_id, source) "
                "GROUP BY r.run_id ORDER BY r.run_id"
            ).fetchall()
        )


def test_pruning_keeps_what_the_next_build_uses_and_the_window(tmp_path: Path):
    crawl_db = tmp_path / "crawl.duckdb"
    with open_crawl_db(crawl_db) as con:
        _crawl(con, "a", 0, 10, status="running")  # killed
        for night in range(1, 7):
            _crawl(con, "a", night, 10)
        # "b" has never been crawled completely: all its finished runs make its catalogue
        for night in range(1, 5):
            _crawl(con, "b", night, 10, limit=10)
        # "c" was complete long ago; every run since is limited, and adds to it
        _crawl(con, "c", 1, 10)
        for night in range(2, 6):
            _crawl(con, "c", night, 5, limit=5)
        before = usable_runs(con)

    pruned = prune_crawl_db(crawl_db, keep_runs=2)

    kept = _runs(crawl_db)
    assert sorted(kept) == [
        "a-005", "a-006",  # the window (the newest complete run is the only one a build uses)
        "b-001", "b-002", "b-003", "b-004",  # all used
        "c-001", "c-002", "c-003", "c-004", "c-005",  # all used
    ]  # fmt: skip
    assert pruned == {"runs": 5, "items": 50}
    with duckdb.connect(str(crawl_db), read_only=True) as con:
        assert usable_runs(con).equals(before)  # the next build reads exactly what it read before


def test_the_crawl_database_stops_growing_once_the_window_is_full(tmp_path: Path):
    crawl_db = tmp_path / "crawl.duckdb"
    sizes = []
    for night in range(24):
        with open_crawl_db(crawl_db) as con:
            for source in ("a", "b"):
                _crawl(con, source, night, 3000)
        prune_crawl_db(crawl_db, keep_runs=3)
        sizes.append(crawl_db.stat().st_size)
    assert len(_runs(crawl_db)) == 6
    # Deleted runs' blocks are reused by the next nights' items: once the window (3 nights) has filled,
    # the file moves within the range it reached (9-13 MB here, over 40 nights), never beyond it.
    assert max(sizes[12:]) <= 1.1 * max(sizes[4:12]), sizes


def test_reports_keep_the_last_n_nightlies(tmp_path: Path):
    for night in range(20):
        stem = tmp_path / f"nightly-2026-01-{night + 1:02d}T023000Z"
        stem.with_suffix(".json").write_text("{}")
        stem.with_suffix(".txt").write_text("")
    assert prune_reports(tmp_path, 5) == 30
    assert sorted(p.name for p in tmp_path.iterdir())[:2] == ["nightly-2026-01-16T023000Z.json",
                                                              "nightly-2026-01-16T023000Z.txt"]  # fmt: skip
    assert len(list(tmp_path.iterdir())) == 10
    assert prune_reports(tmp_path, 0) == 10


def test_http_cache_entries_not_written_in_the_window_are_deleted(tmp_path: Path):
    now = time.time()
    entries = {}
    for name, age_days in (("aa/aa01", 1), ("aa/aa02", 20), ("bb/bb01", 30)):
        entry = tmp_path / "udemy_pages" / name
        entry.mkdir(parents=True)
        for part in ("meta", "response_body"):
            (entry / part).write_bytes(b"x")
            os.utime(entry / part, (now - age_days * 86400,) * 2)
        entries[name] = entry
    assert prune_http_cache(tmp_path, keep_days=14, now=now) == 2
    assert entries["aa/aa01"].is_dir()
    assert not entries["aa/aa02"].exists()
    assert not (tmp_path / "udemy_pages" / "bb").exists()  # its prefix folder, left empty, too


def test_interrupted_downloads_are_reaped(tmp_path: Path):
    done = tmp_path / "db_29_2_text.zip"
    done.write_bytes(b"zip")
    left = [tmp_path / ".db_29_2_text.zip.k2j3h4.part", tmp_path / "db_29_2_text" / ".Task Statements.txt.x9.part"]
    for path in left:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"half")
    assert sorted(reap_partial_downloads(tmp_path)) == sorted(left)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["db_29_2_text.zip"]
