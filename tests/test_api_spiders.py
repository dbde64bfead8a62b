"""The API and feed spiders on their real captures from tests/captures, and the bases they share.

One module though over 600 lines: each spider's test sits beside its base's, on the same bases'
behaviour (pagination, JSON paths, records that cannot be read), so a change to a base is checked on
its small fakes and on every real capture in one place.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pickle
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse

from crawlers.api_spider import (
    JsonApiSpider,
    NextLink,
    NextParam,
    OffsetParam,
    PageNumber,
    XmlApiSpider,
    _absolute,
    json_path,
    without_tracking,
)
from crawlers.items import Course
from crawlers.middlewares.credentials import WITHHELD_STAT, CredentialsMiddleware
from crawlers.pipelines.validate_course import VALIDATORS
from crawlers.runner import crawler_settings
from crawlers.spiders.coursera_api import CourseraApiSpider
from crawlers.spiders.edx_catalog import EdxCatalogSpider
from crawlers.spiders.edx_rss import EdxRssSpider
from crawlers.spiders.futurelearn import FuturelearnSpider
from crawlers.spiders.iversity import IversitySpider
from crawlers.spiders.khan_academy import KhanAcademySpider
from crawlers.spiders.mit_ocw import MitOcwSpider
from crawlers.spiders.mit_sloan import MitSloanSpider
from crawlers.spiders.mitxonline import MitxonlineSpider
from crawlers.spiders.mitxpro import MitxproSpider
from crawlers.spiders.mslearn import MslearnSpider
from crawlers.spiders.udacity import UdacitySpider
from tests.helpers import crawl_capture, new_spider

API_SPIDERS = [
    CourseraApiSpider,
    EdxCatalogSpider,
    EdxRssSpider,
    FuturelearnSpider,
    IversitySpider,
    KhanAcademySpider,
    MitOcwSpider,
    MitSloanSpider,
    MitxonlineSpider,
    MitxproSpider,
    MslearnSpider,
    UdacitySpider,
]


def parse(spider: Spider, response: Response) -> tuple[list[Course], list[Request]]:
    output = list(spider.parse(response))
    return [o for o in output if isinstance(o, Course)], [o for o in output if isinstance(o, Request)]


def start_requests(spider: Spider) -> list[Request]:
    async def collect(start: AsyncIterator[Request]) -> list[Request]:
        return [request async for request in start]

    return asyncio.run(collect(spider.start()))


def json_response(url: str, payload: Any) -> TextResponse:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
    return TextResponse(url, body=body, encoding="utf-8", request=Request(url))


# ---------------------------------------------------------------- every spider on its capture


@pytest.mark.parametrize("spider_cls", API_SPIDERS, ids=lambda cls: cls.name)
def test_every_item_passes_the_course_validators(spider_cls, mirror_response):
    courses, _, stats = crawl_capture(spider_cls, mirror_response)
    assert courses
    for course in courses.values():
        assert course.get("name"), course
        assert course.get("url"), course
        invalid = {field: value for field, value in course.items() if not VALIDATORS[field](value)}
        assert invalid == {}, course["provider_ref"]
    assert not stats.get_value("skillstack/json/malformed")


def test_coursera_api_resolves_linked_partners_and_instructors(mirror_response):
    courses, requests, _ = crawl_capture(CourseraApiSpider, mirror_response)
    assert len(courses) == 2
    digital = courses["v1-228"]
    assert digital["name"] == "Creative Programming for Digital Media & Mobile Apps"
    assert digital["institution"] == "University of London"  # partner 26, from linked partners.v1
    assert digital["url"] == "https://www.coursera.org/learn/digitalmedia"
    assert digital["duration"] == "5-10 hours/week"
    assert digital["in_language"] == ["en"]
    assert "credential" not in digital  # no certificates
    # One instructor has no fullName: the name is built from its parts.
    assert digital["extras"]["instructors"] == ["Dr Marco Gillies", "Dr Mathew Yee-King", "Dr Mick Grierson"]
    gamification = courses["69Bku0KoEeWZtA4u62x6lQ"]
    assert gamification["institution"] == "University of Pennsylvania"
    assert gamification["credential"] == "VerifiedCert"
    assert gamification["subjects"] == ["design-and-product", "marketing"]
    assert gamification["extras"]["start_date"] == 1447095621493
    assert gamification["extras"]["instructors"] == ["Kevin Werbach"]
    # paging.next is the start offset of the next page.
    assert [request.url for request in requests] == ["https://api.coursera.org/api/courses.v1?start=2"]


def test_coursera_api_asks_for_fields_and_linked_records(mirror):
    spider, _ = new_spider(CourseraApiSpider)
    [request] = start_requests(spider)
    assert request.url.startswith("https://api.coursera.org/api/courses.v1?includes=partnerIds,instructorIds&fields=")
    assert "partners.v1(name,shortName)" in request.url
    assert request.headers["Accept"] == b"application/json"


def test_coursera_api_next_page_answered_with_the_same_courses_ends_the_crawl(mirror_response):
    spider, stats = new_spider(CourseraApiSpider)
    first_items, [next_page] = parse(spider, mirror_response(CourseraApiSpider.start_urls[0]))
    repeat_items, further = parse(spider, mirror_response(next_page.url))
    assert (len(first_items), repeat_items, further) == (2, [], [])
    assert stats.get_value("skillstack/records/duplicate") == 2


def test_edx_catalog_courses_take_price_and_dates_from_the_current_run(mirror_response):
    courses, requests, _ = crawl_capture(EdxCatalogSpider, mirror_response)
    assert requests == []  # "next": "" on the courses page; the programs capture is one list
    edge = courses["MITx+15.071x"]
    assert edge["name"] == "The Analytics Edge"
    assert edge["institution"] == "Massachusetts Institute of Technology"
    assert edge["url"] == "https://www.edx.org/course/the-analytics-edge"  # the run's page, not localhost
    assert (edge["price"], edge["currency"], edge["credential"], edge["is_free"]) == (150.0, "USD", "verified", True)
    assert edge["level"] == "Intermediate"
    assert edge["course_mode"] == "instructor_paced"
    assert (edge["duration"], edge["weeks"]) == ("10-15 hours/week", "13 weeks")
    assert edge["in_language"] == "en-us"
    assert edge["subjects"] == ["Data Analysis & Statistics"]
    assert edge["enrollments"] == 90600
    assert edge["description"] == "full description"  # a placeholder in the capture, kept raw
    [run] = edge["extras"]["runs"]
    assert (run["start"], run["end"]) == ("2019-02-20T15:00:00Z", "2019-05-22T23:30:00Z")
    assert run["seats"][0] == {
        "type": "verified",
        "price": "150.00",
        "currency": "USD",
        "upgrade_deadline": "2019-03-20T15:00:00Z",
    }
    assert (edge["extras"]["min_effort"], edge["extras"]["max_effort"]) == (10, 15)


def test_edx_catalog_course_without_seats_or_a_published_run(mirror_response):
    courses, _, _ = crawl_capture(EdxCatalogSpider, mirror_response)
    review = courses["MITx+8.370.3x_review"]
    assert review["url"] == "https://www.edx.org/course/quantum-information-science-i-part-3-review"  # utm_ dropped
    assert {"price", "is_free", "description"}.isdisjoint(review)
    assert review["duration"] == "5-7 hours/week"  # the API has min 7, max 5
    assert review["extras"]["runs"][0]["availability"] == "Archived"


def test_edx_catalog_programs(mirror_response):
    courses, _, _ = crawl_capture(EdxCatalogSpider, mirror_response)
    programs = {ref: item for ref, item in courses.items() if ref.startswith("program:")}
    assert (len(programs), len(courses)) == (3, 5)
    circuits = programs["program:927093e3-46ba-4f44-a861-0f8c7aec4f74"]
    assert circuits["name"] == "Circuits and Electronics"
    assert circuits["credential"] == "XSeries"
    assert circuits["url"] == "https://www.edx.org/xseries/mitx-circuits-and-electronics"
    assert [course["key"] for course in circuits["extras"]["courses"]] == [
        "MITx+6.002.1x",
        "MITx+6.002.2x",
        "MITx+6.002.3x",
    ]
    accounting = programs["program:84811e48-94e6-4738-8e15-e019b289e374"]
    assert (accounting["credential"], accounting["institution"]) == ("MicroMasters", "Indiana University")
    assert (accounting["extras"]["status"], accounting["extras"]["hidden"]) == ("retired", True)


def test_mitxonline(mirror_response):
    courses, requests, _ = crawl_capture(MitxonlineSpider, mirror_response)
    assert len(courses) == 3
    assert requests == []  # "next": null
    equations = courses["course-v1:MITxT+18.03.1x"]
    assert equations["name"] == "Introduction to Differential Equations"
    assert equations["url"] == "https://mitxonline.mit.edu/courses/course-v1:MITxT+18.03.1x/"
    assert (equations["price"], equations["currency"]) == (100, "USD")
    assert (equations["extras"]["min_price"], equations["extras"]["max_price"]) == (123, 456)
    assert equations["credential"] == "Certificate of Completion"
    assert (equations["duration"], equations["weeks"]) == ("7 hrs/wk", "14 weeks")
    assert equations["is_free"] is True  # the current run (next_run_id 256) has an audit mode
    assert equations["extras"]["current_run"] == "course-v1:MITxT+18.03.1x+2T2024"
    assert equations["extras"]["runs"][0]["start_date"] == "2024-09-04T15:00:00Z"
    linear = courses["course-v1:MITxT+18.03.3x"]
    assert linear["price"] == 123  # no current price on the page: min_price
    assert linear["is_free"] is False  # verified only


def test_mitxpro(mirror_response):
    courses, _, _ = crawl_capture(MitxproSpider, mirror_response)
    assert len(courses) == 2
    culture = courses["course-v1:xPRO+LASERx3"]
    assert culture["name"] == "Navigating and Leveraging Culture and Networks"
    assert culture["url"] == "https://xpro.mit.edu/courses/course-v1:xPRO+LASERx3/"
    assert (culture["price"], culture["currency"]) == (999.0, "USD")
    assert (culture["duration"], culture["weeks"]) == ("5-7 Hours per Week", "3-4 Weeks")
    assert culture["extras"]["ceus"] == "1.25"
    assert culture["extras"]["current_run"] == "course-v1:xPRO+LASERx3+R16"
    assert culture["extras"]["instructors"] == ["John Van Maanen", "David Niño", "Ray Reagans"]


def test_futurelearn(mirror_response):
    courses, _, _ = crawl_capture(FuturelearnSpider, mirror_response)
    [game] = courses.values()
    assert game["provider_ref"] == "d3995b4d-3aa4-469b-abe8-3de3bfa43657"
    assert game["name"] == "Begin Programming: Build Your First Mobile Game"
    assert game["url"] == "http://www.futurelearn.com/courses/begin-programming"  # campaign tags dropped
    assert game["institution"] == "University of Reading"
    assert game["course_mode"] == "scheduled"
    assert (game["duration"], game["weeks"]) == ("4 hours per week", "7 weeks")
    assert game["extras"]["hours_per_week"] == 4
    assert [run["start_date"] for run in game["extras"]["runs"]] == ["2013-10-28", "2014-02-24", "2014-10-20"]
    assert game["credential"] == "certificate"


def test_udacity(mirror_response):
    courses, _, _ = crawl_capture(UdacitySpider, mirror_response)
    cs101 = courses["cs101"]
    assert len(courses) == 1
    assert cs101["name"] == "Intro to Computer Science"
    assert cs101["url"] == "https://www.udacity.com/course/intro-to-computer-science--cs101"
    assert (cs101["level"], cs101["weeks"]) == ("beginner", "3 months")
    assert cs101["subjects"] == ["Data Science", "Web Development", "Software Engineering"]
    assert cs101["extras"]["instructors"] == ["Dave Evans"]


def test_iversity(mirror_response):
    courses, _, _ = crawl_capture(IversitySpider, mirror_response)
    algorithms = courses["441"]
    assert len(courses) == 1
    assert algorithms["name"] == "Algorithmen und Datenstrukturen"
    assert algorithms["institution"] == "Universität Osnabrück"  # "Universit&auml;t" in the API
    assert (algorithms["price"], algorithms["credential"]) == ("49 €", "Certificate Track")
    assert algorithms["is_free"] is True  # the audit track has no price
    assert (algorithms["in_language"], algorithms["level"], algorithms["weeks"]) == ("German", "Beginner", "14")
    assert algorithms["extras"]["ects_available"] == "true"
    assert {"title": "ECTS-Track", "price": "149 €", "credits": None} in algorithms["extras"]["tracks"]


def test_mslearn_doc_sample(mirror_response):
    courses, _, _ = crawl_capture(MslearnSpider, mirror_response)
    assert set(courses) == {
        "learn.principles-cloud-computing",
        "learn.create-serverless-applications",
        "course.mb-230t01",
        "certification.d365-functional-consultant-customer-service",
    }
    cloud = courses["learn.principles-cloud-computing"]
    assert (cloud["rating"], cloud["rating_count"]) == (4.84, 2014)
    assert cloud["hours"] == 1.03  # 62 minutes
    assert cloud["level"] == "beginner"
    assert cloud["skills_declared"] == ["azure", "azure-portal", "azure-resource-manager"]
    assert cloud["extras"]["roles"] == ["Administrator", "Business Analyst", "Developer"]  # named by the payload
    assert courses["learn.create-serverless-applications"]["level"] == "beginner, intermediate"
    assert courses["course.mb-230t01"]["hours"] == 72
    certification = courses["certification.d365-functional-consultant-customer-service"]
    assert certification["credential"] == "role-based certification"
    assert certification["extras"]["exams"] == [{"uid": "exam.77-881", "title": "Word 2010"}]
    assert certification["url"] == "https://docs.microsoft.com/en-us/cert-exam-sandbox/cert/"  # WT.mc_id dropped


def test_mit_sloan(mirror_response):
    courses, _, _ = crawl_capture(MitSloanSpider, mirror_response)
    assert len(courses) == 99
    first = courses["a056g00000URaaQAAT"]
    assert first["name"] == "Accelerating Digital Transformation with Algorithmic Business Thinking"
    assert first["skills_declared"] == ["Business: Digital Business/IT"]
    assert first["credential"] == "Digital Business"
    assert first["institution"] == "MIT Sloan School of Management"
    assert first["url"].startswith("https://executive.mit.edu/course/accelerating-digital-transformation")
    assert sum("skills_declared" not in course for course in courses.values()) == 3  # Topics null
    assert sum("credential" not in course for course in courses.values()) == 1


def test_khan_academy_one_course_per_subject(mirror_response):
    courses, _, _ = crawl_capture(KhanAcademySpider, mirror_response)
    assert len(courses) == 48
    algebra = courses["algebra"]
    assert algebra["name"] == "Algebra I"
    assert algebra["extras"]["path"] == "Math > Algebra I"
    assert algebra["url"] == "https://www.khanacademy.org/math/algebra"
    assert algebra["subjects"] == ["Math"]
    assert algebra["skills_declared"][:3] == ["Introduction to algebra", "Linear equations", "Linear inequalities"]
    assert algebra["is_free"] is True
    assert courses["microeconomics"]["extras"]["path"] == "Economics and finance > Microeconomics"


def test_edx_rss(mirror_response):
    courses, requests, _ = crawl_capture(EdxRssSpider, mirror_response)
    mobile = courses["course-v1:MITx+21W.789.4x+1T2016"]
    assert len(courses) == 1
    assert mobile["name"] == "Mobile Application Experiences Part 4: Understanding Use"
    assert mobile["url"] == "https://www.edx.org/course/mobile-application-experiences-part-4-mitx-21w-789-4x"
    assert mobile["institution"] == "MITx"
    assert mobile["subjects"] == ["Computer Science", "Business & Management", "Social Sciences", "Engineering"]
    assert (mobile["duration"], mobile["weeks"]) == ("10-12 hours/week", "4 weeks")
    assert mobile["course_mode"] == "instructor_paced"
    assert "credential" not in mobile  # course:verified is 0
    assert (mobile["extras"]["start"], mobile["extras"]["end"]) == ("2016-04-25 00:00:00", "2016-05-23 00:00:00")
    assert mobile["extras"]["instructors"] == ["Frank Bentley", "Ed Barrett"]
    assert [request.url for request in requests] == ["https://www.edx.org/api/v2/report/course-feed/rss?page=1"]


def test_mit_ocw(mirror_response):
    courses, _, _ = crawl_capture(MitOcwSpider, mirror_response)
    [(ref, course)] = courses.items()
    assert ref == "16-01-unified-engineering-i-ii-iii-iv-fall-2005-spring-2006"
    assert course["url"] == "https://ocw.mit.edu/courses/16-01-unified-engineering-i-ii-iii-iv-fall-2005-spring-2006/"
    assert course["name"] == "Unified Engineering I, II, III, & IV"
    assert course["level"] == "Undergraduate, High School"
    assert course["subjects"][0] == "Social Science > Anthropology > Ethnography"
    assert course["extras"]["course_number"] == "16.01"
    assert course["is_free"] is True


def test_limit_stops_items_and_pagination(mirror_response):
    courses, _, _ = crawl_capture(MitSloanSpider, mirror_response, limit="5")
    assert len(courses) == 5
    _, requests, _ = crawl_capture(CourseraApiSpider, mirror_response, limit=2)
    assert requests == []


# ---------------------------------------------------------------- credentials


def test_live_without_credentials_logs_one_line_and_closes(monkeypatch, caplog):
    monkeypatch.delenv("SKILLSTACK_MIRROR", raising=False)
    monkeypatch.delenv("EDX_API_TOKEN", raising=False)
    spider, _ = new_spider(EdxCatalogSpider)
    with caplog.at_level(logging.INFO), pytest.raises(CloseSpider) as closed:
        start_requests(spider)
    assert closed.value.reason == "credentials_missing"
    assert [record.getMessage() for record in caplog.records] == [
        "edx_catalog: set EDX_API_TOKEN to crawl the live edX API (api.edx.org, discovery.edx.org); skipped"
    ]


def with_credentials_middleware(spider: Spider) -> CredentialsMiddleware:
    spider.crawler.spider = spider
    return CredentialsMiddleware.from_crawler(spider.crawler)


def test_live_credentials_go_only_over_https_to_the_sources_own_hosts(monkeypatch):
    monkeypatch.delenv("SKILLSTACK_MIRROR", raising=False)
    monkeypatch.setenv("EDX_API_TOKEN", "t0ken")
    spider, stats = new_spider(EdxCatalogSpider)
    middleware = with_credentials_middleware(spider)
    starts = start_requests(spider)
    assert [request.url for request in starts] == EdxCatalogSpider.start_urls
    # No request object holds the token: it could be pickled into the cache or a Redis queue.
    assert ["Authorization" in request.headers for request in starts] == [False, False]

    page = "https://api.edx.org/catalog/v1/catalogs/10/courses"
    follow = {}
    for name, next_link in [
        ("other host", "https://attacker.example/catalog/v1/catalogs/10/courses?page=2"),
        ("http", "http://api.edx.org/catalog/v1/catalogs/10/courses?page=2"),
        ("own host", "https://api.edx.org/catalog/v1/catalogs/10/courses?page=2"),
    ]:
        _, [request] = parse(spider, json_response(page, {"results": [], "next": next_link}))
        assert request.url == next_link
        middleware.process_request(request)
        follow[name] = request.headers.get("Authorization")
    assert follow == {"other host": None, "http": None, "own host": b"JWT t0ken"}
    assert stats.get_value(WITHHELD_STAT) == 2

    sent = starts[1]  # discovery.edx.org, the other start host
    middleware.process_request(sent)
    assert sent.headers["Authorization"] == b"JWT t0ken"
    # Taken off as the response comes back, before the cache, retries or redirects see the request.
    middleware.process_response(sent, Response(sent.url, status=401, request=sent))
    assert "Authorization" not in sent.headers
    assert b"t0ken" not in pickle.dumps(sent.to_dict(spider=spider))


def test_credentials_are_added_last_before_the_download():
    middlewares = crawler_settings().getdict("DOWNLOADER_MIDDLEWARES")
    scrapy_defaults = crawler_settings().getdict("DOWNLOADER_MIDDLEWARES_BASE")
    credentials = middlewares["crawlers.middlewares.credentials.CredentialsMiddleware"]
    assert credentials > max(
        order for order in {**scrapy_defaults, **middlewares}.values() if order not in (None, credentials)
    )


def test_mirror_needs_no_credentials(mirror, monkeypatch):
    monkeypatch.delenv("EDX_API_TOKEN", raising=False)
    spider, _ = new_spider(EdxCatalogSpider)
    requests = start_requests(spider)
    assert len(requests) == 2
    assert "Authorization" not in requests[0].headers


# ---------------------------------------------------------------- the bases


class TinyApiSpider(JsonApiSpider):
    name = "tiny_api"
    provider = "Example"
    start_urls = ["https://api.example.org/courses/"]
    records_path = "data.results"
    pagination = NextLink("data.next")
    field_map = {
        "provider_ref": "id",
        "name": "title",
        "url": "links.0.href",
        "price": "price",
        "skills_declared": "tags.label",
        "subjects": "category",
    }
    extras_map = {"kind": "kind"}


def tiny_page(*records: dict[str, Any], next_link: str | None = None) -> dict[str, Any]:
    return {"data": {"results": list(records), "next": next_link}}


COURSE_ONE = {
    "id": 1,
    "title": " Intro to SQL ",
    "links": [{"href": "/c/1?utm_source=feed&ref=7"}],
    "price": "19.90",
    "tags": [{"label": "SQL"}, {"label": "Databases"}, {"label": "SQL"}],
    "category": "Data",
    "kind": "",
}


def test_base_maps_fields_and_follows_a_relative_next_link():
    spider, stats = new_spider(TinyApiSpider)
    page = json_response(TinyApiSpider.start_urls[0], tiny_page(COURSE_ONE, next_link="?page=2"))
    [item], [follow] = parse(spider, page)
    assert dict(item) == {
        "provider_ref": "1",
        "name": "Intro to SQL",
        "url": "https://api.example.org/c/1?ref=7",
        "price": 19.9,
        "skills_declared": ["SQL", "Databases"],
        "subjects": ["Data"],
    }
    assert follow.url == "https://api.example.org/courses/?page=2"
    assert follow.callback == spider.parse
    assert stats.get_value("skillstack/records/read") == 1


def test_base_stops_when_a_page_brings_nothing_new():
    spider, stats = new_spider(TinyApiSpider)
    parse(spider, json_response(TinyApiSpider.start_urls[0], tiny_page(COURSE_ONE, next_link="?page=2")))
    repeat = json_response("https://api.example.org/courses/?page=2", tiny_page(COURSE_ONE, next_link="?page=3"))
    assert parse(spider, repeat) == ([], [])
    assert stats.get_value("skillstack/records/duplicate") == 1


def test_base_counts_malformed_json_and_goes_on(caplog):
    spider, stats = new_spider(TinyApiSpider)
    with caplog.at_level(logging.ERROR):
        assert parse(spider, json_response(TinyApiSpider.start_urls[0], b'{"data": {"results": [')) == ([], [])
    assert stats.get_value("skillstack/json/malformed") == 1
    assert "is not valid JSON" in caplog.text
    # nesting too deep for any parser's stack is malformed JSON too, not a crash of the callback
    assert parse(spider, json_response(TinyApiSpider.start_urls[0], b"[" * 100_000)) == ([], [])
    assert stats.get_value("skillstack/json/malformed") == 2
    # The next page parses as before.
    items, _ = parse(spider, json_response(TinyApiSpider.start_urls[0] + "?page=2", tiny_page(COURSE_ONE)))
    assert [item["provider_ref"] for item in items] == ["1"]


def test_base_counts_records_that_are_not_a_list():
    spider, stats = new_spider(TinyApiSpider)
    error = {"data": {"results": {"detail": "Authentication credentials were not provided."}}}
    assert parse(spider, json_response(TinyApiSpider.start_urls[0], error)) == ([], [])
    assert parse(spider, json_response(TinyApiSpider.start_urls[0], {"detail": "Not found."})) == ([], [])
    assert parse(spider, json_response(TinyApiSpider.start_urls[0], b"null")) == ([], [])
    assert stats.get_value("skillstack/json/records_not_a_list") == 3
    assert not stats.get_value("skillstack/json/malformed")


def test_base_hook_can_skip_a_record():
    class SkipFreeSpider(TinyApiSpider):
        name = "skip_free"

        def parse_record(self, record, item, page):
            return None if record.get("price") == "0" else item

    spider, stats = new_spider(SkipFreeSpider)
    free = {**COURSE_ONE, "id": 2, "price": "0"}
    items, _ = parse(spider, json_response(TinyApiSpider.start_urls[0], tiny_page(COURSE_ONE, free)))
    assert [item["provider_ref"] for item in items] == ["1"]
    assert stats.get_value("skillstack/records/skipped") == 1


def test_base_counts_records_it_cannot_read_and_keeps_the_rest_of_the_page(caplog):
    class StrictSpider(TinyApiSpider):
        name = "strict"

        def parse_record(self, record, item, page):
            item["hours"] = float(record["hours"])  # KeyError on a record without hours
            return item

    spider, stats = new_spider(StrictSpider)
    good = {**COURSE_ONE, "hours": "3"}
    page = tiny_page(COURSE_ONE, "not an object", {**good, "id": 2}, next_link="?page=2")
    with caplog.at_level(logging.ERROR):
        items, follow = parse(spider, json_response(TinyApiSpider.start_urls[0], page))
    assert [(item["provider_ref"], item["hours"]) for item in items] == [("2", 3.0)]
    assert len(follow) == 1
    assert stats.get_value("skillstack/records/failed") == 1
    assert stats.get_value("skillstack/records/malformed") == 1


def test_base_follows_the_next_page_when_the_hook_skipped_every_record():
    class SkipAllSpider(TinyApiSpider):
        name = "skip_all"

        def parse_record(self, record, item, page):
            return None

    spider, _ = new_spider(SkipAllSpider)
    page = tiny_page(COURSE_ONE, next_link="?page=2")
    assert parse(spider, json_response(TinyApiSpider.start_urls[0], page))[1][0].url.endswith("?page=2")


@pytest.mark.parametrize(
    ("pagination", "url", "payload", "records", "expected"),
    [
        (
            NextParam("paging.next", "start"),
            "https://x.org/a?q=1",
            {"paging": {"next": "100"}},
            1,
            "https://x.org/a?q=1&start=100",
        ),
        (NextParam("paging.next", "start"), "https://x.org/a", {"paging": {}}, 1, None),
        (OffsetParam("start", size=2), "https://x.org/a?start=4", {}, 2, "https://x.org/a?start=6"),
        (OffsetParam("start", size=2), "https://x.org/a?start=4", {}, 1, None),
        (
            OffsetParam("start", total_path="paging.total"),
            "https://x.org/a",
            {"paging": {"total": 3}},
            2,
            "https://x.org/a?start=2",
        ),
        (OffsetParam("start", total_path="paging.total"), "https://x.org/a?start=2", {"paging": {"total": 3}}, 1, None),
        (PageNumber("page"), "https://x.org/a", {}, 3, "https://x.org/a?page=2"),
        (PageNumber("page", last_path="num_pages"), "https://x.org/a?page=2", {"num_pages": 2}, 3, None),
        (PageNumber("page"), "https://x.org/a?page=5", {}, 0, None),
        (NextLink("next"), "https://x.org/a/", {"next": "https://x.org/a/?page=2"}, 1, "https://x.org/a/?page=2"),
        (NextLink("next"), "https://x.org/a/", {"next": ""}, 1, None),
    ],
)
def test_pagination(pagination, url, payload, records, expected):
    class PagedSpider(TinyApiSpider):
        name = "paged"
        records_path = "elements"

    spider, _ = new_spider(PagedSpider)
    spider.pagination = pagination
    elements = [{"id": f"{url}-{number}", "title": "T", "links": [{"href": "/c"}]} for number in range(records)]
    _, follow = parse(spider, json_response(url, {**payload, "elements": elements}))
    assert [request.url for request in follow] == ([expected] if expected else [])


def test_json_path():
    data = {"owners": [{"name": "MIT", "tags": ["a", "b"]}, {"name": "Harvard", "tags": ["c"]}], "n": 0}
    assert json_path(data, "owners.name") == ["MIT", "Harvard"]
    assert json_path(data, "owners.tags") == ["a", "b", "c"]
    assert json_path(data, "owners.1.name") == "Harvard"
    assert json_path(data, "owners.5.name") is None
    assert json_path(data, "n") == 0
    assert json_path(data, "n.deeper") is None


def test_without_tracking():
    assert without_tracking("https://x.org/c?utm_source=a&utm_medium=b") == "https://x.org/c"
    assert without_tracking("https://x.org/c/?WT.mc_id=api&page=2") == "https://x.org/c/?page=2"


@pytest.mark.parametrize(
    "url",
    [
        "/courses/course-v1:MITxT+18.01x/",
        "/a/b?page=2#top",
        "/courses/../other/",
        "//cdn.example.org/x",
        "relative/path",
        "?page=3",
        "https://other.example.org/c",
        "http://other.example.org/c",
        "",
    ],
)
def test_absolute_resolves_like_urljoin(url):
    # The shortcut for absolute paths must give what urljoin gives, dot segments and all.
    for base in ("https://mitxonline.mit.edu/api/v2/courses/?page=2", "http://user@127.0.0.1:8080/feed"):
        assert _absolute(url, base) == urljoin(base, url)


class TinyFeedSpider(XmlApiSpider):
    name = "tiny_feed"
    start_urls = ["https://feeds.example.org/rss"]
    namespaces = {"c": "urn:example:course"}
    records_path = "//item"
    field_map = {"provider_ref": "guid", "name": "title", "url": "link", "subjects": "c:subject"}


def test_xml_base_counts_a_feed_that_is_not_well_formed():
    spider, stats = new_spider(TinyFeedSpider)
    broken = TextResponse(TinyFeedSpider.start_urls[0], body=b"<rss><channel><item>", encoding="utf-8")
    assert parse(spider, broken) == ([], [])
    assert stats.get_value("skillstack/xml/malformed") == 1


def test_xml_base_reads_namespaced_lists():
    spider, _ = new_spider(TinyFeedSpider)
    feed = (
        b'<rss xmlns:c="urn:example:course"><channel><item><guid>7</guid><title> SQL </title>'
        b"<link>https://example.org/7</link><c:subject>Data</c:subject><c:subject>Databases</c:subject>"
        b"</item></channel></rss>"
    )
    [item], _ = parse(spider, TextResponse(TinyFeedSpider.start_urls[0], body=feed, encoding="utf-8"))
    assert dict(item) == {
        "provider_ref": "7",
        "name": "SQL",
        "url": "https://example.org/7",
        "subjects": ["Data", "Databases"],
    }
