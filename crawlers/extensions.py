"""Crawler extensions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import Spider, signals
from scrapy.utils.defer import deferred_from_coro

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred

ERRORS_STAT = "skillstack/log_count/ERROR"
# The finish reason Scrapy's CloseSpider extension gives for the same budget, so a run record reads
# the same whichever of the two counted the error that used the budget up.
ERROR_BUDGET_REASON = "closespider_errorcount"


class _SpiderErrorHandler(logging.Handler):
    def __init__(self, crawler: Crawler, spider: Spider):
        super().__init__(level=logging.ERROR)
        self.crawler = crawler
        self.spider = spider
        self.closing: Deferred[None] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "spider", None) is self.spider:
            self.crawler.stats.inc_value(ERRORS_STAT)
            budget = self.crawler.settings.getint("CLOSESPIDER_ERRORCOUNT")
            if budget and self.crawler.stats.get_value(ERRORS_STAT) == budget:
                self.closing = deferred_from_coro(self.crawler.engine.close_spider_async(reason=ERROR_BUDGET_REASON))


class SourceErrorCounter:
    """Count the ERROR (and worse) log records of one spider in the stat `skillstack/log_count/ERROR`.

    Scrapy's own `log_count/ERROR` counts every record that reaches the root logger, so when several
    sources crawl in one process each of them would be charged with the others' errors. Scrapy tags
    the records it logs for a spider (spider errors, download errors, `spider.logger`) with that
    spider, which is what this handler counts.
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.handler: _SpiderErrorHandler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.crawler.stats.set_value(ERRORS_STAT, 0)
        self.handler = _SpiderErrorHandler(self.crawler, spider)
        logging.root.addHandler(self.handler)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.handler is not None:
            logging.root.removeHandler(self.handler)
            self.handler = None
