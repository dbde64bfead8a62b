"""Scrapy's OffsiteMiddleware, with the run marked partial when it drops a request.

Each spider declares `allowed_domains`, and Scrapy drops a request for another host when it is
scheduled, without calling its errback. A source whose API `next` link or redirect leaves its
domains would then finish "complete" without the pages beyond, and the build would mark their
courses removed. So a dropped request marks the run partial (`skillstack/partial` = `offsite`) and is
logged as a warning; the request stays dropped and Scrapy counts it (`offsite/filtered`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest

from crawlers.page_requests import mark_partial

if TYPE_CHECKING:
    from scrapy import Request, Spider

logger = logging.getLogger(__name__)

OFFSITE_PARTIAL = "offsite"


class PartialOffsiteMiddleware(OffsiteMiddleware):
    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        try:
            super().process_request(request)
        except IgnoreRequest:
            mark_partial(self.crawler, OFFSITE_PARTIAL)
            logger.warning(
                "Dropped %(url)s: not in the source's allowed_domains %(domains)s; the run is partial",
                {"url": request.url, "domains": getattr(self.crawler.spider, "allowed_domains", None)},
                extra={"spider": self.crawler.spider},
            )
            raise
