"""What earlier runs of a source saw, read back from crawl.duckdb for change-driven re-crawls.

The crawlers never import `pipeline` (DESIGN.md); this module only reads the two tables the
crawl writer fills, `crawl_runs` and `crawl_items`, with bound parameters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

logger = logging.getLogger(__name__)

FULL_SWEEP_STAT = "skillstack/sitemap/full_sweep"
# Where a sitemap spider keeps, in each item, the sitemap entry its page came from.
SITEMAP_LOC_EXTRA = "sitemap_loc"
SITEMAP_LASTMOD_EXTRA = "sitemap_lastmod"


@dataclass(frozen=True)
class SitemapState:
    last_full_sweep: datetime | None = None  # naive UTC, as crawl.duckdb stores it
    lastmods: dict[str, str] = field(default_factory=dict)  # sitemap <loc> -> <lastmod> when last crawled


def read_sitemap_state(crawl_db: str | Path | None, source: str) -> SitemapState:
    """When `source` last finished a full sweep, and the `<lastmod>` each page had when it was last crawled.

    Only runs that finished count: a page fetched by a run that died midway may never have reached
    the catalogue, so it is fetched again. No database, no tables, or a database another process
    holds: an empty state, which makes the caller sweep everything.
    """
    if not crawl_db or not Path(crawl_db).is_file():
        return SitemapState()
    try:
        con = _connect(Path(crawl_db).resolve())
    except duckdb.Error as exc:
        logger.warning("cannot read the crawl state of %s from %s: %s", source, crawl_db, exc)
        return SitemapState()
    try:
        (last_full_sweep,) = con.execute(
            """
            SELECT max(started_at) FROM crawl_runs
             WHERE source = ? AND status = 'finished' AND finish_reason = 'finished'
               AND json_extract(stats, ?) IS NOT NULL
            """,
            [source, f'$."{FULL_SWEEP_STAT}"'],
        ).fetchone()
        rows = con.execute(
            """
            SELECT json_extract_string(i.item, ?) AS loc, arg_max(json_extract_string(i.item, ?), i.scraped_at)
              FROM crawl_items i JOIN crawl_runs r USING (run_id, source)
             WHERE i.source = ? AND r.status = 'finished' AND json_extract_string(i.item, ?) IS NOT NULL
             GROUP BY loc
            """,
            [
                f"$.extras.{SITEMAP_LOC_EXTRA}",
                f"$.extras.{SITEMAP_LASTMOD_EXTRA}",
                source,
                f"$.extras.{SITEMAP_LASTMOD_EXTRA}",
            ],
        ).fetchall()
    except duckdb.Error as exc:
        logger.warning("cannot read the crawl state of %s from %s: %s", source, crawl_db, exc)
        return SitemapState()
    finally:
        con.close()
    return SitemapState(last_full_sweep, {loc: lastmod for loc, lastmod in rows if loc})


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.ConnectionException:
        # The crawl writer of this very process has the file open for writing, and DuckDB refuses a
        # second, read-only configuration of the same file in one process. A connection with the
        # writer's configuration shares its database; it is only used for the SELECTs above.
        return duckdb.connect(str(path))
