"""Durations: a course's total hours and weekly effort from ISO 8601 durations, texts
("2–3 hours per week, 6 Weeks", "Less Than 2 Hours") and separate weeks/hours/minutes fields. Whether
hours were stated by the provider or estimated here is read back from `duration_raw` by
`core.course_record.hours_estimated`.

- Ranges count at their midpoint: "2–3 hours per week" is 2.5 h/week. A reversed range ("3 to 1")
  is read as the same range in order.
- A bound counts at 0.75 of it ("Less Than 2 Hours" → 1.5 h: the midpoint of half the bound up to
  the bound) and an open bound at 1.25 of it ("more than 10 hours" → 12.5 h).
- A calendar length with no stated effort ("1 - 3 Months", "6 Weeks") is converted at
  ASSUMED_WEEKLY_HOURS = 10 h/week — Coursera's own phrasing for specializations and professional
  certificates ("3 months at 10 hours a week") — with a month of 365.25/12/7 ≈ 4.348 weeks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipeline.normalise.scalars import _as_number, _parse_number, _short

ASSUMED_WEEKLY_HOURS = 10.0
WEEKS_PER_MONTH = 365.25 / 12 / 7
WEEKS_PER_YEAR = 365.25 / 7

# Sanity bounds: anything beyond them is a parsing accident or a hostile value, not a course.
MAX_TOTAL_HOURS = 10_000.0  # a four-year degree is ~5,400 h of study
MAX_WEEKLY_HOURS = 168.0  # hours in a week
MAX_WEEKS = 520.0  # ten years


@dataclass(frozen=True)
class Duration:
    """Total estimated hours, hours per week when stated, and the raw values it was read from."""

    hours: float | None = None
    weekly_hours: float | None = None
    raw: str | None = None


_ISO_DURATION = re.compile(
    r"P(?!$)(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<days>\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?"
    r"(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?",
    re.IGNORECASE,
)
_NUM = r"\d+(?:[.,]\d+)?"
_QUANTITY = re.compile(
    r"(?P<qual>less\s+than|fewer\s+than|under|up\s+to|at\s+most|below|<|more\s+than|over|at\s+least|above|>)?\s*"
    rf"(?<![\w.,])(?P<a>{_NUM})(?:\s*(?:-|–|—|to|or)\s*(?P<b>{_NUM}))?\s*(?P<plus>\+)?\s*(?:total\s+)?"
    r"(?P<unit>hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s|weeks?|wks?|w|months?|mos?|days?|d|years?|yrs?)"
    r"(?![a-z])(?:(?P<per>\s*(?:per|/|a|an|each|every)\s*(?:week|wk|w)(?![a-z])|\s*weekly)"
    r"|(?P<per_other>\s*(?:per|/|a|an|each|every)\s*(?:day|month|mo|year|yr)(?![a-z])|\s*(?:daily|monthly)))?",
    re.IGNORECASE,
)
_UPPER_BOUNDS = frozenset({"less than", "fewer than", "under", "up to", "at most", "below", "<"})
_UNIT_HOURS = {"h": 1.0, "m": 1 / 60, "s": 1 / 3600}
_UNIT_WEEKS = {"w": 1.0, "mo": WEEKS_PER_MONTH, "d": 1 / 7, "y": WEEKS_PER_YEAR}


def _unit_key(unit: str) -> str:
    unit = unit.casefold()
    if unit.startswith("mo"):
        return "mo"
    if unit.startswith("mi") or unit == "m":
        return "m"
    return unit[0]


def _quantity_value(match: re.Match[str]) -> float | None:
    low = _parse_number(match.group("a"))
    high = _parse_number(match.group("b")) if match.group("b") else low
    if low is None or high is None:
        return None
    value = (min(low, high) + max(low, high)) / 2
    qualifier = " ".join((match.group("qual") or "").casefold().split())
    if qualifier in _UPPER_BOUNDS:
        value *= 0.75  # "less than 2 hours": midpoint of half the bound up to the bound
    elif qualifier or match.group("plus"):
        value *= 1.25  # "more than 10 hours", "10+ hours"
    return value


@dataclass
class _Reading:
    total_hours: float | None = None
    weekly_hours: float | None = None
    weeks: float | None = None

    def add_total(self, hours: float) -> None:
        self.total_hours = (self.total_hours or 0.0) + hours


def _read_duration_text(text: str, reading: _Reading, *, bare_number_unit: str | None) -> None:
    iso = _ISO_DURATION.fullmatch(text.strip())
    if iso:
        parts = {k: _parse_number(v) or 0.0 for k, v in iso.groupdict().items() if v}
        effort = parts.get("hours", 0.0) + parts.get("minutes", 0.0) / 60 + parts.get("seconds", 0.0) / 3600
        calendar = (
            parts.get("years", 0.0) * WEEKS_PER_YEAR
            + parts.get("months", 0.0) * WEEKS_PER_MONTH
            + parts.get("weeks", 0.0)
            + parts.get("days", 0.0) / 7
        )
        if effort:
            reading.add_total(effort)
        if calendar:
            reading.weeks = calendar
        return
    found = False
    for match in _QUANTITY.finditer(text):
        value = _quantity_value(match)
        if value is None:
            continue
        found = True
        unit = _unit_key(match.group("unit"))
        if match.group("per_other"):
            continue  # hours per day or per month: not comparable without knowing the days
        if match.group("per"):
            if unit in _UNIT_HOURS and reading.weekly_hours is None:
                reading.weekly_hours = value * _UNIT_HOURS[unit]
        elif unit in _UNIT_HOURS:
            reading.add_total(value * _UNIT_HOURS[unit])
        elif reading.weeks is None:
            reading.weeks = value * _UNIT_WEEKS[unit]
    if not found and bare_number_unit and (number := _parse_number(text)) is not None:
        if bare_number_unit == "weeks":
            reading.weeks = number
        else:
            reading.add_total(number)


def _raw_part(value: Any, unit: str | None) -> str | None:
    if isinstance(value, bool):
        return None
    number = _as_number(value)
    if number is not None:
        return f"{number:g} {unit}" if unit else f"{number:g}"
    return _short(value)


def parse_duration(duration: Any = None, weeks: Any = None, hours: Any = None, minutes: Any = None) -> Duration:
    """Total estimated hours from a duration text, a length, and/or numbers of hours or minutes.

    Accepted: effort per week ("2–3 hours per week", "7 hrs/wk", "5-10 hours/week", "4 Hours per
    Week"), lengths ("6 Weeks", "1 - 3 Months", "14 weeks", a bare number in `weeks`), totals
    ("8 total hours", "Less Than 2 Hours", "45 minutes", "1h 30m", ISO 8601 "PT4H30M"), both in one
    text ("3 weeks at 6 hours a week"), `hours` (Udemy content_duration, MS Learn duration_in_hours)
    and `minutes` (MS Learn duration_in_minutes).

    The total is, in order of preference: the numbers given as `hours`/`minutes`; a total stated in
    the text; effort per week × length; length × ASSUMED_WEEKLY_HOURS (10 h/week, Coursera's own
    phrasing) when only a calendar length is known. ISO 8601 weeks/months/days ("P2W") are calendar
    lengths like "2 weeks"; its time part ("PT2H44M") is effort.

    Ranges count at their midpoint, reversed ranges in order; "less than X" counts as 0.75·X and
    "more than X"/"X+" as 1.25·X. Zero, negative or absurd values (above MAX_TOTAL_HOURS,
    MAX_WEEKLY_HOURS, MAX_WEEKS) give None. `raw` joins the given values, numbers with their unit.
    """
    reading = _Reading()
    explicit_total = None
    for value, per_hour in ((hours, 1.0), (minutes, 1 / 60)):
        number = _as_number(value)
        if number is None and (text := _short(value)) is not None:
            number = _parse_number(text)
            if number is None:  # a text in a numeric field: read it as a duration
                _read_duration_text(text, reading, bare_number_unit=None)
        if number is not None:
            explicit_total = (explicit_total or 0.0) + number * per_hour
    for value, bare_unit in ((duration, None), (weeks, "weeks")):
        number = _as_number(value)
        if number is not None:
            if bare_unit == "weeks":
                reading.weeks = number
        elif (text := _short(value)) is not None:
            _read_duration_text(text, reading, bare_number_unit=bare_unit)

    weekly = reading.weekly_hours
    weekly = weekly if weekly is not None and 0 < weekly <= MAX_WEEKLY_HOURS else None
    length = reading.weeks if reading.weeks is not None and 0 < reading.weeks <= MAX_WEEKS else None
    if explicit_total is not None:
        total = explicit_total
    elif reading.total_hours is not None:
        total = reading.total_hours
    elif length is not None:
        total = length * (weekly if weekly is not None else ASSUMED_WEEKLY_HOURS)
    else:
        total = None
    absurd_weekly = reading.weekly_hours is not None and weekly is None
    absurd_part = absurd_weekly or (reading.weeks is not None and length is None)
    if explicit_total is None and absurd_part:
        total = None  # the text gave an impossible effort or length: its estimate is untrustworthy
    if total is not None and not 0 < total <= MAX_TOTAL_HOURS:
        total = None

    parts = [
        _raw_part(duration, None),
        _raw_part(weeks, "weeks"),
        _raw_part(hours, "hours"),
        _raw_part(minutes, "minutes"),
    ]
    raw = ", ".join(p for p in parts if p) or None
    return Duration(
        hours=round(total, 2) if total is not None else None,
        weekly_hours=round(weekly, 2) if weekly is not None else None,
        raw=raw,
    )
