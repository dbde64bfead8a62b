"""Reading the pages of a JSON API or an XML feed: the fetched page, URLs (tracking parameters, query
values, resolving a relative link), dotted JSON paths, and the four ways of finding the next page.

The bases in `crawlers.api_spider` use these and re-export what concrete spiders declare with
(`ApiPage`, `NextLink`, `NextParam`, `OffsetParam`, `PageNumber`, `without_tracking`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

if TYPE_CHECKING:
    from crawlers.api_spider import ApiSpider

# Campaign tags that APIs add to course links; without them the same course keeps one URL.
TRACKING_PARAMS = ("utm_", "wt.mc_id")


@dataclass(frozen=True)
class ApiPage:
    """One fetched page: its URL and its parsed payload (a JSON value, or the XML document's Selector)."""

    url: str
    payload: Any


def without_tracking(url: str) -> str:
    """`url` without `utm_*` and `WT.mc_id` query parameters."""
    if "?" not in url:
        return url
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(key)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _is_tracking(key: str) -> bool:
    return key.lower().startswith(TRACKING_PARAMS)


def _absolute(url: str, base: str) -> str:
    """`url` resolved against the page `base`. Most APIs give absolute URLs, and the relative ones are
    mostly absolute paths ("/courses/x/"): both without `urljoin`, which costs 15 % of a record."""
    if url.startswith(("https://", "http://")):
        return url
    if url.startswith("/") and not url.startswith("//") and "/." not in url:
        return _origin(base) + url
    return urljoin(base, url)


@lru_cache(maxsize=64)
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def with_query(url: str, **params: Any) -> str:
    """`url` with these query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({key: str(value) for key, value in params.items()})
    return urlunsplit(parts._replace(query=urlencode(query, safe=",()")))


def query_value(url: str, param: str) -> str | None:
    return dict(parse_qsl(urlsplit(url).query)).get(param)


def json_path(data: Any, path: str) -> Any:
    """The value at a dotted path: `"page.description"`, `"owners.0.name"`.

    A key applied to a list is applied to each element and the results are flattened, so
    `"topics.name"` on `{"topics": [{"name": "Math"}, {"name": "Physics"}]}` is `["Math", "Physics"]`.
    Anything missing is None.
    """
    value = data
    for key, index in _path_keys(path):
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list):
            if index is not None:
                value = value[index] if -len(value) <= index < len(value) else None
            else:
                value = _flatten(json_path(element, key) for element in value if isinstance(element, dict))
        else:
            return None
        if value is None:
            return None
    return value


@lru_cache(maxsize=1024)
def _path_keys(path: str) -> tuple[tuple[str, int | None], ...]:
    """A dotted path's keys, each with its list index when it is one (parsed once per path: a page
    of records reads the same few paths thousands of times)."""
    return tuple((key, int(key) if key.lstrip("-").isdigit() else None) for key in path.split("."))


def _flatten(values: Iterator[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(value)
        elif value is not None:
            flat.append(value)
    return flat


def _is_empty(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == [] or value == {}


# ---------------------------------------------------------------- pagination


@dataclass(frozen=True)
class NextLink:
    """The payload holds the next page's URL, absolute or relative to the page: DRF's `next`, or
    an RSS feed's `atom:link[@rel='next']/@href`. Empty or missing: last page."""

    path: str

    def next_url(self, spider: ApiSpider, page: ApiPage, records: list[Any]) -> str | None:
        link = spider.select(page.payload, self.path)
        return urljoin(page.url, str(link).strip()) if not _is_empty(link) else None


@dataclass(frozen=True)
class NextParam:
    """The payload holds a cursor or start offset that the next request sends as the query
    parameter `param` of this page's URL: Coursera's `paging.next` → `?start=`."""

    path: str
    param: str

    def next_url(self, spider: ApiSpider, page: ApiPage, records: list[Any]) -> str | None:
        value = spider.select(page.payload, self.path)
        return with_query(page.url, **{self.param: value}) if not _is_empty(value) else None


@dataclass(frozen=True)
class OffsetParam:
    """No link in the payload: the next request asks for `param` = this page's start + the records
    it held (LinkedIn-style `paging.start` + `count`). Stops on an empty page, on a page shorter than
    `size` when given, or when the next start reaches the number at `total_path`."""

    param: str
    size: int | None = None
    total_path: str | None = None

    def next_url(self, spider: ApiSpider, page: ApiPage, records: list[Any]) -> str | None:
        if not records or (self.size is not None and len(records) < self.size):
            return None
        start = int(query_value(page.url, self.param) or 0) + len(records)
        total = spider.select(page.payload, self.total_path) if self.total_path else None
        if isinstance(total, int | float) and start >= total:
            return None
        return with_query(page.url, **{self.param: start})


@dataclass(frozen=True)
class PageNumber:
    """Pages numbered in the query parameter `param` from `first`; stops on an empty page or after
    the page count at `last_path` when given."""

    param: str = "page"
    first: int = 1
    last_path: str | None = None

    def next_url(self, spider: ApiSpider, page: ApiPage, records: list[Any]) -> str | None:
        if not records:
            return None
        number = int(query_value(page.url, self.param) or self.first) + 1
        last = spider.select(page.payload, self.last_path) if self.last_path else None
        if isinstance(last, int) and number > last:
            return None
        return with_query(page.url, **{self.param: number})


Pagination = NextLink | NextParam | OffsetParam | PageNumber
