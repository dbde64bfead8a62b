"""Crawls against a misbehaving server: every fault ends in counted errors, the run finishes, and
every good item of every other source is in crawl.duckdb.

One local server on 127.0.0.1 (an ephemeral port, started and stopped by this module) serves real
dataset rows from the mirror and the faults. The crawls run through `crawlers.runner.run_crawl` in
subprocesses (`tests.run_local_crawl`), with the project's settings and pipelines; only the spiders'
start URLs and a few timings differ (`tests.local_spiders`). All fault sources crawl in one run,
as the nightly crawls all sources in one run, so a fault of one source meets the others in flight.

One module though over 600 lines: most tests read that one run (`faults_run`), which a split would
crawl once per module.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import pytest
from scrapy import Request, signals
from scrapy.core.downloader.handlers import DownloadHandlers
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.test import get_crawler

from bench.local_server import Exchange, LocalServer
from crawlers.extensions import ERROR_BUDGET_REASON, ERRORS_IN_A_ROW_STAT, ERRORS_STAT, SourceErrorCounter
from crawlers.middlewares import retry_backoff
from crawlers.middlewares.offsite_partial import PartialOffsiteMiddleware
from crawlers.middlewares.public_destinations import REFUSED_STAT, PublicDestinationsMiddleware
from crawlers.middlewares.redirect_loop import RedirectLoopMiddleware
from crawlers.middlewares.retry_backoff import BackoffRetryMiddleware, backoff_delay, parse_retry_after
from crawlers.runner import crawler_settings
from crawlers.spiders.udemy_kaggle_2017 import UdemyKaggle2017Spider
from crawlers.spiders.udemy_pages import UdemyPagesSpider
from skillstack.settings import mirror_file_for
from tests.helpers import MIRROR_DIR
from tests.local_spiders import SERVER_ENV

UDEMY_CSV = (
    "https://raw.githubusercontent.com/KopecT/udemy-vs-edx/fb76bf4c2a3a4edd2901751246fa61f12e0e3b64/udemy_courses.csv"
)
COURSERA_2020_CSV = (
    "https://raw.githubusercontent.com/ShahPreksha1005/course-rating-prediction/"
    "5bc960f052e29d74aac12e9a63f1db50cf5a5f21/coursea_data.csv"
)
UDEMY_ROWS = 10
COURSERA_ROWS = 5
API_PAGE = "https://mitxonline.mit.edu/api/v2/courses/"
API_RECORDS = 3
JSONLD_PAGE = "https://www.real.discount/offer/burp-suite-in-depth-survival-guide-4734"
JSON_TYPE = {"Content-Type": "application/json"}
CSV_TYPE = {"Content-Type": "text/csv; charset=utf-8"}
BROKEN_PARTS = 60  # the parts of local_server_errors
HUGE = 50 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)
SLOW_ANSWER_S = 3
ETAG = '"udemy-v1"'
LAST_MODIFIED = "Mon, 01 Dec 2025 08:00:00 GMT"

FAULT_SOURCES = [
    "local_udemy_good",
    "local_coursera_good",
    "local_retry_429",
    "local_flaky",
    "local_server_errors",
    "local_timeout",
    "local_huge_announced",
    "local_huge_streamed",
    "local_redirect_loop",
    "local_robots",
    "local_cached",
    "local_jsonld",
    "local_api_truncated",
    "local_api_cut",
    "local_time_budget",
    "local_api_offsite",
    "local_loopback_by_name",
    "local_link_local",
    "local_file_scheme",
]


def head_of_mirror_file(url: str, lines: int) -> bytes:
    with mirror_file_for(url, MIRROR_DIR).open(encoding="utf-8", newline="") as real:
        return "".join(next(real) for _ in range(lines)).encode("utf-8")


def with_course_json_ld_cut(page: str) -> str:
    """The page with the JSON of its schema.org Course script cut in half, as a broken template leaves it."""
    start = page.index('"@type": "Course"')
    end = page.index("</script>", start)
    return page[: (start + end) // 2] + page[end:]


def routes(udemy: bytes, coursera: bytes) -> dict:
    def dataset(body: bytes):
        return lambda ex: ex.send(200, body, CSV_TYPE)

    def retry_429(ex: Exchange) -> None:
        if ex.hits == 0:
            ex.send(429, b"slow down", {"Retry-After": "1"})
        else:
            ex.send(200, udemy, CSV_TYPE)

    def flaky(ex: Exchange) -> None:
        statuses = [503, 500]
        if ex.hits < len(statuses):
            ex.send(statuses[ex.hits], b"try again")
        else:
            ex.send(200, coursera, CSV_TYPE)

    def slow(ex: Exchange) -> None:
        time.sleep(SLOW_ANSWER_S)
        ex.send(200, udemy, CSV_TYPE)

    def huge(announce_length: bool):
        def answer(ex: Exchange) -> None:
            if announce_length:
                ex.start(200, {**CSV_TYPE, "Content-Length": str(HUGE)})
            else:
                ex.handler.close_connection = True  # the body ends when the connection does
                ex.start(200, {**CSV_TYPE, "Connection": "close"})
            for _ in range(HUGE // len(CHUNK)):
                if not ex.write(CHUNK):
                    return

        return answer

    def cut_in_transit(ex: Exchange) -> None:
        ex.handler.close_connection = True
        if ex.start(200, {**JSON_TYPE, "Content-Length": str(len(api_page))}):
            ex.write(api_page[: len(api_page) // 2])

    def slow_past_the_budget(ex: Exchange) -> None:
        time.sleep(SLOW_ANSWER_S)
        ex.send(200, udemy, CSV_TYPE)

    def next_on_another_host(ex: Exchange) -> None:
        port = ex.handler.server.server_address[1]
        body = json.dumps({**api, "next": f"http://localhost:{port}/api/v2/courses/?page=2"}).encode()
        ex.send(200, body, JSON_TYPE)

    def redirect(to: str):
        return lambda ex: ex.send(302, b"", {"Location": to})

    def cached(ex: Exchange) -> None:
        validators = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED, "Cache-Control": "max-age=0"}
        if ex.headers.get("If-None-Match") == ETAG:
            ex.send(304, b"", validators)
        else:
            ex.send(200, udemy, {**CSV_TYPE, **validators})

    page = mirror_file_for(JSONLD_PAGE, MIRROR_DIR).read_text(encoding="utf-8")
    api = json.loads(mirror_file_for(API_PAGE, MIRROR_DIR).read_bytes())
    api_page = json.dumps({**api, "next": "/api/v2/courses/?page=2"}).encode()
    truncated_page = api_page[: len(api_page) // 2]
    html = {"Content-Type": "text/html; charset=utf-8"}
    table = {
        "/offer/good-course": lambda ex: ex.send(200, page.encode(), html),
        "/offer/broken-course": lambda ex: ex.send(200, with_course_json_ld_cut(page).encode(), html),
        "/api/v2/courses/": lambda ex: ex.send(
            200, truncated_page if "page=2" in ex.handler.path else api_page, JSON_TYPE
        ),
        "/api/cut/courses/": cut_in_transit,
        "/robots.txt": lambda ex: ex.send(200, b"User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"}),
        "/good/udemy.csv": dataset(udemy),
        "/good/coursera.csv": dataset(coursera),
        "/retry429/udemy.csv": retry_429,
        "/flaky/coursera.csv": flaky,
        "/slow/udemy.csv": slow,
        "/huge/announced.csv": huge(announce_length=True),
        "/huge/streamed.csv": huge(announce_length=False),
        "/loop/a.csv": redirect("/loop/b.csv"),
        "/loop/b.csv": redirect("/loop/a.csv"),
        "/private/udemy.csv": dataset(udemy),
        "/cached/udemy.csv": cached,
        "/slow-budget/udemy.csv": slow_past_the_budget,
        "/api/offsite/courses/": next_on_another_host,
        "/by-name/udemy.csv": dataset(udemy),
    }
    for number in range(BROKEN_PARTS):
        table[f"/broken/part-{number:02}.csv"] = lambda ex: ex.send(500, b"internal error")
    return table


@pytest.fixture(scope="module")
def server():
    udemy = head_of_mirror_file(UDEMY_CSV, UDEMY_ROWS + 1)
    coursera = head_of_mirror_file(COURSERA_2020_CSV, COURSERA_ROWS + 1)
    with LocalServer(routes(udemy, coursera)) as local:
        yield local


def crawl(home: Path, server: LocalServer, *sources: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "SKILLSTACK_MIRROR" and "proxy" not in key.lower()}
    env.update({"SKILLSTACK_HOME": str(home), SERVER_ENV: server.base_url, "NO_PROXY": "127.0.0.1"})
    return subprocess.run(
        [sys.executable, "-m", "tests.run_local_crawl", *sources],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


@pytest.fixture(scope="module")
def faults_run(server, tmp_path_factory):
    """Every fault source and two good ones in one run; (summaries by source, crawl.duckdb, stderr)."""
    home = tmp_path_factory.mktemp("faults")
    result = crawl(home, server, *FAULT_SOURCES)
    assert result.returncode == 0, result.stderr[-4000:]
    summaries = {summary["source"]: summary for summary in json.loads(result.stdout.splitlines()[-1])}
    return summaries, home, result.stderr


def query(crawl_db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(crawl_db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def run_stats(home: Path, source: str) -> dict:
    [(stats,)] = query(home / "crawl.duckdb", "SELECT stats FROM crawl_runs WHERE source = ?", [source])
    return json.loads(stats)


def gaps(server: LocalServer, path: str) -> list[float]:
    arrivals = sorted(seen.at for seen in server.requests_for(path))
    return [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]


def test_every_source_is_recorded_as_finished_or_failed(faults_run):
    summaries, home, stderr = faults_run
    assert sorted(summaries) == sorted(FAULT_SOURCES)
    runs = query(home / "crawl.duckdb", "SELECT source, status, finished_at IS NOT NULL FROM crawl_runs")
    assert {(source, finished) for source, _, finished in runs} == {(source, True) for source in FAULT_SOURCES}
    assert "running" not in {status for _, status, _ in runs}
    assert "Unhandled error in Deferred" not in stderr


def test_good_sources_keep_every_item_beside_the_faults(faults_run):
    summaries, home, _ = faults_run
    for source, rows in [("local_udemy_good", UDEMY_ROWS), ("local_coursera_good", COURSERA_ROWS)]:
        summary = summaries[source]
        assert (summary["status"], summary["items"], summary["errors"], summary["dropped"]) == ("finished", rows, 0, 0)
    udemy_ids = query(
        home / "crawl.duckdb",
        "SELECT course_id FROM crawl_items WHERE source = ? ORDER BY course_id",
        ["local_udemy_good"],
    )
    expected = [
        line.split(",", 1)[0] for line in head_of_mirror_file(UDEMY_CSV, UDEMY_ROWS + 1).decode().splitlines()[1:]
    ]
    assert [course_id for (course_id,) in udemy_ids] == sorted(f"local_udemy_good/{ref}" for ref in expected)
    [(count,)] = query(
        home / "crawl.duckdb", "SELECT count(*) FROM crawl_items WHERE source = ?", ["local_coursera_good"]
    )
    assert count == COURSERA_ROWS


def test_429_is_retried_after_retry_after_and_the_items_kept(faults_run, server):
    summaries, home, _ = faults_run
    summary = summaries["local_retry_429"]
    assert (summary["status"], summary["items"], summary["errors"]) == ("finished", UDEMY_ROWS, 0)
    assert summary["http_status"]["429"] == 1
    assert [seen.status for seen in server.requests_for("/retry429/udemy.csv")] == [429, 200]
    [gap] = gaps(server, "/retry429/udemy.csv")
    assert gap >= 1.0  # the server's Retry-After, not the 0.05 s backoff base
    stats = run_stats(home, "local_retry_429")
    assert stats["retry/count"] == 1
    assert [key for key in stats if key.startswith("retry/reason_count/429")] != []


def test_5xx_retries_back_off_exponentially(faults_run, server):
    summaries, _, _ = faults_run
    summary = summaries["local_flaky"]
    assert (summary["status"], summary["items"], summary["errors"]) == ("finished", COURSERA_ROWS, 0)
    assert [seen.status for seen in server.requests_for("/flaky/coursera.csv")] == [503, 500, 200]
    first, second = gaps(server, "/flaky/coursera.csv")
    # base 0.4 s with equal jitter: the first retry waits 0.2-0.4 s, the second 0.4-0.8 s
    assert 0.2 <= first < 1.0
    assert second >= 0.4


def test_500s_past_the_error_budget_stop_that_source_only(faults_run, server):
    summaries, home, _ = faults_run
    summary = summaries["local_server_errors"]
    assert (summary["status"], summary["finish_reason"], summary["items"]) == ("failed", ERROR_BUDGET_REASON, 0)
    assert summary["errors"] >= 5
    broken = [seen for seen in server.seen if seen.path.startswith("/broken/")]
    assert {seen.status for seen in broken} == {500}
    assert summary["http_status"]["500"] == len(broken)
    # a part is asked for at most three times (RETRY_TIMES 2); each error counted is a part that was
    # asked all three; once the budget closes the source, the retries still waiting are never sent
    # (which parts got there first depends on the scheduler)
    asked = Counter(seen.path for seen in broken)
    assert max(asked.values()) == 3
    assert sum(times == 3 for times in asked.values()) >= summary["errors"]
    assert len(broken) < BROKEN_PARTS * 3
    stats = run_stats(home, "local_server_errors")
    assert stats["retry/max_reached"] == summary["errors"]


def test_timeout_is_a_counted_error(faults_run, server):
    summaries, home, _ = faults_run
    summary = summaries["local_timeout"]
    assert (summary["status"], summary["finish_reason"], summary["items"]) == ("failed", "source_unavailable", 0)
    assert summary["errors"] >= 1
    assert len(server.requests_for("/slow/udemy.csv")) == 2  # the request and its one retry
    stats = run_stats(home, "local_timeout")
    assert stats["retry/reason_count/scrapy.exceptions.DownloadTimeoutError"] == 1


@pytest.mark.parametrize("source", ["local_huge_announced", "local_huge_streamed"])
def test_a_50_mb_response_is_cancelled_and_counted(faults_run, source):
    summaries, home, stderr = faults_run
    summary = summaries[source]
    assert (summary["status"], summary["finish_reason"], summary["items"]) == ("failed", "source_unavailable", 0)
    assert summary["errors"] >= 1
    assert "larger than download max size" in stderr
    stats = run_stats(home, source)
    assert "retry/count" not in stats  # a response too large is not asked for again
    assert stats.get("downloader/response_bytes", 0) < HUGE


def test_redirect_loop_is_a_counted_error(faults_run, server):
    summaries, _, _ = faults_run
    summary = summaries["local_redirect_loop"]
    assert (summary["status"], summary["items"], summary["errors"]) == ("failed", 0, 1)
    assert len(server.requests_for("/loop/a.csv")) + len(server.requests_for("/loop/b.csv")) <= 21


def test_broken_json_ld_is_a_counted_error_and_the_good_page_is_kept(faults_run):
    summaries, home, _ = faults_run
    summary = summaries["local_jsonld"]
    assert (summary["status"], summary["items"], summary["errors"]) == ("finished", 1, 1)
    [(url, item)] = query(home / "crawl.duckdb", "SELECT url, item FROM crawl_items WHERE source = ?", ["local_jsonld"])
    assert url.endswith("/offer/good-course")
    assert json.loads(item)["name"] == "Burp Suite: In Depth Survival Guide"
    stats = run_stats(home, "local_jsonld")
    assert stats["skillstack/jsonld/invalid"] == 1
    assert stats["skillstack/jsonld/no_course"] == 1


def test_truncated_json_page_is_a_counted_error_and_the_page_before_it_kept(faults_run, server):
    summaries, home, _ = faults_run
    summary = summaries["local_api_truncated"]
    assert (summary["items"], summary["errors"]) == (API_RECORDS, 1)
    assert [seen.status for seen in server.requests_for("/api/v2/courses/")] == [200, 200]
    assert run_stats(home, "local_api_truncated")["skillstack/json/malformed"] == 1
    [(count,)] = query(
        home / "crawl.duckdb", "SELECT count(*) FROM crawl_items WHERE source = ?", ["local_api_truncated"]
    )
    assert count == API_RECORDS


def test_json_cut_in_transit_is_retried_then_a_counted_error(faults_run, server):
    summaries, home, _ = faults_run
    summary = summaries["local_api_cut"]
    assert (summary["status"], summary["finish_reason"], summary["items"]) == ("failed", "source_unavailable", 0)
    assert summary["errors"] >= 1
    assert len(server.requests_for("/api/cut/courses/")) == 3  # the request and RETRY_TIMES (2) retries
    stats = run_stats(home, "local_api_cut")
    assert stats["retry/reason_count/scrapy.exceptions.ResponseDataLossError"] == 2


def test_robots_txt_disallowed_path_is_never_fetched(faults_run, server):
    summaries, home, _ = faults_run
    assert server.requests_for("/private/udemy.csv") == []
    assert server.requests_for("/robots.txt")
    assert summaries["local_robots"]["items"] == 0
    assert run_stats(home, "local_robots")["robotstxt/forbidden"] == 1


def test_a_second_crawl_revalidates_with_the_cache_and_takes_the_304(faults_run, server):
    summaries, home, _ = faults_run
    assert summaries["local_cached"]["items"] == UDEMY_ROWS
    [first] = server.requests_for("/cached/udemy.csv")
    assert "If-None-Match" not in first.headers

    result = crawl(home, server, "local_cached")

    assert result.returncode == 0, result.stderr[-4000:]
    [again] = json.loads(result.stdout.splitlines()[-1])
    assert (again["status"], again["items"], again["errors"]) == ("finished", UDEMY_ROWS, 0)
    first, second = server.requests_for("/cached/udemy.csv")
    assert second.headers["If-None-Match"] == ETAG
    assert second.headers["If-Modified-Since"] == LAST_MODIFIED
    assert second.status == 304
    [(stats,)] = query(
        home / "crawl.duckdb",
        "SELECT stats FROM crawl_runs WHERE source = ? ORDER BY started_at DESC LIMIT 1",
        ["local_cached"],
    )
    assert json.loads(stats)["httpcache/revalidate"] == 1


def test_a_source_past_its_time_budget_is_closed_and_failed(faults_run, server):
    summaries, home, _ = faults_run
    summary = summaries["local_time_budget"]
    # The download in flight may still finish while the source closes: its items are stored, but the
    # run is failed, so the build takes none of it as a complete crawl.
    assert (summary["status"], summary["finish_reason"]) == ("failed", "closespider_timeout")
    assert len(server.requests_for("/slow-budget/udemy.csv")) == 1
    assert crawler_settings().getint("CLOSESPIDER_TIMEOUT") == 3 * 3600  # the budget of a real source


def test_a_next_link_to_another_host_is_dropped_and_the_run_partial(faults_run, server):
    summaries, home, _ = faults_run
    summary = summaries["local_api_offsite"]
    assert (summary["status"], summary["items"], summary["errors"]) == ("finished", API_RECORDS, 0)
    stats = run_stats(home, "local_api_offsite")
    assert stats["offsite/filtered"] == 1
    # partial: the build keeps the source's courses instead of marking the unread pages' removed
    assert stats["skillstack/partial"] == "offsite"
    assert [seen.status for seen in server.requests_for("/api/offsite/courses/")] == [200]


@pytest.mark.parametrize("source", ["local_loopback_by_name", "local_link_local", "local_file_scheme"])
def test_requests_that_leave_the_web_are_refused_before_any_connection(faults_run, server, source):
    summaries, home, stderr = faults_run
    summary = summaries[source]
    assert (summary["status"], summary["finish_reason"], summary["items"]) == ("failed", "source_unavailable", 0)
    stats = run_stats(home, source)
    assert stats[REFUSED_STAT] == 1
    assert stats.get("downloader/response_count", 0) == 0
    assert server.requests_for("/by-name/udemy.csv") == []  # localhost is the test's own server
    refusals = [line for line in stderr.splitlines() if "Refused" in line]
    assert any("localhost resolves to 127.0.0.1, a loopback address" in line for line in refusals)
    assert any("169.254.169.254 is a link-local address" in line for line in refusals)
    assert any("file:///etc/passwd: the scheme 'file' is not http(s)" in line for line in refusals)


# The middlewares on their own: the timing rules and the decisions, without a server.


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2025, 12, 1, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after(b"120", now) == 120.0
    assert parse_retry_after("Mon, 01 Dec 2025 08:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 01 Dec 2025 07:00:00 GMT", now) == 0.0
    assert parse_retry_after(b"soon", now) is None
    # digits that are not ASCII digits, and numbers past any wait: no usable value
    assert parse_retry_after("²", now) is None
    assert parse_retry_after("\u0661\u0662", now) is None  # Arabic-Indic "12"
    assert parse_retry_after("1" * 400, now) is None
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after(None, now) is None


def test_backoff_doubles_with_jitter_up_to_the_cap():
    rand = random.Random(7)
    for retry_times, span in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (7, 30.0)]:
        delays = [backoff_delay(retry_times, base=1.0, cap=30.0, rand=rand) for _ in range(200)]
        assert span / 2 <= min(delays) <= max(delays) <= span
        assert max(delays) - min(delays) > span / 4  # jittered, not in lockstep


def crawler_for_middleware(**settings):
    crawler = get_crawler(UdemyKaggle2017Spider, settings_dict=settings)
    crawler.spider = UdemyKaggle2017Spider.from_crawler(crawler)
    return crawler


def test_a_retry_after_beyond_the_cap_is_given_up_at_once(monkeypatch):
    crawler = crawler_for_middleware(SKILLSTACK_RETRY_BACKOFF_MAX=10.0)
    middleware = BackoffRetryMiddleware.from_crawler(crawler)
    request = Request("https://www.udemy.com/api-2.0/courses/")
    response = Response(request.url, status=429, headers={"Retry-After": "3600"}, request=request)
    waits: list[float] = []

    async def recorded_sleep(delay: float) -> None:
        waits.append(delay)

    monkeypatch.setattr(retry_backoff, "sleep", recorded_sleep)
    assert asyncio.run(middleware.process_response(request, response)) is response
    assert waits == []  # given up without waiting at all
    assert crawler.stats.get_value("retry/retry_after_too_long") == 1
    assert crawler.stats.get_value("retry/count") is None


def test_project_settings_put_the_backoff_retry_and_redirect_loop_middlewares_in_place():
    settings = crawler_settings()
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert middlewares["crawlers.middlewares.retry_backoff.BackoffRetryMiddleware"] == 550
    assert middlewares["crawlers.middlewares.redirect_loop.RedirectLoopMiddleware"] > 600  # before RedirectMiddleware
    assert settings.getbool("ROBOTSTXT_OBEY")
    assert settings.getbool("AUTOTHROTTLE_ENABLED")
    assert settings["USER_AGENT"].startswith("skillstack/")
    assert "github.com/skillstack/skillstack" in settings["USER_AGENT"]
    assert settings["HTTPCACHE_POLICY"] == "scrapy.extensions.httpcache.RFC2616Policy"
    assert set(settings.getlist("RETRY_HTTP_CODES")) >= {429, 500, 502, 503, 504}


def test_redirect_back_into_its_own_chain_fails_the_request():
    middleware = RedirectLoopMiddleware.from_crawler(crawler_for_middleware())
    request = Request("https://example.org/b", meta={"redirect_urls": ["https://example.org/a"], "redirect_times": 1})
    loop = Response(request.url, status=301, headers={"Location": "/a"}, request=request)
    onward = Response(request.url, status=301, headers={"Location": "/c"}, request=request)
    with pytest.raises(IgnoreRequest, match="redirect loop"):
        middleware.process_response(request, loop)
    assert middleware.process_response(request, onward) is onward
    assert middleware.crawler.stats.get_value("skillstack/redirect/loop") == 1


class EngineStub:
    """Records the close the error budget asks for (a unit test runs no engine)."""

    def __init__(self):
        self.closed_for: list[str] = []

    async def close_spider_async(self, *, reason: str) -> None:
        self.closed_for.append(reason)


def test_error_budget_counts_errors_in_a_row_not_scattered_ones():
    crawler = crawler_for_middleware(CLOSESPIDER_ERRORCOUNT=3)
    crawler.engine = EngineStub()
    counter = SourceErrorCounter.from_crawler(crawler)
    spider = crawler.spider
    counter.spider_opened(spider)
    good = Response("https://www.udemy.com/course/a/", status=200)

    async def crawl_along() -> None:  # in an event loop, as the close is scheduled on it
        for _ in range(4):  # a dead link between good pages, again and again
            spider.logger.error("page is unavailable: HTTP 404")
            crawler.signals.send_catch_log(signals.response_received, response=good, request=None, spider=spider)
        await asyncio.sleep(0)
        assert crawler.engine.closed_for == []
        for _ in range(3):
            spider.logger.error("page is unavailable: HTTP 500")
        await asyncio.sleep(0)
        assert crawler.engine.closed_for == [ERROR_BUDGET_REASON]

    try:
        asyncio.run(crawl_along())
    finally:
        counter.spider_closed(spider, "finished")
    assert crawler.stats.get_value(ERRORS_STAT) == 7
    assert crawler.stats.get_value(ERRORS_IN_A_ROW_STAT) == 3


class FakeResolverDestinations(PublicDestinationsMiddleware):
    """Resolves from a table, as a DNS answer would: tests make no lookups."""

    answers = {"metadata.internal": "169.254.169.254", "intranet.example": "10.0.0.7", "www.udemy.com": "104.16.1.1"}

    async def resolve(self, host: str) -> str:
        return self.answers[host]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://10.1.2.3/", "10.1.2.3 is a private address"),
        ("http://192.168.0.1:8080/", "192.168.0.1 is a private address"),
        ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://[::1]/", "::1 is a loopback address"),
        ("http://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254 is a link-local address"),
        ("https://metadata.internal/computeMetadata/", "metadata.internal resolves to 169.254.169.254, a link-local"),
        ("https://intranet.example/", "intranet.example resolves to 10.0.0.7, a private address"),
        ("file:///etc/passwd", "the scheme 'file' is not http(s)"),
        ("s3://bucket/key", "the scheme 's3' is not http(s)"),
        ("ftp://ftp.example.org/x", "the scheme 'ftp' is not http(s)"),
        ("data:text/plain,hi", "the scheme 'data' is not http(s)"),
    ],
)
def test_requests_off_the_public_web_are_refused(monkeypatch, url, why):
    monkeypatch.delenv("SKILLSTACK_MIRROR", raising=False)
    crawler = crawler_for_middleware()
    middleware = FakeResolverDestinations.from_crawler(crawler)
    with pytest.raises(IgnoreRequest, match=re.escape(why)):
        asyncio.run(middleware.process_request(Request(url)))
    assert crawler.stats.get_value(REFUSED_STAT) == 1


def test_public_hosts_and_the_allowed_local_server_pass(monkeypatch):
    monkeypatch.delenv("SKILLSTACK_MIRROR", raising=False)
    crawler = crawler_for_middleware(SKILLSTACK_ALLOW_PRIVATE_HOSTS=["127.0.0.1"])
    middleware = FakeResolverDestinations.from_crawler(crawler)
    for url in ("https://www.udemy.com/course/x/", "http://8.8.8.8/", "http://127.0.0.1:8123/good/udemy.csv"):
        assert asyncio.run(middleware.process_request(Request(url))) is None
    assert crawler.stats.get_value(REFUSED_STAT) is None
    assert crawler_settings().getlist("SKILLSTACK_ALLOW_PRIVATE_HOSTS") == []  # none in a real crawl


def test_with_the_mirror_no_name_is_resolved(mirror):
    class NoLookups(PublicDestinationsMiddleware):
        async def resolve(self, host: str) -> str:
            raise AssertionError(f"looked up {host}")

    middleware = NoLookups.from_crawler(crawler_for_middleware())
    assert asyncio.run(middleware.process_request(Request("https://www.udemy.com/course/x/"))) is None
    with pytest.raises(IgnoreRequest):
        asyncio.run(middleware.process_request(Request("http://169.254.169.254/")))


def test_only_http_and_https_have_a_download_handler():
    crawler = crawler_for_middleware(DOWNLOAD_HANDLERS=crawler_settings().getdict("DOWNLOAD_HANDLERS"))
    handlers = DownloadHandlers(crawler)
    assert {scheme for scheme in ("http", "https", "file", "s3", "ftp", "data") if handlers._get_handler(scheme)} == {
        "http",
        "https",
    }
    middlewares = crawler_settings().getdict("DOWNLOADER_MIDDLEWARES")
    assert middlewares["scrapy.downloadermiddlewares.offsite.OffsiteMiddleware"] is None
    assert middlewares["crawlers.middlewares.offsite_partial.PartialOffsiteMiddleware"] == 50
    # refused before robots.txt is asked for the host
    assert middlewares["crawlers.middlewares.public_destinations.PublicDestinationsMiddleware"] < 100


def test_every_source_keeps_to_its_own_domains():
    loader = get_spider_loader(crawler_settings())
    outside = []
    for name in loader.list():
        spider_cls = loader.load(name)
        domains = getattr(spider_cls, "allowed_domains", None)
        if not domains:
            outside.append(f"{name}: no allowed_domains")
            continue
        for url in getattr(spider_cls, "start_urls", None) or getattr(spider_cls, "sitemap_urls", []):
            host = urlsplit(url).hostname or ""
            if not any(host == domain or host.endswith("." + domain) for domain in domains):
                outside.append(f"{name}: {url}")
    assert outside == []


def test_a_sitemap_loc_off_the_source_is_never_requested():
    crawler = crawler_for_middleware()
    crawler.spider = UdemyPagesSpider.from_crawler(crawler)
    offsite = PartialOffsiteMiddleware.from_crawler(crawler)
    offsite.spider_opened(crawler.spider)
    for url in ("file:///etc/passwd", "http://169.254.169.254/latest/", "https://evil.example/course/x/"):
        with pytest.raises(IgnoreRequest):
            offsite.process_request(Request(url))
    offsite.process_request(Request("https://www.udemy.com/course/x/"))
    assert crawler.stats.get_value("offsite/filtered") == 3
    assert crawler.stats.get_value("skillstack/partial") == "offsite"
