"""The offline mirror download handler answers every HTTP(S) request from ../shared/mirror."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, JsonResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from crawlers import settings as crawler_settings
from crawlers.mirror import MirrorDownloadHandler

COURSERA_CSV = (
    "https://raw.githubusercontent.com/clumsycoder42525/Learning_Management_System/"
    "4d7eeb30852a0cdedf0f3e60bcc259ac78cb2ee4/Coursera.csv"
)
MITXONLINE_COURSES = "https://mitxonline.mit.edu/api/v2/courses/"


def download(handler: MirrorDownloadHandler, url: str) -> Response:
    return asyncio.run(handler.download_request(Request(url)))


@pytest.fixture
def handler(mirror: Path) -> MirrorDownloadHandler:
    return MirrorDownloadHandler.from_crawler(get_crawler())


def test_crawler_settings_route_http_and_https_through_the_mirror_handler():
    assert crawler_settings.DOWNLOAD_HANDLERS == {
        "http": "crawlers.mirror.MirrorDownloadHandler",
        "https": "crawlers.mirror.MirrorDownloadHandler",
        # and no other scheme anywhere (tests/test_crawl_faults.py)
        "file": None,
        "s3": None,
        "ftp": None,
        "data": None,
    }


def test_serves_the_file_at_host_and_path(handler, mirror):
    response = download(handler, COURSERA_CSV)
    expected = (mirror / COURSERA_CSV.removeprefix("https://")).read_bytes()
    assert response.status == 200
    assert response.body == expected
    assert isinstance(response, TextResponse)
    assert response.url == COURSERA_CSV
    assert "Getting Started with Microsoft Excel" in response.text


def test_trailing_slash_reads_the_index_file(handler, mirror):
    response = download(handler, MITXONLINE_COURSES)
    assert response.status == 200
    assert response.body == (mirror / "mitxonline.mit.edu/api/v2/courses/index").read_bytes()


def test_query_is_dropped(handler):
    assert (
        download(handler, MITXONLINE_COURSES + "?page=2&light=true").body == download(handler, MITXONLINE_COURSES).body
    )


@pytest.mark.parametrize(
    ("url", "response_class"),
    [
        ("https://www.udemy.com/course/b2b-copywriting/", HtmlResponse),
        (
            "https://ocw.mit.edu/courses/16-01-unified-engineering-i-ii-iii-iv-fall-2005-spring-2006/data.json",
            JsonResponse,
        ),
    ],
)
def test_response_class_follows_the_file(handler, url, response_class):
    assert type(download(handler, url)) is response_class


def test_missing_file_is_a_404(handler):
    response = download(handler, "https://raw.githubusercontent.com/no-such-owner/no-such-repo/main/courses.csv")
    assert response.status == 404
    assert response.body == b""


def test_unknown_host_is_answered_locally_without_the_network(handler):
    started = time.perf_counter()
    response = download(handler, "https://no-such-host.skillstack.invalid/courses")
    assert response.status == 404
    # A DNS lookup or a connection attempt would take far longer than this.
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "url",
    [
        "https://raw.githubusercontent.com/../../PROVENANCE.md",
        "https://raw.githubusercontent.com/%2e%2e/%2e%2e/PROVENANCE.md",
        "https://raw.githubusercontent.com/a/%2E%2E/%2E%2E/%2E%2E/PROVENANCE.md",
    ],
)
def test_dot_dot_cannot_escape_the_mirror(handler, mirror, url):
    assert (mirror.parent / "PROVENANCE.md").is_file()  # the file the URL aims at does exist
    assert download(handler, url).status == 404


def test_a_directory_is_not_a_file(handler):
    assert download(handler, "https://www.udemy.com/course/b2b-copywriting").status == 404


class CannedLiveHandler:
    """Stands in for Scrapy's HTTP handler, which would open a connection: records and answers."""

    def __init__(self):
        self.requested: list[str] = []

    async def download_request(self, request: Request) -> Response:
        self.requested.append(request.url)
        return Response(request.url, status=200, body=b"live")


def test_without_the_variable_requests_go_to_the_live_handler(monkeypatch):
    monkeypatch.delenv("SKILLSTACK_MIRROR", raising=False)
    handler = MirrorDownloadHandler.from_crawler(get_crawler())
    live = CannedLiveHandler()
    handler._live_handlers["https"] = live
    response = download(handler, COURSERA_CSV)
    assert handler.mirror is None
    assert response.body == b"live"
    assert live.requested == [COURSERA_CSV]
