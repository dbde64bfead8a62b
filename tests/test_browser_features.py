"""The learner's, the counsellor's and the watcher's pages in a real browser (Debian's chromium through
Playwright, as tests/test_browser.py): uploads of the specification's badges and a LinkedIn export,
the plan printed at A4 with print media and downloaded in three formats, three courses compared, and
a watched goal's feed with its address.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from icalendar import Calendar
from playwright.sync_api import Browser, expect

from recommender import api
from tests.conftest import BADGES_DIR, run_skillstack

# `browser` is tests/test_browser.py's fixture (Debian's chromium, launched once per module), shared here.
from tests.test_browser import ARTIFACTS, FIRST_LOAD_MS, _open, _see, _shot, browser, serving  # noqa: F401
from tests.test_credentials import ROBOT, TEAMWORK, baked_png

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GOAL = "data analyst"
A4_AT_96_DPI = {"width": 794, "height": 1123}


@pytest.fixture(scope="module")
def home(built_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built catalogue with one watched goal (its feed holds the watch's first entry)."""
    home = tmp_path_factory.mktemp("features") / "home"
    home.mkdir()
    shutil.copy2(built_home / "catalog.duckdb", home / "catalog.duckdb")
    run_skillstack(home, "watch", "add", GOAL, "--top", "5")
    return home


@pytest.fixture(scope="module")
def dashboard(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(home, tmp_path_factory.mktemp("serve") / "streamlit.log") as url:
        yield url


@pytest.fixture
def uploads(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The robot badge as JSON, the teamwork badge baked into a PNG, a LinkedIn export naming a course of
    the catalogue, and a file that is not JSON."""
    monkeypatch.setenv("SKILLSTACK_HOME", str(home))
    robot = BADGES_DIR / ROBOT
    teamwork = tmp_path / "teamwork.png"
    teamwork.write_bytes(baked_png((BADGES_DIR / TEAMWORK).read_text(encoding="utf-8")))
    course = api.recommend(GOAL, k=3).results[2]
    linkedin = tmp_path / "Certifications.csv"
    linkedin.write_text(
        "Name,Url,Authority,Started On,Finished On,License Number\n"
        f'"{course.title}",{course.url},{course.provider},Jan 2025,,\n',
        encoding="utf-8",
    )
    broken = tmp_path / "notes.json"
    broken.write_text("I did a course on Excel", encoding="utf-8")
    return [robot, teamwork, linkedin, broken]


def test_a_learner_uploads_badges_and_linkedin_sees_the_sources_prints_and_downloads_the_plan(
    browser: Browser,  # noqa: F811
    dashboard: str,
    uploads: list[Path],
):
    held = api.held_skills([(p.name, p.read_bytes()) for p in uploads])
    from_linkedin = [src for s in held.skills for src in s.sources if src.startswith("from certification '")]
    assert from_linkedin, held.unmatched
    rec = api.recommend(GOAL, k=10, have_skills=held.skills)
    assert rec.stack.steps

    page = _open(browser, f"{dashboard}/plan?{urlencode({'goal': GOAL})}")
    _see(page, "Your plan", FIRST_LOAD_MS)
    page.locator('input[type="file"]').set_input_files([str(p) for p in uploads])
    _see(page, "What you bring")
    _see(page, "from badge 'Robot Programming Skill Credential', issued by 1EdTech University")
    _see(page, "from badge 'Teamwork Badge', issued by Example Corp")
    _see(page, from_linkedin[0].split(" — ")[0])
    _see(page, "notes.json: not JSON (Expecting value at line 1, column 1); the other files still count")
    robotics = next(s for s in held.skills if s.label == "robotics")
    _see(page, robotics.label)
    _see(page, f"Step 1: {rec.stack.steps[0].course.title}")
    _see(page, f"Step {len(rec.stack.steps)}: {rec.stack.steps[-1].course.title}")

    with page.expect_download() as info:
        page.get_by_role("button", name="Plan as CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert [r["title"] for r in rows] == [s.course.title for s in rec.stack.steps]
    with page.expect_download() as info:
        page.get_by_role("button", name="Schedule (iCalendar)").click()
    events = Calendar.from_ical(Path(info.value.path()).read_bytes()).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [
        f"Step {i}: {s.course.title}" for i, s in enumerate(rec.stack.steps, 1)
    ]
    with page.expect_download() as info:
        page.get_by_role("button", name="Plan as JSON-LD").click()
    plan = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert [i["item"]["name"] for i in plan["itemListElement"]] == [s.course.title for s in rec.stack.steps]
    _shot(page, "plan")

    # At print size with print media: the plan's parts are all there to print.
    page.set_viewport_size(A4_AT_96_DPI)
    page.emulate_media(media="print")
    for text in (f"Goal: {GOAL}", f"Occupation: {rec.chosen.label}", "Still open: ", "Catalogue of "):
        expect(page.get_by_text(text, exact=False).first).to_be_visible()
    step = page.get_by_text(f"Step 1: {rec.stack.steps[0].course.title}").first
    step.scroll_into_view_if_needed()
    expect(step).to_be_visible()
    assert step.bounding_box()["width"] <= A4_AT_96_DPI["width"]
    page.pdf(path=str(ARTIFACTS / "plan.pdf"), format="A4")
    assert (ARTIFACTS / "plan.pdf").stat().st_size > 10_000
    page.screenshot(path=str(ARTIFACTS / "plan-print.png"), full_page=True)
    page.context.close()


def test_a_counsellor_compares_three_chosen_courses(browser: Browser, dashboard: str, home: Path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SKILLSTACK_HOME", str(home))
    chosen = api.recommend(GOAL, k=3).results
    comparison = api.compare_courses(tuple(c.course_id for c in chosen), GOAL)
    query = urlencode([("goal", GOAL), *(("courses", c.course_id) for c in chosen)])
    page = _open(browser, f"{dashboard}/compare-courses?{query}")
    _see(page, f"Goal: {comparison.occupation.label}", FIRST_LOAD_MS)
    table = page.locator('[data-testid="stTable"]').first
    for course in comparison.courses:
        expect(table).to_contain_text(f"{course.title} ({course.provider})")
        expect(table).to_contain_text(f"{len(course.matched_skills)} of {len(comparison.required)}")
    for fact in ("price", "hours", "level", "language", "credential", "rating"):
        expect(table).to_contain_text(fact)
    skills = page.locator('[data-testid="stTable"]').nth(1)
    expect(skills).to_contain_text(comparison.courses[0].matched_skills[0])
    _shot(page, "compare-courses")
    page.context.close()


def test_a_watched_goal_shows_its_feed_and_its_address(browser: Browser, dashboard: str, home: Path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SKILLSTACK_HOME", str(home))
    [watched] = api.watches()
    [entry] = api.watch_feed(watched.id)
    page = _open(browser, f"{dashboard}/watch?{urlencode({'watch': watched.id})}")
    _see(page, f"Feed: {GOAL}", FIRST_LOAD_MS)
    _see(page, entry.title)
    _see(page, api.watch_feed_path(watched.id).resolve().as_uri())
    _see(page, "Its courses now")
    first = api.recommend(GOAL, k=5).results[0]
    _see(page, f"1. {first.title}")
    _shot(page, "watch")
    page.context.close()


# ---------------------------------------------------------------- issue 20: what a learner holds, on Find and Skill gap

WEB = "web developer"
PROGRAMMING = "computer programming"  # read in the robot badge's alignment 'Robot Programming'; web developers need it


@pytest.fixture
def held_for_web(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch):
    """The robot badge and a LinkedIn export naming a course of the catalogue that brings a skill the goal
    requires: the files, what the API reads of them, and the two skills the test follows."""
    monkeypatch.setenv("SKILLSTACK_HOME", str(home))
    required = {r.uri for r in api.recommend(WEB, k=10).required}
    robot = BADGES_DIR / ROBOT
    linkedin = tmp_path / "Certifications.csv"
    for course in api.recommend(WEB, k=10).results:
        linkedin.write_text(
            "Name,Url,Authority,Started On,Finished On,License Number\n"
            f'"{course.title}",{course.url},{course.provider},Jan 2025,,\n',
            encoding="utf-8",
        )
        brought = api.held_skills([(linkedin.name, linkedin.read_bytes())]).skills
        from_course = [s for s in brought if s.uri in required and s.label != PROGRAMMING]
        if from_course:
            break
    assert from_course, "no course of the goal's list brings a skill the goal requires"
    files = [robot, linkedin]
    held = api.held_skills([(p.name, p.read_bytes()) for p in files])
    [badge_skill] = [s for s in held.skills if s.label == PROGRAMMING]
    assert badge_skill.uri in required
    assert badge_skill.sources[0].startswith(
        "from badge 'Robot Programming Skill Credential', issued by 1EdTech University"
    )
    [course_skill] = [s for s in held.skills if s.uri == from_course[0].uri]
    return files, held, badge_skill, course_skill


def _upload(page, files: list[Path]) -> None:
    """Open the upload as a learner does and give it the files."""
    page.get_by_text("What I already hold", exact=False).first.click()
    page.locator('input[type="file"]').set_input_files([str(p) for p in files])
    _see(page, "What you bring")


def _source_line(skill: api.HeldSkill) -> str:
    # The shown line is "<label> — <first source>"; up to the source's own " — " (how it was read).
    return f"{skill.label} — {skill.sources[0].split(' — ')[0]}"


def test_find_leaves_the_skills_a_badge_and_linkedin_bring_out_of_the_stack(
    browser: Browser,  # noqa: F811
    dashboard: str,
    held_for_web,
):
    files, held, badge_skill, course_skill = held_for_web
    without = api.recommend(WEB, k=10)
    assert PROGRAMMING in (*without.stack.covered, *without.stack.uncovered)  # in the gap without the badge
    rec = api.recommend(WEB, k=10, have_skills=held.skills)
    gap = (*rec.stack.covered, *rec.stack.uncovered)
    assert PROGRAMMING not in gap
    assert course_skill.label not in gap

    page = _open(browser, f"{dashboard}/?{urlencode({'goal': WEB})}")
    _see(page, f"Goal: {rec.chosen.label}", FIRST_LOAD_MS)
    _upload(page, files)
    _see(page, _source_line(badge_skill))
    _see(page, _source_line(course_skill))
    _see(page, f"{len(rec.stack.covered)} of {len(gap)} skills")  # the stack's "Gap closed"
    _see(page, f"Step {len(rec.stack.steps)}: {rec.stack.steps[-1].course.title}")
    _see(page, "You already have: ")
    expect(page.get_by_text("You already have: ", exact=False).first).to_contain_text(PROGRAMMING)
    closes = page.get_by_text("Closes: ", exact=False).all_inner_texts()
    assert len(closes) == len(rec.stack.steps)
    left_open = page.get_by_text("Left open: ", exact=False).all_inner_texts()
    for text in (*closes, *left_open):
        assert PROGRAMMING not in text.split(": ", 1)[1].split(", ")
        assert course_skill.label not in text.split(": ", 1)[1].split(", ")
    _shot(page, "find-held")
    page.context.close()


def test_skill_gap_lists_the_held_skills_with_their_source_and_not_in_the_gap(
    browser: Browser,  # noqa: F811
    dashboard: str,
    held_for_web,
):
    files, held, badge_skill, course_skill = held_for_web
    gap = api.skill_gap(WEB, have_skills=held.skills)
    had = [s for s in gap.skills if s.have]
    assert {PROGRAMMING, course_skill.label} <= {s.label for s in had}

    page = _open(browser, f"{dashboard}/gap?{urlencode({'goal': WEB})}")
    _see(page, f"Goal: {gap.recommendation.chosen.label}", FIRST_LOAD_MS)
    _upload(page, files)
    _see(page, _source_line(badge_skill))
    _see(page, f"You have it ({len(had)})")
    tables = page.locator('[data-testid="stTable"]')
    have_rows = tables.first.locator("tbody tr")
    expect(have_rows).to_have_count(len(had))
    programming = have_rows.filter(has_text=PROGRAMMING)
    expect(programming).to_have_count(1)
    expect(programming).to_contain_text("from badge 'Robot Programming Skill Credential', issued by 1EdTech University")
    expect(have_rows.filter(has_text=course_skill.label).first).to_contain_text("from certification '")
    # Every other table lists skills of the gap: neither held skill is among them.
    for table in tables.all()[1:]:
        skills = table.locator("tbody tr td:first-of-type").all_inner_texts()
        assert skills
        assert PROGRAMMING not in skills
        assert course_skill.label not in skills
    _shot(page, "gap-held")
    page.context.close()
