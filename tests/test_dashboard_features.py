"""The My plan, Compare courses and Watched goals pages in Streamlit's AppTest on the built catalogue
(uploads, which AppTest cannot make, are driven in tests/test_browser_features.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.words import md
from recommender import api
from tests.test_dashboard import assert_no_html, run_page, shown

pytestmark = pytest.mark.slow

GOAL = "data analyst"


def test_plan_shows_the_printable_plan_of_the_api_stack(catalog_home: Path):
    at = run_page("plan", goal=GOAL)
    assert_no_html(at)
    rec = api.recommend(GOAL, k=10)
    steps = [m.value for m in at.markdown if m.value.startswith("**Step ")]
    assert steps == [f"**Step {i}: {md(s.course.title)}**" for i, s in enumerate(rec.stack.steps, start=1)]
    text = shown(at)
    assert md(f"Goal: {GOAL}") in text
    assert md(f"Occupation: {rec.chosen.label}") in text
    assert md("Still open: " + ", ".join(rec.stack.uncovered)) in text
    assert md(f"Catalogue of {api.catalog_summary().built_at}") in text
    assert [b.proto.label for b in at.get("download_button")] == [
        "Plan as CSV",
        "Schedule (iCalendar)",
        "Plan as JSON-LD",
    ]


def test_compare_courses_puts_the_chosen_courses_side_by_side(catalog_home: Path):
    chosen = api.recommend(GOAL, k=3).results
    at = run_page("compare_courses", goal=GOAL, courses=[c.course_id for c in chosen])
    assert_no_html(at)
    facts, skills = (t.value for t in at.table)
    assert list(facts.columns) == [f"{c.title} ({c.provider})" for c in chosen]
    assert list(facts.index)[:6] == ["price", "hours", "level", "language", "credential", "rating"]
    comparison = api.compare_courses(tuple(c.course_id for c in chosen), GOAL)
    first = comparison.courses[0]
    assert facts.loc["required skills covered"].iloc[0] == f"{len(first.matched_skills)} of {len(comparison.required)}"
    ticked = [label.removesuffix(" (essential)") for label in skills.index[skills.iloc[:, 0] == "✓"]]
    assert set(ticked) == set(first.matched_skills)


def test_compare_courses_asks_for_two(catalog_home: Path):
    at = run_page("compare_courses", goal=GOAL)
    assert "Choose at least two courses (up to 4)." in shown(at)


def test_watch_without_watches_says_how_to_add_one(catalog_home: Path, tmp_path: Path, monkeypatch):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "catalog.duckdb").symlink_to(catalog_home / "catalog.duckdb")
    monkeypatch.setenv("SKILLSTACK_HOME", str(tmp_path / "home"))
    at = run_page("watch")
    assert_no_html(at)
    assert "No goal is watched yet" in shown(at)
