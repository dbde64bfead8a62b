"""Base spiders for sources published as a JSON API or an XML feed, one or more records per page.

`JsonApiSpider` reads JSON payloads, `XmlApiSpider` XML ones (RSS and other feeds); both share the
declarations, the hook, pagination, credentials and the `limit` argument of `ApiSpider`. How a page
is read and the next one found is in `crawlers.api_pages`; its names that spiders declare with are
re-exported here, so a spider imports its base and its pagination from one place.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson
import scrapy
from lxml import etree
from parsel import Selector
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.api_pages import (
    ApiPage,
    NextLink,
    NextParam,
    OffsetParam,
    PageNumber,
    Pagination,
    _absolute,
    _is_empty,
    json_path,
    query_value,
    with_query,
    without_tracking,
)
from crawlers.dataset_spider import NUMBER_FIELDS, to_number
from crawlers.items import Course
from crawlers.page_requests import mark_partial, urls_argument
from skillstack.settings import mirror_dir

__all__ = [
    "LIST_FIELDS",
    "UNREADABLE",
    "ApiPage",
    "ApiSpider",
    "FieldSpec",
    "JsonApiSpider",
    "NextLink",
    "NextParam",
    "OffsetParam",
    "PageNumber",
    "Pagination",
    "XmlApiSpider",
    "json_path",
    "query_value",
    "with_query",
    "without_tracking",
]

# A field spec: a path (JSON: dotted keys; XML: an XPath), a callable of the record, or a tuple of
# specs of which the first that gives a value wins.
FieldSpec = str | Callable[[Any], Any] | tuple["FieldSpec", ...]

LIST_FIELDS = ("skills_declared", "subjects")
# What `parse_payload` returns for a page it could not parse (a JSON page may well hold `null`).
UNREADABLE = object()


# A field compiled by `ApiSpider._plan`: its name, how to read it from a record, how to clean it.
_PlannedField = tuple[str, Callable[[Any], Any], Callable[[Any, "ApiPage"], Any]]


# ---------------------------------------------------------------- the bases


class ApiSpider(scrapy.Spider):
    """Turn the records of API or feed pages into `Course` items; concrete spiders only declare.

    Declarations:

    - `start_urls`: the first page of each endpoint, as listed in the mirror's INDEX.md.
    - `start_query`: query parameters added to every start URL (`fields=`, `includes=`, a page
      size). The mirror ignores queries; the live API needs them.
    - `provider`: the platform; applied by the defaults pipeline.
    - `records_path`: where the records are in a page (JSON: a dotted path such as `"results"`,
      XML: an XPath such as `"//channel/item"`), or a function of the payload that returns them;
      None (JSON only) means the payload itself is the list of records.
    - `field_map`: `{Course field: spec}`. A spec is a path into the record (JSON: dotted keys,
      where a key applied to a list maps over it: `"topics.name"`; XML: an XPath relative to the
      record, e.g. `"course:subject"`), a function of the record, or a tuple of specs of which the
      first that gives a value wins. Empty values leave the field unset; strings are stripped;
      `price`, `hours`, `rating`, `rating_count` and `enrollments` given as plain-number strings
      ("150.00") become numbers; a relative `url` is resolved against the page and loses its
      `utm_*`/`WT.mc_id` campaign tags; a numeric `provider_ref` becomes a string.
    - `extras_map`: `{extras key: spec}`, the same specs, for what the Course has no field for.
    - `list_fields`: fields and extras keys that hold lists (default: skills and subjects). A
      single value becomes a one-element list; in XML they take every match, other fields the first.
    - `defaults`: values for fields a record leaves unset (an institution, a currency, a language).
    - `pagination`: how the next page is found: `NextLink(path)`, `NextParam(path, param)`,
      `OffsetParam(param, ...)` or `PageNumber(param, ...)`; None for a single page.
    - `request_headers`: sent with every request. The JSON base asks for `application/json`:
      Django REST Framework APIs answer a browser-like Accept header with an HTML page.
    - `credentials_env`: environment variables the live API needs, and `credentials_headers`
      the request headers built from them (`{"Authorization": "JWT {EDX_API_TOKEN}"}`), or an
      override of `credential_headers()`. They are sent only over https to `credentials_hosts`
      (default: the hosts of `start_urls`), added as the request leaves and never kept on it
      (crawlers/middlewares/credentials.py), so a `next` link to another host or to http goes
      without them. With
      `SKILLSTACK_MIRROR` set the captures are public and no credentials are needed. Live without
      them the spider logs one line naming the variables, yields nothing and closes with reason
      `credentials_missing` — not `finished`, so the build keeps the source's last complete crawl
      instead of marking its courses removed.

    One optional hook:

    - `parse_record(self, record, item, page) -> Course | None`: called after the declarations are
      applied, with the raw record and the `ApiPage` (its `url` and whole `payload`, e.g. for
      Coursera's `linked` partners); fix or add fields, or return None to skip the record
      (counted as `skillstack/records/skipped`). `map_record` applies another field map, for
      endpoints whose records have another shape.

    Pagination stops at the last page, when `limit` is reached, and when every record of a page
    was seen before (a server that ignores the page parameter would otherwise be read forever).
    Records repeating a `provider_ref` are skipped and counted (`skillstack/records/duplicate`).
    A payload that does not parse is logged as an error and counted (`skillstack/json/malformed`,
    `skillstack/xml/malformed`), as are a records value that is not a list
    (`skillstack/json/records_not_a_list`), JSON records that are not objects
    (`skillstack/records/malformed`) and a record the declarations or the hook fail on
    (`skillstack/records/failed`); the crawl goes on. A page that cannot be downloaded
    closes the spider with reason `source_unavailable`: a partial catalogue must not pass for a
    complete one.

    Spider argument `limit`: yield at most that many items.
    """

    provider: ClassVar[str | None] = None
    start_query: ClassVar[dict[str, str]] = {}
    records_path: ClassVar[str | Callable[[Any], Any] | None] = None
    field_map: ClassVar[dict[str, FieldSpec]] = {}
    extras_map: ClassVar[dict[str, FieldSpec]] = {}
    list_fields: ClassVar[tuple[str, ...]] = LIST_FIELDS
    defaults: ClassVar[dict[str, Any]] = {}
    pagination: ClassVar[Pagination | None] = None
    credentials_env: ClassVar[tuple[str, ...]] = ()
    credentials_headers: ClassVar[dict[str, str]] = {}
    credentials_hosts: ClassVar[tuple[str, ...]] = ()
    request_headers: ClassVar[dict[str, str]] = {}

    accepts_urls: ClassVar[bool] = True

    def __init__(
        self, *args: Any, limit: int | str | None = None, urls: str | Iterable[str] | None = None, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.limit = int(limit) if limit not in (None, "") else None
        # `skillstack crawl SOURCE --url URL`: read exactly these pages (one course's data.json, one API page).
        self.urls = urls_argument(urls)
        self.yielded = 0
        self.seen_refs: set[str] = set()

    # -- requests

    async def start(self) -> AsyncIterator[scrapy.Request]:
        missing = [name for name in self.credentials_env if not os.environ.get(name)]
        if missing and mirror_dir() is None:
            hosts = ", ".join(dict.fromkeys(urlsplit(url).hostname or url for url in self.start_urls))
            self.logger.warning(
                "%s: set %s to crawl the live %s API (%s); skipped",
                self.name,
                " and ".join(missing),
                self.provider or self.name,
                hosts,
            )
            raise CloseSpider("credentials_missing")
        if self.urls:
            mark_partial(self.crawler, "urls")
        for url in self.urls or self.start_urls:
            yield self.page_request(with_query(url, **self.start_query) if self.start_query else url)

    def page_request(self, url: str) -> scrapy.Request:
        if self.credential_headers():
            # Answers to authorised requests are not cached (a shared cache must not serve them).
            return scrapy.Request(
                url,
                callback=self.parse,
                errback=self.source_unavailable,
                headers=self.request_headers,
                meta={"dont_cache": True},
            )
        return scrapy.Request(url, callback=self.parse, errback=self.source_unavailable, headers=self.request_headers)

    def credential_headers(self) -> dict[str, str]:
        """The headers that carry the live API's credentials, from the environment; {} without them.
        Added to a request only as it is sent (crawlers/middlewares/credentials.py)."""
        if not self.credentials_env or not all(os.environ.get(name) for name in self.credentials_env):
            return {}
        values = {name: os.environ[name] for name in self.credentials_env}
        return {header: template.format(**values) for header, template in self.credentials_headers.items()}

    def credential_hosts(self) -> frozenset[str]:
        """The hosts the credentials may be sent to: `credentials_hosts`, else the start URLs' hosts."""
        hosts = self.credentials_hosts or tuple(urlsplit(url).hostname or "" for url in self.start_urls)
        return frozenset(host for host in hosts if host)

    def source_unavailable(self, failure: Failure) -> None:
        response = getattr(failure.value, "response", None)
        why = f"HTTP {response.status}" if response is not None else repr(failure.value)
        self.logger.error("page %s is unavailable: %s", failure.request.url, why)
        raise CloseSpider("source_unavailable")

    # -- pages

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Course | scrapy.Request]:
        payload = self.parse_payload(response)
        if payload is UNREADABLE:
            return
        page = ApiPage(response.url, payload)
        records = self.find_records(page)
        if records is None:
            return
        repeats = 0
        for record in records:
            if self.limit is not None and self.yielded >= self.limit:
                return
            self._count("skillstack/records/read")
            item = self._item_from(record, page)
            if item is None:
                continue
            ref = item.get("provider_ref")
            if ref in self.seen_refs:
                self._count("skillstack/records/duplicate")
                repeats += 1
                continue
            if ref:
                self.seen_refs.add(ref)
            self.yielded += 1
            yield item
        if self.pagination is None or (records and repeats == len(records)):
            return
        next_url = self.pagination.next_url(self, page, records)
        if next_url and next_url != response.url and (self.limit is None or self.yielded < self.limit):
            yield self.page_request(next_url)

    def _item_from(self, record: Any, page: ApiPage) -> Course | None:
        try:
            item = self.parse_record(record, self.map_record(record, page), page)
        # One record the declarations or the hook cannot handle must not cost the rest of its page.
        except Exception:
            self._count("skillstack/records/failed")
            self.logger.exception("page %s: cannot read record %.200r", page.url, record)
            return None
        if item is None:
            self._count("skillstack/records/skipped")
        return item

    def parse_record(self, record: Any, item: Course, page: ApiPage) -> Course | None:
        return item

    def parse_payload(self, response: Response) -> Any:
        raise NotImplementedError

    def find_records(self, page: ApiPage) -> list[Any] | None:
        raise NotImplementedError

    def select(self, node: Any, spec: FieldSpec, many: bool = False) -> Any:
        """The value of `spec` in `node` (a record or a payload); `many`: every match of an XPath."""
        if isinstance(spec, str):
            return self.select_path(node, spec, many)
        if isinstance(spec, tuple):
            values = (self.select(node, each, many) for each in spec)
            return next((value for value in values if not _is_empty(value)), None)
        if callable(spec):
            return spec(node)
        return self.select_path(node, spec, many)

    def select_path(self, node: Any, path: str, many: bool) -> Any:
        raise NotImplementedError

    # -- fields

    def map_record(
        self,
        record: Any,
        page: ApiPage,
        field_map: dict[str, FieldSpec] | None = None,
        extras_map: dict[str, FieldSpec] | None = None,
    ) -> Course:
        """A Course from `record` through `field_map` and `extras_map` (default: the spider's)."""
        fields = self._plan(self.field_map if field_map is None else field_map)
        extras_fields = self._plan(self.extras_map if extras_map is None else extras_map)
        item = Course()
        for field, get, clean in fields:
            value = clean(get(record), page)
            if value is not None:
                item[field] = value
        extras = {}
        for key, get, clean in extras_fields:
            value = clean(get(record), page)
            if value is not None:
                extras[key] = value
        if extras:
            item["extras"] = extras
        for field, value in self.defaults.items():
            if field not in item:
                item[field] = value
        return item

    def _plan(self, field_map: dict[str, FieldSpec]) -> tuple[_PlannedField, ...]:
        """`field_map` compiled once into a getter and a cleaner per field: a page of twenty records
        reads the same twenty fields four hundred times, and deciding each time what a spec is and
        what its field needs cost more than the reading."""
        plans = self.__dict__.setdefault("_plans", {})
        plan = plans.get(id(field_map))
        if plan is None or plan[0] is not field_map:
            compiled = tuple(
                (field, self._getter(spec, many=field in self.list_fields), self._cleaner(field))
                for field, spec in field_map.items()
            )
            plan = plans[id(field_map)] = (field_map, compiled)
        return plan[1]

    def _getter(self, spec: FieldSpec, many: bool) -> Callable[[Any], Any]:
        """`select(node, spec, many)` as a function of the node, decided once."""
        if isinstance(spec, tuple):
            getters = tuple(self._getter(each, many) for each in spec)

            def first_given(node: Any) -> Any:
                for get in getters:
                    value = get(node)
                    if not _is_empty(value):
                        return value
                return None

            return first_given
        if callable(spec) and not isinstance(spec, str):
            return spec
        return self.path_getter(spec, many)

    def path_getter(self, path: str, many: bool) -> Callable[[Any], Any]:
        return lambda node: self.select_path(node, path, many)

    def _cleaner(self, field: str) -> Callable[[Any, ApiPage], Any]:
        """How a value of `field` is cleaned, with the field's own conversion chosen once: strings
        stripped, empty values dropped, lists de-duplicated, list fields made lists, number strings
        made numbers, a numeric `provider_ref` a string, a `url` absolute and without campaign tags."""
        as_list = field in self.list_fields
        number_kind = NUMBER_FIELDS.get(field)

        def clean(value: Any, page: ApiPage) -> Any:
            if value is None:
                return None
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    return None
            elif isinstance(value, list):
                value = _unique([_strip(entry) for entry in value if not _is_empty(entry)])
                if not value:
                    return None
            elif _is_empty(value):
                return None
            if as_list and not isinstance(value, list):
                value = [value]
            if number_kind is not None and isinstance(value, str):
                return to_number(value, number_kind)
            if field == "provider_ref" and isinstance(value, int | float):
                return str(value)
            if field == "url" and isinstance(value, str):
                return without_tracking(_absolute(value, page.url))
            return value

        return clean

    def _count(self, stat: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(stat, count)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _unique(values: list[Any]) -> list[Any]:
    """Repeats dropped, order kept; lists of records (dicts) are kept as they are."""
    try:
        return list(dict.fromkeys(values))
    except TypeError:
        return values


class JsonApiSpider(ApiSpider):
    """`ApiSpider` over JSON payloads: paths are dotted keys (see `json_path`)."""

    request_headers = {"Accept": "application/json"}

    def parse_payload(self, response: Response) -> Any:
        try:
            return orjson.loads(response.body)
        except orjson.JSONDecodeError:
            pass  # orjson is stricter (NaN, integers over 64 bits): the standard parser decides
        try:
            return json.loads(response.body)
        # JSONDecodeError, UnicodeDecodeError for bytes that are no text, and RecursionError for arrays
        # nested deeper than Python's stack (orjson stops at 1024 levels, then this parser overflows).
        except (ValueError, RecursionError) as exc:
            self._count("skillstack/json/malformed")
            self.logger.error("page %s is not valid JSON: %s", response.url, exc)
            return UNREADABLE

    def find_records(self, page: ApiPage) -> list[Any] | None:
        spec = type(self).records_path
        records = page.payload if spec is None else self.select(page.payload, spec)
        if isinstance(records, list):
            objects = [record for record in records if isinstance(record, dict)]
            if len(objects) < len(records):
                self._count("skillstack/records/malformed", len(records) - len(objects))
                self.logger.error("page %s: %d records are not JSON objects", page.url, len(records) - len(objects))
            return objects
        self._count("skillstack/json/records_not_a_list")
        self.logger.error(
            "page %s: records at %r are %s, not a list: %.200s",
            page.url,
            spec,
            type(records).__name__,
            json.dumps(page.payload, default=str),
        )
        return None

    def path_getter(self, path: str, many: bool) -> Callable[[Any], Any]:
        if "." in path:
            return lambda node: json_path(node, path)

        def top_level(node: Any) -> Any:
            return node.get(path) if type(node) is dict else json_path(node, path)

        return top_level

    def select_path(self, node: Any, path: str, many: bool) -> Any:
        if isinstance(node, dict) and "." not in path:
            return node.get(path)  # a top-level key, the usual case: json_path's answer, without its loop
        return json_path(node, path)


class XmlApiSpider(ApiSpider):
    """`ApiSpider` over XML payloads (RSS and other feeds): paths are XPath expressions.

    Extra declaration: `namespaces`, `{prefix: URI}` for the prefixes the paths use. A path that
    selects elements gives their text content. The document is parsed strictly, without external
    entities; a document that is not well-formed is counted as `skillstack/xml/malformed`.
    """

    namespaces: ClassVar[dict[str, str]] = {}
    request_headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.1"}

    def parse_payload(self, response: Response) -> Any:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        try:
            root = etree.fromstring(response.body, parser)
        except etree.XMLSyntaxError as exc:
            self._count("skillstack/xml/malformed")
            self.logger.error("page %s is not well-formed XML: %s", response.url, exc)
            return UNREADABLE
        return Selector(root=root, type="xml")

    def find_records(self, page: ApiPage) -> list[Any] | None:
        spec = type(self).records_path
        if callable(spec):
            return list(spec(page.payload))
        return list(page.payload.xpath(spec, namespaces=self.namespaces))

    def select_path(self, node: Any, path: str, many: bool) -> Any:
        texts = [
            match.get() if isinstance(match.root, str) else match.xpath("string()").get()
            for match in node.xpath(path, namespaces=self.namespaces)
        ]
        if many:
            return texts
        return next((text for text in texts if text.strip()), None)
