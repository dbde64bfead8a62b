"""Watched goals and their feeds through two real nightlies over a copy of the Udemy capture: between
the runs one course of the goal's top gets cheaper and one new course appears in the capture.

The feed is checked as a feed reader reads it: parsed by `feedparser`, which flags a malformed feed.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest

from dashboard.common import NEW_MARK
from dashboard.words import md
from recommender import api, watch
from tests.conftest import MIRROR_DIR
from tests.test_dashboard import assert_no_html, card_titles, run_page
from tests.test_nightly import UDEMY_CSV, copy_home, env_for, nightly, nightly_args, reports

pytestmark = pytest.mark.slow

GOAL = "financial analyst"
SOURCE = "udemy_kaggle_2017"
LIMIT = 30
NEW_COURSE = {
    "course_id": "9900001",
    "course_title": "Financial Analyst Masterclass: Financial Statement Analysis, Modeling and Valuation",
    "url": "https://www.udemy.com/financial-analyst-masterclass-statement-analysis-modeling/",
    "is_paid": "True",
    "price": "50",
    "num_subscribers": "1200",
    "num_reviews": "80",
    "num_lectures": "60",
    "level": "All Levels",
    "content_duration": "8.5",
    "published_timestamp": "2017-05-02T10:00:00Z",
    "subject": "Business Finance",
}


def skillstack(home: Path, mirror: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "skillstack.cli", *args],
        env=env_for(home, mirror),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def write_rows(path: Path, columns: list[str], rows: list[dict]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture(scope="module")
def two_nightlies(built_home: Path, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("watch")
    home = copy_home(built_home, root / "home")
    mirror = root / "mirror"
    (mirror / UDEMY_CSV).parent.mkdir(parents=True)
    shutil.copy2(MIRROR_DIR / UDEMY_CSV, mirror / UDEMY_CSV)

    added = skillstack(home, mirror, "watch", "add", GOAL, "--provider", "Udemy", "--top", "5")
    assert added.returncode == 0, added.stderr[-2000:]
    watch_id = added.stdout.split()[1].rstrip(":")

    first = nightly(home, *nightly_args(SOURCE, limit=LIMIT), mirror=mirror)
    assert first.returncode == 0, first.stderr[-3000:]
    state = json.loads((home / "feeds" / f"{watch_id}.json").read_text(encoding="utf-8"))

    # Between the runs: a course of the goal's top (one the bounded crawl reads) drops its price, and
    # a new course appears first in the capture.
    columns, rows = read_rows(mirror / UDEMY_CSV)
    read_by_crawl = {row["url"]: row for row in rows[: LIMIT - 1]}
    cheaper = next(
        (c for c in state["top"] if c["url"] in read_by_crawl and float(read_by_crawl[c["url"]]["price"] or 0) > 20),
        None,
    )
    assert cheaper, f"no course of the top is among the first {LIMIT - 1} rows: {state['top']}"
    read_by_crawl[cheaper["url"]]["price"] = "20"
    write_rows(mirror / UDEMY_CSV, columns, [NEW_COURSE, *rows])

    second = nightly(home, *nightly_args(SOURCE, limit=LIMIT), mirror=mirror)
    assert second.returncode == 0, second.stderr[-3000:]
    return home, watch_id, cheaper, first, second


def test_the_second_nightly_feed_has_the_new_course_and_the_price_drop(two_nightlies, monkeypatch):
    home, watch_id, cheaper, _, _ = two_nightlies
    feed = feedparser.parse(str(home / "feeds" / f"{watch_id}.atom"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == f"skillstack: {GOAL}"
    titles = [e.title for e in feed.entries]
    new = next(e for e in feed.entries if e.title.startswith("New in the top 5: "))
    assert new.title == f"New in the top 5: {NEW_COURSE['course_title']} (Udemy)"
    monkeypatch.setenv("SKILLSTACK_HOME", str(home))
    new_id = parse_qs(urlsplit(new.link).query)["course"][0]
    assert new.link == watch.course_page_url(new_id)
    assert new.link.startswith(f"{watch.DEFAULT_DASHBOARD_URL}/course?course=udemy_kaggle_2017")
    drop = next(e for e in feed.entries if e.title.startswith("Price dropped: "))
    assert drop.title == f"Price dropped: {cheaper['title']} (Udemy)"
    currency = f" {cheaper['currency']}" if cheaper["currency"] else ""  # the Udemy capture states none
    assert drop.summary == f"Was {cheaper['price']:g}{currency}, now 20{currency}."
    assert drop.link == watch.course_page_url(cheaper["course_id"])
    # newest first; the first nightly changed nothing for the goal, the watch's start is the oldest entry
    assert titles[-1] == "Watching 'financial analyst': its top 5 now"
    assert len(titles) == 3


def test_each_nightly_report_counts_the_feeds_and_their_entries(two_nightlies):
    home, *_, first, second = two_nightlies
    first_report, second_report = reports(home)
    assert first_report["feeds"] == {"feeds": 1, "entries": 0}
    assert second_report["feeds"] == {"feeds": 1, "entries": 2}
    assert "feeds: 1 watched goals, 2 new entries" in second.stdout


def test_the_new_course_is_marked_new_since_the_last_nightly(two_nightlies, monkeypatch):
    home, *_ = two_nightlies
    monkeypatch.setenv("SKILLSTACK_HOME", str(home))
    fresh = api.new_since_last_nightly()
    [new_id] = [i for i in fresh if "financial-analyst-masterclass" in i or i.endswith("9900001")]
    assert api.course_detail(new_id).title == NEW_COURSE["course_title"]


def test_find_marks_the_course_the_last_nightly_brought_and_not_the_older_ones(two_nightlies, monkeypatch):
    """Issue 20: Find marks a course first seen since the last published nightly started; a course of
    the same list that the first nightly already had is not marked."""
    home, *_ = two_nightlies
    monkeypatch.setenv("SKILLSTACK_HOME", str(home))
    fresh = api.new_since_last_nightly()
    rec = api.recommend(GOAL, k=10, filters=api.Filters(providers=("Udemy",)))
    [new] = [r for r in rec.results if r.title == NEW_COURSE["course_title"]]
    assert new.course_id in fresh
    older = [r for r in rec.results if r.course_id not in fresh]
    assert older
    at = run_page("find", goal=GOAL, provider="Udemy")
    assert_no_html(at)
    titles = card_titles(at)
    rank = [r.course_id for r in rec.results].index(new.course_id) + 1
    assert f"**{rank}\\. {md(new.title)}** {md(NEW_MARK)}" in titles
    for course in older:
        rank = [r.course_id for r in rec.results].index(course.course_id) + 1
        assert f"**{rank}\\. {md(course.title)}**" in titles
    assert sum(NEW_MARK in t for t in titles) == len(fresh & {r.course_id for r in rec.results})


def test_watch_list_and_remove(two_nightlies, tmp_path: Path):
    home, watch_id, *_ = two_nightlies
    listed = json.loads(skillstack(home, MIRROR_DIR, "watch", "list", "--json").stdout)
    assert [(w["id"], w["goal"], w["filters"]) for w in listed] == [(watch_id, GOAL, "top 5; provider Udemy")]
    assert listed[0]["entries"] == 3
    gone = skillstack(home, MIRROR_DIR, "watch", "remove", "no-such-watch")
    assert gone.returncode == 2
    assert "no watch no-such-watch" in gone.stderr
