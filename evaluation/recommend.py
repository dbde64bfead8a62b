"""`skillstack eval recommend`: a career-goal benchmark from data we did not write.

Goals are ESCO occupations (their preferred label is the goal text). A course is relevant to an
occupation when its provider declared skills (the provider's own tags) that name the occupation's
skills: an ESCO essential skill of the occupation (preferred or alternative label, exactly) or an
O*NET technology example of an O*NET occupation the official crosswalk maps to it. The grade is
the number of such tags, capped at MAX_GRADE. Only occupations with at least MIN_RELEVANT relevant active courses are
goals. Neither the labels, the relations, the crosswalk nor the tags are ours; the matching is
exact string equality after lower-casing.

Occupations are split by a hash of their URI into a `tune` half (the one any weights were tuned
on) and a `held-out` half, and both are reported. Two baselines run in the same process on the
same catalogue: TF-IDF over title + declared skills, and plain dense retrieval (the goal's
all-MiniLM-L6-v2 vector against the course vectors).

Caveat, stated with the figures: the system's skill links include the same exact tag matches, so
on this benchmark it sees part of what defines relevance; the baselines see the tags as text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from core import embed
from evaluation.relevance import ndcg_at_k
from recommender import api

MIN_RELEVANT = 5
K = 10
# Grades are capped: a course tagging ten of an occupation's skills is very relevant, not 2^10 times so.
MAX_GRADE = 3


@dataclass(frozen=True)
class Goal:
    uri: str
    text: str
    relevance: dict[str, int]  # course id -> grade
    split: str


def split_of(uri: str) -> str:
    return "tune" if int(hashlib.sha256(uri.encode()).hexdigest(), 16) % 2 == 0 else "held-out"


def build_goals(limit: int | None = None) -> list[Goal]:
    eng = api.engine()
    active = set(eng.courses["id"])
    relevance_rows = eng.read(
        """
        WITH tags AS (
            SELECT id AS course_id, lower(trim(unnest(skills_declared))) AS tag FROM courses WHERE status = 'active'
        ), skill_surfaces AS (
            SELECT uri, lower(label) AS surface FROM skills
            UNION SELECT uri, lower(trim(unnest(alt_labels))) FROM skills
        ), by_esco AS (
            SELECT os.occupation_uri, t.course_id, t.tag
            FROM occupation_skills os
            JOIN skill_surfaces s ON s.uri = os.skill_uri
            JOIN tags t ON t.tag = s.surface
            WHERE os.relation_type = 'essential'
        ), by_onet AS (
            SELECT x.esco_uri AS occupation_uri, t.course_id, t.tag
            FROM esco_onet_crosswalk x
            JOIN onet_technology o ON o.code = x.onet_code
            JOIN tags t ON t.tag = lower(o.example)
        )
        SELECT occupation_uri, course_id, count(DISTINCT tag) AS grade
        FROM (SELECT * FROM by_esco UNION ALL SELECT * FROM by_onet)
        GROUP BY occupation_uri, course_id
        """
    )
    labels = dict(eng.read("SELECT uri, label FROM occupations").itertuples(index=False, name=None))
    goals = []
    for uri, group in relevance_rows.groupby("occupation_uri"):
        relevance = {
            c: min(int(g), MAX_GRADE) for c, g in zip(group["course_id"], group["grade"], strict=True) if c in active
        }
        if len(relevance) >= MIN_RELEVANT and uri in labels:
            goals.append(Goal(uri, labels[uri], relevance, split_of(uri)))
    goals.sort(key=lambda g: g.uri)
    return goals[:limit] if limit else goals


def recall_at_k(ranked: list[str], relevance: dict[str, int], k: int = K) -> float:
    """Relevant courses in the top k over the relevant courses that fit in k (so 1.0 is reachable)."""
    hits = sum(1 for c in ranked[:k] if c in relevance)
    return hits / min(k, len(relevance))


def evaluate(limit: int | None = None) -> dict:
    eng = api.engine()
    goals = build_goals(limit)
    ids = eng.courses["id"].tolist()
    titles_and_tags = eng.read(
        "SELECT id, name || '. ' || coalesce(array_to_string(skills_declared, ', '), '') AS text "
        "FROM courses WHERE status = 'active'"
    )
    text_by_id = dict(titles_and_tags.itertuples(index=False, name=None))
    tfidf = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    tfidf_matrix = tfidf.fit_transform([text_by_id.get(i, "") for i in ids])
    goal_vectors = embed.encode([g.text for g in goals], batch_size=256) if goals else np.zeros((0, embed.DIMENSIONS))

    systems = {"system": [], "tfidf_baseline": [], "dense_baseline": []}
    for goal, goal_vector in zip(goals, goal_vectors, strict=True):
        system = [r.course_id for r in api.recommend(goal.text, k=K, occupation_uri=goal.uri).results]
        tfidf_scores = (tfidf_matrix @ tfidf.transform([goal.text]).T).toarray().ravel()
        dense_scores = eng.course_matrix @ goal_vector
        rankings = {
            "system": system,
            "tfidf_baseline": [ids[i] for i in np.argsort(-tfidf_scores, kind="stable")[:K]],
            "dense_baseline": [ids[i] for i in np.argsort(-dense_scores, kind="stable")[:K]],
        }
        for name, ranked in rankings.items():
            systems[name].append((goal.split, ndcg_at_k(ranked, goal.relevance), recall_at_k(ranked, goal.relevance)))

    report: dict = {"goals": len(goals), "k": K, "min_relevant": MIN_RELEVANT}
    for part in ("all", "tune", "held-out"):
        figures = {}
        for name, rows in systems.items():
            chosen = [r for r in rows if part == "all" or r[0] == part]
            figures[name] = {
                "goals": len(chosen),
                "ndcg@10": round(float(np.mean([r[1] for r in chosen])), 4) if chosen else None,
                "recall@10": round(float(np.mean([r[2] for r in chosen])), 4) if chosen else None,
            }
        best_baseline = max(figures["tfidf_baseline"]["ndcg@10"] or 0, figures["dense_baseline"]["ndcg@10"] or 0)
        system_ndcg = figures["system"]["ndcg@10"] or 0
        figures["system_over_best_baseline"] = round(system_ndcg / best_baseline, 3) if best_baseline else None
        report[part] = figures
    return report
