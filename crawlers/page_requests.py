"""What the page-reading base spiders share: re-crawling given URLs, partial runs, unavailable pages.

Re-crawl by URL: a base spider that supports it declares `accepts_urls = True` and, when it is
given the spider argument `urls`, starts from exactly those URLs with the callback that parses one
of its pages (a course page, an API object) instead of walking its sitemap, feed or listing.
`skillstack crawl SOURCE --url URL` (`crawlers.runner.run_crawl(..., urls=[...])`) refuses a source
whose spider does not declare it, so a re-crawl never turns into a full crawl by accident.

Partial runs: a run that holds only some pages of its source (given URLs, or only the pages whose
sitemap `<lastmod>` changed) is marked with `mark_partial`; the stat `skillstack/partial` says why,
and a course missing from such a run must not be taken as removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

PARTIAL_STAT = "skillstack/partial"
_SEPARATORS = re.compile(r"[\s,]+")


def urls_argument(value: str | Iterable[str] | None) -> list[str]:
    """The `urls` argument as a list: `run_crawl` passes a list, `scrapy crawl -a urls=...` one
    string with the URLs separated by spaces or commas."""
    if not value:
        return []
    parts = _SEPARATORS.split(value) if isinstance(value, str) else list(value)
    return [url.strip() for url in parts if url and url.strip()]


def mark_partial(crawler: Crawler, why: str) -> None:
    crawler.stats.set_value(PARTIAL_STAT, why)


def log_unavailable(spider: Spider, failure: Failure, what: str) -> None:
    """Errback: a page or sitemap that could not be downloaded (an HTTP error status after the
    retries, a network error) is an error of its source, counted as `skillstack/<what>s/unavailable`."""
    response = getattr(failure.value, "response", None)
    why = f"HTTP {response.status}" if response is not None else repr(failure.value)
    spider.crawler.stats.inc_value(f"skillstack/{what.replace(' ', '_')}s/unavailable")
    spider.logger.error("%s %s is unavailable: %s", what, failure.request.url, why)
