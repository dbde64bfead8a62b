"""How a goal's courses are scored and chosen: the parts of a score, and what is shown of them.

A course's score mixes, each part in [0, 1]:
- `semantic`: the cosine between the goal (with the chosen occupation's name, as far as the goal
  resolved to it with confidence) and the course vector (title, declared skills, description);
- `lexical`: BM25 of the goal and occupation words over the same text, scaled so the best is 1;
- the goal-independent priors (credential fit, smoothed rating, freshness: `priors.py`).
Then, among the `RERANK_POOL` best of those, `coverage` re-orders what is already relevant: how much
of the occupation's specific skills (inverse-frequency weighted, transversal skills near zero) the
course's accepted skill links cover, times how much of the course is about them, so a course that
links many broad skills does not beat one that teaches the role.

What is shown: courses in the goal's language (and those whose language is unknown) unless the user
chose languages; editions of one course in other languages folded into one result ("also in");
copies of one course (one provider, the same title or a near-identical text) shown once; and the
list stops where relevance ends (`floor`). Every part can be switched off for the ablation table of
`skillstack eval relevance` (`RankConfig`); the defaults are what the product serves.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import numpy as np

from core.language import FUNCTION_WORDS

SEMANTIC_WEIGHT = 0.55
LEXICAL_WEIGHT = 0.2
COVERAGE_WEIGHT = 0.0
TITLE_WEIGHT = 0.4
# The occupation's name counts in the query vector this much beside the goal's own words, scaled by
# the resolver's confidence: a wrong occupation ("ayudante de cocina" → complementary therapist)
# must not take over the query.
OCCUPATION_QUERY_WEIGHT = 0.5
RERANK_POOL = 50
CANDIDATE_POOL = 200
# Where the list ends: a result this close to the goal (the query vector's cosine) is shown; one
# between FLOOR_WEAK and it only when its title shares a word of the goal's own, and none below
# FLOOR_WEAK. "Corporate & Commercial Law" at 0.33 for "pilot" is cut; a long lay goal's relevant
# courses sit near 0.3 and name its words. A skill the occupation needs was measured as a second
# witness too: no gain, and one broad skill ("automation technology") let AI courses through for
# "electrician".
# Scaled BM25 cannot say this: its best match always scores 1.
FLOOR_SEMANTIC = 0.36
FLOOR_WEAK = 0.2
# Two results of one provider this close (cosine) are the same course under two titles.
COPY_COSINE = 0.95
# An edition of a course in another language: same provider, institution and credential kind, and
# a course text at least this close (declared skills and the brand carry across translations).
EDITION_COSINE = 0.6


@dataclass(frozen=True)
class RankConfig:
    semantic: float = SEMANTIC_WEIGHT
    lexical: float = LEXICAL_WEIGHT
    coverage: float = COVERAGE_WEIGHT
    title: float = TITLE_WEIGHT
    priors: float = 1.0  # scale of the goal-independent priors
    occupation_weight: float = OCCUPATION_QUERY_WEIGHT
    prefer_goal_language: bool = True
    group_editions: bool = True
    floor: bool = True
    floor_semantic: float = FLOOR_SEMANTIC
    floor_weak: float = FLOOR_WEAK


@dataclass(frozen=True)
class Shown:
    """One result as chosen: the engine's row, its score, and the rows of its other-language editions."""

    row: int
    score: float
    editions: tuple[int, ...] = ()


@dataclass
class Choice:
    shown: list[Shown] = field(default_factory=list)
    cut_by_floor: int = 0  # candidates left out because relevance ended


_TITLE_KEY = re.compile(r"[^\w]+")


def title_key(title: str) -> str:
    return _TITLE_KEY.sub(" ", title.casefold()).strip()


def query_weight(occupation_confidence: float, config: RankConfig) -> float:
    """How much the occupation's name counts in the query, from the resolver's confidence."""
    return config.occupation_weight * float(np.clip(occupation_confidence, 0.0, 1.0))


def base_score(semantic: np.ndarray, lexical: np.ndarray, prior: np.ndarray, config: RankConfig) -> np.ndarray:
    score = config.semantic * np.clip(semantic, 0, 1) + config.lexical * lexical
    if config.priors:
        score = score + config.priors * prior
    return score.astype(np.float32)


_WORDS = re.compile(r"[^\W_]+")
_STOP = FUNCTION_WORDS | frozenset(
    "a an and the of for in on to with at by from or as i want become be work job career".split()  # noqa: SIM905
)


@functools.lru_cache(maxsize=65_536)
def content_words(text: str) -> frozenset[str]:
    """Lower-cased words without stop words, plural "s" folded ("Analysts" → "analyst")."""
    words = (w.casefold() for w in _WORDS.findall(text))
    return frozenset(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words
                     if w.casefold() not in _STOP)  # fmt: skip


def title_overlap(query: frozenset[str], titles: list[str]) -> np.ndarray:
    """Per title, the share of the query's words it contains: a title that names the goal ("IBM Data
    Analyst" for "data analyst") says more than a description that mentions it."""
    if not query:
        return np.zeros(len(titles), dtype=np.float32)
    return np.array([len(query & content_words(t)) / len(query) for t in titles], dtype=np.float32)


def coverage_scores(links, rows: np.ndarray, weights: np.ndarray, specificity: np.ndarray) -> np.ndarray:
    """For each row, sqrt(recall × precision) of its skill links against the gap: recall is the
    share of the gap's specificity-weighted mass it covers (over the best row's), precision the share
    of its own linked, specificity-weighted mass that the gap needs."""
    if not len(rows) or not weights.any():
        return np.zeros(len(rows), dtype=np.float32)
    sub = links[rows]
    needed = weights * specificity
    covered = np.asarray(sub @ needed).ravel()
    own = np.asarray(sub @ specificity).ravel()
    best = covered.max()
    if best <= 0:
        return np.zeros(len(rows), dtype=np.float32)
    recall = covered / best
    precision = np.divide(covered, own * max(float(weights.max()), 1e-9), out=np.zeros_like(covered), where=own > 0)
    return np.sqrt(np.clip(recall, 0, 1) * np.clip(precision, 0, 1)).astype(np.float32)


def choose(
    order: np.ndarray,
    score: np.ndarray,
    *,
    k: int,
    in_language: np.ndarray,
    relevant: np.ndarray,  # above the floor of closeness to the goal
    vectors: np.ndarray,
    providers: np.ndarray,
    institutions: np.ndarray,
    credentials: np.ndarray,
    languages: np.ndarray,
    titles: np.ndarray,
    config: RankConfig,
) -> Choice:
    """The results to show, best first, from candidate rows in score order.

    `in_language` marks the rows the language preference lets through, `relevant` those above the
    absolute floor. A row that copies one already shown is skipped; a row that is an edition of one
    shown in another language is folded into it.
    """
    choice = Choice()
    if not len(order):
        return choice
    shown_rows: list[int] = []
    editions: dict[int, list[int]] = {}
    keys = {}
    passing = order[in_language[order]] if config.prefer_goal_language else order
    for row in passing:
        row = int(row)
        if len(shown_rows) >= k:
            break
        if config.floor and not relevant[row]:
            choice.cut_by_floor += 1
            continue
        key = (providers[row], title_key(str(titles[row])))
        if key in keys:
            continue
        if shown_rows:
            likeness = vectors[shown_rows] @ vectors[row]
            same_provider = providers[shown_rows] == providers[row]
            if (same_provider & (likeness >= COPY_COSINE)).any():
                continue
        keys[key] = row
        shown_rows.append(row)
        editions[row] = []
    if config.group_editions and shown_rows:
        for row in order:
            row = int(row)
            if row in editions:
                continue
            home = _edition_of(row, shown_rows, vectors, providers, institutions, credentials, languages)
            if home is not None and languages[row] not in {languages[e] for e in editions[home]}:
                editions[home].append(row)
    choice.shown = [Shown(r, float(score[r]), tuple(editions[r])) for r in shown_rows]
    return choice


def _edition_of(row, shown_rows, vectors, providers, institutions, credentials, languages) -> int | None:
    if languages[row] is None:
        return None
    for home in shown_rows:
        if (
            languages[home] != languages[row]
            and providers[home] == providers[row]
            and institutions[home] is not None
            and institutions[home] == institutions[row]
            and credentials[home] == credentials[row]
            and float(vectors[home] @ vectors[row]) >= EDITION_COSINE
        ):
            return home
    return None
