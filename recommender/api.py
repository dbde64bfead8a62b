"""The recommender's whole surface: the dashboard and the CLI import this module and nothing else.

Every call returns frozen dataclasses (never rows or DataFrames). Errors a user can fix are
`RecommenderError`s whose message says what to run.

Longer than the 600 lines a module should be, on purpose: it is the one surface two front ends
import (docs/STYLE.md), so its types and calls stay in one place, grouped by who asks (students,
learners, counsellors, operators). The work behind each call lives in engine, ranking, views,
credentials, plans and watch.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import numpy as np

from core import course_record, embed, language
from recommender import credentials, plans, views, watch
from recommender.engine import Engine
from recommender.errors import (
    CatalogMissingError,
    EmptyCatalogError,
    EmptyGoalError,
    InvalidRequestError,
    RecommenderError,
)
from recommender.filters import Filters
from recommender.goal_memo import OCCUPATIONS_PER_GOAL
from recommender.ranking import RankConfig
from skillstack import settings

__all__ = [
    "CatalogMissingError",
    "CourseResult",
    "EmptyCatalogError",
    "EmptyGoalError",
    "Edition",
    "Filters",
    "InvalidRequestError",
    "MAX_GOAL_CHARS",
    "MAX_HAVE",
    "MAX_K",
    "MAX_TEXT_CHARS",
    "MIN_K",
    "check_request",
    "GapSkill",
    "RankConfig",
    "HeldSkill",
    "HeldSkills",
    "Occupation",
    "Recommendation",
    "RecommenderError",
    "SkillMatch",
    "Comparison",
    "CourseComparison",
    "CourseDetail",
    "CourseFacts",
    "FilterEffect",
    "FilterReport",
    "HaveMatch",
    "SourceDate",
    "ProviderStats",
    "SkillGap",
    "SkillStack",
    "SourceStatus",
    "StackStep",
    "catalog_summary",
    "compare_courses",
    "course_page_url",
    "new_since_last_nightly",
    "update_watch_feeds",
    "watch_add",
    "watch_feed",
    "watch_feed_path",
    "watch_remove",
    "watches",
    "compare_providers",
    "plan_csv",
    "plan_ical",
    "plan_jsonld",
    "plan_schedule",
    "course_detail",
    "course_facts",
    "filter_report",
    "hours_estimated",
    "is_search_url",
    "language_name",
    "match_have",
    "source_dates",
    "sources_status",
    "extract_skills",
    "held_skills",
    "recommend",
    "resolve_goal",
    "round_hours",
    "step_cost",
    "skill_gap",
]


@dataclass(frozen=True)
class Occupation:
    uri: str
    label: str
    score: float


@dataclass(frozen=True)
class SkillMatch:
    uri: str
    label: str
    score: float


# Below this resolver confidence a goal names no occupation the user can be told it means: the goal's
# own words rank the courses, and the nearest occupations are offered to pick from.
OCCUPATION_MIN_CONFIDENCE = 0.45


@dataclass(frozen=True)
class Edition:
    """The same course in another language, folded into one result."""

    in_language: str
    course_id: str
    title: str
    url: str


@dataclass(frozen=True)
class CourseResult:
    course_id: str
    title: str
    provider: str
    institution: str | None
    url: str
    score: float
    credential: str | None
    hours: float | None
    price: float | None
    currency: str | None
    access_model: str | None
    level: str | None
    in_language: str | None
    rating: float | None
    rating_count: int | None
    matched_skills: tuple[str, ...]
    evidence: tuple[str, ...] = ()
    also_in: tuple[Edition, ...] = ()  # editions in other languages

    def __post_init__(self) -> None:
        object.__setattr__(self, "also_in", tuple(e if isinstance(e, Edition) else Edition(*e) for e in self.also_in))

    def as_dict(self) -> dict:
        return {
            "course_id": self.course_id,
            "title": self.title,
            "provider": self.provider,
            "institution": self.institution,
            "url": self.url,
            "score": round(self.score, 4),
            "credential": self.credential,
            "hours": self.hours,
            "price": self.price,
            "currency": self.currency,
            "access_model": self.access_model,
            "level": self.level,
            "in_language": self.in_language,
            "rating": self.rating,
            "rating_count": self.rating_count,
            "matched_skills": list(self.matched_skills),
            "evidence": list(self.evidence),
            "also_in": [
                {"in_language": e.in_language, "course_id": e.course_id, "title": e.title, "url": e.url}
                for e in self.also_in
            ],
        }


@dataclass(frozen=True)
class StackStep:
    course: CourseResult
    closes: tuple[str, ...]  # the required skills this step covers first: the gap it closes


@dataclass(frozen=True)
class SkillStack:
    steps: tuple[StackStep, ...]
    total_hours: float  # courses of unknown length count as 0 here; `unknown_hours` says how many
    unknown_hours: int
    # What the steps whose price is stated cost, in `currency` (free audits count 0); None when no
    # step states one. With `unknown_price` > 0 the real total is at least this.
    total_cost: float | None
    unknown_price: int  # steps whose price the source does not state (not counted in total_cost)
    currency: str | None
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]  # required skills the stack leaves open, heaviest first

    def as_dict(self) -> dict:
        return {
            "steps": [
                {"course_id": s.course.course_id, "title": s.course.title, "closes": list(s.closes)} for s in self.steps
            ],
            "total_hours": self.total_hours,
            "unknown_hours": self.unknown_hours,
            "total_cost": self.total_cost,
            "total_cost_is_minimum": self.total_cost is not None and self.unknown_price > 0,
            "unknown_price": self.unknown_price,
            "currency": self.currency,
            "covered": list(self.covered),
            "uncovered": list(self.uncovered),
        }


@dataclass(frozen=True)
class RequiredSkill:
    uri: str
    label: str
    weight: float
    essential: bool
    transversal: bool


@dataclass(frozen=True)
class Recommendation:
    goal: str
    occupations: tuple[Occupation, ...]
    chosen: Occupation | None
    required: tuple[RequiredSkill, ...]  # heaviest first
    have: tuple[SkillMatch, ...]  # what the user said they have, normalised to ESCO
    results: tuple[CourseResult, ...] = field(default_factory=tuple)
    stack: SkillStack | None = None
    tools: tuple[str, ...] = ()  # O*NET technology examples, hot technologies first
    # The goal resolved to no occupation with confidence: `occupations` are the nearest, to pick from.
    unresolved: bool = False
    goal_language: str | None = None
    # Fewer than k results because the catalogue has nothing more that fits (see `recommender.ranking`).
    little_more: bool = False
    language_fallback: bool = False  # the catalogue has no course in the goal's language: all are shown

    @property
    def notes(self) -> tuple[str, ...]:
        """What a reader should know about this answer, in plain words."""
        notes = []
        if self.unresolved:
            nearest = ", ".join(o.label for o in self.occupations[:3])
            notes.append(
                "this goal matches no occupation with confidence"
                + (f"; the nearest are: {nearest} (choose one to see its skill gap)" if nearest else "")
            )
        if not self.results:
            notes.append("nothing in the catalogue fits this goal")
        elif self.little_more:
            notes.append(f"the catalogue has little more for this goal than these {len(self.results)}")
        if self.language_fallback:
            notes.append("the catalogue has no course in the goal's language: courses in other languages are shown")
        return tuple(notes)

    held: tuple[HeldSkill, ...] = ()  # skills read from the learner's files (`held_skills`), each with its sources

    @property
    def required_skills(self) -> tuple[str, ...]:
        return tuple(r.label for r in self.required)

    def as_dict(self) -> dict:
        return {
            "goal": self.goal,
            "occupations": [{"uri": o.uri, "label": o.label, "score": round(o.score, 4)} for o in self.occupations],
            "results": [r.as_dict() for r in self.results],
            "stack": self.stack.as_dict() if self.stack else None,
            "have": [{"uri": h.uri, "label": h.label} for h in self.have],
            "tools": list(self.tools),
            "chosen": {"uri": self.chosen.uri, "label": self.chosen.label} if self.chosen else None,
            "unresolved": self.unresolved,
            "goal_language": self.goal_language,
            "notes": list(self.notes),
            "held": [h.as_dict() for h in self.held],
        }


@dataclass(frozen=True)
class CatalogSummary:
    courses: int
    active: int
    providers: tuple[str, ...]
    built_at: str | None
    levels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()  # primary subtags ("en"), the values `Filters.languages` takes
    version: str = ""  # changes with every published catalogue: a cache key for readers


_engine: Engine | None = None
_engine_key: tuple | None = None
_lock = threading.Lock()


# What one request may ask for; the CLI's arguments and the dashboard's URL parameters are held to
# the same bounds. Typo correction costs a fuzzy search per word of a goal and each skill the user
# has is a forward pass of the model: a 1 MB goal took minutes of CPU, 10,000 skills as many passes.
# A k of a million built an N×N matrix in the diversification.
MAX_GOAL_CHARS = 300  # also each skill the user has
MAX_HAVE = 30
MIN_K, MAX_K = 1, 1000
MAX_TEXT_CHARS = 5000  # a text to extract skills from: a course description's length


def check_request(
    goal: str | None = None, *, k: int | None = None, have: tuple[str, ...] = (), text: str | None = None
) -> None:
    """InvalidRequestError, with a one-line message, for a request outside the bounds above."""
    if goal is not None and len(goal) > MAX_GOAL_CHARS:
        raise InvalidRequestError(
            f"the goal is {len(goal):,} characters long; say it in at most {MAX_GOAL_CHARS} (a sentence or two)"
        )
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise InvalidRequestError(f"the text is {len(text):,} characters long; give at most {MAX_TEXT_CHARS:,}")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int | np.integer) or not MIN_K <= k <= MAX_K):
        raise InvalidRequestError(f"k must be a whole number from {MIN_K} to {MAX_K:,}, not {k!r}")
    if len(have) > MAX_HAVE:
        raise InvalidRequestError(f"{len(have):,} skills you have were given; give at most {MAX_HAVE}")
    for phrase in have:
        if len(phrase) > MAX_GOAL_CHARS:
            raise InvalidRequestError(
                f"a skill you have is {len(phrase):,} characters long; name each in at most {MAX_GOAL_CHARS}"
            )


def _catalog_path() -> Path:
    return settings.paths().catalog_db


def engine() -> Engine:
    """The engine over the published catalogue, reopened when `build` has published a new one."""
    return _current()[0]


def _current() -> tuple[Engine, tuple]:
    """The engine and the key of the file it was opened on (path, inode, mtime)."""
    global _engine, _engine_key
    path = _catalog_path()
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise CatalogMissingError(
            f"no catalogue at {path}: run `skillstack taxonomy load`, `skillstack crawl` and `skillstack build`"
        ) from None
    key = (str(path), stat.st_ino, stat.st_mtime_ns)
    with _lock:
        if _engine is None or _engine_key != key:
            _engine = Engine.open(path, lazy_taxonomy=True)
            _engine_key = key
        return _engine, _engine_key


def recommend(
    goal: str,
    *,
    k: int = 10,
    filters: Filters | None = None,
    occupation_uri: str | None = None,
    have: tuple[str, ...] = (),
    config: RankConfig | None = None,
    have_skills: tuple[HeldSkill, ...] = (),
) -> Recommendation:
    """Courses for a career goal in plain words, best first, each with the required skills it covers,
    and the skill stack: an ordered path through them that closes the skill gap.

    `have` are skills the user already has, in free text; they are normalised to ESCO and removed
    from the required skills before ranking. A goal that resolves to no occupation with confidence
    (`OCCUPATION_MIN_CONFIDENCE`) is ranked on its own words and says so (`Recommendation.unresolved`);
    `occupation_uri` picks the occupation instead. `config` switches ranking parts off (evaluation only).
    `have_skills` are ESCO skills read from the learner's badges, certifications and completed courses
    (`held_skills`); they are removed from the required skills the same way.
    """
    check_request(goal, k=k, have=tuple(have))
    eng = engine()
    occupations = eng.resolve_goal(goal, k=OCCUPATIONS_PER_GOAL)
    chosen = _choose(occupations, occupation_uri, eng)
    unresolved = chosen is not None and not occupation_uri and chosen.score < OCCUPATION_MIN_CONFIDENCE
    if unresolved:
        chosen = None
    required = eng.required_skills(chosen.uri) if chosen else {}
    had = eng.normalise_have(have)
    had_uris = {h[0] for h in had} | {h.uri for h in have_skills}
    gap = {uri: w for uri, w in required.items() if uri not in had_uris}
    filters = filters or Filters()
    ranking = eng.rank(goal, chosen, gap, filters, k=k, config=config)
    eng.keep_goal(goal, occupations, k=OCCUPATIONS_PER_GOAL)
    results = tuple(CourseResult(**row) for row in ranking.results)
    stack = _stack(eng, ranking, gap)
    return Recommendation(
        goal=goal,
        occupations=tuple(Occupation(*o) for o in occupations),
        chosen=Occupation(*chosen) if chosen else None,
        required=tuple(RequiredSkill(*r) for r in eng.describe_required(chosen.uri)) if chosen else (),
        have=tuple(SkillMatch(*h) for h in had),
        results=results,
        stack=stack,
        tools=eng.tools(chosen.uri) if chosen else (),
        unresolved=unresolved,
        goal_language=ranking.goal_language,
        little_more=len(results) < k,
        language_fallback=ranking.language_fallback,
        held=tuple(have_skills),
    )


def _stack(eng: Engine, ranking, gap: dict[str, float]) -> SkillStack | None:
    if not gap:
        return None
    steps, covered, uncovered = eng.stack(ranking, gap)
    courses = [CourseResult(**eng.result_row(i, ranking.scores[i], ranking.weights)) for i, _ in steps]
    total_hours = sum(c.hours or 0.0 for c in courses)
    priced = [c for c in courses if c.price is not None or c.access_model is not None]
    currencies = {c.currency for c in courses if c.price}
    return SkillStack(
        steps=tuple(StackStep(c, closes) for c, (_, closes) in zip(courses, steps, strict=True)),
        total_hours=round(total_hours, 1),
        unknown_hours=sum(c.hours is None for c in courses),
        total_cost=round(sum(_cost(c) for c in priced), 2) if priced else None,
        unknown_price=len(courses) - len(priced),
        currency=currencies.pop() if len(currencies) == 1 else (None if not currencies else "mixed"),
        covered=covered,
        uncovered=uncovered,
    )


def step_cost(course: CourseResult) -> float:
    """What a course counts in a stack's total cost: free audits and unstated prices count 0."""
    return _cost(course)


def _cost(course: CourseResult) -> float:
    if course.access_model in ("free", "free-audit+paid-certificate") or not course.price:
        return 0.0
    return float(course.price)


def round_hours(hours: float) -> float:
    """Hours as shown: tenths below ten hours, whole hours from ten up. Many lengths are estimates
    from a calendar length ("3 - 6 Months" at 10 h a week is 195.67 h), and hundredths would claim a
    precision no source has."""
    return max(round(hours, 1), 0.1) if hours < 10 else float(round(hours))


def _choose(occupations: list, occupation_uri: str | None, eng: Engine):
    if occupation_uri:
        for occ in occupations:
            if occ.uri == occupation_uri:
                return occ
        label = eng.occupation_label(occupation_uri)
        if label is not None:
            return eng.occupation_tuple(occupation_uri, label, 1.0)
    return occupations[0] if occupations else None


def resolve_goal(goal: str, *, k: int = OCCUPATIONS_PER_GOAL) -> tuple[Occupation, ...]:
    """ESCO occupations for a goal in plain words, best first."""
    check_request(goal, k=k)
    return tuple(Occupation(*o) for o in engine().resolve_goal(goal, k=k))


def extract_skills(text: str, *, k: int = 10) -> tuple[SkillMatch, ...]:
    """ESCO skills a text expresses, best first."""
    check_request(text=text, k=k)
    return tuple(SkillMatch(*s) for s in engine().extract_skills(text, k=k))


def load_model() -> None:
    """Load the model this process's variant runs, as the first query would: a server that opens the
    catalogue meanwhile has both ready in the time of the longer."""
    embed.load_model()


def catalog_summary() -> CatalogSummary:
    """Size, providers, levels and languages of the published catalogue, and its version."""
    eng, key = _current()
    courses = eng.courses
    return CatalogSummary(
        **eng.summary(),
        levels=tuple(sorted(courses["level"].dropna().unique())),
        languages=tuple(sorted(courses["in_language"].dropna().str.split("-").str[0].unique())),
        version=":".join(str(part) for part in key),
    )


# ---------------------------------------------------------------- learners: what they already hold

# A skill read from a badge's or certificate's words counts as held only when the extractor is this
# sure of it: on the specification's examples 0.65 keeps "robotics" and "computer programming" for
# "Robot Programming" and drops the 0.49 "solve problems" read into "Solve and graph linear equations".
HELD_MIN_SCORE = 0.65
HELD_PER_TEXT = 2
_ESCO_SKILL = "data.europa.eu/esco/skill/"


@dataclass(frozen=True)
class HeldSkill:
    uri: str
    label: str
    score: float  # 1.0 for a skill an alignment names or a catalogue course links; else the extractor's
    sources: tuple[str, ...]  # each: the item it came from and how ("from badge '...', issued by ... — ...")

    def as_dict(self) -> dict:
        return {"uri": self.uri, "label": self.label, "score": round(self.score, 4), "sources": list(self.sources)}


@dataclass(frozen=True)
class HeldSkills:
    skills: tuple[HeldSkill, ...]  # each ESCO skill once, with every source that brought it
    items: tuple[credentials.HeldItem, ...]  # what was read from the files
    problems: tuple[str, ...]  # one line per file (or row) that could not be read; the rest still count
    unmatched: tuple[str, ...] = ()  # items that brought no skill

    def as_dict(self) -> dict:
        return {
            "skills": [s.as_dict() for s in self.skills],
            "items": [
                {"name": i.name, "issuer": i.issuer, "format": i.format, "checked": i.checked} for i in self.items
            ],
            "problems": list(self.problems),
            "unmatched": list(self.unmatched),
        }


def held_skills(files: list[tuple[str, bytes]]) -> HeldSkills:
    """The ESCO skills the learner's files show, each with where it came from.

    Files are Open Badges 2.0/3.0 credentials (JSON, JWT, baked PNG or SVG), LinkedIn's
    Certifications.csv or a plain list of completed courses (`recommender.credentials`). Per item:
    an alignment naming an ESCO skill URI maps to it; a course of the catalogue matched by URL or by
    title (and provider) brings the skills it links; otherwise the skill extractor reads the
    alignment's name and description, the achievement's name, description and criteria.
    """
    read = credentials.read_files(files)
    eng = engine()
    found: dict[str, tuple[str, float, list[str]]] = {}

    def add(uri: str, score: float, source: str) -> None:
        label = eng.skill_label(uri)
        _, best, sources = found.setdefault(uri, (label, score, []))
        if source not in sources:
            sources.append(source)
        found[uri] = (label, max(best, score), sources)

    to_read: list[tuple[credentials.HeldItem, str, str]] = []
    for item in read.items:
        direct = False
        for a in item.alignments:
            for value in (a.target_url, a.target_code):
                uri = _esco_skill_uri(value)
                if uri and uri in eng.skill_index:
                    add(uri, 1.0, f"{item.source()} — aligned to ESCO")
                    direct = True
        course = _catalogue_course(eng, item)
        if course is not None:
            row, how = course
            # The links a reader accepts (`Engine.accepted`), as the course's own page and the stack count them.
            start, end = eng.accepted.indptr[row], eng.accepted.indptr[row + 1]
            title, provider = eng.courses["name"].array[row], eng.courses["provider"].array[row]
            columns, scores = eng.accepted.indices[start:end], eng.accepted.data[start:end]
            for column in columns[scores > 0]:
                add(eng.skill_uris[int(column)], 1.0, f"{item.source()} — course '{title}' ({provider}), {how}")
        elif not direct:
            to_read.extend((item, where, text) for where, text in item.texts())
    if to_read:
        eng._require_taxonomy_vectors()
        matches = eng.skill_extractor.extract([text for _, _, text in to_read], HELD_PER_TEXT)
        for (item, where, _), hits in zip(to_read, matches, strict=True):
            for uri, _label, score in hits:
                if score >= HELD_MIN_SCORE:
                    add(uri, float(score), f"{item.source()} — read in its {where}")
    brought = {s.split(" — ")[0] for _, _, sources in found.values() for s in sources}
    unmatched = [i.source() for i in read.items if i.source() not in brought]
    skills = sorted(
        (HeldSkill(uri, label, score, tuple(sources)) for uri, (label, score, sources) in found.items()),
        key=lambda h: (-h.score, h.label),
    )
    return HeldSkills(
        skills=tuple(skills),
        items=read.items,
        problems=tuple(p.line() for p in read.problems),
        unmatched=tuple(unmatched),
    )


def _esco_skill_uri(value: str | None) -> str | None:
    if not value or _ESCO_SKILL not in value:
        return None
    return "http://" + value[value.index("data.europa.eu") :].split("?")[0].split("#")[0].rstrip("/")


def _catalogue_course(eng: Engine, item: credentials.HeldItem) -> tuple[int, str] | None:
    """The catalogue course an item is, by URL, else by title with the issuer as provider or institution,
    else by a title only one course has."""
    courses = eng.courses
    url_keys, title_keys = _course_keys(eng)
    # A search at the provider (the Coursera datasets' only URL) is no course's own address: by title then.
    if item.url and not course_record.is_search_url(item.url):
        rows = np.flatnonzero(url_keys == _url_key(item.url))
        if len(rows):
            return int(rows[0]), "matched by URL"
    if item.kind == "badge" and not item.url:
        return None
    rows = np.flatnonzero(title_keys == _title_key(item.achievement or item.name))
    if not len(rows):
        return None
    if item.issuer:
        issuer = _title_key(item.issuer)
        for row in rows:
            names = (courses["provider"].array[row], courses["institution"].array[row])
            if any(isinstance(n, str) and _title_key(n) == issuer for n in names):
                return int(row), f"matched by title and {item.issuer}"
    if len(rows) == 1:
        return int(rows[0]), "matched by title"
    return None


_keys: dict[int, tuple[Engine, np.ndarray, np.ndarray]] = {}


def _course_keys(eng: Engine) -> tuple[np.ndarray, np.ndarray]:
    """Every course's folded URL and title, made once per opened catalogue (a LinkedIn export has dozens of rows)."""
    with _lock:
        kept = _keys.get(id(eng))
        if kept is None or kept[0] is not eng:
            _keys.clear()
            kept = (eng, eng.courses["url"].map(_url_key).to_numpy(), eng.courses["name"].map(_title_key).to_numpy())
            _keys[id(eng)] = kept
        return kept[1], kept[2]


def _url_key(url: object) -> str:
    if not isinstance(url, str):
        return ""
    parts = urlsplit(url.strip().lower())
    return parts.netloc.removeprefix("www.") + parts.path.rstrip("/")


def _title_key(title: object) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", title.lower()).split()) if isinstance(title, str) else ""


# ---------------------------------------------------------------- students: the skill gap of a goal


@dataclass(frozen=True)
class GapSkill:
    uri: str
    label: str
    weight: float
    essential: bool
    have: bool  # the user said they have it, or a file they brought shows it
    stack_step: int | None  # the 1-based step of the skill stack that closes it
    courses: int  # courses of the catalogue (under the filters) that teach it
    have_from: tuple[str, ...] = ()  # where a held skill came from ("from badge '...', issued by ...")


@dataclass(frozen=True)
class SkillGap:
    recommendation: Recommendation
    skills: tuple[GapSkill, ...]  # the goal's required skills, heaviest first


def skill_gap(
    goal: str,
    *,
    k: int = 10,
    filters: Filters | None = None,
    occupation_uri: str | None = None,
    have: tuple[str, ...] = (),
    have_skills: tuple[HeldSkill, ...] = (),
) -> SkillGap:
    """The goal's required skills, each with whether the user has it, which stack step closes it and
    how many catalogue courses teach it at all (0: nothing covers it)."""
    rec = recommend(goal, k=k, filters=filters, occupation_uri=occupation_uri, have=have, have_skills=have_skills)
    eng = engine()
    rows = np.flatnonzero(eng.filter_mask(filters or Filters()))
    taught = np.asarray((eng.accepted[rows] > 0).sum(axis=0)).ravel()
    held_from = {h.uri: h.sources for h in rec.held}
    had = {h.uri for h in rec.have} | set(held_from)
    step_of = {}
    for number, step in enumerate(rec.stack.steps if rec.stack else (), start=1):
        for label in step.closes:
            step_of.setdefault(label, number)
    skills = tuple(
        GapSkill(
            uri=r.uri,
            label=r.label,
            weight=r.weight,
            essential=r.essential,
            have=r.uri in had,
            stack_step=None if r.uri in had else step_of.get(r.label),
            courses=int(taught[eng.skill_index[r.uri]]) if r.uri in eng.skill_index else 0,
            have_from=held_from.get(r.uri, ()),
        )
        for r in rec.required
    )
    return SkillGap(recommendation=rec, skills=skills)


# ---------------------------------------------------------------- counsellors: providers side by side


@dataclass(frozen=True)
class ProviderStats:
    provider: str
    courses: int
    share_free: float | None  # free or free to audit, of the courses whose price is stated; None if none is
    share_priced: float  # courses whose source states a price or an access model
    share_certificate: float
    price_median: float | None  # of paid courses
    price_quartiles: tuple[float, float] | None
    hours_median: float | None
    hours_quartiles: tuple[float, float] | None
    levels: dict[str, int]
    languages: dict[str, int]
    goal_coverage: float | None  # share of the goal's weighted required skills some course of it covers
    # The mean, over its courses, of the weighted share of the goal's required skills each covers:
    # unlike goal_coverage it does not grow with the number of courses.
    course_coverage: float | None = None
    certificate_price_median: float | None = None  # of its free-audit courses' paid certificates

    def as_row(self) -> dict:
        return {
            "provider": self.provider,
            "courses": self.courses,
            "share_free": None if self.share_free is None else round(self.share_free, 3),
            "share_priced": round(self.share_priced, 3),
            "share_certificate": round(self.share_certificate, 3),
            "price_median": self.price_median,
            "price_p25": self.price_quartiles[0] if self.price_quartiles else None,
            "price_p75": self.price_quartiles[1] if self.price_quartiles else None,
            "hours_median": self.hours_median,
            "hours_p25": self.hours_quartiles[0] if self.hours_quartiles else None,
            "hours_p75": self.hours_quartiles[1] if self.hours_quartiles else None,
            "levels": ", ".join(f"{k} {v}" for k, v in sorted(self.levels.items())),
            "languages": ", ".join(f"{k} {v}" for k, v in sorted(self.languages.items(), key=lambda kv: -kv[1])),
            "goal_coverage": None if self.goal_coverage is None else round(self.goal_coverage, 3),
        }


@dataclass(frozen=True)
class Comparison:
    goal: str | None
    occupation: Occupation | None
    providers: tuple[ProviderStats, ...]  # most courses first


def compare_providers(
    goal: str | None = None, *, filters: Filters | None = None, occupation_uri: str | None = None, pool: int = 200
) -> Comparison:
    """Providers side by side, for the whole catalogue or for the `pool` courses that best fit a goal."""
    check_request(goal, k=pool)
    eng = engine()
    chosen = None
    required: dict[str, float] = {}
    if goal and goal.strip():
        occupations = eng.resolve_goal(goal, k=OCCUPATIONS_PER_GOAL)
        chosen = _choose(occupations, occupation_uri, eng)
        required = eng.required_skills(chosen.uri) if chosen else {}
        rows = eng.rank(goal, chosen, required, filters or Filters(), k=pool).pool[:pool]
    else:
        rows = np.flatnonzero(eng.filter_mask(filters or Filters()))
    stats = views.provider_stats(eng, rows, required)
    extra = _provider_extras(eng, np.asarray(rows, dtype=np.int64), required)
    return Comparison(
        goal=goal or None,
        occupation=Occupation(*chosen) if chosen else None,
        providers=tuple(ProviderStats(**s, **extra.get(s["provider"], {})) for s in stats),
    )


def _provider_extras(eng: Engine, rows: np.ndarray, required: dict[str, float]) -> dict[str, dict]:
    """Per provider: the mean course coverage of the goal and the median certificate price."""
    courses = eng.courses.iloc[rows]
    columns = [eng.skill_index[u] for u in required if u in eng.skill_index]
    weights = np.array([w for u, w in required.items() if u in eng.skill_index], dtype=np.float64)
    per_course = None
    if columns and weights.sum() and len(rows):
        # The links a reader would accept, as goal_coverage counts them (Engine.provider_stats).
        covers = (eng.accepted[rows][:, columns] > 0).astype(np.float64)
        per_course = np.asarray(covers @ weights).ravel() / weights.sum()
    try:
        certificates = eng.read(
            "SELECT id, certificate_price FROM courses WHERE certificate_price > 0 AND list_contains(?, id)",
            [courses["id"].tolist()],
        )
        price_of = dict(zip(certificates["id"], certificates["certificate_price"], strict=True))
    except duckdb.BinderException:  # a catalogue built before certificate prices were kept
        price_of = {}
    extras = {}
    for provider, positions in courses.groupby("provider", sort=False).indices.items():
        prices = [price_of[i] for i in courses["id"].iloc[positions] if i in price_of]
        extras[provider] = {
            "course_coverage": float(per_course[positions].mean()) if per_course is not None else None,
            "certificate_price_median": float(np.median(prices)) if prices else None,
        }
    return extras


# ---------------------------------------------------------------- one course


@dataclass(frozen=True)
class CourseSkill:
    uri: str
    label: str
    score: float
    evidence: str


@dataclass(frozen=True)
class OfferRecord:
    observed_at: str
    price: float | None
    currency: str | None
    access_model: str | None
    price_raw: str | None


@dataclass(frozen=True)
class Listing:
    """One source's record of a course: several sources may list the same course (pipeline.dedupe)."""

    source: str
    url: str
    title: str
    institution: str | None
    price: float | None
    currency: str | None
    access_model: str | None
    rating: float | None
    rating_count: int | None
    first_seen: str
    last_seen: str
    status: str


@dataclass(frozen=True)
class CourseDetail:
    course_id: str
    title: str
    description: str | None
    provider: str
    institution: str | None
    url: str
    source: str
    status: str
    credential: str | None
    credential_raw: str | None
    level: str | None
    hours: float | None
    duration_raw: str | None
    course_mode: str | None
    in_language: str | None
    price: float | None
    currency: str | None
    access_model: str | None
    rating: float | None
    rating_count: int | None
    skills_declared: tuple[str, ...]
    first_seen: str
    last_seen: str
    skills: tuple[CourseSkill, ...]
    offers: tuple[OfferRecord, ...]  # oldest first
    listings: tuple[Listing, ...]  # every source that lists it, the one its values come from first
    similar: tuple[CourseResult, ...]


def course_detail(course_id: str, *, similar: int = 5) -> CourseDetail | None:
    """Everything about one course, or None when the catalogue has no such course."""
    detail = views.course_detail(engine(), course_id, similar=similar)
    if detail is None:
        return None
    return CourseDetail(
        **detail["course"],
        skills=tuple(CourseSkill(**s) for s in detail["skills"]),
        offers=tuple(OfferRecord(**o) for o in detail["offers"]),
        listings=tuple(Listing(**r) for r in detail["listings"]),
        similar=tuple(CourseResult(**r) for r in detail["similar"]),
    )


# ---------------------------------------------------------------- operators: the crawl behind the catalogue


@dataclass(frozen=True)
class SourceStatus:
    source: str
    last_started: str | None
    last_finished: str | None
    status: str | None
    items: int
    errors: int
    dropped: int
    duration_s: float | None
    active_courses: int
    removed_courses: int
    last_success: str | None  # when this source last crawled to the end


def sources_status() -> tuple[SourceStatus, ...]:
    """Each source's last crawl and what it contributes to the published catalogue."""
    return tuple(SourceStatus(**row) for row in views.sources_status(engine()))


# ---------------------------------------------------------------- what a page says beside the ranking

# The crawl stat in which a dataset spider records when its listings were collected
# (crawlers.dataset_spider.DATA_DATE_STAT; the recommender does not import the crawlers).
_DATA_DATE_STAT = "skillstack/data_date"


def language_name(tag: str | None) -> str | None:
    """The English name of a language tag ("ja" → "Japanese"); the tag itself when it is not known."""
    return language.language_name(tag.split("-")[0]) if tag else None


def hours_estimated(duration_raw: str | None) -> bool:
    """Whether hours are our estimate from the provider's duration ("1 - 3 Months") rather than a
    total the provider stated ("1.5 hours")."""
    return course_record.hours_estimated(duration_raw)


def is_search_url(url: str | None) -> bool:
    """Whether a course's URL is only a search at its provider, not the course's own page."""
    return course_record.is_search_url(url)


@dataclass(frozen=True)
class SourceDate:
    source: str
    data_date: str | None  # when a dataset's listings were collected ("2020"); None for a live source
    last_crawled: str | None  # the end of its last finished crawl (ISO)

    @property
    def as_of(self) -> str | None:
        """How old the source's facts are: its data's date, else the day we last crawled it."""
        return self.data_date or (self.last_crawled[:10] if self.last_crawled else None)


def source_dates() -> dict[str, SourceDate]:
    """Each crawled source's data date and last finished crawl."""
    frame = engine().read(
        """
        SELECT source, arg_max(json_extract_string(stats, ?), finished_at) AS data_date,
               max(finished_at)::VARCHAR AS last_crawled
        FROM crawl_runs WHERE status = 'finished' GROUP BY source ORDER BY source
        """,
        [f'$."{_DATA_DATE_STAT}"'],
    )
    text = lambda value: value if isinstance(value, str) and value else None  # noqa: E731 - NaN for NULL
    return {
        row.source: SourceDate(row.source, text(row.data_date), text(row.last_crawled))
        for row in frame.itertuples(index=False)
    }


@dataclass(frozen=True)
class CourseFacts:
    """What the ranking's rows do not carry: the duration as the provider stated it, the certificate's
    price beside a free audit, and how old the facts are."""

    course_id: str
    duration_raw: str | None
    hours_estimated: bool
    certificate_price: float | None
    source: str  # the source the course's values come from
    as_of: str | None  # that source's data date, else the day it was last seen


def course_facts(course_ids: tuple[str, ...] | list[str]) -> dict[str, CourseFacts]:
    """`CourseFacts` of these courses, by id (ids not in the catalogue are left out)."""
    if not course_ids:
        return {}
    eng = engine()
    frame = eng.read(
        """
        SELECT id, duration_raw, certificate_price, source, last_seen::VARCHAR AS last_seen
        FROM courses WHERE list_contains(?, id)
        """,
        [list(dict.fromkeys(course_ids))],
    )
    dates = source_dates()
    facts = {}
    for row in frame.itertuples(index=False):
        dated = dates.get(row.source)
        # A DataFrame's missing values are NaN, in text columns too.
        certificate = row.certificate_price if row.certificate_price == row.certificate_price else None
        duration_raw = row.duration_raw if isinstance(row.duration_raw, str) else None
        facts[row.id] = CourseFacts(
            course_id=row.id,
            duration_raw=duration_raw,
            hours_estimated=hours_estimated(duration_raw),
            certificate_price=certificate,
            source=row.source,
            as_of=dated.data_date
            if dated and dated.data_date
            else (row.last_seen[:10] if isinstance(row.last_seen, str) else None),
        )
    return facts


@dataclass(frozen=True)
class FilterEffect:
    name: str  # the `Filters` field: "free_only", "levels", ...
    without: int  # courses that pass every other filter: what dropping this one would show


@dataclass(frozen=True)
class FilterReport:
    passing: int  # courses that pass every filter
    price_not_stated: int  # of those the price filters hide, the ones whose source states no price
    effects: tuple[FilterEffect, ...]  # one per filter that is set, in `Filters` order


def filter_report(filters: Filters) -> FilterReport:
    """What the filters do to the catalogue: how many courses pass, how many the price filters hide
    only because their source states no price (Coursera's datasets state none), and for each filter
    that is set how many courses pass without it, so an empty list can name the filter that emptied it."""
    eng = engine()
    passing = eng.filter_mask(filters)
    effects = []
    for name in Filters.__dataclass_fields__:
        value = getattr(filters, name)
        if value in (False, None, ()):
            continue
        default = Filters.__dataclass_fields__[name].default
        unset = replace(filters, **{name: () if isinstance(value, tuple) else default})
        effects.append(FilterEffect(name, int(eng.filter_mask(unset).sum())))
    hidden = 0
    if filters.free_only or filters.max_price is not None:
        others = eng.filter_mask(replace(filters, free_only=False, max_price=None))
        courses = eng.courses
        unstated = (courses["price"].isna() & courses["access_model"].isna()).to_numpy()
        hidden = int((others & ~passing & unstated).sum())
    return FilterReport(passing=int(passing.sum()), price_not_stated=hidden, effects=tuple(effects))


@dataclass(frozen=True)
class HaveMatch:
    phrase: str  # as the user typed it
    skill: SkillMatch | None  # the ESCO skill it was matched to; None: not recognised


def match_have(phrases: tuple[str, ...] | list[str]) -> tuple[HaveMatch, ...]:
    """Each phrase of "skills I already have" with the ESCO skill it counts as (None when no label is
    close enough), in the order given, as `recommend(have=...)` matches them."""
    eng = engine()
    matches = []
    for phrase in dict.fromkeys(p.strip() for p in phrases if p and p.strip()):
        found = eng.normalise_have([phrase])
        matches.append(HaveMatch(phrase, SkillMatch(*found[0]) if found else None))
    return tuple(matches)


# ---------------------------------------------------------------- learners: the plan to keep


def plan_csv(rec: Recommendation) -> str:
    """The skill stack as CSV, one row per step (`recommender.plans`)."""
    return plans.plan_csv(rec)


def plan_schedule(rec: Recommendation, *, hours_per_week: float, start: date) -> tuple[plans.ScheduledStep, ...]:
    """Each step's first and last study day at `hours_per_week` from `start`, one step after the other."""
    return plans.schedule(rec, hours_per_week=hours_per_week, start=start)


def plan_ical(rec: Recommendation, *, hours_per_week: float, start: date) -> bytes:
    """The study schedule as an iCalendar file: one all-day event per step."""
    return plans.plan_ical(rec, hours_per_week=hours_per_week, start=start)


def plan_jsonld(rec: Recommendation) -> dict:
    """The plan as schema.org JSON-LD: an ItemList of Course items, dated with the catalogue's build."""
    return plans.plan_jsonld(rec, catalogue_date=catalog_summary().built_at)


# ---------------------------------------------------------------- counsellors: chosen courses side by side

MAX_COMPARED = 4


@dataclass(frozen=True)
class CourseComparison:
    goal: str | None
    occupation: Occupation | None
    courses: tuple[CourseResult, ...]  # in the order asked; `matched_skills`: the goal's required skills it covers
    required: tuple[RequiredSkill, ...]  # the goal's required skills, heaviest first
    missing: tuple[str, ...] = ()  # ids asked for that the catalogue does not hold


def compare_courses(course_ids: tuple[str, ...], goal: str | None = None, *, occupation_uri: str | None = None):
    """Two to four courses side by side: their facts and, for a goal, which required skills each covers."""
    ids = tuple(dict.fromkeys(i for i in course_ids if i))
    if not 2 <= len(ids) <= MAX_COMPARED:
        raise RecommenderError(f"compare 2 to {MAX_COMPARED} courses, not {len(ids)}")
    eng = engine()
    chosen = None
    required: dict[str, float] = {}
    if goal and goal.strip():
        chosen = _choose(eng.resolve_goal(goal, k=OCCUPATIONS_PER_GOAL), occupation_uri, eng)
        required = eng.required_skills(chosen.uri) if chosen else {}
    weights = np.zeros(len(eng.skill_uris), dtype=np.float32)
    for uri, weight in required.items():
        if uri in eng.skill_index:
            weights[eng.skill_index[uri]] = weight
    rows = [(i, eng.course_row.get(i)) for i in ids]
    courses = tuple(CourseResult(**eng.result_row(row, 0.0, weights)) for _, row in rows if row is not None)
    return CourseComparison(
        goal=goal or None,
        occupation=Occupation(*chosen) if chosen else None,
        courses=courses,
        required=tuple(RequiredSkill(*r) for r in eng.describe_required(chosen.uri)) if chosen else (),
        missing=tuple(i for i, row in rows if row is None),
    )


# ---------------------------------------------------------------- alerts: watched goals and their feeds


def watches() -> tuple[watch.Watch, ...]:
    """The watched goals kept in SKILLSTACK_HOME/watches.json."""
    return watch.list_watches()


def watch_add(
    goal: str, *, top: int = watch.DEFAULT_TOP, filters: Filters | None = None, occupation_uri: str | None = None
) -> watch.Watch:
    """Watch a goal. With a catalogue published, its top courses are recorded now, so the next nightly's
    feed says what changed since today."""
    if not goal or not goal.strip():
        raise EmptyGoalError('the goal is empty: e.g. `skillstack watch add "data analyst"`')
    added = watch.add_watch(goal, top=top, occupation_uri=occupation_uri, filters=filters or Filters())
    if _catalog_path().exists() and not watch.feed_entries(added.id):
        _update_one(added)
    return added


def watch_remove(watch_id: str) -> bool:
    return watch.remove_watch(watch_id)


def watch_feed(watch_id: str) -> tuple[watch.FeedEntry, ...]:
    """The entries of a watch's feed, newest first."""
    return watch.feed_entries(watch_id)


def watch_feed_path(watch_id: str) -> Path:
    """The Atom file of a watch (a feed reader on this machine subscribes to its file:// address)."""
    return watch.feed_path(watch_id)


def course_page_url(course_id: str) -> str:
    """The dashboard's page of a course, as feeds link to it."""
    return watch.course_page_url(course_id)


def update_watch_feeds() -> tuple[watch.FeedUpdate, ...]:
    """After a publish: every watched goal's feed gets what changed for it since its last update."""
    return tuple(_update_one(w) for w in watch.list_watches())


def _update_one(w: watch.Watch) -> watch.FeedUpdate:
    rec = recommend(w.goal, k=w.top, filters=w.course_filters, occupation_uri=w.occupation_uri)
    top = [
        {
            "course_id": r.course_id,
            "title": r.title,
            "provider": r.provider,
            "url": r.url,
            "price": r.price,
            "currency": r.currency,
            "access_model": r.access_model,
        }
        for r in rec.results
    ]
    eng = engine()
    return watch.update_feed(w, top, lambda course_id: course_id in eng.course_row, eng.meta.get("built_at"))


def new_since_last_nightly() -> frozenset[str]:
    """Ids of the courses the last published nightly brought into the catalogue (first seen since it started)."""
    started = _last_published_nightly()
    if started is None:
        return frozenset()
    eng = engine()
    rows = eng.read(
        "SELECT id FROM courses WHERE status = 'active' AND first_seen >= CAST(? AS TIMESTAMP)",
        [started.replace("T", " ").rstrip("Z")],
    )
    return frozenset(rows["id"].tolist())


def _last_published_nightly() -> str | None:
    reports = sorted(settings.paths().reports.glob("nightly-*.json"), reverse=True)
    for path in reports:
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if report.get("published"):
            return report.get("started_at")
    return None
