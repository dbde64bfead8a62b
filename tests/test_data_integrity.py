"""Faults a year of unattended nightlies meets in the data: a stale write-ahead log, two writers at
once, a source that silently empties, leftovers of kills, a full disk. Real DuckDB files and real
`skillstack` processes; no network (the mirror answers)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from core.store import open_crawl_db
from crawlers.pipelines.write_crawl_db import NO_ITEMS
from pipeline.build import BuildReport, _merge_with_previous, usable_runs
from pipeline.publish import PublishError, publishing, wal_of
from skillstack.lock import EXIT_LOCKED, writer_lock
from skillstack.settings import Paths
from tests.helpers import MIRROR_DIR, run_skillstack
from tests.test_crash_safety import UDEMY_CSV

# A read-write session on the catalogue that writes a row and dies before any checkpoint: what a
# DuckDB shell or notebook SIGKILLed (or the machine losing power) leaves behind.
_WRITE_AND_DIE = """
import duckdb, os, sys
con = duckdb.connect(sys.argv[1])
con.execute("SET wal_autocheckpoint = '1GB'")
con.execute("INSERT INTO skills (uri, label) VALUES (?, ?)", ["s/left-in-the-wal", "a skill"])
print("written", flush=True)
if sys.argv[2] == "die":
    os.kill(os.getpid(), 9)
sys.stdin.read()  # hold the catalogue open until the test closes stdin
"""


def _publish(catalog: Path, built_at: str) -> None:
    with publishing(catalog, carry_over=("skills",)) as con:
        con.execute("INSERT INTO catalog_meta VALUES (?, ?)", ["built_at", built_at])


def _read(catalog: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_stale_wal_is_folded_in_and_never_outlives_its_file(tmp_path: Path):
    catalog = tmp_path / "catalog.duckdb"
    _publish(catalog, "first")
    killed = subprocess.run([sys.executable, "-c", _WRITE_AND_DIE, str(catalog), "die"], check=False)
    assert killed.returncode == -signal.SIGKILL
    assert wal_of(catalog).exists()

    # Two publishes: the old log replayed onto the first new file would give the second a duplicate key.
    _publish(catalog, "second")
    assert not wal_of(catalog).exists()
    _publish(catalog, "third")
    assert not wal_of(catalog).exists()
    assert _read(catalog, "SELECT uri FROM skills") == [("s/left-in-the-wal",)]  # the session's write kept once
    assert _read(catalog, "SELECT value FROM catalog_meta") == [("third",)]


def test_a_session_still_writing_to_the_catalogue_is_refused_with_a_clear_message(tmp_path: Path):
    catalog = tmp_path / "catalog.duckdb"
    _publish(catalog, "first")
    session = subprocess.Popen(
        [sys.executable, "-c", _WRITE_AND_DIE, str(catalog), "stay"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert session.stdout.readline().strip() == b"written"
        with pytest.raises(PublishError, match=r"catalog\.duckdb\.wal was left by a session .* run again"):
            _publish(catalog, "second")
    finally:
        session.stdin.close()
        session.wait(timeout=60)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".wal")) == ["catalog.duckdb"]
    _publish(catalog, "second")  # the session gone, its log is folded in and the publish goes through
    assert not wal_of(catalog).exists()
    assert _read(catalog, "SELECT value FROM catalog_meta") == [("second",)]


# ---------------------------------------------------------------- one writer at a time


def test_every_writer_takes_the_one_lock_waits_for_it_or_exits_75(tmp_path: Path):
    home = tmp_path / "home"
    with writer_lock(Paths(home).lock_file, "nightly", wait=False):
        for args in (("build",), ("crawl", "udemy_kaggle_2017"), ("taxonomy", "load")):
            refused = run_skillstack(home, *args, "--no-wait", check=False, timeout=300)
            assert refused.returncode == EXIT_LOCKED, refused.stderr[-2000:]
            refusal = f"skillstack: another nightly (pid {os.getpid()}) is running; this one exits"
            assert refused.stderr.strip() == refusal
        waiting = subprocess.Popen(
            [sys.executable, "-m", "skillstack.cli", "build"],
            env={**os.environ, "SKILLSTACK_HOME": str(home), "SKILLSTACK_MIRROR": str(MIRROR_DIR)},
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            first_line = waiting.stderr.readline()
            assert first_line.strip() == (
                f"skillstack: waiting for another nightly (pid {os.getpid()}) to finish (--no-wait exits instead)"
            )
            time.sleep(1)
            assert waiting.poll() is None  # still waiting while the lock is held
        except BaseException:
            waiting.kill()
            raise
    # The lock released, the build goes on (and finds nothing to build: it never touched the home).
    rest = waiting.stderr.read()
    assert waiting.wait(timeout=120) == 2
    assert "no crawl yet" in rest
    assert not (home / "crawl.duckdb").exists()
    assert not (home / "catalog.duckdb").exists()


def test_the_lock_is_reentrant_within_one_process(tmp_path: Path):
    """The nightly holds it and runs `taxonomy load`, the crawl and the build, which take it again."""
    lock_file = tmp_path / "nightly.lock"
    with writer_lock(lock_file, "nightly", wait=False), writer_lock(lock_file, "build", wait=False):
        assert lock_file.read_text() == f"{os.getpid()} nightly"


# ---------------------------------------------------------------- a source that silently empties

MITXONLINE_API = "mitxonline.mit.edu/api/v2/courses/index"


def test_a_source_read_to_the_end_with_no_course_is_a_failed_run(tmp_path: Path):
    """A dataset host serving only the CSV header and an API answering {"results": []}: both read
    cleanly to the end, and neither may pass for a complete run (which would remove every course)."""
    mirror = tmp_path / "mirror"
    for path in (UDEMY_CSV, MITXONLINE_API):
        (mirror / path).parent.mkdir(parents=True, exist_ok=True)
    header = (MIRROR_DIR / UDEMY_CSV).read_text(encoding="utf-8").splitlines()[0]
    (mirror / UDEMY_CSV).write_text(header + "\n", encoding="utf-8")
    (mirror / MITXONLINE_API).write_text('{"count": 0, "next": null, "previous": null, "results": []}')
    home = tmp_path / "home"
    result = subprocess.run(
        [sys.executable, "-m", "skillstack.cli", "crawl", "udemy_kaggle_2017", "mitxonline", "--json"],
        env={**os.environ, "SKILLSTACK_HOME": str(home), "SKILLSTACK_MIRROR": str(mirror)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stderr[-3000:]
    summaries = {s["source"]: s for s in json.loads(result.stdout)}
    for source in ("udemy_kaggle_2017", "mitxonline"):
        assert (summaries[source]["status"], summaries[source]["items"]) == ("failed", 0)
        assert summaries[source]["finish_reason"] == NO_ITEMS
    con = duckdb.connect(str(home / "crawl.duckdb"), read_only=True)
    try:
        assert usable_runs(con).empty  # nothing a build would take as the source's complete listing
    finally:
        con.close()


def _record(source: str, number: int, status: str = "active") -> dict:
    return {"id": f"{source}/{number}", "source": source, "status": status, "extras": {}}


def test_a_build_removes_at_most_half_of_a_source_without_allow_mass_removal():
    previous = {r["id"]: r for r in [*(_record("a", i) for i in range(10)), *(_record("b", i) for i in range(10))]}
    previous["b/9"] = _record("b", 9, "removed")  # gone before: not counted as listed
    # A complete crawl of each: "a" lists 5 of its 10 (half: removed), "b" 4 of its 9 (more than half gone).
    fresh = [
        {**_record(source, i), "name": "n", "description": "", "skills_declared": [], "price": None,
         "seen_at": None, "content_hash": "h"}
        for source, count in (("a", 5), ("b", 4))
        for i in range(count)
    ]  # fmt: skip
    for record in previous.values():
        record.update(first_seen=None, content_hash="h", price=None)

    report = BuildReport()
    rows = _merge_with_previous([dict(r) for r in fresh], dict(previous), {"a", "b"}, report)
    status = {row["id"]: row["status"] for row in rows}
    assert sum(status[f"a/{i}"] == "removed" for i in range(10)) == 5
    assert [status[f"b/{i}"] for i in range(9)] == ["active"] * 9  # held back, kept as they were
    assert report.held_back == {"b": {"missing": 5, "listed": 9}}
    assert report.held_back_lines() == [
        "b: 5 of its 9 courses are missing from a complete crawl; not marked removed (more than 50%); "
        "`skillstack build --allow-mass-removal` removes them"
    ]
    assert report.per_source["b"]["removed"] == 0

    allowed = BuildReport()
    rows = _merge_with_previous([dict(r) for r in fresh], dict(previous), {"a", "b"}, allowed, allow_mass_removal=True)
    assert sum(row["status"] == "removed" for row in rows if row["source"] == "b") == 6
    assert allowed.held_back == {}


# ---------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 64 MB filesystem of its own (tmpfs, which needs root), so writes fail with ENOSPC for real."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> None:
    """Write until not one byte more fits."""
    fd = os.open(disk / "ballast", os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (1 << 20, 4096, 1):
            with pytest.raises(OSError, match="No space left") as full:  # noqa: PT012 (ends only by raising)
                while True:
                    os.write(fd, b"\0" * chunk)
            assert full.value.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_a_full_disk_is_one_line_exit_4_and_the_previous_catalogue_serves(small_disk: Path):
    home = small_disk / "home"
    catalog = home / "catalog.duckdb"
    home.mkdir()
    _publish(catalog, "before the disk filled")
    with open_crawl_db(home / "crawl.duckdb") as con:  # one finished crawl, which a build would read
        con.execute(
            "INSERT INTO crawl_runs (run_id, source, started_at, finished_at, status, items) "
            "VALUES ('r1', 'udemy_kaggle_2017', now(), now(), 'finished', 1)"
        )
        con.execute(
            "INSERT INTO crawl_items VALUES ('r1', 'udemy_kaggle_2017', 'udemy_kaggle_2017/1', "
            "'https://www.udemy.com/course/x/', '{\"name\": \"A course\"}', now())"
        )
    (home / "reports").mkdir()
    (home / "nightly.lock").write_text("")
    served = catalog.read_bytes()
    _fill(small_disk)
    env = {**os.environ, "SKILLSTACK_HOME": str(home), "SKILLSTACK_MIRROR": str(MIRROR_DIR)}

    def skillstack(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "skillstack.cli", *args], env=env, capture_output=True, text=True, timeout=600
        )

    nightly = skillstack("nightly", "--source", "udemy_kaggle_2017", "--limit", "5")
    assert nightly.returncode == 4, nightly.stderr[-3000:]
    last = nightly.stderr.strip().splitlines()[-1]
    assert last == f"skillstack: cannot write the report into {home / 'reports'}: [Errno 28] No space left on device"
    assert not nightly.stderr.rstrip().endswith("Error"), nightly.stderr[-3000:]  # no traceback at the end
    assert "published: NO — the previous catalogue keeps serving" in nightly.stdout
    assert "failed: build: " in nightly.stdout

    build = skillstack("build")
    assert build.returncode == 4, build.stderr[-3000:]
    [line] = build.stderr.strip().splitlines()
    assert line.startswith("skillstack: the disk is full: [Errno 28] No space left on device: ")

    # Nothing half-written is left beside the catalogue, which is the one that served before, and the
    # crawl database still opens.
    assert catalog.read_bytes() == served
    assert _read(home / "crawl.duckdb", "SELECT run_id, status FROM crawl_runs WHERE run_id = 'r1'") == [
        ("r1", "finished")
    ]
    assert _read(catalog, "SELECT value FROM catalog_meta") == [("before the disk filled",)]
    assert sorted(p.name for p in home.iterdir() if p.name.startswith(".")) == []
    assert list((home / "reports").iterdir()) == []
