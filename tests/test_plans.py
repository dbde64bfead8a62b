"""The plan out: CSV, an iCalendar schedule and schema.org JSON-LD of a real skill stack, and chosen
courses side by side, on the catalogue built from the mirror.

The JSON-LD is checked by expanding it with pyld, a JSON-LD processor, over a local document loader
that holds the schema.org context (no network): what counts is what the terms expand to.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from pyld import jsonld

from recommender import api, plans
from tests.conftest import run_skillstack

pytestmark = pytest.mark.slow

GOAL = "data analyst"
SCHEMA = "http://schema.org/"
# The part of schema.org's published context (its `@vocab`, and the terms it declares as IRIs) that
# the plan uses; schema.org's own context maps every other term through the same `@vocab`.
SCHEMA_ORG_CONTEXT = {
    "@context": {
        "@vocab": SCHEMA,
        "schema": SCHEMA,
        "url": {"@id": "schema:url", "@type": "@id"},
        "itemListOrder": {"@id": "schema:itemListOrder", "@type": "@id"},
    }
}


def schema_org_loader(url: str, options: dict | None = None) -> dict:
    if url.rstrip("/") not in ("https://schema.org", "http://schema.org"):
        raise jsonld.JsonLdError(
            f"no network in tests: {url}", "jsonld.LoadDocumentError", code="loading document failed"
        )
    return {"contextUrl": None, "documentUrl": url, "document": SCHEMA_ORG_CONTEXT}


@pytest.fixture(scope="module")
def rec(built_home: Path) -> api.Recommendation:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SKILLSTACK_HOME", str(built_home))
        recommendation = api.recommend(GOAL, k=10)
    assert recommendation.stack.steps
    return recommendation


def test_csv_has_one_row_per_step_with_the_skills_it_closes(rec):
    rows = list(csv.DictReader(io.StringIO(api.plan_csv(rec))))
    assert [r["title"] for r in rows] == [s.course.title for s in rec.stack.steps]
    first = rec.stack.steps[0]
    assert rows[0]["url"] == first.course.url
    assert rows[0]["closes"] == "; ".join(first.closes)
    assert rows[0]["step"] == "1"


def test_a_formula_start_is_quoted_as_text():
    assert plans.defuse("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert plans.defuse("Excel") == "Excel"


def test_the_ical_schedule_has_each_step_from_start_to_end_at_the_hours_per_week(rec):
    start = date(2027, 1, 4)
    calendar = Calendar.from_ical(api.plan_ical(rec, hours_per_week=6, start=start))
    events = calendar.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [
        f"Step {i}: {s.course.title}" for i, s in enumerate(rec.stack.steps, 1)
    ]
    assert events[0].decoded("dtstart") == start
    for before, after in zip(events, events[1:], strict=False):
        assert after.decoded("dtstart") == before.decoded("dtend")  # one step after the other, no gap
    course = rec.stack.steps[0].course
    hours = course.hours or plans.UNKNOWN_STEP_HOURS
    days = (events[0].decoded("dtend") - events[0].decoded("dtstart")).days
    assert days == max(1, -(-hours * 7 // 6))
    assert str(events[0]["url"]) == course.url
    assert len({str(e["uid"]) for e in events}) == len(events)
    schedule = api.plan_schedule(rec, hours_per_week=6, start=start)
    assert events[-1].decoded("dtend") == schedule[-1].end + timedelta(days=1)


def test_the_jsonld_expands_to_a_schema_org_item_list_of_courses(catalog_home: Path, rec):
    document = api.plan_jsonld(rec)
    expanded = jsonld.expand(document, {"documentLoader": schema_org_loader})
    [plan] = expanded
    assert plan["@type"] == [SCHEMA + "ItemList"]
    items = sorted(plan[SCHEMA + "itemListElement"], key=lambda i: i[SCHEMA + "position"][0]["@value"])
    assert len(items) == len(rec.stack.steps)
    for item, step in zip(items, rec.stack.steps, strict=True):
        [course] = item[SCHEMA + "item"]
        assert course["@type"] == [SCHEMA + "Course"]
        assert course[SCHEMA + "name"] == [{"@value": step.course.title}]
        assert course[SCHEMA + "url"] == [{"@id": step.course.url}]
        if step.course.hours:
            assert course[SCHEMA + "timeRequired"][0]["@value"].startswith("PT")
        if step.course.credential and step.course.credential != "none":
            assert course[SCHEMA + "educationalCredentialAwarded"] == [{"@value": step.course.credential}]
        assert [t["@value"] for t in course.get(SCHEMA + "teaches", [])] == list(step.closes)
    offers = [i[SCHEMA + "item"][0].get(SCHEMA + "offers") for i in items]
    for offer, step in zip(offers, rec.stack.steps, strict=True):
        if step.course.price:
            assert offer[0][SCHEMA + "price"] == [{"@value": step.course.price}]


def test_the_cli_writes_the_three_formats_and_the_printable_text(built_home: Path, tmp_path: Path, rec):
    for fmt, name in (("csv", "plan.csv"), ("ical", "plan.ics"), ("jsonld", "plan.jsonld")):
        run_skillstack(
            built_home, "plan", GOAL, "--format", fmt, "--start", "2027-01-04", "--output", str(tmp_path / name)
        )
    assert (tmp_path / "plan.csv").read_text(encoding="utf-8").startswith("step,title,provider")
    assert Calendar.from_ical((tmp_path / "plan.ics").read_bytes()).walk("VEVENT")
    assert json.loads((tmp_path / "plan.jsonld").read_text(encoding="utf-8"))["@type"] == "ItemList"
    text = run_skillstack(built_home, "plan", GOAL, "--start", "2027-01-04").stdout
    assert text.startswith(f"Study plan: {GOAL}\nOccupation: {rec.chosen.label}\n")
    assert f"1. {rec.stack.steps[0].course.title} ({rec.stack.steps[0].course.provider})" in text
    assert "Still open: " in text
    assert "Catalogue of " in text


def test_three_chosen_courses_side_by_side_with_the_required_skills_each_covers(catalog_home: Path, rec):
    ids = tuple(r.course_id for r in rec.results[:3])
    comparison = api.compare_courses(ids, GOAL)
    assert [c.course_id for c in comparison.courses] == list(ids)
    assert comparison.occupation.label == rec.chosen.label
    required = {r.label for r in comparison.required}
    for course, result in zip(comparison.courses, rec.results[:3], strict=True):
        assert course.title == result.title
        assert (course.price, course.hours, course.level, course.in_language, course.credential, course.rating) == (
            result.price, result.hours, result.level, result.in_language, result.credential, result.rating,
        )  # fmt: skip
        assert set(course.matched_skills) <= required
    assert comparison.courses[0].matched_skills
    with pytest.raises(api.RecommenderError, match="compare 2 to 4 courses, not 1"):
        api.compare_courses(ids[:1])
    out = run_skillstack(catalog_home, "compare-courses", *ids, "--goal", GOAL, "--json").stdout
    assert [c["title"] for c in json.loads(out)["courses"]] == [r.title for r in rec.results[:3]]
