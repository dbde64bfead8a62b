"""What SKILLSTACK_HOME keeps, and the pruning that stops it from growing night after night.

Kept: everything the next build needs (per source, its latest complete crawl run and every finished
run after it: `build.usable_runs`) and a retention window of the last `retention()` runs, 14 by
default (a fortnight of nightlies; `SKILLSTACK_RETENTION=N` sets it): each source's last N crawl runs
with their items, the last N nightly reports, HTTP cache entries written in the last N days. The
price history is the catalogue's `offers` table, which every build carries over: it needs no old
crawl items. Pruned: the rest, by `skillstack nightly` under the writers' lock.

Also reaped here: what a killed process leaves behind, which nothing else would ever delete (the
`.part` files of interrupted downloads).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from core.store import connect

DEFAULT_RETENTION = 14
RETENTION_ENV = "SKILLSTACK_RETENTION"
# Scrapy's FilesystemCacheStorage: <httpcache>/<spider>/<first two hex digits>/<request fingerprint>/
_CACHE_ENTRY_GLOB = "*/*/*"
REPORT_GLOB = "nightly-*"


def retention() -> int:
    """The retention window in runs (and days, for the HTTP cache): `SKILLSTACK_RETENTION` or 14."""
    value = os.environ.get(RETENTION_ENV, "").strip()
    if not value:
        return DEFAULT_RETENTION
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{RETENTION_ENV} must be a whole number of runs, at least 1, not {value!r}")
    return int(value)


def prune_crawl_db(crawl_db: Path, keep_runs: int) -> dict[str, int]:
    """Delete the runs (and their items) that the next build does not use and that are older than each
    source's last `keep_runs` runs; returns the rows deleted. The freed blocks are reused by the next
    crawls' items after the checkpoint, so the file stops growing (DuckDB does not shrink a file)."""
    from pipeline.build import usable_runs  # pandas and the model's code: only when there is a crawl

    if not crawl_db.exists():
        return {"runs": 0, "items": 0}
    con = connect(crawl_db)
    try:
        con.register("usable", usable_runs(con)[["source", "run_id"]])
        con.execute(
            """
            CREATE TEMP TABLE kept_runs AS
            SELECT source, run_id FROM usable
            UNION
            SELECT source, run_id FROM crawl_runs
            QUALIFY row_number() OVER (PARTITION BY source ORDER BY started_at DESC) <= ?
            """,
            [keep_runs],
        )
        con.unregister("usable")
        (items,) = con.execute(
            """
            DELETE FROM crawl_items i
            WHERE NOT EXISTS (SELECT 1 FROM kept_runs k WHERE k.source = i.source AND k.run_id = i.run_id)
            """
        ).fetchone()
        (runs,) = con.execute(
            """
            DELETE FROM crawl_runs r
            WHERE NOT EXISTS (SELECT 1 FROM kept_runs k WHERE k.source = r.source AND k.run_id = r.run_id)
            """
        ).fetchone()
        con.execute("DROP TABLE kept_runs")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return {"runs": int(runs), "items": int(items)}


def prune_reports(reports_dir: Path, keep_runs: int) -> int:
    """Keep the reports of the last `keep_runs` nightlies (0: none) (a `.json` and a `.txt` each); returns the
    files deleted. Their names start with the run's UTC start time, so the name orders them."""
    if not reports_dir.is_dir():
        return 0
    stems = sorted({path.name.split(".", 1)[0] for path in reports_dir.glob(REPORT_GLOB)})
    deleted = 0
    for stem in stems[: max(len(stems) - keep_runs, 0)]:
        for path in reports_dir.glob(f"{stem}.*"):
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def prune_http_cache(cache_dir: Path, keep_days: int, now: float | None = None) -> int:
    """Delete the HTTP cache entries not written in the last `keep_days` days; returns how many.

    Scrapy keeps an entry until the server's caching headers say it is stale, then fetches and writes
    it again; an entry for a URL no source requests any more would stay forever."""
    if not cache_dir.is_dir():
        return 0
    cutoff = (now or time.time()) - keep_days * 86400
    deleted = 0
    for entry in cache_dir.glob(_CACHE_ENTRY_GLOB):
        try:
            newest = max((f.stat().st_mtime for f in entry.iterdir()), default=entry.stat().st_mtime)
        except OSError:
            continue
        if newest < cutoff:
            shutil.rmtree(entry, ignore_errors=True)
            deleted += 1
    for directory in sorted(cache_dir.glob("*/*"), reverse=True):  # prefix folders left empty
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return deleted


def reap_partial_downloads(downloads_dir: Path) -> list[Path]:
    """Delete the `.part` files a killed process left in `downloads_dir` (downloads and extractions:
    `fetch.atomic_write`; or a nightly's reports). Call it under the writers' lock: only `taxonomy
    load` and the nightly write there, and they hold it, so every `.part` found then is dead."""
    if not downloads_dir.is_dir():
        return []
    reaped = []
    for path in downloads_dir.rglob(".*.part"):
        path.unlink(missing_ok=True)
        reaped.append(path)
    return reaped


def sizes(home: Path, names: tuple[str, ...]) -> dict[str, int]:
    """Bytes on disk of each named file or folder of `home` (0 when absent), and `total` of the home."""
    found = {name: _bytes(home / name) for name in names}
    found["total"] = _bytes(home)
    return found


def _bytes(path: Path) -> int:
    try:
        if path.is_file():
            return path.stat().st_size
        if not path.is_dir():
            return 0
    except OSError:
        return 0
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:  # deleted meanwhile
                continue
    return total
