"""Check every item against the Course schema and count the problems in the crawler stats.

A missing or invalid field is counted (`skillstack/field/<name>/missing|invalid`) and the item is
kept: a course without a rating is still a course. Only an item that cannot be identified or shown
at all — no `url`, `name` or `provider_ref` — is dropped, counted as `skillstack/dropped/<reason>`.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Number
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import DropItem

from crawlers.items import Course

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

REQUIRED_FIELDS = ("url", "name", "provider_ref")


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_number(value: Any) -> bool:
    return isinstance(value, Number) and not isinstance(value, bool)


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_text(entry) for entry in value)


def _is_text_or_number(value: Any) -> bool:
    return _is_text(value) or (_is_number(value) and value >= 0)


VALIDATORS: dict[str, Callable[[Any], bool]] = {
    "source": _is_text,
    "provider_ref": lambda value: _is_text(value) and "/" not in value,
    "id": _is_text,
    "url": _is_http_url,
    "name": _is_text,
    "description": _is_text,
    "provider": _is_text,
    "institution": _is_text,
    "in_language": lambda value: _is_text(value) or _is_text_list(value),
    "level": _is_text,
    "duration": _is_text,
    "weeks": _is_text,
    "hours": lambda value: _is_number(value) and value >= 0,
    "course_mode": _is_text,
    "credential": _is_text,
    "price": _is_text_or_number,
    "currency": lambda value: _is_text(value) and len(value) == 3 and value.isupper(),
    "is_free": lambda value: isinstance(value, bool),
    "rating": lambda value: _is_number(value) and 0 <= value <= 5,
    "rating_count": lambda value: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
    "enrollments": _is_text_or_number,
    "skills_declared": _is_text_list,
    "subjects": _is_text_list,
    "date_modified": _is_text,
    "extras": lambda value: isinstance(value, dict),
}


def is_missing(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == [] or value == {}


class ValidateCoursePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        for name in Course.fields:
            value = item.get(name)
            if is_missing(value):
                self.stats.inc_value(f"skillstack/field/{name}/missing")
            elif name in VALIDATORS and not VALIDATORS[name](value):
                self.stats.inc_value(f"skillstack/field/{name}/invalid")
        for name in REQUIRED_FIELDS:
            if is_missing(item.get(name)):
                reason = f"missing_{name}"
                self.stats.inc_value(f"skillstack/dropped/{reason}")
                raise DropItem(f"{reason}: {dict(item)!r:.200}")
        return item
