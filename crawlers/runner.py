"""Run sources (spiders) into crawl.duckdb and report how each one went."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader
from twisted.python.failure import Failure

from crawlers.pipelines.write_crawl_db import close_shared_connections
from skillstack.settings import mirror_dir, paths

logger = logging.getLogger(__name__)


class UnknownSourceError(ValueError):
    """A source name that no spider has."""


@dataclass(frozen=True)
class RunSummary:
    source: str
    status: str  # finished | failed | running (the process died before the spider closed)
    items: int
    errors: int
    dropped: int
    duration_s: float | None
    finish_reason: str | None
    # Responses per HTTP status ("200": 1234, "429": 3), from Scrapy's downloader stats.
    http_status: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """The source crawled to the end (or to `--limit`); errors within the error budget are allowed."""
        return self.status == "finished"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    def one_line(self) -> str:
        duration = f"{self.duration_s:.1f}s" if self.duration_s is not None else "-"
        reason = "" if self.finish_reason in (None, self.status) else f"  ({self.finish_reason})"
        return (
            f"{self.source:28} {self.status:8} {self.items:6} items {self.errors:4} errors "
            f"{self.dropped:4} dropped {duration:>7}{reason}"
        )


def crawler_settings(spider_modules: list[str] | None = None) -> Settings:
    """The project settings; `spider_modules` replaces SPIDER_MODULES (tests and the benchmark use it
    to run spiders pointed at a local server through the same runner, without making them sources)."""
    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    if spider_modules:
        settings.set("SPIDER_MODULES", list(spider_modules), priority="cmdline")
    return settings


def list_sources() -> list[tuple[str, list[str]]]:
    """Every source: its name and the live URLs its spider starts from."""
    loader = get_spider_loader(crawler_settings())
    return [(name, _start_urls(loader.load(name))) for name in sorted(loader.list())]


def _start_urls(spider_cls: type) -> list[str]:
    # Sitemap spiders start from `sitemap_urls`; they have no `start_urls`.
    return list(getattr(spider_cls, "start_urls", None) or getattr(spider_cls, "sitemap_urls", None) or [])


def check_sources(names: list[str], spider_modules: list[str] | None = None) -> list[str]:
    """The names, if each is a source; else UnknownSourceError for the first that is not."""
    known = set(get_spider_loader(crawler_settings(spider_modules)).list())
    for name in names:
        if name not in known:
            raise UnknownSourceError(f"unknown source {name!r}; run `skillstack crawl --list` to see the sources")
    return list(names)


class UrlsNotSupportedError(ValueError):
    """`urls` given for a source that cannot re-crawl given pages, or for more than one source."""


def check_urls(names: list[str], spider_modules: list[str] | None = None) -> None:
    """Re-crawling given URLs takes exactly one source whose spider declares `accepts_urls`
    (crawlers/page_requests.py); any other spider would ignore them and crawl everything."""
    if len(names) != 1:
        raise UrlsNotSupportedError(f"--url needs exactly one SOURCE, not {len(names)}")
    spider_cls = get_spider_loader(crawler_settings(spider_modules)).load(names[0])
    if not getattr(spider_cls, "accepts_urls", False):
        raise UrlsNotSupportedError(f"source {names[0]!r} cannot re-crawl given URLs")


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_crawl(
    sources: list[str] | None,
    limit: int | None,
    crawl_db: Path,
    run_id: str | None = None,
    spider_modules: list[str] | None = None,
    urls: list[str] | None = None,
) -> list[RunSummary]:
    """Crawl the named sources (all when None) into `crawl_db`, whose tables must exist.

    All sources run in one Scrapy process (one Twisted reactor per Python process, one DuckDB
    writer per file), so this can be called once per process. A source that fails is recorded as
    failed and does not stop the others. `limit` bounds every source to about that many items.
    `spider_modules` replaces the modules spiders are found in (see `crawler_settings`).
    `urls`: crawl only these pages, with the page parser of the one source named (see `check_urls`).
    """
    settings = crawler_settings(spider_modules)
    names = check_sources(sources, spider_modules) if sources else sorted(get_spider_loader(settings).list())
    run_id = run_id or new_run_id()

    settings.set("SKILLSTACK_CRAWL_DB", str(crawl_db), priority="cmdline")
    settings.set("SKILLSTACK_RUN_ID", run_id, priority="cmdline")
    settings.set("HTTPCACHE_DIR", str(paths().http_cache), priority="cmdline")
    if mirror_dir() is not None:
        # Answers come from local files: politeness delays would only slow the run down, and
        # caching them could serve mirror copies to a later live crawl.
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        settings.set("HTTPCACHE_ENABLED", False, priority="cmdline")
    spider_args: dict[str, Any] = {}
    if urls:
        check_urls(names, spider_modules)
        spider_args["urls"] = list(urls)
    if limit is not None:
        spider_args["limit"] = limit
        settings.set("SKILLSTACK_LIMIT", limit, priority="cmdline")
        # Spiders that follow links cannot know their count in advance; this closes them early.
        settings.set("CLOSESPIDER_ITEMCOUNT", limit, priority="cmdline")

    process = CrawlerProcess(settings, install_root_handler=True)
    not_started: dict[str, str] = {}
    for name in names:
        deferred = process.crawl(name, **spider_args)
        deferred.addErrback(_record_failed_start, name, not_started)
    try:
        process.start()
    finally:
        close_shared_connections()
    return _read_summaries(crawl_db, run_id, names, not_started)


def _record_failed_start(failure: Failure, name: str, not_started: dict[str, str]) -> None:
    logger.error("source %s could not run: %s", name, failure.getErrorMessage(), exc_info=failure.value)
    not_started[name] = failure.getErrorMessage()


def _read_summaries(crawl_db: Path, run_id: str, names: list[str], not_started: dict[str, str]) -> list[RunSummary]:
    with duckdb.connect(str(crawl_db), read_only=True) as con:
        rows = con.execute(
            """
            SELECT source, status, items, errors, dropped,
                   epoch(finished_at) - epoch(started_at) AS duration_s, finish_reason, stats
              FROM crawl_runs
             WHERE run_id = ?
            """,
            [run_id],
        ).fetchall()
    recorded = {row[0]: RunSummary(*row[:-1], http_status=_http_status(row[-1])) for row in rows}
    return [
        recorded.get(name) or RunSummary(name, "failed", 0, 1, 0, None, not_started.get(name, "not started"))
        for name in names
    ]


STATUS_STAT_PREFIX = "downloader/response_status_count/"


def _http_status(stats_json: str | None) -> dict[str, int]:
    stats = json.loads(stats_json) if stats_json else {}
    return {
        key.removeprefix(STATUS_STAT_PREFIX): value
        for key, value in sorted(stats.items())
        if key.startswith(STATUS_STAT_PREFIX)
    }
