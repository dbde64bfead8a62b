"""`skillstack crawl` end to end, in a subprocess as cron runs it, answered by the mirror."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from crawlers.runner import list_sources
from skillstack.settings import mirror_file_for
from tests.helpers import MIRROR_DIR, query, skillstack

DATASET_SOURCES = [
    "classcentral_data_science",
    "coursera_kaggle_2020",
    "coursera_skills_2024",
    "edx_kaggle_2020",
    "udemy_kaggle_2017",
]
UDEMY_CSV = (
    "https://raw.githubusercontent.com/KopecT/udemy-vs-edx/fb76bf4c2a3a4edd2901751246fa61f12e0e3b64/udemy_courses.csv"
)
COURSERA_2020_CSV = (
    "https://raw.githubusercontent.com/ShahPreksha1005/course-rating-prediction/"
    "5bc960f052e29d74aac12e9a63f1db50cf5a5f21/coursea_data.csv"
)


@pytest.fixture(scope="module")
def limited_crawl(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One `skillstack crawl <the dataset sources> --limit 20 --json`, shared by the tests that read it."""
    home = tmp_path_factory.mktemp("home")
    result = skillstack("crawl", *DATASET_SOURCES, "--limit", "20", "--json", home=home, mirror=MIRROR_DIR)
    return result, home / "crawl.duckdb"


def test_crawl_exits_zero_and_reports_every_source(limited_crawl):
    result, _ = limited_crawl
    assert result.returncode == 0, result.stderr[-3000:]
    summaries = json.loads(result.stdout)
    assert [summary["source"] for summary in summaries] == DATASET_SOURCES
    assert {(s["status"], s["items"], s["errors"], s["dropped"], s["ok"]) for s in summaries} == {
        ("finished", 20, 0, 0, True)
    }


def test_crawl_records_one_finished_run_per_source(limited_crawl):
    _, crawl_db = limited_crawl
    runs = query(
        crawl_db,
        """
        SELECT source, status, items, errors, dropped, finished_at >= started_at,
               stats->>'$."downloader/response_status_count/200"', stats->>'$."skillstack/limit"'
          FROM crawl_runs ORDER BY source
        """,
    )
    assert runs == [(source, "finished", 20, 0, 0, True, "1", "20") for source in DATASET_SOURCES]
    assert len({run_id for (run_id,) in query(crawl_db, "SELECT run_id FROM crawl_runs")}) == 1


def test_crawl_items_hold_the_real_values(limited_crawl):
    _, crawl_db = limited_crawl
    counts = query(
        crawl_db, "SELECT source, count(*), count(DISTINCT course_id) FROM crawl_items GROUP BY 1 ORDER BY 1"
    )
    assert counts == [(source, 20, 20) for source in DATASET_SOURCES]
    [(url, item)] = query(
        crawl_db, "SELECT url, item FROM crawl_items WHERE course_id = ?", ["udemy_kaggle_2017/1070968"]
    )
    banking = json.loads(item)
    assert url == "https://www.udemy.com/ultimate-investment-banking-course/"
    assert banking["name"] == "Ultimate Investment Banking Course"
    assert (banking["price"], banking["is_free"], banking["level"], banking["hours"]) == (200, False, "All Levels", 1.5)
    assert (banking["source"], banking["provider"], banking["id"]) == (
        "udemy_kaggle_2017",
        "Udemy",
        "udemy_kaggle_2017/1070968",
    )
    [(item,)] = query(
        crawl_db,
        "SELECT item FROM crawl_items WHERE course_id = ?",
        ["coursera_skills_2024/getting-started-with-microsoft-excel--coursera-project-network--guided-project"],
    )
    excel = json.loads(item)
    assert (excel["provider"], excel["institution"], excel["credential"]) == (
        "Coursera",
        "Coursera Project Network",
        "Guided Project",
    )
    assert "Spreadsheet Software" in excel["skills_declared"]


def test_unknown_source_is_a_one_line_error_with_exit_code_2(tmp_path):
    result = skillstack("crawl", "udemy_kaggle_2017", "no_such_source", home=tmp_path, mirror=MIRROR_DIR)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "skillstack: unknown source 'no_such_source'; run `skillstack crawl --list` to see the sources"
    ]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "crawl.duckdb").exists()


def test_list_names_every_source_and_its_url(tmp_path):
    result = skillstack("crawl", "--list", home=tmp_path, mirror=MIRROR_DIR)
    assert result.returncode == 0
    listed = dict(line.split(maxsplit=1) for line in result.stdout.splitlines())
    assert sorted(listed) == sorted(name for name, _ in list_sources())
    assert set(DATASET_SOURCES) <= set(listed)
    assert listed["udemy_kaggle_2017"] == UDEMY_CSV


# Sources whose pages the mirror does not hold: sitemap children and course pages (Udemy, Coursera),
# and the two sites we hold no capture of at all (their parsers are tested on other real pages).
FAIL_OFFLINE = {"coursera_pages", "udemy_pages", "linkedin_learning", "skillshare"}


def test_crawl_of_every_source_on_the_mirror_names_the_failed_ones(tmp_path):
    """What `make run` does on a machine without network: every source is tried, the ones the mirror
    cannot answer are reported failed by name, the others keep their items."""
    result = skillstack("crawl", "--limit", "5", "--json", home=tmp_path, mirror=MIRROR_DIR)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    summaries = {s["source"]: s for s in json.loads(result.stdout)}
    assert set(summaries) == {name for name, _ in list_sources()}
    failed = {name for name, s in summaries.items() if not s["ok"]}
    assert failed == FAIL_OFFLINE
    assert all(s["items"] >= 1 for name, s in summaries.items() if name not in FAIL_OFFLINE)
    assert summaries["mit_sloan"]["items"] == 5


def write_head_of_mirror_file(mirror: Path, url: str, lines: int) -> None:
    """Put the first lines of a real mirror file at its place in another mirror folder."""
    source = mirror_file_for(url, MIRROR_DIR)
    target = mirror_file_for(url, mirror)
    target.parent.mkdir(parents=True)
    with source.open(encoding="utf-8", newline="") as real:
        target.write_text("".join(next(real) for _ in range(lines)), encoding="utf-8", newline="")


def test_a_source_missing_from_the_mirror_fails_alone(tmp_path):
    """edX's CSV is not in this mirror: its run fails with the error counted, the others finish."""
    mirror = tmp_path.resolve() / "mirror"
    write_head_of_mirror_file(mirror, UDEMY_CSV, lines=11)
    write_head_of_mirror_file(mirror, COURSERA_2020_CSV, lines=6)
    home = tmp_path / "home"

    result = skillstack(
        "crawl", "edx_kaggle_2020", "udemy_kaggle_2017", "coursera_kaggle_2020", home=home, mirror=mirror
    )

    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["edx_kaggle_2020", "failed", "0"]
    runs = query(home / "crawl.duckdb", "SELECT source, status, items, errors, finish_reason FROM crawl_runs")
    assert sorted(runs) == [
        ("coursera_kaggle_2020", "finished", 5, 0, "finished"),
        ("edx_kaggle_2020", "failed", 0, 1, "source_unavailable"),
        ("udemy_kaggle_2017", "finished", 10, 0, "finished"),
    ]
    [(stats,)] = query(home / "crawl.duckdb", "SELECT stats FROM crawl_runs WHERE source = ?", ["edx_kaggle_2020"])
    assert json.loads(stats)["downloader/response_status_count/404"] >= 1
