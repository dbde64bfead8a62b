"""The course side of a catalogue: the indexes built from one build's courses (kept by
`index_cache`), which links a reader would accept, how specific each skill is, and the priors.

Separate from `engine` so that what is built once per build (here) and what a query does
(`engine`, `ranking`) can each be read in one sitting.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
from scipy import sparse

from core import embed
from core.course_record import TRUSTED_TAGS_SQL
from recommender.index_cache import CourseIndexes
from recommender.lexical import Bm25Index

# "communication", "teamwork": they would match every course and drown the specific skills.
TRANSVERSAL_FACTOR = 0.1
# A skill the extractor found in a title or description sentence is claimed for a course (in its
# matched skills, its coverage and the stack) only from this score up; below it, links such as "use
# cooking techniques" for a GPT Vision course are the extractor's guesses, not what the course teaches.
ACCEPTED_EXTRACTED_SCORE = 0.7
CREDENTIAL_WEIGHT = 0.21
QUALITY_WEIGHT = 0.15
FRESHNESS_WEIGHT = 0.09
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


def prior_scores(courses: pd.DataFrame) -> np.ndarray:
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


def accepted_links(links: sparse.csr_matrix, link_evidence: np.ndarray, evidence_texts: list[str]) -> sparse.csr_matrix:
    """The links a reader would accept as what a course teaches: a declared tag (the build gives
    no weight to tags that disagree with the course's own text), or a skill the extractor found in the
    title or a description sentence with a score of at least `ACCEPTED_EXTRACTED_SCORE`."""
    declared = np.array([text.startswith("declared") for text in evidence_texts], dtype=bool)
    accepted = links.copy()
    if accepted.nnz:
        ok = declared[link_evidence] | (accepted.data >= ACCEPTED_EXTRACTED_SCORE)
        accepted.data = np.where(ok, accepted.data, 0).astype(np.float32)
    return accepted


def specificity(accepted: sparse.csr_matrix, transversal: np.ndarray) -> np.ndarray:
    """Inverse document frequency of each skill over the courses' accepted links, in [0, 1]; a
    transversal skill counts `TRANSVERSAL_FACTOR` of it."""
    n = accepted.shape[0]
    frequency = np.bincount(accepted.indices[accepted.data > 0], minlength=accepted.shape[1]).astype(np.float32)
    specificity = np.log((n + 1) / (frequency + 1)) / np.log(n + 1) if n else np.zeros(accepted.shape[1])
    specificity = np.clip(specificity, 0, 1).astype(np.float32)
    if len(transversal) == len(specificity):
        specificity[transversal] *= TRANSVERSAL_FACTOR
    return specificity


def build_course_indexes(con: duckdb.DuckDBPyConnection, skill_uris: list[str]) -> CourseIndexes:
    # Arrow, not a DataFrame, for the vectors: 250k FLOAT[384] lists become one float32 buffer instead
    # of 250k small arrays to stack (4 s at 250k).
    table = con.execute(
        f"""
        SELECT c.id, c.name, c.provider, c.institution, c.url, c.credential, c.hours, c.price, c.currency,
               c.access_model, c.level, c.in_language, c.rating, c.rating_count, c.last_seen,
               concat_ws(' ', c.name, array_to_string({TRUSTED_TAGS_SQL}, ', '), left(c.description, 400))
                   AS lexical_text,
               e.vector
        FROM courses c JOIN course_embeddings e ON e.content_hash = c.content_hash AND e.model = ?
        WHERE c.status = 'active' ORDER BY c.id
        """,
        [embed.MODEL_KEY],
    ).to_arrow_table()
    vectors = table.column("vector").combine_chunks()
    if len(vectors):
        matrix = vectors.flatten().to_numpy().astype(np.float32, copy=False).reshape(len(vectors), embed.DIMENSIONS)
    else:
        matrix = np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
    courses = table.drop_columns(["vector"]).to_pandas()
    courses["rating_count"] = courses["rating_count"].astype("Int32")
    lexical_texts = courses.pop("lexical_text").fillna("").tolist()

    skill_index = {uri: i for i, uri in enumerate(skill_uris)}
    course_index = {cid: i for i, cid in enumerate(courses["id"])}
    link_rows = con.execute("SELECT course_id, skill_uri, score, evidence FROM course_skills").df()
    link_rows = link_rows[link_rows["course_id"].isin(course_index) & link_rows["skill_uri"].isin(skill_index)]
    rows = link_rows["course_id"].map(course_index).to_numpy(dtype=np.int64)
    cols = link_rows["skill_uri"].map(skill_index).to_numpy(dtype=np.int64)
    links = sparse.csr_matrix(
        (link_rows["score"].to_numpy(dtype=np.float32), (rows, cols)), shape=(len(courses), len(skill_uris))
    )
    links.sum_duplicates()
    # Each stored entry's evidence, in the entries' order (a course's skills by column); a pair linked
    # twice keeps the last evidence, as a dict keyed by (row, column) did.
    codes, texts = pd.factorize(link_rows["evidence"])
    entry_keys = np.repeat(np.arange(links.shape[0], dtype=np.int64), np.diff(links.indptr)) * links.shape[1]
    entry_keys += links.indices
    evidence = np.zeros(links.nnz, dtype=np.int32)
    evidence[np.searchsorted(entry_keys, rows * links.shape[1] + cols)] = codes
    return CourseIndexes(
        courses=courses,
        course_matrix=matrix,
        lexical=Bm25Index(lexical_texts),
        links=links,
        link_evidence=evidence,
        evidence_texts=[str(text) for text in texts] or [""],
    )
