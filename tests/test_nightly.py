"""`skillstack nightly` as cron runs it: real subprocesses on a copy of the session's built catalogue.

One nightly is started and SIGKILLed at a seeded random point after it took the lock; while it
holds the lock a second nightly must exit at once with 75, and after the kill the next nightly must
run (an `fcntl` lock dies with its process) and exit 0 with its report. The sources are restricted
(`--source`) and bounded (`--limit`) so each run crawls a few dozen mirror rows.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from recommender import course_side, engine
from skillstack.nightly import run_nightly
from skillstack.settings import Paths
from tests.helpers import MIRROR_DIR, copy_home, env_for, reports, wait_for

SOURCES = ("udemy_kaggle_2017", "edx_kaggle_2020")
LIMIT = 30
UDEMY_CSV = "raw.githubusercontent.com/KopecT/udemy-vs-edx/fb76bf4c2a3a4edd2901751246fa61f12e0e3b64/udemy_courses.csv"
EXIT_LOCKED = 75


def nightly_args(*sources: str, limit: int = LIMIT) -> list[str]:
    return ["nightly", *(arg for source in sources for arg in ("--source", source)), "--limit", str(limit)]


def nightly(home: Path, *args: str, mirror: Path = MIRROR_DIR, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "skillstack.cli", *args],
        env=env_for(home, mirror),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def lock_story(built_home: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A nightly holding the lock, a second one refused, the first SIGKILLed, then the next nightly."""
    home = copy_home(built_home, tmp_path_factory.mktemp("nightly") / "home")
    lock_file = home / "nightly.lock"
    first = subprocess.Popen(
        [sys.executable, "-m", "skillstack.cli", *nightly_args(*SOURCES)],
        env=env_for(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: lock_file.exists() and lock_file.read_text().split()[:1] == [str(first.pid)], 60, "the lock")
        second = nightly(home, *nightly_args(*SOURCES), timeout=120)
        first_still_running = first.poll() is None
        # The first is somewhere in its crawl or build by now; a seeded random moment later, kill it.
        time.sleep(random.Random(20251129).uniform(0.0, 3.0))
        killed_while_running = first.poll() is None
        first.send_signal(signal.SIGKILL)
    finally:
        if first.poll() is None:
            first.kill()
        first.wait(timeout=30)
    third = nightly(home, *nightly_args(*SOURCES))
    return SimpleNamespace(
        home=home,
        first=first,
        killed_while_running=killed_while_running,
        second=second,
        first_still_running=first_still_running,
        third=third,
    )


@pytest.mark.slow
def test_a_second_nightly_while_one_runs_exits_at_once_with_75(lock_story):
    second = lock_story.second
    assert second.returncode == EXIT_LOCKED, second.stderr[-2000:]
    assert f"another nightly (pid {lock_story.first.pid}) is running; this one exits" in second.stderr
    # at once: it did not wait for the first one (no crawl, no model: it only imports and tries the lock)
    assert lock_story.first_still_running
    assert second.stdout == ""


@pytest.mark.slow
def test_the_lock_of_a_sigkilled_nightly_does_not_block_the_next(lock_story):
    assert lock_story.killed_while_running, "the first nightly ended before it could be killed"
    assert lock_story.first.returncode == -signal.SIGKILL
    third = lock_story.third
    assert third.returncode == 0, third.stderr[-3000:]
    assert "is running; this one exits" not in third.stderr
    # the killed run wrote no report; the next one did
    [report] = reports(lock_story.home)
    assert report["exit_code"] == 0


@pytest.mark.slow
def test_the_report_has_each_source_the_catalogue_and_no_failure(lock_story):
    [report] = reports(lock_story.home)
    assert report["published"] is True
    assert report["failures"] == []
    assert report["sources_requested"] == list(SOURCES)
    assert report["limit"] == LIMIT
    by_source = {source["source"]: source for source in report["sources"]}
    assert sorted(by_source) == sorted(SOURCES)
    for source in by_source.values():
        assert (source["status"], source["items"], source["errors"]) == ("finished", LIMIT, 0)
        assert source["duration_s"] > 0
        # these rows are already in the catalogue from the session's crawl: nothing new, nothing removed
        assert (source["new"], source["changed"], source["removed"]) == (0, 0, 0)
    catalogue = report["catalogue"]
    con = duckdb.connect(str(lock_story.home / "catalog.duckdb"), read_only=True)
    try:
        courses, active = con.execute("SELECT count(*), count(*) FILTER (status = 'active') FROM courses").fetchone()
    finally:
        con.close()
    assert (catalogue["courses"], catalogue["active"]) == (courses, active)
    assert set(report["step_seconds"]) == {"taxonomy", "crawl", "build", "warm", "prune"}
    assert report["seconds"] >= report["step_seconds"]["build"] + report["step_seconds"]["warm"]
    assert report["warnings"] == []


@pytest.mark.slow
def test_the_published_catalogue_is_warmed_so_the_next_open_reads_its_indexes(lock_story, monkeypatch):
    # The nightly opened the catalogue it published: the course indexes of that build are kept...
    [kept] = (lock_story.home / "cache").glob("course-indexes-*")
    assert {p.name for p in kept.iterdir()} == {"vectors.npy", "courses.parquet", "arrays", "state.json"}
    # ...and are what the next open reads, without building anything.
    monkeypatch.setattr(course_side, "build_course_indexes", _fail_if_built)
    assert len(engine.Engine.open(lock_story.home / "catalog.duckdb").courses) > 0


def _fail_if_built(*_args):
    raise AssertionError("the course indexes of the published catalogue were not warmed")


def test_a_failed_warm_is_a_warning_and_keeps_the_exit_code(tmp_path: Path):
    """A build that published but left nothing the recommender can open: the warm (a real child
    process opening the catalogue) fails, and the run still exits 0, saying why."""
    home = tmp_path / "home"
    (home / "catalog.duckdb").parent.mkdir(parents=True)
    (home / "catalog.duckdb").write_bytes(b"not a database")

    def build():
        return SimpleNamespace(as_dict=dict, per_source={}, held_back_lines=list)

    report = run_nightly(
        Paths(home), load_taxonomy=lambda: None, taxonomy_present=lambda: True, crawl=list, build=build
    )
    assert (report.published, report.exit_code, report.failures) == (True, 0, [])
    [warning] = report.warnings
    assert warning.startswith(f"warm: opening {home / 'catalog.duckdb'} failed: ")
    assert "warm" not in report.step_seconds
    [summary] = (home / "reports").glob("*.txt")
    assert f"warning: {warning}" in summary.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_human_summary_is_printed_and_kept_beside_the_json(lock_story):
    [summary_file] = sorted((lock_story.home / "reports").glob("*.txt"))
    summary = summary_file.read_text(encoding="utf-8")
    assert lock_story.third.stdout.strip() == summary.strip()
    lines = summary.splitlines()
    assert lines[0].startswith("skillstack nightly ")
    assert lines[0].endswith("exit 0")
    for source in SOURCES:
        [row] = [line for line in lines if line.startswith(source)]
        assert row.split()[1:3] == ["finished", str(LIMIT)]
    assert "published: yes" in lines
    assert any(line.startswith("catalogue: ") for line in lines)


@pytest.fixture
def mirror_with_one_source_broken(tmp_path: Path) -> Path:
    """A mirror that has the Udemy dataset and not the edX one (a 404, as a moved file gives)."""
    mirror = tmp_path / "mirror"
    (mirror / UDEMY_CSV).parent.mkdir(parents=True)
    shutil.copy2(MIRROR_DIR / UDEMY_CSV, mirror / UDEMY_CSV)
    return mirror


@pytest.mark.slow
def test_a_failed_source_exits_3_publishes_the_rest_and_says_why(
    built_home: Path, tmp_path: Path, mirror_with_one_source_broken: Path
):
    home = copy_home(built_home, tmp_path / "home")
    result = nightly(home, *nightly_args(*SOURCES), mirror=mirror_with_one_source_broken)
    assert result.returncode == 3, result.stderr[-3000:]
    [report] = reports(home)
    assert report["published"] is True
    [failure] = report["failures"]
    assert failure.startswith("edx_kaggle_2020: source_unavailable (1 errors; HTTP 404 x")
    by_source = {source["source"]: source for source in report["sources"]}
    assert by_source["udemy_kaggle_2017"]["status"] == "finished"
    assert by_source["edx_kaggle_2020"]["status"] == "failed"
    assert "failed: edx_kaggle_2020: source_unavailable" in result.stdout
    assert "published: yes" in result.stdout


def test_nothing_to_publish_exits_4_and_names_every_failure(tmp_path: Path):
    """An empty home and a mirror with nothing in it: no taxonomy, no crawl, so no catalogue."""
    empty_mirror = tmp_path / "empty-mirror"
    empty_mirror.mkdir()
    home = tmp_path / "home"
    result = nightly(home, *nightly_args("udemy_kaggle_2017"), mirror=empty_mirror, timeout=300)
    assert result.returncode == 4, result.stderr[-3000:]
    [report] = reports(home)
    assert report["published"] is False
    assert report["taxonomy"] == "missing"
    failures = report["failures"]
    assert [failure.split(":", 1)[0] for failure in failures] == ["taxonomy", "udemy_kaggle_2017", "build"]
    assert "404" in failures[0]
    assert "no finished crawl run" in failures[2]
    assert "published: NO" in result.stdout
    assert not (home / "catalog.duckdb").exists()


def test_dry_run_says_what_it_would_do_and_does_nothing(tmp_path: Path):
    home = tmp_path / "home"
    result = nightly(home, "nightly", "--dry-run", "--source", "udemy_kaggle_2017", "--limit", "5", timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert f"SKILLSTACK_HOME {home}" in out
    assert "1. taxonomy: missing: would load it" in out
    assert "2. crawl the sources into" in out
    assert out.split("2. crawl", 1)[1].splitlines()[0].endswith("at most 5 items each: udemy_kaggle_2017")
    assert "3. build and publish" in out
    assert "4. open the new catalogue once" in out
    assert "5. write the run report into" in out
    assert not home.exists()


def test_unknown_source_or_bad_limit_is_a_one_line_error(tmp_path: Path):
    for args, words in [
        (("nightly", "--source", "no_such_source"), "no_such_source"),
        (("nightly", "--limit", "0"), "--limit"),
    ]:
        result = nightly(tmp_path / "home", *args, timeout=120)
        assert result.returncode == 2, result.stderr
        assert words in result.stderr.strip()
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "home").exists()
