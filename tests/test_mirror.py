"""The offline mirror download handler answers every HTTP(S) request from tests/captures."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError
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


def test_unknown_host_is_answered_locally_without_the_network(handler, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the mirror handler reached for the network")

    # A name lookup or a connection attempt, by any library, goes through one of these.
    for name in ("getaddrinfo", "gethostbyname", "create_connection"):
        monkeypatch.setattr(socket, name, no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    response = download(handler, "https://no-such-host.skillstack.invalid/courses")
    assert response.status == 404


@pytest.mark.parametrize(
    "url",
    [
        "https://raw.githubusercontent.com/../../conftest.py",
        "https://raw.githubusercontent.com/%2e%2e/%2e%2e/conftest.py",
        "https://raw.githubusercontent.com/a/%2E%2E/%2E%2E/%2E%2E/conftest.py",
    ],
)
def test_dot_dot_cannot_escape_the_mirror(handler, mirror, url):
    assert (mirror.parent / "conftest.py").is_file()  # the file the URL aims at does exist
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


@pytest.mark.parametrize("url", ["https://www.udemy.com/course/b2b%00copywriting/", "https://www.udemy.com/%00"])
def test_a_nul_byte_in_the_url_is_a_404(handler, url):
    assert download(handler, url).status == 404


@pytest.fixture
def own_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty mirror of the test's own, for files the shared one must never hold."""
    root = tmp_path / "mirror"
    (root / "example.org").mkdir(parents=True)
    monkeypatch.setenv("SKILLSTACK_MIRROR", str(root))
    return root


def feed_fifo_once_read(fifo: Path, data: bytes, patience_s: float = 2.0) -> threading.Thread:
    """Write `data` into the FIFO if a reader opens it within `patience_s` (a handler that reads FIFOs
    would otherwise block the test for good); give up quietly if none does."""

    def feed() -> None:
        deadline = time.monotonic() + patience_s
        while time.monotonic() < deadline:
            try:
                descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # ENXIO while nobody reads
            except OSError:
                time.sleep(0.02)
                continue
            with os.fdopen(descriptor, "wb") as writer:
                writer.write(data)
            return

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    return feeder


def test_a_fifo_in_the_mirror_is_not_read(own_mirror):
    # Reading a FIFO blocks until something writes to it: the crawl's reactor would hang for good.
    fifo = own_mirror / "example.org" / "courses.json"
    os.mkfifo(fifo)
    feeder = feed_fifo_once_read(fifo, b"[]")
    handler = MirrorDownloadHandler.from_crawler(get_crawler())
    assert download(handler, "https://example.org/courses.json").status == 404
    feeder.join()


def test_a_mirror_file_over_download_maxsize_fails_as_a_response_that_large(own_mirror):
    (own_mirror / "example.org" / "small.json").write_bytes(b"[]" * 512)
    (own_mirror / "example.org" / "huge.json").write_bytes(b"[]" * 513)
    handler = MirrorDownloadHandler.from_crawler(get_crawler(settings_dict={"DOWNLOAD_MAXSIZE": 1024}))
    assert download(handler, "https://example.org/small.json").body == b"[]" * 512
    with pytest.raises(DownloadCancelledError, match="larger than download max size"):
        download(handler, "https://example.org/huge.json")
    # a request's own limit wins, as with Scrapy's HTTP handler
    request = Request("https://example.org/small.json", meta={"download_maxsize": 100})
    with pytest.raises(DownloadCancelledError):
        asyncio.run(handler.download_request(request))
