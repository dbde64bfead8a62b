"""Normalise raw crawl values onto the course record (see DESIGN.md, "The course record").

Every function in this package is pure and total: it takes whatever a spider yielded (text, a
number, a list, a dict, None, NaN) and returns a normalised value or None. A value it cannot read
becomes None; it never raises on bad input, so one odd item never stops `build`. `normalise_item` is
the one entry point `build` calls; the smaller functions are public so spiders' tests and the
dashboard can use the same conventions.

The one exception to "no I/O": language detection (`core.language`) loads the py3langid model
that ships inside its PyPI package, once, the first time a text has to be detected.

The field families, one module each, each module's docstring giving its conventions:

- `scalars`: numbers in their many spellings, counts, ratings (missing values: `core.course_record`)
- `offer`: price, currency, access model, certificate price
- `duration`: total hours and weekly effort (whether the hours are an estimate: `core.course_record`)
- `vocabulary`: level, credential, course mode
- `text`: clean text, one-line labels and lists, title casing, URLs
- `item`: `normalise_item`, the course record's fields from one raw item

Languages live in `core.language`; they are re-exported here because callers read them with the
other fields. Languages keep only the primary subtag ("en-US", "en_us", "English (US)" → "en"):
in_language is a filter facet and sources disagree on regions for the same language.
"""

from __future__ import annotations

from core.language import detect_language, normalise_language
from pipeline.normalise.duration import ASSUMED_WEEKLY_HOURS, Duration, parse_duration
from pipeline.normalise.item import ITEM_KEYS, normalise_item
from pipeline.normalise.offer import ACCESS_MODELS, Offer, parse_offer
from pipeline.normalise.scalars import parse_count, parse_rating
from pipeline.normalise.text import clean_text, is_lowercased_title, title_case, title_slug
from pipeline.normalise.vocabulary import (
    COURSE_MODES,
    CREDENTIAL_KINDS,
    LEVELS,
    Credential,
    normalise_course_mode,
    normalise_credential,
    normalise_level,
)

__all__ = [
    "ACCESS_MODELS",
    "ASSUMED_WEEKLY_HOURS",
    "CREDENTIAL_KINDS",
    "COURSE_MODES",
    "LEVELS",
    "NORMALISER_VERSION",
    "Credential",
    "Duration",
    "ITEM_KEYS",
    "Offer",
    "clean_text",
    "detect_language",
    "is_lowercased_title",
    "normalise_course_mode",
    "normalise_credential",
    "normalise_item",
    "normalise_language",
    "normalise_level",
    "parse_count",
    "parse_duration",
    "parse_offer",
    "parse_rating",
    "title_case",
    "title_slug",
]

# Part of the key under which `build` reuses an item's normalised values (pipeline/build.py,
# NORMALISER_KEY). Raise it whenever a change here would normalise any item differently; a change
# that leaves every output the same (a move, a comment) keeps it.
NORMALISER_VERSION = 1
