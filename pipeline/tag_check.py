"""Declared skills checked against the course's own words.

Providers' tags can belong to another course: in the Coursera 2024 dataset about one record in ten
carries another course's skills ("Exploring the Field of U.S. Payroll" tagged HTML, CSS and
JavaScript; an Arabic "leading teams" course tagged with fourteen marketing skills). A course's tags
are trusted when their mean vector is close enough to the vector of its own title (and the start of
its description): `TAG_AGREEMENT_MIN`. Tags that disagree get no weight anywhere: they are left out
of the embedded text, the BM25 text and the skill links (`core.course_record.TRUSTED_TAGS_SQL`), and
the build report counts them per source; the course page still shows them as the provider's own data.
"""

from __future__ import annotations

import logging

import duckdb
import numpy as np

from core import embed

log = logging.getLogger(__name__)

# Measured on the Coursera 2024 dataset (2,761 courses, all with tags): a course's own tags score a
# median of 0.54 against its title, another course's tags 0.24. At 0.3, 9.8 % of the courses' tags
# are set aside (the dataset's own share of shifted rows is about one in ten) and 30 % of another
# course's tags would pass, mostly a course of the same subject (docs/relevance.md).
TAG_AGREEMENT_MIN = 0.3
OWN_TEXT_CHARS = 200
CHUNK = 10_000


def own_text(name: str | None, description: str | None) -> str:
    """What the course says of itself: its title and the start of its description."""
    parts = [p for p in (name, (description or "")[:OWN_TEXT_CHARS]) if p]
    return ". ".join(parts)


def check_tags(con: duckdb.DuckDBPyConnection, courses: list[dict]) -> int:
    """Set `tags_trusted` on every course (None when it declares no tags); returns how many disagree."""
    from pipeline.skills import cached_text_vectors

    with_tags = [c for c in courses if c.get("skills_declared")]
    for course in courses:
        course["tags_trusted"] = None
    disagreeing = 0
    for start in range(0, len(with_tags), CHUNK):
        chunk = with_tags[start : start + CHUNK]
        texts = [own_text(c.get("name"), c.get("description")) for c in chunk]
        own = cached_text_vectors(con, "course-own-text", texts)
        tags = sorted({t for c in chunk for t in c["skills_declared"]})
        tag_row = {t: i for i, t in enumerate(tags)}
        tag_vectors = cached_text_vectors(con, "tag", tags)
        for course, vector in zip(chunk, own, strict=True):
            mean = tag_vectors[[tag_row[t] for t in course["skills_declared"]]].mean(axis=0)
            agreement = float(mean @ vector / (np.linalg.norm(mean) or 1.0))
            course["tags_trusted"] = agreement >= TAG_AGREEMENT_MIN
            disagreeing += not course["tags_trusted"]
    log.info("declared tags of %d of %d courses disagree with their own text", disagreeing, len(with_tags))
    return disagreeing


def course_text(course: dict) -> str:
    """What a course is embedded as: `embed.course_text` with only the tags that agree with it."""
    tags = course["skills_declared"] if course.get("tags_trusted") is not False else []
    return embed.course_text(course["name"], tags, course["description"])
