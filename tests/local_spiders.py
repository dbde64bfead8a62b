"""Real spiders pointed at the test's local server (`bench.local_server`), for `tests/test_crawl_faults.py`.

They subclass the real sources, so the parsing, the pipelines and the run record are the ones a
nightly crawl uses; only the start URLs (paths on `SKILLSTACK_TEST_SERVER`, read when the spider is
built, in the crawl's subprocess) and a few settings that make the faults fast differ. They are
found through `run_crawl(..., spider_modules=["tests.local_spiders"])`, never as sources.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from twisted.python.failure import Failure

from crawlers.spiders.coursera_kaggle_2020 import CourseraKaggle2020Spider
from crawlers.spiders.jsonld_generic import JsonldGenericSpider
from crawlers.spiders.mitxonline import MitxonlineSpider
from crawlers.spiders.udemy_kaggle_2017 import UdemyKaggle2017Spider

SERVER_ENV = "SKILLSTACK_TEST_SERVER"

# Loopback answers in microseconds: no throttling, and retries wait tens of milliseconds, not seconds.
FAST: dict[str, Any] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "SKILLSTACK_RETRY_BACKOFF_BASE": 0.05,
    "SKILLSTACK_RETRY_BACKOFF_MAX": 5.0,
    "RETRY_TIMES": 2,
    "SKILLSTACK_ALLOW_PRIVATE_HOSTS": ["127.0.0.1"],
}


class LocalServerMixin:
    """`paths` on the local server become the spider's start URLs."""

    paths: ClassVar[list[str]] = []
    allowed_domains: ClassVar[list[str]] = ["127.0.0.1"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        server = os.environ[SERVER_ENV].rstrip("/")
        self.start_urls = [server + path for path in self.paths]


class LocalUdemyGoodSpider(LocalServerMixin, UdemyKaggle2017Spider):
    name = "local_udemy_good"
    paths = ["/good/udemy.csv"]
    custom_settings = FAST


class LocalCourseraGoodSpider(LocalServerMixin, CourseraKaggle2020Spider):
    name = "local_coursera_good"
    paths = ["/good/coursera.csv"]
    custom_settings = FAST


class LocalRetry429Spider(LocalServerMixin, UdemyKaggle2017Spider):
    """429 with `Retry-After: 1`, then the dataset."""

    name = "local_retry_429"
    paths = ["/retry429/udemy.csv"]
    custom_settings = FAST


class LocalFlakySpider(LocalServerMixin, CourseraKaggle2020Spider):
    """503, 500, then the dataset: two retries, each waiting longer than the one before."""

    name = "local_flaky"
    paths = ["/flaky/coursera.csv"]
    custom_settings = {**FAST, "SKILLSTACK_RETRY_BACKOFF_BASE": 0.4}


class LocalServerErrorsSpider(LocalServerMixin, UdemyKaggle2017Spider):
    """A source of 60 files, every one a 500: its error budget closes it before it has retried them all."""

    name = "local_server_errors"
    paths = [f"/broken/part-{number:02}.csv" for number in range(60)]
    custom_settings = {**FAST, "CLOSESPIDER_ERRORCOUNT": 5}

    def source_unavailable(self, failure: Failure) -> None:
        # One missing part does not make the other parts useless: log it and carry on.
        self.logger.error("dataset part %s is unavailable: %r", failure.request.url, failure.value)


class LocalTimeoutSpider(LocalServerMixin, UdemyKaggle2017Spider):
    """The server answers after 3 s; the source gives up after 1 s, twice."""

    name = "local_timeout"
    paths = ["/slow/udemy.csv"]
    custom_settings = {**FAST, "DOWNLOAD_TIMEOUT": 1, "RETRY_TIMES": 1}


class LocalHugeAnnouncedSpider(LocalServerMixin, UdemyKaggle2017Spider):
    """A 50 MB response with its Content-Length: cancelled on the headers."""

    name = "local_huge_announced"
    paths = ["/huge/announced.csv"]
    custom_settings = FAST


class LocalHugeStreamedSpider(LocalServerMixin, UdemyKaggle2017Spider):
    """A 50 MB response without a length: cancelled once DOWNLOAD_MAXSIZE bytes have arrived."""

    name = "local_huge_streamed"
    paths = ["/huge/streamed.csv"]
    custom_settings = FAST


class LocalRedirectLoopSpider(LocalServerMixin, UdemyKaggle2017Spider):
    name = "local_redirect_loop"
    paths = ["/loop/a.csv"]
    custom_settings = FAST


class LocalRobotsSpider(LocalServerMixin, UdemyKaggle2017Spider):
    """Its dataset sits under a path robots.txt disallows."""

    name = "local_robots"
    paths = ["/private/udemy.csv"]
    custom_settings = FAST


class LocalCachedSpider(LocalServerMixin, UdemyKaggle2017Spider):
    """A dataset served with an ETag and Last-Modified, crawled twice."""

    name = "local_cached"
    paths = ["/cached/udemy.csv"]
    custom_settings = FAST


class LocalJsonLdSpider(LocalServerMixin, JsonldGenericSpider):
    """Two copies of a real JSON-LD course page; in the second the Course script is cut in half."""

    name = "local_jsonld"
    paths = ["/offer/good-course", "/offer/broken-course"]
    custom_settings = FAST


class LocalApiTruncatedSpider(LocalServerMixin, MitxonlineSpider):
    """A real API page whose `next` leads to a page of JSON cut in half (a complete HTTP response)."""

    name = "local_api_truncated"
    paths = ["/api/v2/courses/"]
    custom_settings = FAST


class LocalApiCutSpider(LocalServerMixin, MitxonlineSpider):
    """An API page whose connection closes before the Content-Length it announced."""

    name = "local_api_cut"
    paths = ["/api/cut/courses/"]
    custom_settings = FAST


class LocalTimeBudgetSpider(LocalServerMixin, UdemyKaggle2017Spider):
    """The server answers after 3 s, the download would wait 10 s, the source's time budget is 1 s."""

    name = "local_time_budget"
    paths = ["/slow-budget/udemy.csv"]
    custom_settings = {**FAST, "DOWNLOAD_TIMEOUT": 10, "CLOSESPIDER_TIMEOUT": 1}


class LocalApiOffsiteSpider(LocalServerMixin, MitxonlineSpider):
    """A real API page whose `next` leads to another host (localhost, the same server)."""

    name = "local_api_offsite"
    paths = ["/api/offsite/courses/"]
    custom_settings = FAST


class LocalLoopbackByNameSpider(LocalServerMixin, UdemyKaggle2017Spider):
    """A dataset on the local server reached as `localhost`: a name that resolves to loopback."""

    name = "local_loopback_by_name"
    paths = ["/by-name/udemy.csv"]
    allowed_domains: ClassVar[list[str]] = []
    custom_settings = FAST

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.start_urls = [url.replace("//127.0.0.1:", "//localhost:") for url in self.start_urls]


class LocalLinkLocalSpider(UdemyKaggle2017Spider):
    """The cloud metadata service's address, never connected to."""

    name = "local_link_local"
    start_urls = ["http://169.254.169.254/latest/meta-data/"]
    allowed_domains: ClassVar[list[str]] = []
    custom_settings = FAST


class LocalFileSchemeSpider(UdemyKaggle2017Spider):
    name = "local_file_scheme"
    start_urls = ["file:///etc/passwd"]
    allowed_domains: ClassVar[list[str]] = []
    custom_settings = FAST
