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
SENTENCES_PER_PASS = 4096  # sentences extracted between progress lines (and bounded in memory)
# What `sentence_skills` rows were made with: changing the model or these settings reads every sentence again.
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

    The extractor reads a sentence once: its findings (its best skills scoring at least
    `DESCRIPTION_MIN_SCORE`) are kept in `sentence_skills` under the sentence's hash, so a rebuild
    reads only new sentences, and a description that changes by one sentence costs one sentence.
    A course's links are then its `DESCRIPTION_SKILLS_PER_COURSE` best skills over its sentences.
    """
    columns = ["course_id", "skill_uri", "score", "evidence"]
    if not extractor.ready:
        return pd.DataFrame(columns=columns)
    courses = con.execute("SELECT id, name, description FROM courses WHERE status = 'active'").fetchall()
    course_ids, hashes, evidence = [], [], []
    sentences: dict[str, str] = {}
    for course_id, name, description in courses:
        title = name.strip() if isinstance(name, str) else ""
        for sentence in _linking_sentences(name, description):
            sentence_hash = embed.content_hash(sentence)
            sentences.setdefault(sentence_hash, sentence)
            course_ids.append(course_id)
            hashes.append(sentence_hash)
            evidence.append(f'{"title" if sentence == title else "description"}: "{_evidence_text(sentence)}"')
    _read_new_sentences(con, extractor, sentences)
    con.register("course_sentences", pd.DataFrame({"course_id": course_ids, "sentence_hash": hashes,
                                                   "evidence": evidence}))  # fmt: skip
    links = con.execute(
        """
        WITH found AS (
            SELECT c.course_id, s.skill_uri, s.score, c.evidence
            FROM course_sentences c JOIN sentence_skills s ON s.sentence_hash = c.sentence_hash AND s.extractor = ?
            WHERE s.skill_uri IS NOT NULL
            -- a skill found in several sentences of a course: its best sentence is the evidence
            QUALIFY row_number() OVER (PARTITION BY c.course_id, s.skill_uri ORDER BY s.score DESC, c.evidence) = 1
        )
        SELECT course_id, skill_uri, least(score, ?) AS score, evidence FROM found
        QUALIFY row_number() OVER (PARTITION BY course_id ORDER BY score DESC, skill_uri) <= ?
        """,
        # The exact-label bonus can lift a score above 1: capped below the 1.0 of a declared tag,
        # which stays the stronger evidence for the same skill.
        [EXTRACTOR_KEY, DESCRIPTION_MAX_SCORE, DESCRIPTION_SKILLS_PER_COURSE],
    ).df()
    con.unregister("course_sentences")
    return links[columns]


def _read_new_sentences(con: duckdb.DuckDBPyConnection, extractor: SkillExtractor, sentences: dict[str, str]) -> int:
    """Extract the skills of the sentences `sentence_skills` does not hold yet; returns how many were read."""
    known = {
        h for (h,) in con.execute("SELECT DISTINCT sentence_hash FROM sentence_skills WHERE extractor = ?",
                                  [EXTRACTOR_KEY]).fetchall()
    }  # fmt: skip
    todo = [h for h in sentences if h not in known]
    rows = []
    for start in range(0, len(todo), SENTENCES_PER_PASS):
        chunk = todo[start : start + SENTENCES_PER_PASS]
        for sentence_hash, matches in zip(
            chunk, extractor.extract([sentences[h] for h in chunk], DESCRIPTION_SKILLS_PER_COURSE), strict=True
        ):
            kept = [(sentence_hash, EXTRACTOR_KEY, uri, score) for uri, _label, score in matches
                    if score >= DESCRIPTION_MIN_SCORE]  # fmt: skip
            rows.extend(kept or [(sentence_hash, EXTRACTOR_KEY, None, None)])
    if rows:
        frame = pd.DataFrame(rows, columns=["sentence_hash", "extractor", "skill_uri", "score"])
        con.register("new_sentence_skills", frame)
        con.execute("INSERT INTO sentence_skills SELECT * FROM new_sentence_skills")
        con.unregister("new_sentence_skills")
    log.info("skill extractor read %d new sentences (%d known)", len(todo), len(sentences) - len(todo))
    return len(todo)


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
