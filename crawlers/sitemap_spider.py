"""Scrapy's SitemapSpider, made change-driven and re-crawlable for course pages."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from scrapy import Request
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from scrapy.spiders import SitemapSpider
from scrapy.utils.spider import iterate_spider_output
from twisted.python.failure import Failure

from crawlers.crawl_state import (
    FULL_SWEEP_STAT,
    SITEMAP_LASTMOD_EXTRA,
    SITEMAP_LOC_EXTRA,
    SitemapState,
    read_sitemap_state,
)
from crawlers.items import Course
from crawlers.page_requests import log_unavailable, mark_partial, urls_argument

DEFAULT_FULL_SWEEP_DAYS = 7.0


def parse_lastmod(text: str | None) -> datetime | None:
    """A sitemap `<lastmod>` (W3C datetime: a date, or a date and time with a zone) as aware UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class CourseSitemapSpider(SitemapSpider):
    """Walk a site's sitemaps to its course pages, fetching only the pages that changed.

    Concrete spiders are declared as `CourseSitemapSpider, StructuredDataSpider` (or with another
    page-reading base) with Scrapy's sitemap declarations: `sitemap_urls` (sitemaps, sitemap
    indexes or a robots.txt), `sitemap_follow` (which child sitemaps of an index to read) and
    `sitemap_rules` (which page URLs to fetch, and with which callback).

    Change-driven re-crawls. A sitemap entry is fetched only when its `<lastmod>` is newer than the
    one its page had when we last crawled it, or when we never crawled it, or when it has no
    `<lastmod>`. The state lives in crawl.duckdb (the Scrapy setting `SKILLSTACK_CRAWL_DB`): every
    item from a sitemap page keeps its entry in extras `sitemap_loc` and `sitemap_lastmod`, and
    `crawlers.crawl_state.read_sitemap_state` reads, per loc, the lastmod of the latest item from a
    finished run. Pages whose download failed left no item, so they are fetched again next time.
    Every `SKILLSTACK_FULL_SWEEP_DAYS` days (a Scrapy setting, else the environment variable, default
    7; 0 sweeps every run) the run fetches every page anyway, which catches pages whose content
    changed without their lastmod, and is marked with the stat `skillstack/sitemap/full_sweep`; the
    last full sweep is the newest run of the source with that stat that finished normally. A run
    with no state (the first, or crawl.duckdb unreadable) is a full sweep. A run that skipped
    unchanged pages is marked partial (`skillstack/partial` = `changed_only`): a course it lacks has
    not been removed. Counted: `skillstack/sitemap/unchanged` (skipped) and
    `skillstack/sitemap/changed` (fetched because lastmod moved or the page is new to us).

    Spider argument `urls` (see crawlers/page_requests.py): fetch exactly these pages, each with
    the callback of the first `sitemap_rules` entry its URL matches (else the first rule's), and
    no sitemap; the run is marked partial (`urls`).

    A sitemap or page that cannot be downloaded is logged as an error of the source and counted
    (`skillstack/sitemaps/unavailable`, `skillstack/pages/unavailable`). When it is one of the
    `sitemap_urls` the spider closes with reason `source_unavailable`; a child sitemap's courses
    are missing from the run, which is marked partial (`sitemap_unavailable`) and goes on, as it
    does past a missing page.
    """

    accepts_urls: ClassVar[bool] = True

    def __init__(self, *args: Any, urls: str | Iterable[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.urls = urls_argument(urls)
        self.full_sweep = True
        self.sitemap_state = SitemapState()
        # <loc> -> <lastmod> of the entries kept by `sitemap_filter`, until their request is made.
        self._listed_lastmods: dict[str, str] = {}
        # (loc, lastmod) of every course page the sitemaps list, fetched or not: the crawl writer keeps
        # them (table `sitemap_pages`), so a course's own address is known even when its page is not.
        # Not items: items would count towards `--limit` and be validated as courses.
        self.listed_pages: list[tuple[str, str | None]] = []

    async def start(self) -> AsyncIterator[Request]:
        if self.urls:
            mark_partial(self.crawler, "urls")
            for url in self.urls:
                yield Request(url, callback=self._page_callback_for(url), errback=self.page_unavailable)
            return
        self._choose_sweep()
        for url in self.sitemap_urls:
            yield Request(url, callback=self._parse_sitemap, errback=self.sitemap_unavailable)

    def _choose_sweep(self) -> None:
        self.sitemap_state = read_sitemap_state(self.settings.get("SKILLSTACK_CRAWL_DB"), self.name)
        days = self.settings.getfloat(
            "SKILLSTACK_FULL_SWEEP_DAYS",
            float(os.environ.get("SKILLSTACK_FULL_SWEEP_DAYS") or DEFAULT_FULL_SWEEP_DAYS),
        )
        last = self.sitemap_state.last_full_sweep
        now = datetime.now(UTC).replace(tzinfo=None)
        self.full_sweep = last is None or not self.sitemap_state.lastmods or now - last >= timedelta(days=days)
        if self.full_sweep:
            self.crawler.stats.set_value(FULL_SWEEP_STAT, 1)
            self.logger.info("full sweep of every sitemap entry (last full sweep: %s)", last or "never")
        else:
            mark_partial(self.crawler, "changed_only")
            self.logger.info(
                "fetching only entries whose lastmod changed since the last crawl (last full sweep: %s, "
                "%d pages known)",
                last,
                len(self.sitemap_state.lastmods),
            )

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        # Scrapy passes the Sitemap itself; only a <urlset> lists pages, an index lists sitemaps.
        pages = getattr(entries, "type", "urlset") == "urlset"
        for entry in entries:
            lastmod = entry.get("lastmod")
            if pages and not self.full_sweep and self._unchanged(entry["loc"], lastmod):
                self.crawler.stats.inc_value("skillstack/sitemap/unchanged")
                continue
            if pages:
                if not self.full_sweep:
                    self.crawler.stats.inc_value("skillstack/sitemap/changed")
                if lastmod:
                    self._listed_lastmods[entry["loc"]] = lastmod
            yield entry

    def _unchanged(self, loc: str, lastmod: str | None) -> bool:
        seen = parse_lastmod(self.sitemap_state.lastmods.get(loc))
        listed = parse_lastmod(lastmod)
        return seen is not None and listed is not None and listed <= seen

    def _parse_sitemap(self, response: Response) -> Iterator[Request]:
        # Scrapy builds the requests without errback or meta; every request it makes is given the
        # errback that counts a failed download, and page requests carry their sitemap entry.
        for request in super()._parse_sitemap(response):
            if request.callback == self._parse_sitemap:
                yield request.replace(errback=self.sitemap_unavailable)
                continue
            entry = {SITEMAP_LOC_EXTRA: request.url}
            if request.url in self._listed_lastmods:
                entry[SITEMAP_LASTMOD_EXTRA] = self._listed_lastmods.pop(request.url)
            self.listed_pages.append((request.url, entry.get(SITEMAP_LASTMOD_EXTRA)))
            yield request.replace(
                callback=self._parse_listed_page,
                errback=self.page_unavailable,
                cb_kwargs={"page_callback": request.callback.__name__, "entry": entry},
            )
        # Entries no sitemap rule took would otherwise stay here for the whole crawl.
        self._listed_lastmods.clear()

    def _parse_listed_page(self, response: Response, page_callback: str, entry: dict[str, str]) -> Iterator[Any]:
        for output in iterate_spider_output(getattr(self, page_callback)(response)):
            if isinstance(output, Course) and SITEMAP_LASTMOD_EXTRA in entry:
                output["extras"] = {**output.get("extras", {}), **entry}
            yield output

    def _page_callback_for(self, url: str) -> Any:
        rules = [(re.compile(rule), callback) for rule, callback in self.sitemap_rules]
        callback = next((callback for rule, callback in rules if rule.search(url)), rules[0][1])
        return getattr(self, callback) if isinstance(callback, str) else callback

    def sitemap_unavailable(self, failure: Failure) -> None:
        log_unavailable(self, failure, "sitemap")
        if failure.request.url in self.sitemap_urls:
            # Nothing of the source can be found: a run without a single course must not pass
            # for a complete crawl in which every course was removed.
            raise CloseSpider("source_unavailable")
        # The courses listed in the missing sitemap are not in this run, yet not removed.
        mark_partial(self.crawler, "sitemap_unavailable")

    def page_unavailable(self, failure: Failure) -> None:
        log_unavailable(self, failure, "page")
