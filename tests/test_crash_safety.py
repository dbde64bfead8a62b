"""Crashes at a random moment: real `skillstack` processes SIGKILLed midway, on copies of the
session's built catalogue (`built_home`), and what the next run and the readers see.

Each kill waits a seeded random delay within the killed step's measured duration (bounded), so a
failure is reproducible from the seed. The crawls and builds are kept small: one dataset source,
a catalogue of a thousand courses.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from tests.helpers import CATALOG_LIMIT, MIRROR_DIR, copy_home, env_for, reports, run_skillstack, wait_for

SEED = 20251129
MAX_KILL_DELAY_S = 30.0
DATASETS = "raw.githubusercontent.com"
UDEMY_CSV = f"{DATASETS}/KopecT/udemy-vs-edx/fb76bf4c2a3a4edd2901751246fa61f12e0e3b64/udemy_courses.csv"
EDX_CSV = f"{DATASETS}/KopecT/udemy-vs-edx/fb76bf4c2a3a4edd2901751246fa61f12e0e3b64/edx_courses.csv"
GOAL = "I want to become a data analyst"
NEW_COURSES = 100


class Watched:
    """A `skillstack` subprocess whose stderr is read line by line as it comes (never a full pipe)."""

    def __init__(self, home: Path, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "skillstack.cli", *args],
            env=env_for(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def kill_after(self, delay: float) -> bool:
        """SIGKILL after `delay` seconds; True when the process was still running to be killed."""
        time.sleep(delay)
        alive = self.process.poll() is None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        return alive


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def courses(home: Path) -> list[tuple]:
    """What a build decides about each course: everything but the publish time."""
    return query(
        home / "catalog.duckdb",
        """
        SELECT id, source, status, content_hash, first_seen, last_seen, price, access_model, hours, level
        FROM courses ORDER BY id
        """,
    )


def catalogue_facts(home: Path) -> dict:
    [row] = query(
        home / "catalog.duckdb",
        """
        SELECT (SELECT count(*) FROM course_records), (SELECT count(*) FROM course_records WHERE status = 'active'),
               (SELECT count(*) FROM offers), (SELECT count(*) FROM course_skills),
               (SELECT count(*) FROM course_embeddings), (SELECT count(*) FROM skills),
               (SELECT value FROM catalog_meta WHERE key = 'built_at')
        """,
    )
    return dict(
        zip(("records", "active", "offers", "course_skills", "embeddings", "skills", "built_at"), row, strict=True)
    )


def staging_files(home: Path) -> list[str]:
    return sorted(path.name for path in home.glob(".catalog.duckdb.*.building*"))


def finished_runs(home: Path, source: str) -> int:
    [(count,)] = query(
        home / "crawl.duckdb", "SELECT count(*) FROM crawl_runs WHERE source = ? AND status = 'finished'", [source]
    )
    return count


def kill_delay(rng: random.Random, measured_s: float) -> float:
    return min(rng.uniform(0.05, 0.7) * measured_s, MAX_KILL_DELAY_S)


# ---------------------------------------------------------------- killed during the crawl


@pytest.mark.slow
def test_a_crawl_killed_midway_is_never_built_from_and_the_next_crawl_completes(built_home: Path, tmp_path: Path):
    rng = random.Random(SEED)
    # How long this crawl runs, from "Spider opened" to its close, measured on a throwaway copy.
    scratch = copy_home(built_home, tmp_path / "scratch")
    run_skillstack(scratch, "crawl", "udemy_kaggle_2017")
    [(measured,)] = query(
        scratch / "crawl.duckdb",
        "SELECT epoch(finished_at) - epoch(started_at) FROM crawl_runs WHERE source = ? "
        "ORDER BY started_at DESC LIMIT 1",
        ["udemy_kaggle_2017"],
    )

    home = copy_home(built_home, tmp_path / "home")
    before = courses(home)
    finished_before = finished_runs(home, "udemy_kaggle_2017")
    crawl = Watched(home, "crawl", "udemy_kaggle_2017")
    wait_for(lambda: crawl.saw("Spider opened") or crawl.process.poll() is not None, 120, "the spider to open")
    assert crawl.kill_after(kill_delay(rng, measured)), "the crawl finished before the kill; the delay is too long"

    [(run_id, status, finished_at)] = query(
        home / "crawl.duckdb",
        "SELECT run_id, status, finished_at FROM crawl_runs WHERE source = ? AND started_at = "
        "(SELECT max(started_at) FROM crawl_runs WHERE source = ?)",
        ["udemy_kaggle_2017", "udemy_kaggle_2017"],
    )
    assert (status, finished_at) == ("running", None)

    build = json.loads(run_skillstack(home, "build", "--json").stdout)
    # The killed run's items are not used: the catalogue is the one the last finished crawls make.
    assert courses(home) == before
    assert (build["new"], build["changed"], build["removed"], build["embedded"]) == (0, 0, 0, 0)
    assert run_id not in build["sources"].values()

    again = json.loads(run_skillstack(home, "crawl", "udemy_kaggle_2017", "--limit", "30", "--json").stdout)
    assert [(s["status"], s["items"]) for s in again] == [("finished", 30)]
    [(status,)] = query(home / "crawl.duckdb", "SELECT status FROM crawl_runs WHERE run_id = ?", [run_id])
    assert status == "running"  # the record of the crash stays as it was
    assert finished_runs(home, "udemy_kaggle_2017") == finished_before + 1


# ---------------------------------------------------------------- killed during the build, a reader throughout

READER = """
import json, sys, time
from pathlib import Path
from recommender import api

stop, deadline = Path(sys.argv[1]), time.monotonic() + float(sys.argv[2])
while not stop.exists() and time.monotonic() < deadline:
    try:
        rec = api.recommend(sys.argv[3], k=3)
        line = {"built_at": api.catalog_summary().built_at, "results": [r.course_id for r in rec.results]}
    except Exception as exc:
        line = {"error": repr(exc)}
    print("answer", json.dumps(line), flush=True)
    time.sleep(0.3)  # a user's pace; the builds get the CPU they would get beside a dashboard
"""


class Reader:
    """The dashboard's side: a process with the catalogue open, asking `recommender.api` in a loop."""

    def __init__(self, home: Path, stop_file: Path, max_seconds: float = 900):
        self.stop_file = stop_file
        self.process = subprocess.Popen(
            [sys.executable, "-c", READER, str(stop_file), str(max_seconds), GOAL],
            env=env_for(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.answers: list[dict] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            # anything else a library prints on stdout (a progress bar, a notice) is not an answer
            if line.startswith("answer "):
                self.answers.append(json.loads(line.removeprefix("answer ")))

    def stop(self) -> None:
        self.stop_file.touch()
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def build_story(built_home: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Three builds with a reader asking throughout: the first publishes (and is timed), the second
    has more to do and is SIGKILLed at a random moment within the first one's time, the third
    publishes again."""
    rng = random.Random(SEED + 1)
    root = tmp_path_factory.mktemp("crash-build")
    home = copy_home(built_home, root / "home")
    facts = [catalogue_facts(home)]

    reader = Reader(home, root / "stop")
    try:
        wait_for(lambda: reader.answers or reader.process.poll() is not None, 300, "the reader's first answer")

        first = Watched(home, "build")
        staging = home / f".catalog.duckdb.{first.process.pid}.building"
        wait_for(lambda: staging.exists() or first.process.poll() is not None, 300, "the first build to publish")
        opened = time.monotonic()
        first.process.wait(timeout=900)
        measured = time.monotonic() - opened  # from its staging file to its exit
        assert first.process.returncode == 0, "".join(first.lines)[-3000:]
        facts.append(catalogue_facts(home))

        # More work for the next build than the first had (courses to normalise and embed), so
        # the kill, within the first build's time, lands while it runs.
        run_skillstack(home, "crawl", "coursera_kaggle_2020", "--limit", str(CATALOG_LIMIT + NEW_COURSES))

        killed = Watched(home, "build")
        staging = home / f".catalog.duckdb.{killed.process.pid}.building"
        wait_for(lambda: staging.exists() or killed.process.poll() is not None, 300, "the second build to start")
        killed_while_running = killed.kill_after(kill_delay(rng, measured))
        left_by_the_kill = staging_files(home)
        after_kill = catalogue_facts(home)
        answered_by_then = len(reader.answers)
        wait_for(lambda: len(reader.answers) > answered_by_then + 1, 120, "answers after the kill")
        answers_after_kill = reader.answers[answered_by_then + 1 :]  # asked after the kill

        last = run_skillstack(home, "build", "--json", check=False)
        facts.append(catalogue_facts(home))
        wait_for(
            lambda: any(answer.get("built_at") == facts[-1]["built_at"] for answer in reader.answers),
            300,
            "the reader to see the last catalogue",
        )
    finally:
        reader.stop()
    return SimpleNamespace(
        facts=facts,
        killed_while_running=killed_while_running,
        killed_pid=killed.process.pid,
        left_by_the_kill=left_by_the_kill,
        after_kill=after_kill,
        answers_after_kill=answers_after_kill,
        last=last,
        left_after_last=staging_files(home),
        answers=reader.answers,
    )


@pytest.mark.slow
def test_a_build_killed_midway_leaves_the_previous_catalogue_serving(build_story):
    assert build_story.killed_while_running, "the build finished before the kill; the delay is too long"
    # the half-built catalogue is only ever a staging file beside the live one
    assert f".catalog.duckdb.{build_story.killed_pid}.building" in build_story.left_by_the_kill
    _, published, _ = build_story.facts
    assert build_story.after_kill == published
    # recommend still answers, from the catalogue the kill left
    assert build_story.answers_after_kill
    for answer in build_story.answers_after_kill:
        assert (answer.get("built_at"), len(answer.get("results", []))) == (published["built_at"], 3)


@pytest.mark.slow
def test_the_next_build_completes_and_clears_the_dead_builds_staging_files(build_story):
    assert build_story.last.returncode == 0, build_story.last.stderr[-3000:]
    assert build_story.left_after_last == []
    before, published, last = build_story.facts
    assert published["records"] == before["records"]
    assert last["records"] == published["records"] + NEW_COURSES
    assert len({before["built_at"], published["built_at"], last["built_at"]}) == 3
    report = json.loads(build_story.last.stdout)
    # the killed build's work counts for nothing: the next one finds every new course still new
    assert report["new"] == NEW_COURSES
    assert report["embedded"] > 0


@pytest.mark.slow
def test_the_dashboard_keeps_answering_through_the_publishes_and_the_kill(build_story):
    answers = build_story.answers
    assert [answer for answer in answers if "error" in answer] == []
    assert all(len(answer["results"]) == 3 for answer in answers)
    # each catalogue in turn, each from its publish on: never a mix, never back to an older one
    seen = [answer["built_at"] for answer in answers]
    in_order = [built_at for i, built_at in enumerate(seen) if i == 0 or seen[i - 1] != built_at]
    assert in_order == [facts["built_at"] for facts in build_story.facts]


# ---------------------------------------------------------------- a source turned to garbage


def first_rows(csv_file: Path, rows: int) -> str:
    """The header and the first `rows` records, re-written whole (records may span lines)."""
    with csv_file.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        records = [next(reader) for _ in range(rows + 1)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue()


@pytest.mark.slow
def test_a_source_turned_to_garbage_fails_alone_and_keeps_its_courses(built_home: Path, tmp_path: Path):
    """A mirror where the Udemy dataset is now an error page served with 200 (a CDN's "502" in HTML)
    and the edX dataset has shrunk to 30 courses. Udemy's failure removes nothing of Udemy; edX's
    complete, clean crawl lost more than half of its courses, which the build holds back (a broken
    feed is likelier than a provider dropping most of its catalogue) until `--allow-mass-removal`."""
    mirror = tmp_path / "mirror"
    for path in (UDEMY_CSV, EDX_CSV):
        (mirror / path).parent.mkdir(parents=True, exist_ok=True)
    (mirror / UDEMY_CSV).write_text("<html><body><h1>502 Bad Gateway</h1></body></html>\n" * 50, encoding="utf-8")
    (mirror / EDX_CSV).write_text(first_rows(MIRROR_DIR / EDX_CSV, 30), encoding="utf-8")
    home = copy_home(built_home, tmp_path / "home")
    before = dict(query(home / "catalog.duckdb", "SELECT source, count(*) FROM course_records GROUP BY source"))
    env = {**env_for(home), "SKILLSTACK_MIRROR": str(mirror)}

    def status() -> dict[str, int]:
        return dict(
            query(
                home / "catalog.duckdb",
                "SELECT source || ':' || status, count(*) FROM course_records WHERE source IN (?, ?) GROUP BY ALL",
                ["udemy_kaggle_2017", "edx_kaggle_2020"],
            )
        )

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "skillstack.cli",
            "nightly",
            "--source",
            "udemy_kaggle_2017",
            "--source",
            "edx_kaggle_2020",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert result.returncode == 3, result.stderr[-3000:]
    [report] = reports(home)
    udemy, edx_held = report["failures"]
    assert udemy.startswith("udemy_kaggle_2017: ")
    edx = {source["source"]: source for source in report["sources"]}["edx_kaggle_2020"]
    assert (edx["status"], edx["errors"], edx["removed"]) == ("finished", 0, 0)
    assert 0 < edx["items"] <= 30
    missing = before["edx_kaggle_2020"] - edx["items"]
    assert edx_held == (
        f"edx_kaggle_2020: {missing} of its {before['edx_kaggle_2020']} courses are missing from a complete "
        "crawl; not marked removed (more than 50%); `skillstack build --allow-mass-removal` removes them"
    )
    assert f"failed: {edx_held}" in result.stdout
    assert report["catalogue"]["held_back"] == {
        "edx_kaggle_2020": {"missing": missing, "listed": before["edx_kaggle_2020"]}
    }
    assert status() == {  # all kept, none removed
        "udemy_kaggle_2017:active": before["udemy_kaggle_2017"],
        "edx_kaggle_2020:active": before["edx_kaggle_2020"],
    }

    # Someone looked: the provider did drop them.
    allowed = json.loads(run_skillstack(home, "build", "--allow-mass-removal", "--json").stdout)
    assert (allowed["removed"], allowed["held_back"]) == (missing, {})
    assert status() == {
        "udemy_kaggle_2017:active": before["udemy_kaggle_2017"],
        "edx_kaggle_2020:active": edx["items"],
        "edx_kaggle_2020:removed": missing,
    }


# ---------------------------------------------------------------- staging files of dead builds


def test_publishing_removes_the_staging_files_of_dead_builds_only(tmp_path: Path):
    from pipeline.publish import publishing

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=60)
    catalog = tmp_path / "catalog.duckdb"
    stale = [tmp_path / f".catalog.duckdb.{dead.pid}.building", tmp_path / f".catalog.duckdb.{dead.pid}.building.wal"]
    live = tmp_path / f".catalog.duckdb.{os.getppid()}.building"  # a build still running elsewhere
    for path in (*stale, live):
        path.write_bytes(b"half a catalogue")

    with publishing(catalog, carry_over=()) as con:
        con.execute("INSERT INTO catalog_meta VALUES ('built_at', 'now')")

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(["catalog.duckdb", live.name])


def test_publishing_carries_tables_over_and_the_file_does_not_grow_build_after_build(tmp_path: Path):
    from pipeline.publish import publishing

    catalog = tmp_path / "catalog.duckdb"

    def build(carry_over: tuple[str, ...]) -> None:
        with publishing(catalog, carry_over=carry_over) as con:
            if "skills" not in carry_over:
                con.execute("INSERT INTO skills (uri, label) VALUES (?, ?)", ["s/1", "use spreadsheets"])
            con.execute(
                """
                INSERT INTO courses (id, source, provider, url, name, description, first_seen, last_seen, status,
                                     content_hash)
                SELECT 'test/' || i, 'test', 'Test', 'https://example.org/c', 'Course ' || i, repeat('x', 200),
                       now(), now(), 'active', 'h'
                FROM range(?) AS t(i)
                """,
                [20_000],
            )

    build(carry_over=())
    sizes = []
    for _ in range(4):
        build(carry_over=("skills",))
        sizes.append(catalog.stat().st_size)
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM courses").fetchone()[0] == 20_000  # rebuilt, not doubled
        assert con.execute("SELECT label FROM skills").fetchall() == [("use spreadsheets",)]  # carried over
    finally:
        con.close()
    # Each build rewrites `courses`; the blocks of the previous copy are reused, not added to.
    assert sizes[-1] <= sizes[0], sizes
