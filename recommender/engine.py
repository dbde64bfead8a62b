"""In-memory search over one published catalogue: goal resolution, required skills, ranking.

Everything a query needs is read once when the catalogue is opened (course metadata, the course
vector matrix, the sparse course×skill link matrix, occupation label vectors), so a query is a
few matrix products and no SQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse

from pipeline import embed
from pipeline.skills import skill_matrix
from recommender.errors import EmptyCatalogError, EmptyGoalError, TaxonomyMissingError
from recommender.goals import GoalResolver, OccupationHit, clean_goal

ESSENTIAL_WEIGHT = 1.0
OPTIONAL_WEIGHT = 0.35
# "communication", "teamwork": they would match every course and drown the specific skills.
TRANSVERSAL_FACTOR = 0.25
SEMANTIC_WEIGHT = 0.55
COVERAGE_WEIGHT = 0.45


@dataclass
class Engine:
    courses: pd.DataFrame  # active courses, row i ↔ course_matrix[i]
    course_matrix: np.ndarray
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
    meta: dict[str, str]

    # ------------------------------------------------------------------ loading

    @classmethod
    def open(cls, path: Path) -> Engine:
        con = duckdb.connect(str(path), read_only=True)
        try:
            return cls._load(con)
        finally:
            con.close()

    @classmethod
    def _load(cls, con: duckdb.DuckDBPyConnection) -> Engine:
        courses = con.execute(
            """
            SELECT c.id, c.name, c.provider, c.institution, c.url, c.credential, c.hours, c.price, c.currency,
                   c.access_model, c.level, c.in_language, c.rating, c.rating_count, e.vector
            FROM courses c JOIN course_embeddings e ON e.content_hash = c.content_hash AND e.model = ?
            WHERE c.status = 'active' ORDER BY c.id
            """,
            [embed.MODEL_KEY],
        ).df()
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
        return cls(
            courses=courses.reset_index(drop=True),
            course_matrix=matrix,
            links=links,
            link_evidence=evidence,
            skill_uris=skills["uri"].tolist(),
            skill_index=skill_index,
            skill_labels=skills["label"].tolist(),
            skill_transversal=(skills["reuse_level"] == "transversal").to_numpy(),
            goals=GoalResolver.load(con),
            occupation_skills=occupation_skills,
            skill_vector_uris=skill_vector_uris,
            skill_vectors=skill_vectors,
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
        query = embed.encode(query_texts).sum(axis=0)
        query /= np.linalg.norm(query) or 1.0
        semantic = self.course_matrix @ query

        weights = np.zeros(len(self.skill_uris), dtype=np.float32)
        for uri, weight in required.items():
            weights[self.skill_index[uri]] = weight
        coverage = self.links @ weights if required else np.zeros(len(self.courses), dtype=np.float32)
        top_coverage = float(coverage.max()) if len(coverage) else 0.0
        coverage_share = coverage / top_coverage if top_coverage > 0 else coverage

        score = SEMANTIC_WEIGHT * semantic + COVERAGE_WEIGHT * coverage_share
        mask = self._filter_mask(filters)
        score = np.where(mask, score, -np.inf)
        order = np.argsort(-score)[:k]
        return [self._result(int(i), float(score[i]), weights) for i in order if np.isfinite(score[i])]

    def _filter_mask(self, filters) -> np.ndarray:
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

    def _result(self, i: int, score: float, weights: np.ndarray) -> dict:
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

    # ------------------------------------------------------------------ skills and summary

    def extract_skills(self, text: str, *, k: int) -> list[tuple[str, str, float]]:
        if not text.strip():
            raise EmptyGoalError(
                'the text is empty: give a sentence, e.g. `skillstack skills extract "analyse data in Excel"`'
            )
        self._require_taxonomy_vectors()
        scores = self.skill_vectors @ embed.encode([text])[0]
        top = np.argsort(-scores)[:k]
        return [(self.skill_vector_uris[i], self.skill_label(self.skill_vector_uris[i]), float(scores[i])) for i in top]

    def summary(self) -> dict:
        return {
            "courses": int(self.meta_report().get("courses", len(self.courses))),
            "active": len(self.courses),
            "providers": tuple(sorted(self.courses["provider"].dropna().unique())),
            "built_at": self.meta.get("built_at"),
        }

    def meta_report(self) -> dict:
        return json.loads(self.meta.get("report", "{}"))


def _none(value):
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return value.item() if hasattr(value, "item") else value
