"""In-memory search over one published catalogue: goal resolution, required skills, ranking.

Everything a query needs is read once when the catalogue is opened (course metadata, the course
vector matrix, the sparse course×skill link matrix, occupation label vectors), so a query is a
few matrix products and no SQL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse

from pipeline import embed, skill_extract, store
from pipeline.skill_extract import SkillExtractor
from pipeline.skills import skill_matrix
from recommender import goals as goals_module
from recommender.errors import EmptyCatalogError, EmptyGoalError, TaxonomyMissingError
from recommender.goals import GoalResolver, OccupationHit, clean_goal
from recommender.lexical import Bm25Index
from recommender.stack import Candidate, greedy_stack

log = logging.getLogger(__name__)

ESSENTIAL_WEIGHT = 1.0
OPTIONAL_WEIGHT = 0.35
# "communication", "teamwork": they would match every course and drown the specific skills.
TRANSVERSAL_FACTOR = 0.25
HAVE_MIN_COSINE = 0.6
# How the parts of a course's score are mixed (each part lies in [0, 1]); see `rank`.
SEMANTIC_WEIGHT = 0.40
LEXICAL_WEIGHT = 0.15
COVERAGE_WEIGHT = 0.30
CREDENTIAL_WEIGHT = 0.07
QUALITY_WEIGHT = 0.05
FRESHNESS_WEIGHT = 0.03
# A career goal favours career-oriented micro-credentials over a single unaccredited course.
CREDENTIAL_FIT = {
    "professional certificate": 1.0,
    "specialization": 0.9,
    "program": 0.9,
    "certificate": 0.6,
    "degree": 0.5,
    "badge": 0.4,
    "guided project": 0.3,
    "none": 0.0,
}
UNKNOWN_CREDENTIAL_FIT = 0.3
# Bayesian rating: a course's mean is pulled towards the catalogue mean as if it had this many
# extra ratings, so 5.0 from 3 ratings does not beat 4.7 from 30,000.
RATING_PRIOR_COUNT = 50
FRESHNESS_HALF_LIFE_DAYS = 180
# MMR: how much a result's own score counts against its likeness to results already chosen.
MMR_LAMBDA = 0.75
MMR_POOL = 60


@dataclass(frozen=True)
class Ranking:
    results: list[dict]  # the top k, best first
    scores: np.ndarray  # every course's score; -inf where the filters exclude it
    weights: np.ndarray  # the skill gap as a weight per skill column
    pool: np.ndarray  # the best-scored courses the stack may choose from


STACK_POOL = 100


@dataclass
class Engine:
    path: Path
    course_row: dict[str, int]  # course id -> row
    courses: pd.DataFrame  # active courses, row i ↔ course_matrix[i]
    course_matrix: np.ndarray
    lexical: Bm25Index
    prior: np.ndarray  # credential fit, quality and freshness, mixed: the goal-independent part of a score
    links: sparse.csr_matrix  # courses × skills, link score
    link_evidence: dict[tuple[int, int], str]
    skill_uris: list[str]
    skill_index: dict[str, int]
    skill_labels: list[str]
    skill_transversal: np.ndarray
    goals: GoalResolver
    occupation_skills: pd.DataFrame
    skill_vector_uris: list[str]
    skill_vectors: np.ndarray
    skill_extractor: SkillExtractor
    skill_by_label: dict[str, str]  # lower-cased preferred and alternative labels -> uri
    occupation_tools: dict[str, list[str]]  # ESCO occupation -> O*NET technology examples, hot first
    meta: dict[str, str]

    # ------------------------------------------------------------------ loading

    @classmethod
    def open(cls, path: Path) -> Engine:
        with cls.connect(path) as con:
            return cls._load(con, path)

    @staticmethod
    def connect(path: Path) -> duckdb.DuckDBPyConnection:
        """A read-only connection of its own: DuckDB connections are not shared across threads."""
        return store.connect(path, read_only=True)

    def read(self, sql: str, parameters: list | None = None) -> pd.DataFrame:
        """A query on the catalogue this engine was opened on (details too large to keep in memory)."""
        with self.connect(self.path) as con:
            return con.execute(sql, parameters or []).df()

    @classmethod
    def _load(cls, con: duckdb.DuckDBPyConnection, path: Path) -> Engine:
        courses = con.execute(
            """
            SELECT c.id, c.name, c.provider, c.institution, c.url, c.credential, c.hours, c.price, c.currency,
                   c.access_model, c.level, c.in_language, c.rating, c.rating_count, c.last_seen,
                   concat_ws(' ', c.name, array_to_string(c.skills_declared, ', '), left(c.description, 400))
                       AS lexical_text,
                   e.vector
            FROM courses c JOIN course_embeddings e ON e.content_hash = c.content_hash AND e.model = ?
            WHERE c.status = 'active' ORDER BY c.id
            """,
            [embed.MODEL_KEY],
        ).df()
        lexical_texts = courses.pop("lexical_text").fillna("").tolist()
        if courses.empty:
            matrix = np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
        else:
            matrix = np.vstack(courses.pop("vector").to_numpy()).astype(np.float32)
        skills = con.execute("SELECT uri, label, reuse_level FROM skills ORDER BY uri").df()
        skill_index = {uri: i for i, uri in enumerate(skills["uri"])}
        course_index = {cid: i for i, cid in enumerate(courses["id"])}
        link_rows = con.execute("SELECT course_id, skill_uri, score, evidence FROM course_skills").df()
        link_rows = link_rows[link_rows["course_id"].isin(course_index) & link_rows["skill_uri"].isin(skill_index)]
        rows = link_rows["course_id"].map(course_index).to_numpy()
        cols = link_rows["skill_uri"].map(skill_index).to_numpy()
        links = sparse.csr_matrix(
            (link_rows["score"].to_numpy(dtype=np.float32), (rows, cols)), shape=(len(courses), len(skills))
        )
        evidence = dict(zip(zip(rows.tolist(), cols.tolist(), strict=True), link_rows["evidence"], strict=True))
        occupation_skills = con.execute("SELECT occupation_uri, skill_uri, relation_type FROM occupation_skills").df()
        meta = dict(con.execute("SELECT key, value FROM catalog_meta").fetchall())
        skill_vector_uris, _labels, skill_vectors = skill_matrix(con)
        skill_by_label = dict(
            con.execute(
                """
                SELECT surface, any_value(uri) FROM (
                    SELECT uri, lower(label) AS surface FROM skills
                    UNION ALL SELECT uri, lower(trim(unnest(alt_labels))) FROM skills
                ) GROUP BY surface
                """
            ).fetchall()
        )
        goal_resolver, extractor = taxonomy_indexes(con, path)
        tools: dict[str, list[str]] = {}
        for uri, example in con.execute(
            """
            SELECT x.esco_uri, t.example
            FROM esco_onet_crosswalk x JOIN onet_technology t ON t.code = x.onet_code
            WHERE x.match_type IN ('exactMatch', 'closeMatch', 'narrowMatch')
            GROUP BY x.esco_uri, t.example
            ORDER BY x.esco_uri, bool_or(t.hot) DESC, bool_or(t.in_demand) DESC, count(*) DESC, t.example
            """
        ).fetchall():
            tools.setdefault(uri, []).append(example)
        return cls(
            path=path,
            course_row=course_index,
            courses=courses.reset_index(drop=True),
            lexical=Bm25Index(lexical_texts),
            prior=_prior_scores(courses),
            course_matrix=matrix,
            links=links,
            link_evidence=evidence,
            skill_uris=skills["uri"].tolist(),
            skill_index=skill_index,
            skill_labels=skills["label"].tolist(),
            skill_transversal=(skills["reuse_level"] == "transversal").to_numpy(),
            goals=goal_resolver,
            occupation_skills=occupation_skills,
            skill_vector_uris=skill_vector_uris,
            skill_vectors=skill_vectors,
            skill_extractor=extractor,
            skill_by_label=skill_by_label,
            occupation_tools=tools,
            meta=meta,
        )

    # ------------------------------------------------------------------ goal → occupations → skills

    def resolve_goal(self, goal: str, *, k: int = 5) -> list[OccupationHit]:
        text = clean_goal(goal)
        if not text:
            raise EmptyGoalError('the goal is empty: type a career goal, e.g. `skillstack recommend "data analyst"`')
        self._require_taxonomy_vectors()
        return self.goals.resolve(goal, k=k)

    def _require_taxonomy_vectors(self) -> None:
        if not self.goals.labels:
            raise TaxonomyMissingError(
                "no taxonomy in the catalogue: run `skillstack taxonomy load`, then `skillstack build`"
            )
        if not self.goals.ready or not len(self.skill_vectors):
            raise TaxonomyMissingError("the taxonomy is loaded but not indexed yet: run `skillstack build`")

    def occupation_label(self, uri: str) -> str | None:
        return self.goals.labels.get(uri)

    @staticmethod
    def occupation_tuple(uri: str, label: str, score: float) -> OccupationHit:
        return OccupationHit(uri, label, score)

    def required_skills(self, occupation_uri: str) -> dict[str, float]:
        """Skill uri → weight: essential above optional, transversal skills down-weighted."""
        rows = self.occupation_skills[self.occupation_skills["occupation_uri"] == occupation_uri]
        weights: dict[str, float] = {}
        for uri, relation in zip(rows["skill_uri"], rows["relation_type"], strict=True):
            idx = self.skill_index.get(uri)
            if idx is None:
                continue
            weight = ESSENTIAL_WEIGHT if relation == "essential" else OPTIONAL_WEIGHT
            if self.skill_transversal[idx]:
                weight *= TRANSVERSAL_FACTOR
            weights[uri] = max(weight, weights.get(uri, 0.0))
        return weights

    def describe_required(self, occupation_uri: str) -> list[tuple[str, str, float, bool, bool]]:
        """(uri, label, weight, essential, transversal) of the occupation's skills, heaviest first."""
        weights = self.required_skills(occupation_uri)
        rows = self.occupation_skills[self.occupation_skills["occupation_uri"] == occupation_uri]
        essential = set(rows.loc[rows["relation_type"] == "essential", "skill_uri"])
        described = [
            (uri, self.skill_label(uri), w, uri in essential, bool(self.skill_transversal[self.skill_index[uri]]))
            for uri, w in weights.items()
        ]
        return sorted(described, key=lambda r: (-r[2], r[1]))

    def normalise_have(self, have: tuple[str, ...] | list[str]) -> list[tuple[str, str, float]]:
        """Skills the user says they have, each mapped to its ESCO skill: an exact label first, else the
        nearest label when it is close enough to trust."""
        found: dict[str, tuple[str, str, float]] = {}
        phrases = [" ".join(h.split()) for h in have if h and h.strip()]
        for phrase in phrases:
            uri = self.skill_by_label.get(phrase.lower())
            if uri:
                found.setdefault(uri, (uri, self.skill_label(uri), 1.0))
                continue
            if not len(self.skill_vectors):
                continue
            scores = self.skill_vectors @ embed.encode([phrase])[0]
            best = int(np.argmax(scores))
            if scores[best] >= HAVE_MIN_COSINE:
                uri = self.skill_vector_uris[best]
                found.setdefault(uri, (uri, self.skill_label(uri), float(scores[best])))
        return list(found.values())

    def tools(self, occupation_uri: str, limit: int = 15) -> tuple[str, ...]:
        return tuple(self.occupation_tools.get(occupation_uri, ())[:limit])

    def skill_label(self, uri: str) -> str:
        idx = self.skill_index.get(uri)
        return self.skill_labels[idx] if idx is not None else uri

    # ------------------------------------------------------------------ ranking

    def rank(self, goal: str, occupation: OccupationHit | None, required: dict[str, float], filters, *, k: int) -> list:
        if self.courses.empty:
            raise EmptyCatalogError("the catalogue has no courses: run `skillstack crawl` then `skillstack build`")
        text = clean_goal(goal)
        if not text:
            raise EmptyGoalError('the goal is empty: type a career goal, e.g. `skillstack recommend "data analyst"`')
        query_texts = [text] if occupation is None else [text, occupation.label]
        query = embed.encode_queries(query_texts).sum(axis=0)
        query /= np.linalg.norm(query) or 1.0
        semantic = self.course_matrix @ query

        weights = np.zeros(len(self.skill_uris), dtype=np.float32)
        for uri, weight in required.items():
            weights[self.skill_index[uri]] = weight
        coverage = self.links @ weights if required else np.zeros(len(self.courses), dtype=np.float32)
        top_coverage = float(coverage.max()) if len(coverage) else 0.0
        coverage_share = coverage / top_coverage if top_coverage > 0 else coverage

        lexical = self.lexical.scores(" ".join(query_texts))
        score = (
            SEMANTIC_WEIGHT * np.clip(semantic, 0, 1)
            + LEXICAL_WEIGHT * lexical
            + COVERAGE_WEIGHT * coverage_share
            + self.prior
        )
        mask = self.filter_mask(filters)
        score = np.where(mask, score, -np.inf).astype(np.float32)
        pool = _top(score, max(k, STACK_POOL, MMR_POOL))
        chosen = self._diversify(pool[: max(MMR_POOL, k)], score, k)
        results = [self.result_row(int(i), float(score[i]), weights) for i in chosen]
        return Ranking(results=results, scores=score, weights=weights, pool=pool)

    def _diversify(self, pool: np.ndarray, score: np.ndarray, k: int) -> list[int]:
        """Maximal marginal relevance: each next result trades its score against its likeness (cosine)
        to the results already chosen, so the top ten are not ten near-copies of one course."""
        if len(pool) <= 1:
            return [int(i) for i in pool[:k]]
        vectors = self.course_matrix[pool]
        likeness = vectors @ vectors.T
        relevance = score[pool]
        chosen: list[int] = []
        best_likeness = np.full(len(pool), -np.inf, dtype=np.float32)
        available = np.ones(len(pool), dtype=bool)
        for _ in range(min(k, len(pool))):
            penalty = np.where(np.isfinite(best_likeness), best_likeness, 0.0)
            mmr = np.where(available, MMR_LAMBDA * relevance - (1 - MMR_LAMBDA) * penalty, -np.inf)
            pick = int(np.argmax(mmr))
            chosen.append(int(pool[pick]))
            available[pick] = False
            best_likeness = np.maximum(best_likeness, likeness[pick])
        return chosen

    def stack(self, ranking: Ranking, gap: dict[str, float]) -> tuple[list, tuple[str, ...], tuple[str, ...]]:
        """Greedy skill stack over the ranking's pool: [(course row, closes labels)], covered, uncovered."""
        columns = {self.skill_index[uri]: w for uri, w in gap.items() if uri in self.skill_index}
        closing = []
        for i in ranking.pool:
            start, end = self.links.indptr[i], self.links.indptr[i + 1]
            skills = frozenset(int(s) for s in self.links.indices[start:end] if int(s) in columns)
            if skills:
                closing.append((int(i), skills))
        # The candidates' hours and levels in one take: a row lookup each cost 40 ms over a pool of 100.
        picked = self.courses.iloc[[i for i, _ in closing]]
        pool_hours, pool_levels = picked["hours"].tolist(), picked["level"].tolist()
        candidates = [
            Candidate(i, _none(hours), _none(level), skills)
            for (i, skills), hours, level in zip(closing, pool_hours, pool_levels, strict=True)
        ]
        steps = greedy_stack(candidates, columns)
        covered_cols = {s for step in steps for s in step.closes}
        heaviest = sorted(columns, key=lambda s: -columns[s])
        return (
            [(step.index, tuple(self.skill_labels[s] for s in step.closes)) for step in steps],
            tuple(self.skill_labels[s] for s in heaviest if s in covered_cols),
            tuple(self.skill_labels[s] for s in heaviest if s not in covered_cols),
        )

    def filter_mask(self, filters) -> np.ndarray:
        c = self.courses
        mask = np.ones(len(c), dtype=bool)
        if filters.free_only:
            mask &= (c["access_model"].isin(["free", "free-audit+paid-certificate"]) | (c["price"] == 0)).to_numpy()
        if filters.with_certificate:
            mask &= (c["credential"].notna() & (c["credential"] != "none")).to_numpy()
        if filters.levels:
            mask &= c["level"].isin(filters.levels).to_numpy()
        if filters.languages:
            mask &= c["in_language"].fillna("").str.split("-").str[0].isin(filters.languages).to_numpy()
        if filters.max_hours is not None:
            mask &= (c["hours"] <= filters.max_hours).fillna(False).to_numpy(dtype=bool)
        if filters.max_price is not None:
            mask &= (c["price"] <= filters.max_price).fillna(False).to_numpy(dtype=bool)
        if filters.providers:
            mask &= c["provider"].isin(filters.providers).to_numpy()
        return mask

    def result_row(self, i: int, score: float, weights: np.ndarray) -> dict:
        row = self.courses.iloc[i]
        start, end = self.links.indptr[i], self.links.indptr[i + 1]
        skill_cols = self.links.indices[start:end]
        covered = sorted((int(s) for s in skill_cols if weights[s] > 0), key=lambda s: -weights[s])
        return {
            "course_id": row["id"],
            "title": row["name"],
            "provider": row["provider"],
            "institution": _none(row["institution"]),
            "url": row["url"],
            "score": score,
            "credential": _none(row["credential"]),
            "hours": _none(row["hours"]),
            "price": _none(row["price"]),
            "currency": _none(row["currency"]),
            "access_model": _none(row["access_model"]),
            "level": _none(row["level"]),
            "in_language": _none(row["in_language"]),
            "rating": _none(row["rating"]),
            "rating_count": int(row["rating_count"]) if _none(row["rating_count"]) is not None else None,
            "matched_skills": tuple(self.skill_labels[s] for s in covered),
            "evidence": tuple(self.link_evidence.get((i, s), "") for s in covered),
        }

    # ------------------------------------------------------------------ providers, one course, sources

    def provider_stats(self, rows: np.ndarray, required: dict[str, float]) -> list[dict]:
        c = self.courses.iloc[rows]
        columns = np.array([self.skill_index[u] for u in required], dtype=np.int64)
        weights = np.array(list(required.values()), dtype=np.float32)
        stats = []
        for provider, group in c.groupby("provider", sort=False):
            free = group["access_model"].isin(["free", "free-audit+paid-certificate"]) | (group["price"] == 0)
            paid = group.loc[~free, "price"].dropna()
            hours = group["hours"].dropna()
            coverage = None
            if len(columns):
                covered = np.asarray(self.links[group.index.to_numpy()][:, columns].max(axis=0).todense()).ravel() > 0
                coverage = float(weights[covered].sum() / weights.sum()) if weights.sum() else None
            stats.append(
                {
                    "provider": provider,
                    "courses": len(group),
                    "share_free": float(free.mean()),
                    "share_certificate": float((group["credential"].notna() & (group["credential"] != "none")).mean()),
                    "price_median": _quantile(paid, 0.5),
                    "price_quartiles": _quartiles(paid),
                    "hours_median": _quantile(hours, 0.5),
                    "hours_quartiles": _quartiles(hours),
                    "levels": group["level"].fillna("unknown").value_counts().to_dict(),
                    "languages": group["in_language"].fillna("unknown").value_counts().to_dict(),
                    "goal_coverage": coverage,
                }
            )
        return sorted(stats, key=lambda s: (-s["courses"], s["provider"]))

    def course_detail(self, course_id: str, *, similar: int) -> dict | None:
        found = self.read(
            """
            SELECT id AS course_id, name AS title, description, provider, institution, url, source, status,
                   credential, credential_raw, level, hours, duration_raw, course_mode, in_language, price, currency,
                   access_model, rating, rating_count, skills_declared, first_seen::VARCHAR AS first_seen,
                   last_seen::VARCHAR AS last_seen
            FROM courses WHERE id = ?
            """,
            [course_id],
        )
        if found.empty:
            return None
        course = {
            k: _none(v) if k != "skills_declared" else tuple(v if v is not None else ())
            for k, v in found.iloc[0].items()
        }
        skills = self.read(
            """
            SELECT cs.skill_uri AS uri, s.label, cs.score, cs.evidence
            FROM course_skills cs JOIN skills s ON s.uri = cs.skill_uri
            WHERE cs.course_id = ? ORDER BY cs.score DESC, s.label
            """,
            [course_id],
        )
        offers = self.read(
            """
            SELECT observed_at::VARCHAR AS observed_at, price, currency, access_model, price_raw
            FROM offers WHERE course_id = ? ORDER BY observed_at
            """,
            [course_id],
        )
        # Every source's record of this course (pipeline.dedupe), the one its values came from first.
        listings = self.read(
            """
            SELECT source, url, name AS title, institution, price, currency, access_model, rating, rating_count,
                   first_seen::VARCHAR AS first_seen, last_seen::VARCHAR AS last_seen, status
            FROM course_records WHERE course_id = ?
            ORDER BY status <> 'active', id = ? DESC, source
            """,
            [course_id, course_id],
        )
        row = self.course_row.get(course_id)
        nothing = np.zeros(len(self.skill_uris), dtype=np.float32)
        similar_rows = []
        if row is not None:
            scores = self.course_matrix @ self.course_matrix[row]
            scores[row] = -np.inf
            similar_rows = [self.result_row(int(i), float(scores[i]), nothing) for i in _top(scores, similar)]
        return {
            "course": course,
            "skills": [{k: _none(v) for k, v in r.items()} for r in skills.to_dict("records")],
            "offers": [{k: _none(v) for k, v in r.items()} for r in offers.to_dict("records")],
            "listings": [{k: _none(v) for k, v in r.items()} for r in listings.to_dict("records")],
            "similar": similar_rows,
        }

    def sources_status(self) -> list[dict]:
        frame = self.read(
            """
            WITH latest AS (
                SELECT * FROM crawl_runs QUALIFY row_number() OVER (PARTITION BY source ORDER BY started_at DESC) = 1
            ), success AS (
                SELECT source, max(finished_at) AS last_success
                FROM crawl_runs WHERE status = 'finished' GROUP BY source
            ), counts AS (
                SELECT source, count(*) FILTER (WHERE status = 'active') AS active_courses,
                       count(*) FILTER (WHERE status = 'removed') AS removed_courses
                FROM course_records GROUP BY source
            )
            SELECT l.source, l.started_at::VARCHAR AS last_started, l.finished_at::VARCHAR AS last_finished, l.status,
                   coalesce(l.items, 0) AS items, coalesce(l.errors, 0) AS errors, coalesce(l.dropped, 0) AS dropped,
                   epoch(l.finished_at) - epoch(l.started_at) AS duration_s,
                   coalesce(c.active_courses, 0) AS active_courses, coalesce(c.removed_courses, 0) AS removed_courses,
                   s.last_success::VARCHAR AS last_success
            FROM latest l LEFT JOIN counts c USING (source) LEFT JOIN success s USING (source)
            ORDER BY l.source
            """
        )
        return [{k: _none(v) for k, v in r.items()} for r in frame.to_dict("records")]

    # ------------------------------------------------------------------ skills and summary

    def extract_skills(self, text: str, *, k: int) -> list[tuple[str, str, float]]:
        if not text.strip():
            raise EmptyGoalError(
                'the text is empty: give a sentence, e.g. `skillstack skills extract "analyse data in Excel"`'
            )
        self._require_taxonomy_vectors()
        return self.skill_extractor.extract([text], k)[0]

    def summary(self) -> dict:
        return {
            "courses": int(self.meta_report().get("courses", len(self.courses))),
            "active": len(self.courses),
            "providers": tuple(sorted(self.courses["provider"].dropna().unique())),
            "built_at": self.meta.get("built_at"),
        }

    def meta_report(self) -> dict:
        return json.loads(self.meta.get("report", "{}"))


def _prior_scores(courses: pd.DataFrame) -> np.ndarray:
    """The goal-independent part of every course's score: credential fit, Bayesian-smoothed rating
    and freshness (how recently a crawl last saw the course)."""
    if courses.empty:
        return np.zeros(0, dtype=np.float32)
    credential = courses["credential"].map(CREDENTIAL_FIT).fillna(UNKNOWN_CREDENTIAL_FIT).to_numpy(dtype=np.float32)
    rating = pd.to_numeric(courses["rating"], errors="coerce")
    count = pd.to_numeric(courses["rating_count"], errors="coerce").fillna(0).clip(lower=0)
    rated = rating.notna()
    mean = float(rating[rated].mean()) if rated.any() else 4.0
    smoothed = ((rating.fillna(mean) * count) + mean * RATING_PRIOR_COUNT) / (count + RATING_PRIOR_COUNT)
    quality = ((smoothed - 3.0) / 2.0).clip(0, 1).to_numpy(dtype=np.float32)
    last_seen = pd.to_datetime(courses["last_seen"], errors="coerce")
    age_days = (last_seen.max() - last_seen).dt.days.fillna(365).to_numpy(dtype=np.float32)
    freshness = np.power(0.5, age_days / FRESHNESS_HALF_LIFE_DAYS).astype(np.float32)
    return CREDENTIAL_WEIGHT * credential + QUALITY_WEIGHT * quality + FRESHNESS_WEIGHT * freshness


def _quantile(values: pd.Series, q: float) -> float | None:
    return float(values.quantile(q)) if len(values) else None


def _quartiles(values: pd.Series) -> tuple[float, float] | None:
    return (float(values.quantile(0.25)), float(values.quantile(0.75))) if len(values) else None


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest finite scores, best first (argpartition: no full sort at 250k rows)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if len(finite) > n:
        finite = finite[np.argpartition(-scores[finite], n)[:n]]
    return finite[np.argsort(-scores[finite], kind="stable")]


def _none(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return value.item() if hasattr(value, "item") else value


# ---------------------------------------------------------------- indexes built from the taxonomy alone

# What the cached indexes depend on besides the taxonomy: the code that builds them.
_INDEX_CODE = hashlib.sha256(
    b"".join(Path(module.__file__).read_bytes() for module in (goals_module, skill_extract))
).hexdigest()[:12]


def taxonomy_indexes(con: duckdb.DuckDBPyConnection, catalog_path: Path) -> tuple[GoalResolver, SkillExtractor]:
    """The goal resolver and the skill extractor of the catalogue's taxonomy.

    They take ~10 s to build (character n-grams of 70k titles, the lexicon of 111k skill labels) and
    depend on the taxonomy and its vectors only, which every build carries over unchanged: they are
    kept in `cache/` beside the catalogue under a fingerprint of those tables and of this code, and a
    catalogue opened again (a new build, the CLI, a dashboard restart) reads them in well under a second.
    """
    cache_dir = catalog_path.parent / "cache"
    cached = cache_dir / f"taxonomy-indexes-{_taxonomy_fingerprint(con)}.pickle"
    try:
        with cached.open("rb") as handle:
            return pickle.load(handle)  # our own file, written below; same trust as the catalogue
    except FileNotFoundError:
        pass
    except Exception as exc:  # a truncated or stale file is rebuilt, never fatal
        log.warning("rebuilding the taxonomy indexes: %s cannot be read (%s)", cached, exc)
    built = (GoalResolver.load(con), SkillExtractor.load(con))
    if built[0].ready and built[1].ready:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            staging = cached.with_name(f".{cached.name}.{os.getpid()}")
            with staging.open("wb") as handle:
                pickle.dump(built, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(staging, cached)
            for old in cache_dir.glob("taxonomy-indexes-*.pickle"):
                if old != cached:
                    old.unlink(missing_ok=True)
        except OSError as exc:  # a read-only home still serves, it only opens slower
            log.warning("cannot keep the taxonomy indexes in %s: %s", cache_dir, exc)
    return built


def _taxonomy_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    parts = con.execute(
        """
        SELECT (SELECT count(*) || ':' || coalesce(sum(hash(uri, surface, origin)), 0) FROM taxonomy_vectors
                WHERE kind IN ('occupation', 'skill') AND model = ?),
               (SELECT count(*) || ':' || coalesce(sum(hash(uri, label, alt_labels, reuse_level)), 0) FROM skills),
               (SELECT count(*) || ':' || coalesce(sum(hash(uri, label, description)), 0) FROM occupations)
        """,
        [embed.MODEL_KEY],
    ).fetchone()
    return hashlib.sha256("|".join([embed.MODEL_KEY, _INDEX_CODE, *map(str, parts)]).encode()).hexdigest()[:20]
