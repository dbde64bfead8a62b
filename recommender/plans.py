"""A skill stack written out as a plan the learner keeps: CSV, an iCalendar study schedule and
schema.org JSON-LD (an ItemList of Course items).

Pure functions of a `Recommendation` (and, for the schedule, the learner's hours per week and start
date); `recommender.api` exposes them. The iCalendar file is written by the `icalendar` library
(RFC 5545 line folding, escaping and UTC stamps are its job, not ours); the CSV by the standard
library's writer with formula starts defused; the JSON-LD is a plain dictionary in schema.org terms.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

# What a spreadsheet may read as the start of a formula (OWASP, "CSV Injection"): a tab or a carriage
# return first hides the "=" that follows from a check of the first character alone. The same rule as
# the Compare page's download, which lives in the dashboard and so cannot be imported from here.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A step whose source states no length is given this many hours in the schedule (and says so).
UNKNOWN_STEP_HOURS = 10.0
CSV_COLUMNS = (
    "step",
    "title",
    "provider",
    "institution",
    "url",
    "hours",
    "price",
    "currency",
    "access_model",
    "credential",
    "level",
    "language",
    "closes",
)


def defuse(value: object) -> object:
    """A text a spreadsheet would run as a formula, prefixed with a single quote (then shown as text)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def plan_csv(rec) -> str:
    """One row per step of the stack, CRLF rows (RFC 4180), the skills each step closes joined by "; "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for number, step in enumerate(_steps(rec), start=1):
        c = step.course
        row = (
            number,
            c.title,
            c.provider,
            c.institution,
            c.url,
            c.hours,
            c.price,
            c.currency,
            c.access_model,
            c.credential,
            c.level,
            c.in_language,
            "; ".join(step.closes),
        )
        writer.writerow(["" if v is None else defuse(v) for v in row])
    return out.getvalue()


@dataclass(frozen=True)
class ScheduledStep:
    number: int
    title: str
    start: date
    end: date  # the last study day (inclusive)
    hours: float
    hours_stated: bool


def schedule(rec, *, hours_per_week: float, start: date) -> tuple[ScheduledStep, ...]:
    """Each step one after the other at `hours_per_week`, a step taking whole days (at least one)."""
    if not hours_per_week or hours_per_week <= 0 or not math.isfinite(hours_per_week):
        raise ValueError("hours per week must be a positive number")
    steps = []
    day = start
    for number, step in enumerate(_steps(rec), start=1):
        stated = step.course.hours is not None and step.course.hours > 0
        hours = float(step.course.hours) if stated else UNKNOWN_STEP_HOURS
        days = max(1, math.ceil(hours / hours_per_week * 7))
        steps.append(ScheduledStep(number, step.course.title, day, day + timedelta(days=days - 1), hours, stated))
        day += timedelta(days=days)
    return tuple(steps)


def plan_ical(rec, *, hours_per_week: float, start: date, now: datetime | None = None) -> bytes:
    """An iCalendar file: one all-day event per step, from its first to its last study day."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//skillstack//study plan//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Study plan: {rec.goal}")
    stamp = now or datetime.now(UTC)
    plan_key = _plan_key(rec)
    for planned, step in zip(schedule(rec, hours_per_week=hours_per_week, start=start), _steps(rec), strict=True):
        c = step.course
        event = Event()
        # Stable per plan and step: importing the same plan again updates the events instead of doubling them.
        event.add("uid", f"{plan_key}-{planned.number}@skillstack")
        event.add("dtstamp", stamp)
        event.add("summary", f"Step {planned.number}: {c.title}")
        event.add("dtstart", planned.start)
        event.add("dtend", planned.end + timedelta(days=1))  # DTEND of an all-day event is exclusive
        hours = f"{planned.hours:g} h" if planned.hours_stated else f"length not stated: {planned.hours:g} h planned"
        lines = [f"{c.provider} · {hours} at {hours_per_week:g} h a week"]
        if step.closes:
            lines.append("Closes: " + ", ".join(step.closes))
        lines.append(c.url)
        event.add("description", "\n".join(lines))
        event.add("url", c.url)
        calendar.add_component(event)
    return calendar.to_ical()


def plan_jsonld(rec, *, catalogue_date: str | None = None) -> dict:
    """The plan as schema.org JSON-LD: an ItemList whose items are the steps' Courses, in order."""
    items = []
    for number, step in enumerate(_steps(rec), start=1):
        c = step.course
        course: dict = {
            "@type": "Course",
            "@id": c.url,
            "name": c.title,
            "url": c.url,
            "provider": {"@type": "Organization", "name": c.provider},
        }
        if c.institution:
            course["sourceOrganization"] = {"@type": "Organization", "name": c.institution}
        if c.credential and c.credential != "none":
            course["educationalCredentialAwarded"] = c.credential
        if c.hours:
            course["timeRequired"] = _iso_duration(c.hours)
        if c.level:
            course["educationalLevel"] = c.level
        if c.in_language:
            course["inLanguage"] = c.in_language
        offer = _offer(c)
        if offer:
            course["offers"] = offer
        if step.closes:
            course["teaches"] = list(step.closes)
        items.append({"@type": "ListItem", "position": number, "item": course})
    plan: dict = {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "name": f"Study plan: {rec.goal}" + (f" ({rec.chosen.label})" if rec.chosen else ""),
        "itemListOrder": "https://schema.org/ItemListOrderAscending",
        "numberOfItems": len(items),
        "itemListElement": items,
    }
    if catalogue_date:
        plan["dateModified"] = catalogue_date
    return plan


def _offer(course) -> dict | None:
    if course.access_model == "free" or (course.price == 0 and course.access_model in (None, "paid")):
        return {"@type": "Offer", "price": 0, "category": "free"}
    if course.price:
        offer = {"@type": "Offer", "price": course.price, "category": course.access_model or "paid"}
        if course.currency:
            offer["priceCurrency"] = course.currency
        return offer
    if course.access_model:
        return {"@type": "Offer", "category": course.access_model}
    return None


def _iso_duration(hours: float) -> str:
    """ISO 8601 duration: whole hours, and minutes when there are any (PT1H30M)."""
    minutes = round(hours * 60)
    h, m = divmod(minutes, 60)
    return f"PT{h}H" + (f"{m}M" if m else "") if h else f"PT{max(m, 1)}M"


def _steps(rec) -> tuple:
    return rec.stack.steps if rec.stack else ()


def _plan_key(rec) -> str:
    text = "\n".join([rec.goal, *(s.course.course_id for s in _steps(rec))])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
