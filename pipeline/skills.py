"""Linking courses to ESCO skills, and the taxonomy vectors that linking and goal resolution use.

Evidence kept with every link:
- `declared: <tag>`  — a provider tag equal to an ESCO preferred or alternative label;
- `declared~: <tag>` — a provider tag whose embedding is close to an ESCO skill label;
- `description`      — the course text's embedding is close to the skill label.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd

from pipeline import embed
from pipeline.surfaces import insert_vectors
from pipeline.taxonomy import taxonomy_loaded

log = logging.getLogger(__name__)

DECLARED_TAG_MIN_COSINE = 0.75
DESCRIPTION_MIN_COSINE = 0.45
DESCRIPTION_SKILLS_PER_COURSE = 5
CHUNK = 2048


def skill_matrix(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str], np.ndarray]:
    """(uris, labels, vectors) of every ESCO skill's preferred label."""
    frame = con.execute(
        """
        SELECT v.uri, s.label, v.vector FROM taxonomy_vectors v JOIN skills s ON s.uri = v.uri
        WHERE v.kind = 'skill' AND v.origin = 'esco-preferred' AND v.model = ? ORDER BY v.uri
        """,
        [embed.MODEL_KEY],
    ).df()
    if frame.empty:
        return [], [], np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
    return frame["uri"].tolist(), frame["label"].tolist(), np.vstack(frame["vector"].to_numpy()).astype(np.float32)


def link_course_skills(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild `course_skills` for the active courses; returns the number of links."""
    con.execute("DELETE FROM course_skills")
    if not taxonomy_loaded(con):
        log.warning("no taxonomy in the catalogue: courses are not linked to skills (run `skillstack taxonomy load`)")
        return 0
    links = [_declared_exact_links(con)]
    uris, _labels, matrix = skill_matrix(con)
    if uris:
        links.append(_declared_similar_links(con, uris, matrix))
        links.append(_description_links(con, uris, matrix))
    frame = pd.concat([f for f in links if not f.empty], ignore_index=True) if any(not f.empty for f in links) else None
    if frame is None:
        return 0
    # One link per (course, skill): the strongest evidence wins.
    frame = frame.sort_values("score", ascending=False).drop_duplicates(["course_id", "skill_uri"])
    con.register("new_links", frame)
    con.execute("INSERT INTO course_skills SELECT course_id, skill_uri, score, evidence FROM new_links")
    con.unregister("new_links")
    return len(frame)


def _declared_exact_links(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """
        WITH tags AS (
            SELECT id AS course_id, unnest(skills_declared) AS tag FROM courses WHERE status = 'active'
        ), labels AS (
            SELECT uri, lower(label) AS surface FROM skills
            UNION
            SELECT uri, lower(trim(unnest(alt_labels))) FROM skills
        )
        SELECT DISTINCT t.course_id, l.uri AS skill_uri, 1.0 AS score, 'declared: ' || t.tag AS evidence
        FROM tags t JOIN labels l ON l.surface = lower(trim(t.tag))
        """
    ).df()


def _declared_similar_links(con: duckdb.DuckDBPyConnection, uris: list[str], matrix: np.ndarray) -> pd.DataFrame:
    tags = con.execute(
        "SELECT id AS course_id, unnest(skills_declared) AS tag FROM courses WHERE status = 'active'"
    ).df()
    if tags.empty:
        return tags
    unique_tags = sorted(set(tags["tag"]))
    vectors = _tag_vectors(con, unique_tags)
    best_uri, best_score = [], []
    for start in range(0, len(unique_tags), CHUNK):
        scores = vectors[start : start + CHUNK] @ matrix.T
        top = scores.argmax(axis=1)
        best_uri.extend(uris[i] for i in top)
        best_score.extend(scores[np.arange(len(top)), top].tolist())
    nearest = pd.DataFrame({"tag": unique_tags, "skill_uri": best_uri, "score": best_score})
    nearest = nearest[nearest["score"] >= DECLARED_TAG_MIN_COSINE]
    linked = tags.merge(nearest, on="tag")
    linked["evidence"] = "declared~: " + linked["tag"]
    return linked[["course_id", "skill_uri", "score", "evidence"]]


def _tag_vectors(con: duckdb.DuckDBPyConnection, tags: list[str]) -> np.ndarray:
    """Vectors of provider tags, cached in taxonomy_vectors so a rebuild embeds only new tags."""
    known = con.execute(
        "SELECT surface, vector FROM taxonomy_vectors WHERE kind = 'tag' AND model = ?", [embed.MODEL_KEY]
    ).df()
    cache = dict(zip(known["surface"], known["vector"], strict=True))
    missing = [t for t in tags if t not in cache]
    if missing:
        vectors = embed.encode(missing, batch_size=256)
        surfaces = pd.DataFrame({"kind": "tag", "uri": missing, "surface": missing, "origin": "provider-tag"})
        insert_vectors(con, surfaces, vectors)
        cache.update(zip(missing, vectors, strict=True))
    return np.vstack([np.asarray(cache[t], dtype=np.float32) for t in tags])


def _description_links(con: duckdb.DuckDBPyConnection, uris: list[str], matrix: np.ndarray) -> pd.DataFrame:
    frame = con.execute(
        """
        SELECT c.id, e.vector FROM courses c
        JOIN course_embeddings e ON e.content_hash = c.content_hash AND e.model = ?
        WHERE c.status = 'active'
        """,
        [embed.MODEL_KEY],
    ).df()
    if frame.empty:
        return pd.DataFrame(columns=["course_id", "skill_uri", "score", "evidence"])
    ids = frame["id"].tolist()
    courses = np.vstack(frame["vector"].to_numpy()).astype(np.float32)
    out_course, out_skill, out_score = [], [], []
    k = DESCRIPTION_SKILLS_PER_COURSE
    for start in range(0, len(ids), CHUNK):
        scores = courses[start : start + CHUNK] @ matrix.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        for row, cols in enumerate(top):
            for col in cols:
                value = float(scores[row, col])
                if value >= DESCRIPTION_MIN_COSINE:
                    out_course.append(ids[start + row])
                    out_skill.append(uris[col])
                    out_score.append(value)
    return pd.DataFrame(
        {"course_id": out_course, "skill_uri": out_skill, "score": out_score, "evidence": "description"}
    )


def extract_skills(con: duckdb.DuckDBPyConnection, texts: list[str], k: int = 10) -> list[list[tuple[str, str, float]]]:
    """For each text, the k ESCO skills whose labels are closest: (uri, label, score)."""
    uris, labels, matrix = skill_matrix(con)
    if not uris:
        return [[] for _ in texts]
    scores = embed.encode(texts) @ matrix.T
    results = []
    for row in scores:
        top = np.argsort(-row)[:k]
        results.append([(uris[i], labels[i], float(row[i])) for i in top])
    return results
