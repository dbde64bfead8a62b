"""Make a redirect that cannot end a failure of its request, not a silent drop.

Scrapy follows a redirect by scheduling a new request. In a loop (a → b → a) the second request
for `a` is dropped by the duplicate filter, without an error and without calling the request's
errback, so the source "finishes" with no items, and a later build would mark every course of it
removed. A chain longer than REDIRECT_MAX_TIMES is dropped the same way, logged at DEBUG.

This middleware sees each 3xx before RedirectMiddleware does (it sits above it in
DOWNLOADER_MIDDLEWARES). When the target is already in the request's redirect chain, or the chain
is as long as REDIRECT_MAX_TIMES allows, it raises IgnoreRequest: the request's errback gets the
failure, and the stat `skillstack/redirect/loop` or `skillstack/redirect/too_many` counts it. As
with retries given up on, it logs an error itself only when the request has no errback to report it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urljoin

from scrapy.exceptions import IgnoreRequest
from w3lib.url import safe_url_string

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class RedirectLoopMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.max_redirects = crawler.settings.getint("REDIRECT_MAX_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get("Location")
        if response.status not in REDIRECT_STATUSES or not location or request.meta.get("dont_redirect", False):
            return response
        target = urljoin(request.url, safe_url_string(location))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if urldefrag(target).url in {urldefrag(url).url for url in chain}:
            self._fail(request, "loop", [*chain, target])
        if self.max_redirects and request.meta.get("redirect_times", 0) >= self.max_redirects:
            self._fail(request, "too_many", [*chain, target])
        return response

    def _fail(self, request: Request, why: str, chain: list[str]) -> None:
        self.crawler.stats.inc_value(f"skillstack/redirect/{why}")
        logger.log(
            logging.WARNING if request.errback is not None else logging.ERROR,
            "Redirect %s: %s",
            why.replace("_", " "),
            " -> ".join(chain),
            extra={"spider": self.crawler.spider},
        )
        raise IgnoreRequest(f"redirect {why.replace('_', ' ')}: {' -> '.join(chain)}")
