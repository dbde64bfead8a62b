"""Write every item and one `crawl_runs` row per source into crawl.duckdb.

The tables exist already: the CLI applies core/schema.sql before it starts a crawl, and the
crawlers never import `pipeline` (DESIGN.md). This module only inserts and updates, every value a
bound parameter.

DuckDB lets one process write a database file, and all sources of a run crawl in one process, so
all their pipelines share one connection per file; the last spider to close closes it. Scrapy
runs every spider in the reactor thread, so the connection is never used from two threads.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from scrapy import Spider, signals
from scrapy.exceptions import NotConfigured

from crawlers.extensions import ERRORS_STAT
from crawlers.page_requests import PARTIAL_STAT

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

BATCH_SIZE = 500
ITEM_COLUMNS = ("run_id", "source", "course_id", "url", "item", "scraped_at")
# A crawl bounded by `--limit` stops through CLOSESPIDER_ITEMCOUNT; it did what was asked.
LIMIT_REACHED = "closespider_itemcount"
# A whole source read to the end with not one course: a dataset host serving only the CSV header, an
# API answering {"results": []}. Counted as complete, it would mark every course of the source
# removed; it is a failed run. A partial run (given URLs, only the changed pages) may find none.
NO_ITEMS = "no_items"

_shared: dict[Path, tuple[duckdb.DuckDBPyConnection, int]] = {}


def _acquire(path: Path) -> duckdb.DuckDBPyConnection:
    con, users = _shared.get(path) or (duckdb.connect(str(path)), 0)
    _shared[path] = (con, users + 1)
    return con


def _release(path: Path) -> None:
    con, users = _shared[path]
    if users > 1:
        _shared[path] = (con, users - 1)
    else:
        del _shared[path]
        con.close()


def close_shared_connections() -> None:
    """Close what a spider that never reached `spider_closed` left open."""
    while _shared:
        _, (con, _) = _shared.popitem()
        con.close()


def _utc_now() -> datetime:
    # crawl.duckdb stores naive TIMESTAMPs, all in UTC.
    return datetime.now(UTC).replace(tzinfo=None)


class WriteCrawlDbPipeline:
    """Needs the settings `SKILLSTACK_CRAWL_DB` and `SKILLSTACK_RUN_ID` (set by `crawlers.runner`)."""

    def __init__(self, crawler: Crawler, crawl_db: Path, run_id: str):
        self.crawler = crawler
        self.crawl_db = crawl_db
        self.run_id = run_id
        self.con: duckdb.DuckDBPyConnection | None = None
        self.pending: list[tuple[Any, ...]] = []
        self.written = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        crawl_db = crawler.settings.get("SKILLSTACK_CRAWL_DB")
        run_id = crawler.settings.get("SKILLSTACK_RUN_ID")
        if not crawl_db or not run_id:
            raise NotConfigured("SKILLSTACK_CRAWL_DB and SKILLSTACK_RUN_ID are not set")
        pipeline = cls(crawler, Path(crawl_db).resolve(), run_id)
        crawler.signals.connect(pipeline.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def spider_opened(self, spider: Spider) -> None:
        self.con = _acquire(self.crawl_db)
        self.con.execute(
            "INSERT OR REPLACE INTO crawl_runs (run_id, source, started_at, status) VALUES (?, ?, ?, ?)",
            [self.run_id, spider.name, _utc_now(), "running"],
        )

    def process_item(self, item: Any) -> Any:
        record = dict(item)
        self.pending.append(
            (
                self.run_id,
                record["source"],
                record["id"],
                record.get("url"),
                json.dumps(record, ensure_ascii=False, default=str),
                _utc_now(),
            )
        )
        if len(self.pending) >= BATCH_SIZE:
            self._flush()
        return item

    def _flush(self) -> None:
        if not self.pending:
            return
        # One multi-row INSERT per batch: DuckDB's executemany runs row by row and is ~15x slower.
        row = "(" + ", ".join("?" for _ in ITEM_COLUMNS) + ")"
        sql = f"INSERT INTO crawl_items ({', '.join(ITEM_COLUMNS)}) VALUES " + ", ".join(row for _ in self.pending)
        self.con.execute(sql, [value for record in self.pending for value in record])
        self.written += len(self.pending)
        self.pending.clear()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.con is None:
            return  # spider_opened failed, and Scrapy logged why
        try:
            self._flush()
            self._write_listed_pages(spider)
            self._finish_run(spider, reason)
        finally:
            self.con = None
            _release(self.crawl_db)

    def _write_listed_pages(self, spider: Spider) -> None:
        """The course pages the spider's sitemaps listed (crawlers.sitemap_spider), a batch per INSERT."""
        listed = getattr(spider, "listed_pages", ())
        provider = getattr(spider, "provider", None)
        for start in range(0, len(listed), BATCH_SIZE):
            batch = listed[start : start + BATCH_SIZE]
            sql = "INSERT INTO sitemap_pages (run_id, source, provider, loc, lastmod) VALUES " + ", ".join(
                "(?, ?, ?, ?, ?)" for _ in batch
            )
            self.con.execute(
                sql, [v for loc, lastmod in batch for v in (self.run_id, spider.name, provider, loc, lastmod)]
            )

    def _finish_run(self, spider: Spider, reason: str) -> None:
        stats = self.crawler.stats
        limit = self.crawler.settings.getint("SKILLSTACK_LIMIT")
        if limit:
            stats.set_value("skillstack/limit", limit)
        completed = reason == "finished" or (limit > 0 and reason == LIMIT_REACHED)
        if completed and self.written == 0 and not stats.get_value(PARTIAL_STAT):
            completed, reason = False, NO_ITEMS
        self.con.execute(
            """
            UPDATE crawl_runs
               SET finished_at = ?, status = ?, finish_reason = ?, items = ?, errors = ?, dropped = ?, stats = ?
             WHERE run_id = ? AND source = ?
            """,
            [
                _utc_now(),
                "finished" if completed else "failed",
                reason,
                self.written,
                stats.get_value(ERRORS_STAT, 0),
                stats.get_value("item_dropped_count", 0),
                json.dumps({**stats.get_stats(), "finish_reason": reason}, default=str, sort_keys=True),
                self.run_id,
                spider.name,
            ],
        )
