"""The first page view after a restart (issue 19): `skillstack serve` started ten times over the built
catalogue, each time Find opened in Debian's chromium as soon as serve's health endpoint answers.

The test asserts what is shown: the titled navigation, the goal box, the filters and the catalogue
line with no spinner, then the first goal's real first course. The seconds go to
test-artifacts/first_page.json; the figure in docs/benchmarks.md comes from `skillstack bench
first-page`, which runs the same harness.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import first_page
from recommender import api

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
GOAL = "data analyst"
RUNS = 10


@pytest.mark.browser
@pytest.mark.slow
def test_the_first_page_after_each_restart_is_the_real_page_and_answers_the_first_goal(
    built_home: Path, catalog_home: Path, tmp_path: Path
):
    if not first_page.CHROMIUM.exists():
        pytest.fail(f"{first_page.CHROMIUM} is missing: `apt-get install -y chromium`, never `playwright install`")
    expected = api.recommend(GOAL, k=10).results[0].title

    # Each run waits, in the browser, until the real page is there (titled navigation, goal box,
    # filters, catalogue line, no spinner or skeleton) and then for the goal's first course.
    report = first_page.measure(built_home, RUNS, goal=GOAL, log_dir=tmp_path)

    runs = report["each"]
    assert len(runs) == RUNS
    assert {run["first_result"] for run in runs} == {expected}
    summary = report["summary"]["this"]
    assert summary["first_results"] == [expected]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "first_page.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(
        f"first page view after ready, {RUNS} restarts: median {summary['ready_to_shown_s']['median']:.2f}s, "
        f"max {summary['ready_to_shown_s']['max']:.2f}s (machine load {os.getloadavg()[0]:.1f})"
    )


def test_the_warm_up_on_an_empty_home_says_what_fills_it_and_serve_goes_on(skillstack_home: Path):
    from dashboard import serve

    assert "skillstack build" in serve.warm()


def test_the_warm_up_on_an_unreadable_catalogue_says_so_instead_of_stopping_serve(skillstack_home: Path):
    from dashboard import serve

    (skillstack_home / "catalog.duckdb").write_bytes(b"not a database")

    assert serve.warm().startswith("the catalogue could not be opened")
