"""What the counsellor and the course pages read beyond a ranking: providers side by side, one
course's details, and the crawl behind the catalogue. Plain rows for `recommender.api` to type."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.engine import Engine, _none, _top


def provider_stats(eng: Engine, rows: np.ndarray, required: dict[str, float]) -> list[dict]:
    c = eng.courses.iloc[rows]
    columns = np.array([eng.skill_index[u] for u in required], dtype=np.int64)
    weights = np.array(list(required.values()), dtype=np.float32)
    stats = []
    for provider, group in c.groupby("provider", sort=False):
        free = group["access_model"].isin(["free", "free-audit+paid-certificate"]) | (group["price"] == 0)
        # Many listings state no price at all (Coursera's catalogue datasets): counted as paid they
        # would show a provider as never free, so the free share is of the courses with a price.
        priced = group["access_model"].notna() | group["price"].notna()
        paid = group.loc[~free, "price"].dropna()
        hours = group["hours"].dropna()
        coverage = None
        if len(columns):
            covered = np.asarray(eng.accepted[group.index.to_numpy()][:, columns].max(axis=0).todense()).ravel() > 0
            coverage = float(weights[covered].sum() / weights.sum()) if weights.sum() else None
        stats.append(
            {
                "provider": provider,
                "courses": len(group),
                "share_free": float(free[priced].mean()) if priced.any() else None,
                "share_priced": float(priced.mean()),
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


def course_detail(eng: Engine, course_id: str, *, similar: int) -> dict | None:
    found = eng.read(
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
        k: _none(v) if k != "skills_declared" else tuple(v if v is not None else ()) for k, v in found.iloc[0].items()
    }
    skills = eng.read(
        """
        SELECT cs.skill_uri AS uri, s.label, cs.score, cs.evidence
        FROM course_skills cs JOIN skills s ON s.uri = cs.skill_uri
        WHERE cs.course_id = ? ORDER BY cs.score DESC, s.label
        """,
        [course_id],
    )
    offers = eng.read(
        """
        SELECT observed_at::VARCHAR AS observed_at, price, currency, access_model, price_raw
        FROM offers WHERE course_id = ? ORDER BY observed_at
        """,
        [course_id],
    )
    # Every source's record of this course (pipeline.dedupe), the one its values came from first.
    listings = eng.read(
        """
        SELECT source, url, name AS title, institution, price, currency, access_model, rating, rating_count,
               first_seen::VARCHAR AS first_seen, last_seen::VARCHAR AS last_seen, status
        FROM course_records WHERE course_id = ?
        ORDER BY status <> 'active', id = ? DESC, source
        """,
        [course_id, course_id],
    )
    row = eng.course_row.get(course_id)
    nothing = np.zeros(len(eng.skill_uris), dtype=np.float32)
    similar_rows = []
    if row is not None:
        scores = eng.course_matrix @ eng.course_matrix[row]
        scores[row] = -np.inf
        similar_rows = [eng.result_row(int(i), float(scores[i]), nothing) for i in _top(scores, similar)]
    return {
        "course": course,
        "skills": [{k: _none(v) for k, v in r.items()} for r in skills.to_dict("records")],
        "offers": [{k: _none(v) for k, v in r.items()} for r in offers.to_dict("records")],
        "listings": [{k: _none(v) for k, v in r.items()} for r in listings.to_dict("records")],
        "similar": similar_rows,
    }


def sources_status(eng: Engine) -> list[dict]:
    frame = eng.read(
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


def _quantile(values: pd.Series, q: float) -> float | None:
    return float(values.quantile(q)) if len(values) else None


def _quartiles(values: pd.Series) -> tuple[float, float] | None:
    return (float(values.quantile(0.25)), float(values.quantile(0.75))) if len(values) else None
