"""Linking courses to ESCO skills, and the taxonomy vectors that linking and goal resolution use.

Evidence kept with every link:
- `declared: <tag>`  — a provider tag equal to an ESCO preferred or alternative label;
- `declared~: <tag>` — a provider tag whose embedding is close to an ESCO skill label;
- `title: "<title>"`, `description: "<sentence>"` — the skill extractor
  (`core.skill_extract`) finds the skill in the course title or in that description sentence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from core import embed
from core.course_record import TRUSTED_TAGS_SQL
from core.skill_extract import SkillExtractor, one_blas_thread, read_documents, split_sentences
from core.taxonomy import skill_matrix, taxonomy_loaded
from pipeline.publish import previous_tables
from pipeline.surfaces import ensure_taxonomy_vectors, insert_vectors
from skillstack.progress import Progress, progress_bar

log = logging.getLogger(__name__)

DECLARED_TAG_MIN_COSINE = 0.75
# On the extractor's scale (core.skill_extract). On the tune half of the skill benchmarks, top-5
# skills scoring 0.6 or more hold two thirds of the gold skills found, at twice the share of gold
# among those scoring 0.45: course links favour precision.
DESCRIPTION_MIN_SCORE = 0.6
DESCRIPTION_SKILLS_PER_COURSE = 5
DESCRIPTION_MAX_SENTENCES = 12
DESCRIPTION_MAX_SCORE = 0.95
EVIDENCE_MAX_CHARS = 160
CHUNK = 2048
DOCUMENTS_PER_PASS = 2048  # course texts read between database writes


def extractor_key() -> str:
    """What `sentence_skills` rows were made with: changing the model (its variant included) or
    these settings reads every text again. A function, since the variant is a setting."""
    return (
        f"{embed.MODEL_KEY}|min{DESCRIPTION_MIN_SCORE}|top{DESCRIPTION_SKILLS_PER_COURSE}"
        f"|sent{DESCRIPTION_MAX_SENTENCES}|in-document"
    )


# The linking code itself (this module and how `skill_extract` scores skills). Raise it when a change
# would link any course differently: every course is linked again. A move or a comment keeps it.
LINKER_VERSION = 1


def ensure_skill_vectors(con: duckdb.DuckDBPyConnection) -> int:
    """Make sure the catalogue holds the vectors `SkillExtractor.load` reads; returns how many texts were embedded.

    These are the preferred-label vectors `pipeline.surfaces` stores for every skill (origin
    `esco-preferred`), so nothing is embedded twice. Called by the evaluation on a catalogue that has
    the taxonomy but no vectors yet (the build embeds every surface).
    """
    if not taxonomy_loaded(con):
        return 0
    return ensure_taxonomy_vectors(con)


def linker_key(con: duckdb.DuckDBPyConnection) -> str:
    """What a course's links depend on besides its text: the ESCO skills and their vectors, the
    extractor's setting and this code. Stored in `catalog_meta` as `linker`."""
    (taxonomy_part,) = con.execute(
        """
        SELECT (SELECT count(*) || ':' || coalesce(sum(hash(uri, label, alt_labels)), 0) FROM skills) || '|' ||
               (SELECT count(*) || ':' || coalesce(sum(hash(uri, surface, origin)), 0) FROM taxonomy_vectors
                WHERE kind = 'skill' AND model = ?)
        """,
        [embed.MODEL_KEY],
    ).fetchone()
    return embed.content_hash(f"{extractor_key()}|linker-v{LINKER_VERSION}|{taxonomy_part}")


def link_course_skills(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild `course_skills` for the active courses; returns the number of links.

    A course's links are a function of its text (name, declared tags, description: its
    `content_hash`) and of `linker_key`: a course with the same id and text as in the previous
    catalogue, linked with the same key, keeps its links, and only new or changed courses are linked.
    """
    con.execute("DELETE FROM course_skills")
    if not taxonomy_loaded(con):
        log.warning("no taxonomy in the catalogue: courses are not linked to skills (run `skillstack taxonomy load`)")
        return 0
    unchanged = "FALSE"
    if _previous_linker(con) == linker_key(con):
        unchanged = "EXISTS (SELECT 1 FROM prev.courses p WHERE p.id = c.id AND p.content_hash = c.content_hash " \
                    "AND p.status = 'active')"  # fmt: skip
        con.execute(
            """
            INSERT INTO course_skills SELECT l.* FROM prev.course_skills l
            JOIN prev.courses p ON p.id = l.course_id AND p.status = 'active'
            JOIN courses c ON c.id = p.id AND c.content_hash = p.content_hash AND c.status = 'active'
            """
        )
    # The courses to link, for the three kinds of evidence below (a constant condition, no input).
    con.execute(f"CREATE OR REPLACE TEMP TABLE courses_to_link AS SELECT * FROM courses c "
                f"WHERE c.status = 'active' AND NOT {unchanged}")  # fmt: skip
    try:
        links = [_declared_exact_links(con, "courses_to_link")]
        uris, _labels, matrix = skill_matrix(con)
        if uris:
            links.append(_declared_similar_links(con, uris, matrix, "courses_to_link"))
        links.append(_description_links(con, "courses_to_link"))
    finally:
        con.execute("DROP TABLE IF EXISTS courses_to_link")
    frames = [f for f in links if not f.empty]
    if frames:
        # One link per (course, skill): the strongest evidence wins.
        frame = pd.concat(frames, ignore_index=True)
        frame = frame.sort_values("score", ascending=False).drop_duplicates(["course_id", "skill_uri"])
        con.register("new_links", frame)
        con.execute("INSERT INTO course_skills SELECT course_id, skill_uri, score, evidence FROM new_links")
        con.unregister("new_links")
    (count,) = con.execute("SELECT count(*) FROM course_skills").fetchone()
    return count


def _previous_linker(con: duckdb.DuckDBPyConnection) -> str | None:
    if not {"catalog_meta", "course_skills", "courses"} <= previous_tables(con):
        return None
    row = con.execute("SELECT value FROM prev.catalog_meta WHERE key = 'linker'").fetchone()
    return row[0] if row else None


# The courses the link functions read: every active one, or `link_course_skills`'s temporary table
# of those to link. Always one of these constants, never input.
ACTIVE_COURSES = "(SELECT * FROM courses WHERE status = 'active')"


def _declared_exact_links(con: duckdb.DuckDBPyConnection, courses: str = ACTIVE_COURSES) -> pd.DataFrame:
    return con.execute(
        f"""
        WITH tags AS (
            SELECT id AS course_id, unnest({TRUSTED_TAGS_SQL}) AS tag FROM {courses}
        ), labels AS (
            SELECT uri, lower(label) AS surface FROM skills
            UNION
            SELECT uri, lower(trim(unnest(alt_labels))) FROM skills
        )
        SELECT DISTINCT t.course_id, l.uri AS skill_uri, 1.0 AS score, 'declared: ' || t.tag AS evidence
        FROM tags t JOIN labels l ON l.surface = lower(trim(t.tag))
        """
    ).df()


def _declared_similar_links(
    con: duckdb.DuckDBPyConnection, uris: list[str], matrix: np.ndarray, courses: str = ACTIVE_COURSES
) -> pd.DataFrame:
    tags = con.execute(f"SELECT id AS course_id, unnest({TRUSTED_TAGS_SQL}) AS tag FROM {courses}").df()
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
    return cached_text_vectors(con, "tag", tags)


# Course-side texts whose vectors are kept in `taxonomy_vectors` under their own kind, beside the
# taxonomy's: provider tags, and the course's own words the tags are checked against.
CACHED_TEXT_KINDS = ("tag", "course-own-text")


def cached_text_vectors(con: duckdb.DuckDBPyConnection, kind: str, texts: list[str]) -> np.ndarray:
    """Vectors of short course-side texts of one `CACHED_TEXT_KINDS` kind, cached in taxonomy_vectors
    so a rebuild embeds only new ones; one row per text, in order."""
    if not texts:
        return np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
    wanted = sorted(set(texts))
    known = con.execute(
        "SELECT surface, any_value(vector) AS vector FROM taxonomy_vectors "
        "WHERE kind = ? AND model = ? AND surface IN (SELECT unnest(?)) GROUP BY surface",
        [kind, embed.MODEL_KEY, wanted],
    ).df()
    cache = dict(zip(known["surface"], known["vector"], strict=True))
    missing = [t for t in wanted if t not in cache]
    if missing:
        vectors = embed.encode(missing, batch_size=256)
        origin = "provider-tag" if kind == "tag" else kind
        surfaces = pd.DataFrame({"kind": kind, "uri": missing, "surface": missing, "origin": origin})
        insert_vectors(con, surfaces, vectors)
        cache.update(zip(missing, vectors, strict=True))
    return np.vstack([np.asarray(cache[t], dtype=np.float32) for t in texts])


@dataclass(frozen=True)
class CourseDocument:
    """A course text as it is embedded, with the segments the skill extractor reads in it."""

    content_hash: str
    text: str  # `embed.course_text`, stripped as the model strips it
    title: str
    # (finding key, segment text, character range in `text`): the title, then description sentences
    segments: tuple[tuple[str, str, tuple[int, int]], ...]

    @classmethod
    def of(cls, content_hash: str, name: str | None, declared, description: str | None) -> CourseDocument:
        # A missing value arrives from the database as None (or NaN through a DataFrame).
        name = name if isinstance(name, str) else None
        description = description if isinstance(description, str) else None
        text = embed.course_text(name, declared, description).strip()
        segments, position = [], 0
        for sentence in _linking_sentences(name, description):
            begin = text.find(sentence, position)
            if begin < 0:
                continue
            position = begin + len(sentence)
            segments.append((_finding_key(content_hash, sentence), sentence, (begin, position)))
        return cls(content_hash, text, name.strip() if name else "", tuple(segments))


def _finding_key(content_hash: str, sentence: str) -> str:
    """What the extractor found in a segment depends on the whole document window it was read in."""
    return embed.content_hash(f"{content_hash}\n{sentence}")


def read_courses(con: duckdb.DuckDBPyConnection, extractor: SkillExtractor | None = None) -> int:
    """Embed the active courses' texts that have no vector yet and read their skills, in one pass.

    A course text is embedded once per content hash (`course_embeddings`). In the same forward pass
    the skill extractor reads the title and every description sentence that is in the
    model's document window, each in the context of the rest (`skill_extract.read_documents`);
    its findings go to `sentence_skills` under the course text's hash, with a marker row saying
    "this text was read", so a rebuild reads nothing it has read. A text with a vector but no
    findings (a catalogue built before the taxonomy was loaded, or another extractor setting) is
    read again for its skills alone. Without an `extractor`, the catalogue's is loaded, and only
    when some text needs reading (loading it takes seconds). Returns the number of texts embedded.
    """
    extracting = taxonomy_loaded(con) if extractor is None else extractor.ready
    hashes = [h for (h,) in con.execute("SELECT DISTINCT content_hash FROM courses WHERE status = 'active'").fetchall()]
    has_vector = {
        h for (h,) in con.execute("SELECT content_hash FROM course_embeddings WHERE model = ?",
                                  [embed.MODEL_KEY]).fetchall()
    }  # fmt: skip
    was_read = set()
    if extracting:
        # Findings of another extractor setting are never read again.
        con.execute("DELETE FROM sentence_skills WHERE extractor <> ?", [extractor_key()])
        was_read = {
            h for (h,) in con.execute("SELECT sentence_hash FROM sentence_skills WHERE extractor = ? AND score IS NULL",
                                      [extractor_key()]).fetchall()
        }  # fmt: skip
    unread = {h for h in hashes if extracting and _read_marker(h) not in was_read}
    todo = [h for h in hashes if h not in has_vector or h in unread]
    del hashes, was_read
    if unread and extractor is None:
        extractor = SkillExtractor.load(con)
    if not unread or not extractor.ready:
        extractor = None
    embedded = 0
    with one_blas_thread(), progress_bar(len(todo), "reading course texts", unit="texts") as bar:
        for start in range(0, len(todo), DOCUMENTS_PER_PASS):
            # The texts are fetched a chunk at a time: a 250k-course catalogue's texts are half a gigabyte.
            rows = con.execute(
                f"""
                SELECT content_hash, any_value(name), any_value({TRUSTED_TAGS_SQL}), any_value(description)
                FROM courses WHERE status = 'active' AND content_hash IN (SELECT unnest(?))
                GROUP BY content_hash
                """,
                [todo[start : start + DOCUMENTS_PER_PASS]],
            ).fetchall()
            embedded += _read_chunk(con, extractor, rows, has_vector, bar)
    return embedded


def _read_chunk(
    con: duckdb.DuckDBPyConnection,
    extractor: SkillExtractor | None,
    rows: list[tuple],
    has_vector: set[str],
    bar: Progress,
) -> int:
    """Embed and read one chunk of course texts; returns how many vectors were stored."""
    documents = [CourseDocument.of(*row) for row in rows]
    vectors, findings = [], []
    for batch in read_documents([d.text for d in documents], [[r for _, _, r in d.segments] for d in documents]):
        chosen = [documents[i] for i in batch.indices]
        vectors.extend(
            (document.content_hash, vector)
            for document, vector in zip(chosen, batch.vectors, strict=True)
            if document.content_hash not in has_vector
        )
        if extractor is not None:
            findings.extend(_findings(extractor, chosen, batch.segments))
        bar.update(len(batch.indices))
    if vectors:
        frame = pd.DataFrame({"content_hash": [h for h, _ in vectors], "model": embed.MODEL_KEY,
                              "vector": [v for _, v in vectors]})  # fmt: skip
        con.register("new_vectors", frame)
        con.execute("INSERT INTO course_embeddings SELECT content_hash, model, vector::FLOAT[384] FROM new_vectors")
        con.unregister("new_vectors")
        has_vector.update(h for h, _ in vectors)
    if findings:
        frame = pd.DataFrame(findings, columns=["sentence_hash", "extractor", "skill_uri", "score"])
        con.register("new_sentence_skills", frame)
        con.execute("INSERT INTO sentence_skills SELECT * FROM new_sentence_skills")
        con.unregister("new_sentence_skills")
    return len(vectors)


def _read_marker(content_hash: str) -> str:
    return _finding_key(content_hash, "")


def _findings(
    extractor: SkillExtractor, documents: list[CourseDocument], segments: list[list[tuple | None]]
) -> list[tuple[str, str, str | None, float | None]]:
    """`sentence_skills` rows for these documents' segments: the best skills scoring at least
    `DESCRIPTION_MIN_SCORE`, and one row with no skill per document saying it was read."""
    keys, texts, encoded = [], [], []
    for document, read in zip(documents, segments, strict=True):
        for (key, sentence, _), vectors in zip(document.segments, read, strict=True):
            if vectors is not None:
                keys.append(key)
                texts.append(sentence)
                encoded.append(vectors)
    made_with = extractor_key()
    rows = [(_read_marker(d.content_hash), made_with, None, None) for d in documents]
    for key, scores in zip(keys, extractor.score_encoded(texts, encoded), strict=True):
        rows.extend(
            (key, made_with, uri, score)
            for uri, _label, score in extractor.top(scores, DESCRIPTION_SKILLS_PER_COURSE)
            if score >= DESCRIPTION_MIN_SCORE
        )
    return rows


def _description_links(con: duckdb.DuckDBPyConnection, courses: str = ACTIVE_COURSES) -> pd.DataFrame:
    """Skills named in a course's title or description sentences, each with the sentence that names it.

    What the extractor found is read from `sentence_skills` (`read_courses` fills it); a course's
    links are its `DESCRIPTION_SKILLS_PER_COURSE` best skills over its segments.
    """
    columns = ["course_id", "skill_uri", "score", "evidence"]
    rows = con.execute(f"SELECT id, content_hash, name, {TRUSTED_TAGS_SQL}, description FROM {courses}").fetchall()
    course_ids, keys, evidence = [], [], []
    documents: dict[str, CourseDocument] = {}
    for course_id, content_hash, name, declared, description in rows:
        document = documents.get(content_hash)
        if document is None:
            document = documents[content_hash] = CourseDocument.of(content_hash, name, declared, description)
        for key, sentence, _ in document.segments:
            course_ids.append(course_id)
            keys.append(key)
            where = "title" if sentence == document.title else "description"
            evidence.append(f'{where}: "{_evidence_text(sentence)}"')
    con.register("course_sentences", pd.DataFrame({"course_id": course_ids, "sentence_hash": keys,
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
        [extractor_key(), DESCRIPTION_MAX_SCORE, DESCRIPTION_SKILLS_PER_COURSE],
    ).df()
    con.unregister("course_sentences")
    return links[columns]


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
    """For each text, its k best ESCO skills: (uri, label, score); see `core.skill_extract`."""
    return SkillExtractor.load(con).extract(texts, k)
