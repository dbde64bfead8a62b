"""Crawler extensions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import Spider, signals
from scrapy.utils.defer import deferred_from_coro

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.defer import Deferred

ERRORS_STAT = "skillstack/log_count/ERROR"
ERRORS_IN_A_ROW_STAT = "skillstack/errors_in_a_row/max"
# The finish reason Scrapy's CloseSpider extension gives when callback exceptions use the same
# budget up: a run record reads the same whichever of the two closed the source.
ERROR_BUDGET_REASON = "closespider_errorcount"


class _SpiderErrorHandler(logging.Handler):
    def __init__(self, crawler: Crawler, spider: Spider):
        super().__init__(level=logging.ERROR)
        self.crawler = crawler
        self.spider = spider
        self.in_a_row = 0
        self.closing: Deferred[None] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "spider", None) is not self.spider:
            return
        stats = self.crawler.stats
        stats.inc_value(ERRORS_STAT)
        self.in_a_row += 1
        stats.max_value(ERRORS_IN_A_ROW_STAT, self.in_a_row)
        budget = self.crawler.settings.getint("CLOSESPIDER_ERRORCOUNT")
        if budget and self.in_a_row >= budget and self.closing is None:
            self.closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason=ERROR_BUDGET_REASON))


class SourceErrorCounter:
    """Count the ERROR (and worse) log records of one spider in the stat `skillstack/log_count/ERROR`,
    and close a source whose errors keep coming.

    Scrapy's own `log_count/ERROR` counts every record that reaches the root logger, so when several
    sources crawl in one process each of them would be charged with the others' errors. Scrapy tags
    the records it logs for a spider (spider errors, download errors, `spider.logger`) with that
    spider, which is what this handler counts.

    Error budget: when CLOSESPIDER_ERRORCOUNT errors come in a row — no response below 400 reached
    the spider in between — the source is closed with the reason `closespider_errorcount`. In a
    row, not in total: a sitemap of 200,000 pages with a few hundred dead links scattered through
    it is a healthy source, while one answering every request with a 500, a timeout or a 404 is
    not. (Scrapy's CloseSpider extension counts only exceptions raised in callbacks, so on its own
    it never stops a source whose every download fails; it keeps counting those, in total, against
    the same setting.) The longest run of errors is kept in `skillstack/errors_in_a_row/max`.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.handler: _SpiderErrorHandler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.crawler.stats.set_value(ERRORS_STAT, 0)
        self.handler = _SpiderErrorHandler(self.crawler, spider)
        logging.root.addHandler(self.handler)

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if self.handler is not None and response.status < 400:
            self.handler.in_a_row = 0

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.handler is not None:
            logging.root.removeHandler(self.handler)
            self.handler = None


class ItemProgress:
    """Items scraped per source as a progress bar on a terminal, or a log line every 30 s elsewhere
    (`skillstack.progress`). Scrapy's LogStats speaks per process, once a minute and without an
    ETA; with several sources in one process a count per source says which one is slow. The total
    is known only under a limit (`--limit` sets CLOSESPIDER_ITEMCOUNT)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.bar = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        from skillstack import progress

        limit = self.crawler.settings.getint("CLOSESPIDER_ITEMCOUNT")
        self.bar = progress.start(limit or None, f"crawl {spider.name}", unit="items")

    def item_scraped(self, item: object, response: Response, spider: Spider) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
