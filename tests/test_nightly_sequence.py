"""A run of nightlies as cron makes them, with a source served empty every third night.

On a copy of the session's catalogue and a copy of part of the mirror (the Udemy and edX datasets,
each cut to its first 30 courses), `skillstack nightly` runs again and again; every third night the
Udemy dataset is only its CSV header, as a host serving an emptied file does. Every night must
publish, never mark removed a course its source still lists, and the home must stop growing once
the retention window (`SKILLSTACK_RETENTION`, 3 here) is full. `NIGHTLY_SEQUENCE_RUNS=10` makes it
ten nights (the figure in docs/fault-matrix.md); `-s` prints the sizes night by night.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.helpers import MIRROR_DIR, copy_home
from tests.test_crash_safety import EDX_CSV, UDEMY_CSV, first_rows

RUNS = int(os.environ.get("NIGHTLY_SEQUENCE_RUNS", "7"))
RETENTION = 3
COURSES = 30
SOURCES = {"udemy_kaggle_2017": UDEMY_CSV, "edx_kaggle_2020": EDX_CSV}
SIZED = ("crawl.duckdb", "catalog.duckdb", "httpcache", "reports", "cache", "downloads", "total")


def nightly(home: Path, mirror: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SKILLSTACK_HOME": str(home),
        "SKILLSTACK_MIRROR": str(mirror),
        "SKILLSTACK_RETENTION": str(RETENTION),
        "HF_HUB_OFFLINE": "1",
    }
    args = [arg for source in SOURCES for arg in ("--source", source)]
    return subprocess.run(
        [sys.executable, "-m", "skillstack.cli", "nightly", *args, *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )


def records(home: Path) -> dict[str, dict[str, set[str]]]:
    """Per source, the record ids by status in the published catalogue."""
    con = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT source, status, list(id) FROM course_records WHERE source IN (SELECT unnest(?)) GROUP BY ALL",
            [list(SOURCES)],
        ).fetchall()
    finally:
        con.close()
    found: dict[str, dict[str, set[str]]] = {source: {"active": set(), "removed": set()} for source in SOURCES}
    for source, status, ids in rows:
        found[source][status] = set(ids)
    return found


@pytest.mark.slow
def test_nightlies_with_a_source_emptied_every_third_night(built_home: Path, tmp_path: Path):
    mirror = tmp_path / "mirror"
    for path in SOURCES.values():
        (mirror / path).parent.mkdir(parents=True, exist_ok=True)
        (mirror / path).write_text(first_rows(MIRROR_DIR / path, COURSES), encoding="utf-8")
    udemy = mirror / UDEMY_CSV
    whole, header_only = udemy.read_text(encoding="utf-8"), udemy.read_text(encoding="utf-8").splitlines()[0] + "\n"
    home = copy_home(built_home, tmp_path / "home")

    # The night the providers trimmed their catalogues to 30 courses: more than half of each source
    # goes, which a nightly holds back until someone says it is real.
    setup = nightly(home, mirror, "--allow-mass-removal")
    assert setup.returncode == 0, setup.stderr[-3000:]
    trimmed = records(home)
    assert all(0 < len(trimmed[source]["active"]) <= COURSES for source in SOURCES), trimmed

    nights = []
    for night in range(1, RUNS + 1):
        emptied = night % 3 == 0
        udemy.write_text(header_only if emptied else whole, encoding="utf-8")
        result = nightly(home, mirror)
        [report] = [json.loads(p.read_text()) for p in sorted((home / "reports").glob("*.json"))][-1:]
        nights.append({"night": night, "emptied": emptied, "exit": result.returncode, **report["sizes"]})

        assert report["published"] is True, result.stdout
        if emptied:
            assert result.returncode == 3, result.stderr[-3000:]
            assert report["failures"] == [
                "udemy_kaggle_2017: no_items (read to the end and found not one course; its courses are kept, "
                "none marked removed)"
            ]
        else:
            assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        # The files list the same courses every night (the emptied one aside, which must change nothing):
        # the same records stay active, and none is marked removed.
        assert records(home) == trimmed, night
        assert len(list((home / "reports").glob("*.json"))) == min(night + 1, RETENTION)

    for row in nights:
        print(" ".join(f"{key}={value}" for key, value in row.items()))
    # The home stops growing once the window is full: every later night within the largest size the
    # first full window reached (DuckDB reuses the blocks of pruned runs; it never shrinks a file).
    settled = [row["total"] for row in nights[RETENTION:]]
    window = [row["total"] for row in nights[: RETENTION + 1]]
    assert max(settled) <= max(window) * 1.1, nights
    crawl_sizes = [row["crawl.duckdb"] for row in nights]
    assert max(crawl_sizes[RETENTION:]) <= max(crawl_sizes[: RETENTION + 1]) * 1.1, crawl_sizes
