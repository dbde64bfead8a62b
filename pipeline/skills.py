"""Linking courses to ESCO skills, and the taxonomy vectors that linking and goal resolution use.

Evidence kept with every link:
- `declared: <tag>`  — a provider tag equal to an ESCO preferred or alternative label;
- `declared~: <tag>` — a provider tag whose embedding is close to an ESCO skill label;
- `title: "<title>"`, `description: "<sentence>"` — the skill extractor
  (`pipeline.skill_extract`) finds the skill in the course title or in that description sentence.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd

from pipeline import embed
from pipeline.skill_extract import SkillExtractor, split_sentences
from pipeline.surfaces import insert_vectors
from pipeline.taxonomy import taxonomy_loaded

log = logging.getLogger(__name__)

DECLARED_TAG_MIN_COSINE = 0.75
# On the extractor's scale (pipeline.skill_extract). On the tune half of the skill benchmarks, top-5
# skills scoring 0.6 or more hold two thirds of the gold skills found, at twice the share of gold
# among those scoring 0.45: course links favour precision.
DESCRIPTION_MIN_SCORE = 0.6
DESCRIPTION_SKILLS_PER_COURSE = 5
DESCRIPTION_MAX_SENTENCES = 12
DESCRIPTION_MAX_SCORE = 0.95
EVIDENCE_MAX_CHARS = 160
CHUNK = 2048
# What `text_skills` rows were made with: changing the model or these settings reads every text again.
EXTRACTOR_KEY = (
    f"{embed.MODEL_KEY}|min{DESCRIPTION_MIN_SCORE}|top{DESCRIPTION_SKILLS_PER_COURSE}|sent{DESCRIPTION_MAX_SENTENCES}"
)


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
    links.append(_description_links(con, SkillExtractor.load(con)))
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


def _description_links(con: duckdb.DuckDBPyConnection, extractor: SkillExtractor) -> pd.DataFrame:
    """Skills named in a course's title or description sentences, each with the sentence that names it.

    The extractor reads a text once: its findings are kept in `text_skills` under the course's
    content hash, so a rebuild reads only new or changed texts.
    """
    columns = ["course_id", "skill_uri", "score", "evidence"]
    if not extractor.ready:
        return pd.DataFrame(columns=columns)
    todo = con.execute(
        """
        SELECT any_value(c.name) AS name, any_value(c.description) AS description, c.content_hash
        FROM courses c
        WHERE c.status = 'active'
          AND c.content_hash NOT IN (SELECT content_hash FROM text_skills WHERE extractor = ?)
        GROUP BY c.content_hash ORDER BY c.content_hash
        """,
        [EXTRACTOR_KEY],
    ).df()
    if not todo.empty:
        texts = [
            _linking_sentences(name, description)
            for name, description in zip(todo["name"], todo["description"], strict=True)
        ]
        rows = []
        found = extractor.extract_documents(texts, DESCRIPTION_SKILLS_PER_COURSE)
        for content_hash, title, matches in zip(todo["content_hash"], todo["name"], found, strict=True):
            kept = 0
            for uri, _label, score, sentence in matches:
                if score < DESCRIPTION_MIN_SCORE:
                    continue
                where = "title" if isinstance(title, str) and sentence == title.strip() else "description"
                # The exact-label bonus can lift a score above 1: capped below the 1.0 of a declared
                # tag, which stays the stronger evidence for the same skill.
                evidence = f'{where}: "{_evidence_text(sentence)}"'
                rows.append((content_hash, EXTRACTOR_KEY, uri, min(score, DESCRIPTION_MAX_SCORE), evidence))
                kept += 1
            if not kept:
                rows.append((content_hash, EXTRACTOR_KEY, None, None, None))
        found_frame = pd.DataFrame(rows, columns=["content_hash", "extractor", "skill_uri", "score", "evidence"])
        con.register("new_text_skills", found_frame)
        con.execute("INSERT INTO text_skills SELECT * FROM new_text_skills")
        con.unregister("new_text_skills")
    return con.execute(
        """
        SELECT c.id AS course_id, t.skill_uri, t.score, t.evidence
        FROM courses c JOIN text_skills t ON t.content_hash = c.content_hash AND t.extractor = ?
        WHERE c.status = 'active' AND t.skill_uri IS NOT NULL
        """,
        [EXTRACTOR_KEY],
    ).df()


def _linking_sentences(name: str | None, description: str | None) -> list[str]:
    """The title, then the description's first sentences: they say what the course teaches, and the
    cap bounds the build cost of very long descriptions."""
    # A missing value arrives from the DataFrame as None or NaN.
    title = name.strip() if isinstance(name, str) else ""
    sentences = split_sentences(description if isinstance(description, str) else "")[:DESCRIPTION_MAX_SENTENCES]
    return [s for s in [title, *sentences] if s]


def _evidence_text(sentence: str) -> str:
    text = " ".join(sentence.split())
    return text if len(text) <= EVIDENCE_MAX_CHARS else text[: EVIDENCE_MAX_CHARS - 1].rstrip() + "…"


def extract_skills(con: duckdb.DuckDBPyConnection, texts: list[str], k: int = 10) -> list[list[tuple[str, str, float]]]:
    """For each text, its k best ESCO skills: (uri, label, score); see `pipeline.skill_extract`."""
    return SkillExtractor.load(con).extract(texts, k)
