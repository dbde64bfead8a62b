"""Base spider for course pages that describe themselves with schema.org JSON-LD."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import lxml.html
import scrapy
from lxml import etree
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawlers.dataset_spider import to_number
from crawlers.items import Course
from crawlers.page_requests import log_unavailable, mark_partial, urls_argument

# The JSON-LD scripts and meta tags are found by string search, not by an HTML parser: on a real
# ~200 kB course page lxml takes 1.7 ms to build the tree, the search 0.1-0.3 ms, and the crawl's
# parse target is 2 ms a page. The search looks for the few words that matter ("ld+json", the meta
# value) and reads only the tag around each, at most MAX_TAG characters: no pattern runs from a
# position to the end of the page, so a hostile page (`<script ` or `<meta ` repeated with no `>`)
# costs time in proportion to its size, not to its square. A real page names those words a handful
# of times; a page that names them more than MAX_CANDIDATES times is read by lxml's HTML parser
# instead, linear and in C, since looking at each in Python would cost a millisecond per thousand.
MAX_TAG = 4096
MAX_CANDIDATES = 100
_SCRIPT_OPEN = re.compile(r"<script\b", re.IGNORECASE)
_META_OPEN = re.compile(r"<meta\b", re.IGNORECASE)
# HTML ends a script's text at the first "</script" followed by a space, "/" or ">", so a script
# cannot hold one.
_SCRIPT_CLOSE = re.compile(r"</script(?=[\s/>])", re.IGNORECASE)
_JSON_LD_TYPE = re.compile(r"""\btype\s{0,16}=\s{0,16}["']?[^"'>]{0,64}?ld\+json""", re.IGNORECASE)
# Types are written "ld+json" or, rarely, "LD+JSON"; other mixes of case are not read (a
# case-insensitive scan of the whole page costs more than these two searches).
_LD_JSON_SPELLINGS = ("ld+json", "LD+JSON")


class _TooManyCandidatesError(Exception):
    """The page names the searched word more often than a real page does: parse it instead."""


_Tags = Generator[tuple[int, int], int | None, None]


def _tags_around(page: str, words: tuple[str, ...]) -> _Tags:
    """(start, end) of each tag that holds one of `words`, `end` at its ">"; a word outside a tag,
    or in a tag longer than MAX_TAG, is passed over. The caller may skip ahead (past a script's
    text) by sending the position to search from next. Raises _TooManyCandidatesError after
    MAX_CANDIDATES words."""
    start = 0
    # Where each word next occurs at or after `start`, searched again only once passed: a word
    # the page lacks is searched for once.
    upcoming = dict.fromkeys(words, -2)
    for _ in range(MAX_CANDIDATES):
        for word, position in upcoming.items():
            if position != -1 and position < start:
                upcoming[word] = page.find(word, start)
        found = min((position for position in upcoming.values() if position != -1), default=-1)
        if found == -1:
            return
        # The tag holding `found` starts at the last "<" before it with no ">" in between.
        floor = max(start, found - MAX_TAG)
        tag_start = page.rfind("<", page.rfind(">", floor, found) + 1 or floor, found)
        tag_end = page.find(">", found) if tag_start != -1 else found
        if tag_end == -1:
            return  # no tag ends after this point
        start = tag_end + 1
        if tag_start != -1 and tag_end - tag_start <= MAX_TAG:
            start = (yield tag_start, tag_end) or start
    raise _TooManyCandidatesError


def json_ld_scripts(page: str) -> list[str]:
    """The text of every `<script type="application/ld+json">` of an HTML page, in page order."""
    scripts: list[str] = []
    tags = _tags_around(page, _LD_JSON_SPELLINGS)
    try:
        tag = next(tags, None)
        while tag is not None:
            tag_start, tag_end = tag
            resume = None
            if _SCRIPT_OPEN.match(page, tag_start) and _JSON_LD_TYPE.search(page, tag_start, tag_end):
                closing = _SCRIPT_CLOSE.search(page, tag_end + 1)
                if closing is None:
                    break
                scripts.append(page[tag_end + 1 : closing.start()])
                resume = closing.end()
            tag = _send(tags, resume)
    except _TooManyCandidatesError:
        return [
            script.text or ""
            for script in _parsed(page).iter("script")
            if "ld+json" in (script.get("type") or "").lower()
        ]
    return scripts


def meta_content(page: str, attribute: str, value: str) -> str | None:
    """The `content` of the first `<meta ATTRIBUTE="VALUE" content="...">`, attributes in any order.

    Found from the value, so a value written with a character reference is not found."""
    try:
        for tag_start, tag_end in _tags_around(page, (value,)):
            if _META_OPEN.match(page, tag_start):
                attributes = _tag_attributes(page[tag_start : tag_end + 1])
                if attributes.get(attribute) == value:
                    return attributes.get("content")
    except _TooManyCandidatesError:
        for meta in _parsed(page).iter("meta"):
            if meta.get(attribute) == value:
                return meta.get("content")
    return None


def _send(tags: _Tags, resume: int | None) -> tuple[int, int] | None:
    try:
        return tags.send(resume)
    except StopIteration:
        return None


def _tag_attributes(tag: str) -> dict[str, str]:
    """The attributes of one HTML start tag, as lxml's HTML parser reads them (names in lower case,
    character references resolved)."""
    try:
        element = lxml.html.fragment_fromstring(tag)
    except (etree.ParserError, ValueError):
        return {}
    return {str(name): str(text) for name, text in element.attrib.items()}


def _parsed(page: str) -> Any:
    try:
        return lxml.html.document_fromstring(page)
    except (etree.ParserError, ValueError):
        return lxml.html.fromstring("<html></html>")


def parse_json_ld(text: str) -> list[dict[str, Any]]:
    """The nodes of one JSON-LD script: an object, an array of objects, or a `@graph`, flattened.

    Raises ValueError (json.JSONDecodeError) when the script is not JSON. Control characters
    inside strings are accepted (`strict=False`): pages often put raw line breaks in descriptions.
    """
    text = text.strip()
    # Some CMSs wrap the script in a CDATA section for old XHTML parsers.
    text = text.removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
    if not text:
        return []
    return list(_flatten(json.loads(text, strict=False)))


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for entry in data:
            yield from _flatten(entry)
    elif isinstance(data, dict):
        if "@graph" in data:
            yield from _flatten(data["@graph"])
            if "@type" not in data:
                return
        yield data


def ld_types(node: dict[str, Any]) -> set[str]:
    """`@type` as local names: "Course", "http://schema.org/Course" and "schema:Course" are all "Course"."""
    types = node.get("@type") or []
    if isinstance(types, str):
        types = [types]
    return {str(name).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for name in types}


def find_typed(nodes: Iterable[Any], wanted: str) -> list[dict[str, Any]]:
    """Every node of type `wanted`, at any depth (a Course inside an ItemList or a WebPage's
    `mainEntity`), not looking inside the ones found (a Course's `hasPart` courses stay its own)."""
    found: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for entry in value:
                walk(entry)
        elif isinstance(value, dict):
            if wanted in ld_types(value):
                found.append(value)
                return
            for entry in value.values():
                walk(entry)

    walk(list(nodes))
    return found


def as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def ld_dicts(value: Any) -> list[dict[str, Any]]:
    return [entry for entry in as_list(value) if isinstance(entry, dict)]


def ld_text(value: Any) -> str | None:
    """A text value, also when it is given as a named thing (`{"@type": "DefinedTerm", "name": ...}`)."""
    if isinstance(value, list):
        value = next((entry for entry in value if ld_text(entry)), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("alternateName") or value.get("@value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def ld_names(value: Any) -> list[str]:
    """The names of one thing or a list of things (strings count as names), in order, without repeats."""
    names: list[str] = []
    for entry in as_list(value):
        name = ld_text(entry)
        if name and name not in names:
            names.append(name)
    return names


def ld_bool(value: Any) -> bool | Any:
    """JSON-LD booleans also come as text ("true", "False", "http://schema.org/True")."""
    if isinstance(value, str):
        word = value.strip().rsplit("/", 1)[-1].lower()
        if word in ("true", "false"):
            return word == "true"
    return value


def _keywords(value: Any) -> list[str]:
    # `keywords` is a list, a DefinedTerm, or one comma-separated text.
    words: list[str] = []
    for entry in as_list(value):
        text = ld_text(entry)
        parts = text.split(",") if isinstance(entry, str) and text else [text]
        words += [part.strip() for part in parts if part and part.strip()]
    return words


def _position(entry: dict[str, Any]) -> float:
    position = to_number(str(entry.get("position", "")), float)
    return position if isinstance(position, float) else float("inf")


class StructuredDataSpider(scrapy.Spider):
    """Turn the schema.org `Course` JSON-LD of a page into a `Course` item; concrete spiders declare.

    Every `<script type="application/ld+json">` of the page is read; a script may hold one object,
    an array, or a `@graph`, and the Course may sit at any depth (an `ItemList`, a `WebPage`'s
    `mainEntity`). Values stay raw — normalising is the pipeline's job — except that numbers given
    as text ("4.5") become numbers and "true"/"false" booleans:

    - `name`, `description`, `inLanguage` → in_language, `educationalLevel` → level,
      `dateModified` → date_modified, `about` → subjects, `teaches` + `keywords` → skills_declared;
    - `timeRequired` → duration (else the first `hasCourseInstance`'s `courseWorkload`), the
      instance's `courseMode` → course_mode; every instance (mode, workload, start and end date,
      instructors) is kept in extras `course_instances`;
    - `offers` (an Offer, a list, an AggregateOffer; also the instances' offers): the first with a
      price gives price (`price`, else `lowPrice`) and currency (`priceCurrency`, also inside a
      `priceSpecification`); its `category` goes to extras `offer_category`, a `highPrice` to
      `high_price`, and all offers to `offers` when there are several;
    - `isAccessibleForFree` → is_free; `aggregateRating` → rating (`ratingValue`) and rating_count
      (`ratingCount`, else `reviewCount`), a `bestRating` other than 5 → extras `best_rating`;
    - `educationalCredentialAwarded` / `occupationalCredentialAwarded` (text or an
      `EducationalOccupationalCredential`: its `credentialCategory`, else its name) → credential;
    - `provider`: the platform when the spider declares none (a page of any site), else the
      institution teaching the course when it names someone other than the platform; `publisher`
      → extras `publisher` when it is neither the provider nor the platform;
    - instructors (the instances' `instructor`, the Persons among `creator`) → extras
      `instructors`; the page's BreadcrumbList → extras `breadcrumb` ([{name, url}]);
      `datePublished`, `audience`, `coursePrerequisites`, `courseCode`, `numberOfCredits` → extras.

    `url` is the page read (after redirects) and `provider_ref` its last path segment; a page with
    several Courses gives each its own `url`/`@id` and ref.

    Declarations:

    - `provider`: the platform (Udemy, Coursera...); applied by the defaults pipeline. None for a
      spider reading pages of any site, which takes the provider from the page.
    - `start_urls`: pages to parse when the spider has no sitemap or listing of its own.

    Hooks:

    - `post_process_item(self, item, response, course_ld) -> Course | None`: called with the item
      built from one Course node (`course_ld`, the raw dict) and the page; fix or add fields from
      the page, or return None to skip it (counted as `skillstack/jsonld/skipped`).
    - `provider_ref_for(self, url, course_ld) -> str | None`: the provider's reference for a course
      (default: the last path segment of its URL).

    Counted in the stats: `skillstack/jsonld/course` (Courses read), `skillstack/jsonld/invalid`
    (a script that is not JSON: logged as an error, the rest of the page is still read),
    `skillstack/jsonld/no_course` (a page without a Course: logged as a warning),
    `skillstack/pages/unavailable` (a page that could not be downloaded: logged as an error).

    Spider argument `urls` (see crawlers/page_requests.py): parse exactly these pages instead of
    `start_urls`; the run is marked partial.
    """

    provider: ClassVar[str | None] = None
    accepts_urls: ClassVar[bool] = True

    def __init__(self, *args: Any, urls: str | Iterable[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.urls = urls_argument(urls)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.urls:
            mark_partial(self.crawler, "urls")
        for url in self.urls or self.start_urls:
            yield scrapy.Request(url, callback=self.parse, errback=self.page_unavailable)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Course]:
        nodes = self.json_ld_nodes(response)
        courses = find_typed(nodes, "Course")
        if not courses:
            self._count("skillstack/jsonld/no_course")
            self.logger.warning("no schema.org Course in the JSON-LD of %s", response.url)
            return
        breadcrumb = self._breadcrumb(nodes, response)
        for course_ld in courses:
            self._count("skillstack/jsonld/course")
            url = response.url if len(courses) == 1 else self._course_url(course_ld, response)
            item = self.course_item(course_ld, url)
            if breadcrumb:
                item.setdefault("extras", {})["breadcrumb"] = breadcrumb
            item = self.post_process_item(item, response, course_ld)
            if item is None:
                self._count("skillstack/jsonld/skipped")
                continue
            yield item

    def post_process_item(self, item: Course, response: Response, course_ld: dict[str, Any]) -> Course | None:
        return item

    def provider_ref_for(self, url: str, course_ld: dict[str, Any]) -> str | None:
        segments = [segment for segment in urlsplit(url).path.split("/") if segment]
        return segments[-1] if segments else None

    def page_unavailable(self, failure: Failure) -> None:
        log_unavailable(self, failure, "page")

    def json_ld_nodes(self, response: Response) -> list[dict[str, Any]]:
        """Every JSON-LD node of the page; a script that is not JSON is counted, logged and skipped."""
        if not isinstance(response, TextResponse):
            return []
        nodes: list[dict[str, Any]] = []
        invalid: list[tuple[int, Exception]] = []
        for position, script in enumerate(json_ld_scripts(response.text), start=1):
            try:
                nodes += parse_json_ld(script)
            # RecursionError: JSON nested deeper than Python's stack ("[" repeated).
            except (ValueError, RecursionError) as exc:
                invalid.append((position, exc))
        if invalid:
            self._count("skillstack/jsonld/invalid", len(invalid))
            # One error per page, however many of its scripts are broken: the error budget counts
            # errors in a row, and one page of fifty broken scripts must not close its source.
            position, exc = invalid[0]
            more = f" (and {len(invalid) - 1} more of its scripts)" if len(invalid) > 1 else ""
            self.logger.error("JSON-LD script %d of %s is not valid JSON: %.200s%s", position, response.url, exc, more)
        return nodes

    def course_item(self, course: dict[str, Any], url: str) -> Course:
        """The item for one Course node, with the mapping of the class docstring."""
        item = Course(url=url)
        extras: dict[str, Any] = {}
        self._set(item, "provider_ref", self.provider_ref_for(url, course))
        self._set(item, "name", ld_text(course.get("name")))
        self._set(item, "description", ld_text(course.get("description")))
        languages = ld_names(course.get("inLanguage"))
        self._set(item, "in_language", languages[0] if len(languages) == 1 else languages)
        self._set(item, "level", ld_text(course.get("educationalLevel")))
        self._set(item, "date_modified", ld_text(course.get("dateModified")))
        self._set(item, "subjects", ld_names(course.get("about")))
        skills = ld_names(course.get("teaches")) + _keywords(course.get("keywords"))
        self._set(item, "skills_declared", list(dict.fromkeys(skills)))
        if "isAccessibleForFree" in course:
            item["is_free"] = ld_bool(course["isAccessibleForFree"])
        instances = ld_dicts(course.get("hasCourseInstance"))
        self._instances(item, course, instances, extras)
        instance_offers = [offer for instance in instances for offer in ld_dicts(instance.get("offers"))]
        self._offers(item, ld_dicts(course.get("offers")) + instance_offers, extras)
        self._rating(item, course.get("aggregateRating"), extras)
        self._set(item, "credential", self._credential(course))
        self._organisations(item, course, extras)
        instructors = [name for i in instances for name in ld_names(i.get("instructor"))]
        # `creator`, not `author`: a third-party page's author is whoever wrote the page.
        instructors += ld_names([person for person in ld_dicts(course.get("creator")) if "Person" in ld_types(person)])
        self._set_extra(extras, "instructors", list(dict.fromkeys(instructors)))
        self._set_extra(extras, "date_published", ld_text(course.get("datePublished")))
        audience = course.get("audience")
        self._set_extra(extras, "audience", audience.get("audienceType") if isinstance(audience, dict) else audience)
        self._set_extra(extras, "prerequisites", ld_names(course.get("coursePrerequisites")))
        self._set_extra(extras, "course_code", ld_text(course.get("courseCode")))
        self._set_extra(extras, "credits", course.get("numberOfCredits"))
        if extras:
            item["extras"] = extras
        return item

    def _instances(self, item: Course, course: dict[str, Any], instances: list[dict[str, Any]], extras: dict) -> None:
        self._set(item, "duration", ld_text(course.get("timeRequired")))
        if not instances:
            return
        first = instances[0]
        modes = ld_names(first.get("courseMode"))
        self._set(item, "course_mode", ", ".join(modes) if modes else None)
        if "duration" not in item:
            self._set(item, "duration", ld_text(first.get("courseWorkload")))
        described = []
        for instance in instances:
            fields = {
                "course_mode": ld_names(instance.get("courseMode")),
                "course_workload": ld_text(instance.get("courseWorkload")),
                "start_date": ld_text(instance.get("startDate")),
                "end_date": ld_text(instance.get("endDate")),
                "instructors": ld_names(instance.get("instructor")),
                "location": ld_text(instance.get("location")),
            }
            described.append({key: value for key, value in fields.items() if value})
        extras["course_instances"] = described

    def _offers(self, item: Course, offers: list[dict[str, Any]], extras: dict) -> None:
        for offer in offers:
            specification = (ld_dicts(offer.get("priceSpecification")) or [{}])[0]
            candidates = (offer.get("price"), offer.get("lowPrice"), specification.get("price"))
            price = next((value for value in candidates if value not in (None, "")), None)
            if price is None:
                continue
            item["price"] = to_number(price, float) if isinstance(price, str) else price
            self._set(item, "currency", ld_text(offer.get("priceCurrency") or specification.get("priceCurrency")))
            self._set_extra(extras, "offer_category", ld_text(offer.get("category")))
            self._set_extra(extras, "high_price", offer.get("highPrice"))
            break
        if len(offers) > 1:
            extras["offers"] = [{k: v for k, v in offer.items() if not k.startswith("@")} for offer in offers]

    def _rating(self, item: Course, rating: Any, extras: dict) -> None:
        if not ld_dicts(rating):
            return
        rating = ld_dicts(rating)[0]
        for field, key, kind in (("rating", "ratingValue", float), ("rating_count", "ratingCount", int)):
            value = rating.get(key)
            if value is None and field == "rating_count":
                value = rating.get("reviewCount")
            if value is not None:
                item[field] = to_number(value, kind) if isinstance(value, str) else value
        best = rating.get("bestRating")
        if best is not None and to_number(str(best), float) != 5:
            extras["best_rating"] = best

    def _credential(self, course: dict[str, Any]) -> str | None:
        for key in ("educationalCredentialAwarded", "occupationalCredentialAwarded"):
            for credential in as_list(course.get(key)):
                if isinstance(credential, dict):
                    text = ld_text(credential.get("credentialCategory")) or ld_text(credential)
                else:
                    text = ld_text(credential)
                if text:
                    return text
        return None

    def _organisations(self, item: Course, course: dict[str, Any], extras: dict) -> None:
        providers = ld_names(course.get("provider"))
        publishers = ld_names(course.get("publisher"))
        if self.provider is None:
            self._set(item, "provider", (providers or publishers or [None])[0])
        elif providers and providers[0].casefold() != self.provider.casefold():
            item["institution"] = providers[0]
        known = {name.casefold() for name in [*providers[:1], self.provider or ""]}
        if publishers and publishers[0].casefold() not in known:
            extras["publisher"] = publishers[0]

    def _breadcrumb(self, nodes: list[dict[str, Any]], response: Response) -> list[dict[str, str]]:
        for trail in find_typed(nodes, "BreadcrumbList"):
            crumbs = []
            for entry in sorted(ld_dicts(trail.get("itemListElement")), key=_position):
                target = entry.get("item")
                name = ld_text(entry.get("name")) or ld_text(target)
                url = (target.get("@id") or target.get("url")) if isinstance(target, dict) else target
                if not name:
                    continue
                crumb = {"name": name}
                if isinstance(url, str) and url.strip():
                    crumb["url"] = urljoin(response.url, url.strip())
                crumbs.append(crumb)
            if crumbs:
                return crumbs
        return []

    def _course_url(self, course: dict[str, Any], response: Response) -> str:
        own = course.get("url") or course.get("@id")
        if isinstance(own, str) and own.strip():
            return urljoin(response.url, own.strip()).split("#", 1)[0]
        return response.url

    @staticmethod
    def _set(item: Course, field: str, value: Any) -> None:
        if value not in (None, "", []):
            item[field] = value

    @staticmethod
    def _set_extra(extras: dict, key: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            extras[key] = value

    def _count(self, stat: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(stat, count)
