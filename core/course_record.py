"""What a course record's values mean, for the build that makes the record and the recommender that
reads it: a value that states nothing, a URL that is only a search, hours that are our estimate, the
declared tags that count. Making the record is `pipeline.normalise`; checking the tags,
`pipeline.tag_check`."""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

# The tags a course's text is made of, in SQL over `courses` (a constant expression, no input): the
# declared tags unless `pipeline.tag_check` found that they disagree with the course's own words.
TRUSTED_TAGS_SQL = "CASE WHEN tags_trusted IS FALSE THEN []::VARCHAR[] ELSE skills_declared END"


def is_missing(value: Any) -> bool:
    """A value that states nothing: None, NaN (how pandas reads a missing value) or blank text."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def is_search_url(url: str | None) -> bool:
    """Whether a course's URL is a search at its provider rather than the course's own page: the
    Coursera datasets give `coursera.org/search?query=<title>` for every course."""
    if not url:
        return False
    parts = urlsplit(url)
    return parts.path.rstrip("/").endswith("/search") or "query=" in parts.query


# A duration the provider gave as one total of hours or minutes ("1.5 hours", "45 minutes", "PT4H"):
# its hours are the provider's. Anything else (a calendar length, effort per week, a range, "less
# than") was turned into hours by `pipeline.normalise.parse_duration` and is an estimate.
_STATED_TOTAL = re.compile(
    r"\s*(?:\d+(?:[.,]\d+)?\s*(?:total\s+)?(?:hours?|hrs?|h|minutes?|mins?|m)\b\s*(?:total)?\s*|PT(?:\d+H)?(?:\d+M)?)\s*",
    re.IGNORECASE,
)


def hours_estimated(duration_raw: str | None) -> bool:
    """Whether a course's hours are our estimate from `duration_raw` ("1 - 3 Months" at 10 h a week,
    "2–3 hours per week, 6 Weeks") rather than a total the provider stated ("1.5 hours")."""
    return not (isinstance(duration_raw, str) and _STATED_TOTAL.fullmatch(duration_raw))
