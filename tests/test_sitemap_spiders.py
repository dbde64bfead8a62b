"""The sitemap spiders on the real sitemaps in tests/captures, change-driven re-crawls against a
real crawl.duckdb, and `skillstack crawl SOURCE --url URL` end to end."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from scrapy import Request, Spider
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse, XmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from core.store import open_crawl_db
from crawlers.crawl_state import read_sitemap_state
from crawlers.items import Course
from crawlers.sitemap_spider import parse_lastmod
from crawlers.spiders.coursera_pages import CourseraPagesSpider
from crawlers.spiders.linkedin_learning import LinkedinLearningSpider
from crawlers.spiders.skillshare import SkillshareSpider
from crawlers.spiders.udemy_pages import UdemyPagesSpider
from tests.helpers import MIRROR_DIR, query, skillstack

UDEMY_INDEX = "https://www.udemy.com/sitemap.xml"
COURSERA_SITEMAP = "https://www.coursera.org/sitemap~www~courses.xml"
B2B = "https://www.udemy.com/course/b2b-copywriting/"
POWER_BI = "https://www.udemy.com/course/learn_power_bi_for_free/"
MELODY = "https://www.udemy.com/course/the-melody-of-english/"
NEW_COURSE = "https://www.udemy.com/course/welding-basics/"


def make_spider(spider_cls: type[Spider], **settings) -> Spider:
    crawler = get_crawler(spider_cls, {key: value for key, value in settings.items() if key.isupper()})
    return spider_cls.from_crawler(crawler, **{key: value for key, value in settings.items() if not key.isupper()})


def start_requests(spider: Spider) -> list[Request]:
    async def collect() -> list[Request]:
        return [request async for request in spider.start()]

    return asyncio.run(collect())


def stat(spider: Spider, name: str):
    return spider.crawler.stats.get_value(name)


def urlset(*entries: tuple[str, str | None], url: str = "https://www.udemy.com/sitemap/courses.xml") -> XmlResponse:
    urls = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>" for loc, lastmod in entries
    )
    body = f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    return XmlResponse(url=url, body=body.encode(), request=Request(url))


def http_error(url: str, status: int = 404) -> Failure:
    request = Request(url)
    failure = Failure(HttpError(Response(url, status=status, request=request)))
    failure.request = request
    return failure


# ---------------------------------------------------------------- discovery on the real sitemaps


def test_udemy_follows_only_the_course_sitemaps_of_its_real_index(mirror_response):
    spider = make_spider(UdemyPagesSpider)
    [start] = start_requests(spider)
    assert (start.url, start.errback) == (UDEMY_INDEX, spider.sitemap_unavailable)
    response = mirror_response(UDEMY_INDEX)
    assert len(list(Sitemap(response.body))) == 3955
    requests = list(spider._parse_sitemap(response))
    assert len(requests) == 2926  # courses.xml and courses.xml?p=2 ... ?p=2926
    assert {request.url.split("?")[0] for request in requests} == {"https://www.udemy.com/sitemap/courses.xml"}
    assert requests[1].url == "https://www.udemy.com/sitemap/courses.xml?p=2"
    assert all(request.callback == spider._parse_sitemap for request in requests)
    assert all(request.errback == spider.sitemap_unavailable for request in requests)


def test_coursera_sitemap_gives_1959_course_page_requests(mirror_response):
    spider = make_spider(CourseraPagesSpider)
    start_requests(spider)
    requests = list(spider._parse_sitemap(mirror_response(COURSERA_SITEMAP)))
    assert len(requests) == 1959
    assert requests[0].url == "https://www.coursera.org/learn/gamification"
    assert all(request.url.startswith("https://www.coursera.org/learn/") for request in requests)
    assert {request.cb_kwargs["page_callback"] for request in requests} == {"parse"}
    assert all(request.errback == spider.page_unavailable for request in requests)
    # The sitemap has no <lastmod>: nothing to compare, every page is fetched.
    assert stat(spider, "skillstack/sitemap/full_sweep") == 1


def test_linkedin_learning_takes_course_pages_only():
    spider = make_spider(LinkedinLearningSpider)
    start_requests(spider)
    # Real LinkedIn Learning URL shapes: a course, a video of a course, a learning path, an instructor.
    sitemap = urlset(
        ("https://www.linkedin.com/learning/learning-graphql-2021", None),
        ("https://www.linkedin.com/learning/learning-go-8399317/welcome", None),
        ("https://www.linkedin.com/learning/paths/prepare-for-the-microsoft-azure-administrator-az-104", None),
        ("https://www.linkedin.com/learning/instructors/david-gassner", None),
        ("https://www.linkedin.com/learning/search", None),
        url="https://www.linkedin.com/learning/sitemap-courses.xml",
    )
    assert [request.url for request in spider._parse_sitemap(sitemap)] == [
        "https://www.linkedin.com/learning/learning-graphql-2021"
    ]


def test_skillshare_discovers_class_sitemaps_from_robots_txt():
    spider = make_spider(SkillshareSpider)
    [start] = start_requests(spider)
    assert start.url == "https://www.skillshare.com/robots.txt"
    robots = TextResponse(
        url=start.url, body=b"User-agent: *\nDisallow: /search\nSitemap: https://www.skillshare.com/sitemap.xml\n"
    )
    [index_request] = spider._parse_sitemap(robots)
    assert (index_request.url, index_request.errback) == (
        "https://www.skillshare.com/sitemap.xml",
        spider.sitemap_unavailable,
    )
    index = XmlResponse(
        url=index_request.url,
        body=b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://www.skillshare.com/sitemap/classes/1</loc></sitemap>"
        b"<sitemap><loc>https://www.skillshare.com/sitemap/teachers/1</loc></sitemap></sitemapindex>",
    )
    assert [request.url for request in spider._parse_sitemap(index)] == ["https://www.skillshare.com/sitemap/classes/1"]
    classes = urlset(
        (
            "https://www.skillshare.com/classes/SEO-Today-Strategies-to-Earn-Trust-Rank-High-and-Stand-Out/423483018",
            None,
        ),
        ("https://www.skillshare.com/en/classes/watercolor-basics/1234567", None),
        ("https://www.skillshare.com/browse/design", None),
        url="https://www.skillshare.com/sitemap/classes/1",
    )
    assert [request.url.rsplit("/", 1)[-1] for request in spider._parse_sitemap(classes)] == ["423483018", "1234567"]


def test_a_listed_page_keeps_its_sitemap_entry(mirror_response):
    spider = make_spider(UdemyPagesSpider)
    start_requests(spider)
    [request] = spider._parse_sitemap(urlset((B2B, "2024-01-10")))
    [item] = spider._parse_listed_page(mirror_response(B2B), **request.cb_kwargs)
    assert item["name"] == "Copywriting: B2B Copywriting, Content Writing, Copy Writing"
    assert (item["extras"]["sitemap_loc"], item["extras"]["sitemap_lastmod"]) == (B2B, "2024-01-10")
    assert item["extras"]["udemy_course_id"] == "4016590"  # the page's own extras are kept


def test_an_unavailable_root_sitemap_closes_the_source_and_a_child_makes_the_run_partial(caplog):
    spider = make_spider(UdemyPagesSpider)
    spider.sitemap_unavailable(http_error("https://www.udemy.com/sitemap/courses.xml?p=7"))
    assert stat(spider, "skillstack/partial") == "sitemap_unavailable"
    with pytest.raises(CloseSpider) as closed:
        spider.sitemap_unavailable(http_error(UDEMY_INDEX, status=503))
    assert closed.value.reason == "source_unavailable"
    assert stat(spider, "skillstack/sitemaps/unavailable") == 2
    assert f"sitemap {UDEMY_INDEX} is unavailable: HTTP 503" in caplog.text
    spider.page_unavailable(http_error(NEW_COURSE))
    assert stat(spider, "skillstack/pages/unavailable") == 1


# ---------------------------------------------------------------- change-driven re-crawls


def test_parse_lastmod():
    assert parse_lastmod("2024-01-10") == datetime(2024, 1, 10, tzinfo=UTC)
    assert parse_lastmod("2024-01-10T10:00:00+02:00") == datetime(2024, 1, 10, 8, tzinfo=UTC)
    assert parse_lastmod("2024-01-10T08:00:00Z") == datetime(2024, 1, 10, 8, tzinfo=UTC)
    assert parse_lastmod("last tuesday") is None


def crawled_item(mirror_response, url: str, lastmod: str) -> Course:
    """The item udemy_pages makes of a real page listed with this lastmod, as the crawl writer stores it."""
    spider = make_spider(UdemyPagesSpider)
    start_requests(spider)
    [request] = spider._parse_sitemap(urlset((url, lastmod)))
    [item] = spider._parse_listed_page(mirror_response(url), **request.cb_kwargs)
    return Course(item, source="udemy_pages", id=f"udemy_pages/{item['provider_ref']}")


def record_run(crawl_db: Path, run_id: str, items: list[Course], *, started: datetime, status: str, full_sweep: bool):
    con = open_crawl_db(crawl_db)
    try:
        stats = {"skillstack/sitemap/full_sweep": 1} if full_sweep else {"skillstack/partial": "changed_only"}
        con.execute(
            "INSERT INTO crawl_runs (run_id, source, started_at, finished_at, status, finish_reason, items, stats)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                "udemy_pages",
                started,
                started + timedelta(minutes=5),
                status,
                status,
                len(items),
                json.dumps(stats),
            ],
        )
        for item in items:
            con.execute(
                "INSERT INTO crawl_items (run_id, source, course_id, url, item, scraped_at) VALUES (?, ?, ?, ?, ?, ?)",
                [run_id, "udemy_pages", item["id"], item["url"], json.dumps(dict(item)), started],
            )
    finally:
        con.close()


@pytest.fixture
def crawl_db(tmp_path, mirror_response) -> Path:
    """A crawl.duckdb where udemy_pages finished a full sweep a day ago and a later run died midway."""
    path = tmp_path / "crawl.duckdb"
    now = datetime.now(UTC).replace(tzinfo=None)
    swept = [
        crawled_item(mirror_response, B2B, "2024-01-10"),
        crawled_item(mirror_response, POWER_BI, "2024-01-10T08:00:00+00:00"),
    ]
    record_run(path, "sweep", swept, started=now - timedelta(days=1), status="finished", full_sweep=True)
    died = [crawled_item(mirror_response, MELODY, "2024-06-01")]
    record_run(path, "died", died, started=now - timedelta(hours=2), status="running", full_sweep=False)
    return path


LISTED = urlset(
    (B2B, "2024-01-10"),  # unchanged since the sweep
    (POWER_BI, "2024-02-01"),  # newer than the 2024-01-10T08:00Z the sweep saw
    (MELODY, "2024-06-01"),  # only a run that never finished saw it
    (NEW_COURSE, None),  # never crawled, no lastmod
)


def test_the_state_is_read_from_finished_runs(crawl_db):
    state = read_sitemap_state(crawl_db, "udemy_pages")
    assert state.lastmods == {B2B: "2024-01-10", POWER_BI: "2024-01-10T08:00:00+00:00"}
    assert datetime.now(UTC).replace(tzinfo=None) - state.last_full_sweep < timedelta(days=1, minutes=1)
    assert read_sitemap_state(crawl_db, "coursera_pages").lastmods == {}
    assert read_sitemap_state(crawl_db.with_name("missing.duckdb"), "udemy_pages").last_full_sweep is None


def test_only_entries_whose_lastmod_moved_are_fetched(crawl_db):
    spider = make_spider(UdemyPagesSpider, SKILLSTACK_CRAWL_DB=str(crawl_db), SKILLSTACK_FULL_SWEEP_DAYS=7)
    start_requests(spider)
    fetched = [request.url for request in spider._parse_sitemap(LISTED)]
    assert fetched == [POWER_BI, MELODY, NEW_COURSE]
    assert (stat(spider, "skillstack/sitemap/unchanged"), stat(spider, "skillstack/sitemap/changed")) == (1, 3)
    assert stat(spider, "skillstack/partial") == "changed_only"
    assert stat(spider, "skillstack/sitemap/full_sweep") is None


def test_a_full_sweep_fetches_every_entry_when_the_last_one_is_old_enough(crawl_db):
    spider = make_spider(UdemyPagesSpider, SKILLSTACK_CRAWL_DB=str(crawl_db), SKILLSTACK_FULL_SWEEP_DAYS=0.5)
    start_requests(spider)
    assert [request.url for request in spider._parse_sitemap(LISTED)] == [B2B, POWER_BI, MELODY, NEW_COURSE]
    assert stat(spider, "skillstack/sitemap/full_sweep") == 1
    assert stat(spider, "skillstack/partial") is None


def test_no_crawl_db_means_a_full_sweep(tmp_path):
    spider = make_spider(UdemyPagesSpider, SKILLSTACK_CRAWL_DB=str(tmp_path / "none.duckdb"))
    start_requests(spider)
    assert len(list(spider._parse_sitemap(LISTED))) == 4
    assert stat(spider, "skillstack/sitemap/full_sweep") == 1


def test_the_state_is_read_while_the_crawl_writer_holds_the_database(crawl_db):
    """In a crawl the writer pipeline of the same process has crawl.duckdb open for writing."""
    writer = duckdb.connect(str(crawl_db))
    try:
        spider = make_spider(UdemyPagesSpider, SKILLSTACK_CRAWL_DB=str(crawl_db))
        start_requests(spider)
        assert [request.url for request in spider._parse_sitemap(LISTED)] == [POWER_BI, MELODY, NEW_COURSE]
        assert writer.execute("SELECT count(*) FROM crawl_items").fetchone() == (3,)
    finally:
        writer.close()


def test_given_urls_replace_the_sitemaps():
    spider = make_spider(UdemyPagesSpider, urls=f"{B2B} {POWER_BI}")
    requests = start_requests(spider)
    assert [request.url for request in requests] == [B2B, POWER_BI]
    assert all(request.callback == spider.parse for request in requests)
    assert all(request.errback == spider.page_unavailable for request in requests)
    assert stat(spider, "skillstack/partial") == "urls"
    assert stat(spider, "skillstack/sitemap/full_sweep") is None


# ---------------------------------------------------------------- skillstack crawl --url, end to end


def test_crawl_one_udemy_page_by_url(tmp_path):
    home = tmp_path / "home"
    result = skillstack("crawl", "udemy_pages", "--url", B2B, "--json", home=home, mirror=MIRROR_DIR)
    assert result.returncode == 0, result.stderr[-3000:]
    [summary] = json.loads(result.stdout)
    assert (summary["source"], summary["status"], summary["items"], summary["errors"]) == (
        "udemy_pages",
        "finished",
        1,
        0,
    )
    [(course_id, url, item)] = query(home / "crawl.duckdb", "SELECT course_id, url, item FROM crawl_items")
    assert (course_id, url) == ("udemy_pages/b2b-copywriting", B2B)
    course = json.loads(item)
    assert course["name"] == "Copywriting: B2B Copywriting, Content Writing, Copy Writing"
    assert (course["provider"], course["price"], course["currency"]) == ("Udemy", "$199.99", "USD")
    [(partial,)] = query(home / "crawl.duckdb", """SELECT stats->>'$."skillstack/partial"' FROM crawl_runs""")
    assert partial == "urls"


def test_url_needs_exactly_one_source_that_supports_it(tmp_path):
    result = skillstack("crawl", "udemy_pages", "jsonld_generic", "--url", B2B, home=tmp_path, mirror=MIRROR_DIR)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["skillstack: --url needs exactly one SOURCE, not 2"]
    result = skillstack("crawl", "udemy_kaggle_2017", "--url", B2B, home=tmp_path, mirror=MIRROR_DIR)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["skillstack: source 'udemy_kaggle_2017' cannot re-crawl given URLs"]
    assert not (tmp_path / "crawl.duckdb").exists()


def test_list_shows_the_sitemap_a_sitemap_spider_starts_from(tmp_path):
    result = skillstack("crawl", "--list", home=tmp_path, mirror=MIRROR_DIR)
    listed = dict(line.split(maxsplit=1) for line in result.stdout.splitlines())
    assert listed["udemy_pages"] == UDEMY_INDEX
    assert listed["coursera_pages"] == COURSERA_SITEMAP
