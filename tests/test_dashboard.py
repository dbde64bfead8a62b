"""Every dashboard page in Streamlit's AppTest, on the real catalogue built from the mirror.

Each test runs one page's `render()` (as the router does) with the URL query parameters a shared link
carries, drives its widgets and compares what is shown with what `recommender.api` returns.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.words import md
from recommender import api
from tests.helpers import CATALOG_SOURCES, XSS_DESCRIPTION, XSS_MARKDOWN, make_xss_home

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
PAGES = ("find", "compare", "course", "gap", "sources")
GOAL = "data analyst"
# Loading the catalogue and the model the first time takes a while on two shared cores.
TIMEOUT = 180


def run_page(page: str, **query: str | list[str]) -> AppTest:
    """The page as the router runs it, opened with `query` as its URL query parameters."""
    at = AppTest.from_string(f"from dashboard.views import {page}\n\n{page}.render()\n", default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at.run()


def shown(at: AppTest) -> str:
    """All text the page shows, as the Markdown/plain sources Streamlit renders."""
    kinds = ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error", "success")
    return "\n".join(str(element.value) for kind in kinds for element in getattr(at, kind))


def card_titles(at: AppTest) -> list[str]:
    """The bold first line of each course card, as rendered Markdown source."""
    return [m.value for m in at.markdown if m.value.startswith("**") and not m.value.startswith("**Step ")]


def assert_no_html(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [m.value for m in at.markdown if m.allow_html], "a page renders Markdown with HTML allowed"


def live_markup(source: str) -> list[str]:
    """The links, images and tags Markdown would make of `source`: those not escaped by `md`."""
    unescaped = re.sub(r"\\.", "", source)
    # Links, images, tags, and the bare URLs and addresses GitHub-flavoured Markdown links by itself.
    return re.findall(r"!?\[[^\]]*\]\([^)]*\)|<[a-zA-Z/][^>]*>|https?://|\bwww\.\w|\w@\w", unescaped)


def is_paid(result: api.CourseResult) -> bool:
    return result.access_model not in ("free", "free-audit+paid-certificate") and bool(result.price)


def catalog_rows(home: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    try:
        return con.execute(sql, parameters or []).fetchall()
    finally:
        con.close()


# ---------------------------------------------------------------- Find


@pytest.mark.slow
def test_app_routes_to_find_with_the_attribution(catalog_home: Path):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "Find courses for a goal"
    assert "ESCO classification" in shown(at)
    assert "O\\*NET 29\\.2 Database" in shown(at)


@pytest.mark.slow
def test_find_shows_the_occupation_the_stack_and_the_api_ranking(catalog_home: Path):
    at = run_page("find")
    at.text_input(key="find_goal").input(GOAL).run()
    assert_no_html(at)
    rec = api.recommend(GOAL, k=10)
    assert rec.chosen.label == "data analyst"
    assert "Goal: data analyst" in [s.value for s in at.subheader]
    titles = card_titles(at)
    assert titles == [f"**{i}\\. {md(r.title)}**" for i, r in enumerate(rec.results, start=1)]
    assert any("data analy" in r.title.lower() for r in rec.results)
    # the why, the stack and its chart, the tools
    assert md("Why: covers " + ", ".join(rec.results[0].matched_skills[:8])) in shown(at)
    steps = [m.value for m in at.markdown if m.value.startswith("**Step ")]
    assert steps == [f"**Step {i}: {md(s.course.title)}**" for i, s in enumerate(rec.stack.steps, start=1)]
    assert [m.label for m in at.metric][:4] == ["Steps", "Total hours", "Total cost", "Gap closed"]
    assert at.metric[1].value.removeprefix("≥ ") == f"{api.round_hours(rec.stack.total_hours):g}"
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert rec.tools
    assert md(", ".join(rec.tools)) in shown(at)
    # each card links to its course page and out to the provider
    linked = [parse_qs(link.proto.query_string).get("course", [None])[0] for link in at.get("page_link")]
    assert {r.course_id for r in rec.results} <= set(linked)
    # the URL now reproduces the view
    assert at.query_params["goal"] == GOAL


@pytest.mark.slow
def test_free_only_removes_the_paid_courses(catalog_home: Path):
    goal = "accountant"  # its best courses include paid Udemy ones
    at = run_page("find", goal=goal)
    everything = api.recommend(goal, k=10)
    free = api.recommend(goal, k=10, filters=api.Filters(free_only=True))
    paid_titles = {r.title for r in everything.results if is_paid(r)} - {r.title for r in free.results}
    assert paid_titles, "the unfiltered ranking holds no paid course: the test would prove nothing"
    assert any(md(t) in shown(at) for t in paid_titles)

    at.toggle(key="find_free").set_value(True).run()
    assert_no_html(at)
    assert card_titles(at) == [f"**{i}\\. {md(r.title)}**" for i, r in enumerate(free.results, start=1)]
    assert not [t for t in paid_titles if md(t) in shown(at)]
    assert all(not is_paid(r) for r in free.results)
    assert at.query_params["free"] == "1"


@pytest.mark.slow
def test_a_shared_link_opens_the_same_view(catalog_home: Path):
    rec = api.recommend(GOAL, k=5)
    alternative = rec.occupations[1]
    at = run_page("find", goal=GOAL, occupation=alternative.uri, have=["SQL", "Excel"], free="1", level="beginner")
    assert_no_html(at)
    assert at.text_input(key="find_goal").value == GOAL
    assert at.text_input(key="find_have").value == "SQL, Excel"
    assert at.toggle(key="find_free").value is True
    assert at.multiselect(key="find_levels").value == ["beginner"]
    assert f"Goal: {md(alternative.label)}" in [s.value for s in at.subheader]
    expected = api.recommend(
        GOAL,
        k=10,
        occupation_uri=alternative.uri,
        have=("SQL", "Excel"),
        filters=api.Filters(free_only=True, levels=("beginner",)),
    )
    assert card_titles(at) == [f"**{i}\\. {md(r.title)}**" for i, r in enumerate(expected.results, start=1)]
    assert "You already have" in shown(at)


@pytest.mark.slow
def test_picking_another_occupation_updates_the_results_and_the_url(catalog_home: Path):
    at = run_page("find", goal=GOAL)
    picker = at.selectbox(key=f"find_occupation::{GOAL}")
    occupations = api.resolve_goal(GOAL, k=5)
    assert picker.options == [o.label for o in occupations]
    picker.select_index(1).run()
    assert f"Goal: {md(occupations[1].label)}" in [s.value for s in at.subheader]
    assert at.query_params["occupation"] == occupations[1].uri


# ---------------------------------------------------------------- Compare providers


@pytest.mark.slow
def test_compare_the_whole_catalogue_counts_every_provider(catalog_home: Path):
    at = run_page("compare")
    assert_no_html(at)
    summary = api.catalog_summary()
    table = at.table[0].value
    assert sorted(table["Provider"]) == sorted(summary.providers)
    assert int(table["Courses"].sum()) == summary.active
    in_catalogue = dict(
        catalog_rows(catalog_home, "SELECT provider, count(*) FROM courses WHERE status = 'active' GROUP BY provider")
    )
    assert dict(zip(table["Provider"], table["Courses"], strict=True)) == in_catalogue
    assert len(at.table) == 2  # no goal: no coverage table
    assert "Goal coverage, all courses" not in at.table[1].value
    # "Free" is the share of the courses whose price (or access model) the source states.
    stated = "(price IS NOT NULL OR access_model IS NOT NULL)"
    active = "FROM courses WHERE status = 'active'"
    priced = dict(catalog_rows(catalog_home, f"SELECT provider, avg({stated}::INT) {active} GROUP BY provider"))
    free = dict(
        catalog_rows(
            catalog_home,
            "SELECT provider, avg((access_model IN ('free', 'free-audit+paid-certificate') OR price = 0)::INT) "
            f"{active} AND {stated} GROUP BY provider",
        )
    )
    for provider, priced_share, free_share in zip(
        table["Provider"], table["Price stated"], table["Free (of those)"], strict=True
    ):
        assert priced_share == f"{priced[provider]:.0%}"
        assert free_share == (f"{free[provider]:.0%}" if provider in free else "not stated")
    shown = dict(zip(table["Provider"], table["Free (of those)"], strict=True))
    # The Coursera datasets state no price: Coursera shows no free share rather than 0 %. Every
    # edX listing there is free to audit.
    assert shown["Coursera"] == "not stated"
    assert priced["Coursera"] == 0
    assert shown["edX"] == "100%"
    assert at.get("download_button")


@pytest.mark.slow
def test_compare_for_a_goal_matches_the_api(catalog_home: Path):
    at = run_page("compare", goal=GOAL)
    assert_no_html(at)
    expected = api.compare_providers(GOAL)
    table = at.table[0].value
    assert list(table["Provider"]) == [p.provider for p in expected.providers]
    assert list(table["Courses"]) == [p.courses for p in expected.providers]
    fit = at.table[2].value
    assert list(fit["Goal coverage, all courses"]) == [f"{p.goal_coverage:.0%}" for p in expected.providers]
    assert list(fit["Coverage per course"]) == [f"{p.course_coverage:.0%}" for p in expected.providers]
    assert "Goal: data analyst" in [s.value for s in at.subheader]
    assert len(at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")) >= 6

    at.toggle(key="compare_free").set_value(True).run()
    free = api.compare_providers(GOAL, filters=api.Filters(free_only=True))
    table = at.table[0].value
    assert list(table["Courses"]) == [p.courses for p in free.providers]
    assert all(share == "100%" for share in table["Free (of those)"])


# ---------------------------------------------------------------- Course


@pytest.mark.slow
def test_course_page_shows_a_known_course(catalog_home: Path):
    ((course_id, title, price),) = catalog_rows(
        catalog_home,
        "SELECT id, name, price FROM courses WHERE name = ? AND source = ?",
        ["Getting Started with Microsoft Excel", "coursera_skills_2024"],
    )
    at = run_page("course", course=course_id)
    assert_no_html(at)
    assert at.title[0].value == md(title)
    detail = api.course_detail(course_id)
    assert any("spreadsheet" in s.label.lower() for s in detail.skills)
    for skill in detail.skills:
        assert any(m.value.startswith(md(f"{skill.label} — ")) for m in at.markdown)
    # The Coursera dataset states no price.
    assert price is None
    assert "price not stated" in shown(at)
    assert "Similar courses" in [h.value for h in at.header]
    assert at.get("link_button")[0].proto.url.startswith("http")


@pytest.mark.slow
def test_course_page_lists_every_source_of_a_merged_course(catalog_home: Path):
    ((course_id, sources, urls),) = catalog_rows(
        catalog_home,
        """
        SELECT course_id, list(source ORDER BY source), list(url ORDER BY source) FROM course_records
        GROUP BY course_id HAVING count(*) > 1 ORDER BY course_id LIMIT 1
        """,
        [],
    )
    at = run_page("course", course=course_id)
    assert not at.exception
    listed = at.expander[0].dataframe[1].value
    assert "Where else it is listed" in [h.value for h in at.header]
    assert sorted(listed["source"]) == sources
    assert sorted(zip(listed["source"], listed["link"], strict=True)) == sorted(zip(sources, urls, strict=True))
    # the course's own values come from its best record, which is listed first
    assert listed["source"].iloc[0] == api.course_detail(course_id).source


@pytest.mark.slow
def test_unknown_course_says_so(catalog_home: Path):
    at = run_page("course", course="no_such_source/nothing")
    assert not at.exception
    assert "No course with the id" in at.warning[0].value


# ---------------------------------------------------------------- Skill gap


@pytest.mark.slow
def test_skill_gap_splits_the_required_skills(catalog_home: Path):
    had = api.recommend(GOAL, k=1).required[0].label
    at = run_page("gap", goal=GOAL, have=had)
    assert_no_html(at)
    gap = api.skill_gap(GOAL, have=(had,))
    rec = gap.recommendation
    assert [h.label for h in rec.have] == [had]
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Required"]) == len(rec.required) == len(gap.skills)
    assert int(metrics["You have it"]) == sum(s.have for s in gap.skills) >= 1
    assert int(metrics["The stack covers it"]) == len(rec.stack.covered)
    parts = {t: at.table[i].value for i, t in enumerate(["have", "stack", "elsewhere", "nothing"])}
    assert list(parts["have"]["skill"]) == [had]
    assert list(parts["have"]["from"]) == ["typed under Skills I already have"]
    assert sorted(parts["stack"]["skill"]) == sorted(rec.stack.covered)
    assert (parts["nothing"]["courses teaching it"] == 0).all()
    assert sum(len(p) for p in parts.values()) == len(rec.required)


# ---------------------------------------------------------------- Sources


@pytest.mark.slow
def test_sources_show_each_crawled_source_finished(catalog_home: Path):
    at = run_page("sources")
    assert_no_html(at)
    table = at.dataframe[0].value
    assert sorted(table["source"]) == sorted(CATALOG_SOURCES)
    assert all(status.startswith("finished") for status in table["status"])
    assert (table["items"] > 0).all()
    assert at.success[0].value == f"All {len(CATALOG_SOURCES)} sources finished their last crawl."
    summary = api.catalog_summary()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Courses"] == f"{summary.courses:,}"
    assert metrics["Built"].endswith("ago")


# ---------------------------------------------------------------- no catalogue, hostile catalogue


@pytest.mark.parametrize("page", PAGES)
def test_a_missing_catalogue_names_the_commands_that_fill_it(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SKILLSTACK_HOME", str(tmp_path))
    at = run_page(page, goal=GOAL, course="x/1")
    assert not at.exception
    message = at.warning[0].value
    assert "`skillstack taxonomy load`" in message
    assert "`skillstack build`" in message
    assert "O\\*NET" in shown(at)  # the footer still shows


@pytest.mark.slow
@pytest.mark.parametrize("page", ["find", "compare", "gap"])
def test_a_catalogue_without_courses_says_to_crawl_and_build(
    page: str, catalog_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    shutil.copy2(catalog_home / "catalog.duckdb", tmp_path / "catalog.duckdb")
    con = duckdb.connect(str(tmp_path / "catalog.duckdb"))
    try:
        con.execute("DELETE FROM courses")
    finally:
        con.close()
    monkeypatch.setenv("SKILLSTACK_HOME", str(tmp_path))
    at = run_page(page, goal=GOAL)
    assert not at.exception
    assert "`skillstack crawl`" in at.warning[0].value
    assert "`skillstack build`" in at.warning[0].value

    at = run_page("sources")  # the crawl history still shows
    assert sorted(at.dataframe[0].value["source"]) == sorted(CATALOG_SOURCES)


@pytest.mark.slow
def test_scraped_markup_is_shown_as_text(catalog_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = api.recommend(GOAL, k=1).results[0]
    title = make_xss_home(catalog_home, tmp_path / "xss", target.course_id)
    monkeypatch.setenv("SKILLSTACK_HOME", str(tmp_path / "xss"))

    at = run_page("find", goal=GOAL)
    assert_no_html(at)
    assert any(md(title) in shown_title for shown_title in card_titles(at))
    assert "\\<script\\>window" in shown(at)
    # the `javascript:` URL gets no link button
    assert all(b.proto.url.startswith("http") for b in at.get("link_button"))

    at = run_page("course", course=target.course_id)
    assert_no_html(at)
    assert at.title[0].value == md(title)
    assert md(XSS_DESCRIPTION) in shown(at)
    assert all(b.proto.url.startswith("http") for b in at.get("link_button"))  # only the similar courses'
    # Every Markdown source the page renders, tooltips included, shows the markup as typed.
    helps = [e.proto.help for kind in ("markdown", "caption", "metric") for e in at.get(kind) if e.proto.help]
    assert md(XSS_MARKDOWN) in "\n".join(helps), "the scraped duration or price is not in a tooltip"
    for source in [*(str(e.value) for e in at.markdown), *(str(e.value) for e in at.caption), *helps]:
        assert not live_markup(source), source


@pytest.mark.slow
def test_a_newly_published_catalogue_shows_without_a_restart(
    catalog_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "live"
    home.mkdir()
    shutil.copy2(catalog_home / "catalog.duckdb", home / "catalog.duckdb")
    monkeypatch.setenv("SKILLSTACK_HOME", str(home))
    top = api.recommend(GOAL, k=1).results[0]
    at = run_page("find", goal=GOAL)
    assert card_titles(at)[0] == f"**1\\. {md(top.title)}**"

    # Publish the way `build` does: a new file beside, renamed over the old one.
    title = make_xss_home(catalog_home, tmp_path / "next", top.course_id)
    os.replace(tmp_path / "next" / "catalog.duckdb", home / "catalog.duckdb")
    at.run()
    assert not at.exception
    titles = card_titles(at)
    assert any(t.endswith(f"\\. {md(title)}**") for t in titles)
