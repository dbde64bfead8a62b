"""The recommender's whole surface: the dashboard and the CLI import this module and nothing else.

Every call returns frozen dataclasses (never rows or DataFrames). Errors a user can fix are
`RecommenderError`s whose message says what to run.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from recommender.engine import Engine
from recommender.errors import CatalogMissingError, EmptyCatalogError, EmptyGoalError, RecommenderError
from skillstack import settings

__all__ = [
    "CatalogMissingError",
    "CourseResult",
    "EmptyCatalogError",
    "EmptyGoalError",
    "Filters",
    "Occupation",
    "Recommendation",
    "RecommenderError",
    "SkillMatch",
    "catalog_summary",
    "extract_skills",
    "recommend",
    "resolve_goal",
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


@dataclass(frozen=True)
class Filters:
    free_only: bool = False
    with_certificate: bool = False
    levels: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    max_hours: float | None = None
    max_price: float | None = None
    providers: tuple[str, ...] = ()


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
        }


@dataclass(frozen=True)
class Recommendation:
    goal: str
    occupations: tuple[Occupation, ...]
    chosen: Occupation | None
    required_skills: tuple[str, ...]
    results: tuple[CourseResult, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {
            "goal": self.goal,
            "occupations": [{"uri": o.uri, "label": o.label, "score": round(o.score, 4)} for o in self.occupations],
            "results": [r.as_dict() for r in self.results],
        }


@dataclass(frozen=True)
class CatalogSummary:
    courses: int
    active: int
    providers: tuple[str, ...]
    built_at: str | None


_engine: Engine | None = None
_engine_key: tuple | None = None
_lock = threading.Lock()


def _catalog_path() -> Path:
    return settings.paths().catalog_db


def engine() -> Engine:
    """The engine over the published catalogue, reopened when `build` has published a new one."""
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
            _engine = Engine.open(path)
            _engine_key = key
        return _engine


def recommend(
    goal: str, *, k: int = 10, filters: Filters | None = None, occupation_uri: str | None = None
) -> Recommendation:
    """Courses for a career goal in plain words, best first, each with the required skills it covers."""
    eng = engine()
    occupations = eng.resolve_goal(goal, k=5)
    chosen = _choose(occupations, occupation_uri, eng)
    required = eng.required_skills(chosen.uri) if chosen else {}
    ranked = eng.rank(goal, chosen, required, filters or Filters(), k=k)
    results = tuple(CourseResult(**row) for row in ranked)
    labels = tuple(eng.skill_label(uri) for uri in sorted(required, key=required.get, reverse=True))
    return Recommendation(
        goal=goal,
        occupations=tuple(Occupation(*o) for o in occupations),
        chosen=Occupation(*chosen) if chosen else None,
        required_skills=labels,
        results=results,
    )


def _choose(occupations: list, occupation_uri: str | None, eng: Engine):
    if occupation_uri:
        for occ in occupations:
            if occ.uri == occupation_uri:
                return occ
        label = eng.occupation_label(occupation_uri)
        if label is not None:
            return eng.occupation_tuple(occupation_uri, label, 1.0)
    return occupations[0] if occupations else None


def resolve_goal(goal: str, *, k: int = 5) -> tuple[Occupation, ...]:
    """ESCO occupations for a goal in plain words, best first."""
    return tuple(Occupation(*o) for o in engine().resolve_goal(goal, k=k))


def extract_skills(text: str, *, k: int = 10) -> tuple[SkillMatch, ...]:
    """ESCO skills a text expresses, best first."""
    return tuple(SkillMatch(*s) for s in engine().extract_skills(text, k=k))


def catalog_summary() -> CatalogSummary:
    return CatalogSummary(**engine().summary())
