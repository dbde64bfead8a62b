"""`skillstack nightly`: taxonomy if missing, crawl every source, build, publish — locked, reported.

Wiring only: each step is a layer's own function; this module adds the lock, the run report and
the exit codes cron needs. After a publish it opens the new catalogue once, so the indexes kept
beside it are built by the nightly and not by the first user of the morning.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from crawlers.pipelines.write_crawl_db import NO_ITEMS
from skillstack.lock import writer_lock
from skillstack.settings import Paths

EXIT_OK = 0
EXIT_SOME_SOURCES_FAILED = 3  # a catalogue was published without them
EXIT_NOTHING_PUBLISHED = 4

# Opening a 250k-course catalogue for the first time takes ~30 s on two busy cores.
WARM_TIMEOUT_S = 1800

log = logging.getLogger(__name__)


@dataclass
class NightlyReport:
    started_at: str
    finished_at: str | None = None
    sources_requested: list[str] = field(default_factory=list)  # empty: every source
    limit: int | None = None
    taxonomy: str = "present"
    sources: list[dict] = field(default_factory=list)
    catalogue: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # went wrong without failing the run (no exit code)
    published: bool = False
    exit_code: int = EXIT_OK
    seconds: float = 0.0
    step_seconds: dict[str, float] = field(default_factory=dict)
    reaped: list[str] = field(default_factory=list)  # leftovers of killed processes, deleted at the start
    retention: int = 0  # runs kept beyond what the next build needs (`pipeline.retention`)
    pruned: dict[str, int] = field(default_factory=dict)  # crawl runs, items, reports, HTTP cache entries
    sizes: dict[str, int] = field(default_factory=dict)  # bytes per part of SKILLSTACK_HOME after pruning

    feeds: dict = field(default_factory=dict)  # watched goals' feeds updated after the publish: feeds, entries

    def summary(self) -> str:
        lines = [
            f"skillstack nightly {self.started_at} → {self.finished_at} ({self.seconds:.0f}s), exit {self.exit_code}"
        ]
        lines.append(f"taxonomy: {self.taxonomy}")
        if self.step_seconds:
            lines.append("steps: " + ", ".join(f"{step} {seconds:.0f}s" for step, seconds in self.step_seconds.items()))
        lines.append(
            f"{'source':28} {'status':8} {'items':>7} {'new':>6} {'changed':>7} {'removed':>7} {'errors':>6}  time"
        )
        for s in self.sources:
            lines.append(
                f"{s['source']:28} {s['status']:8} {s['items']:7} {s.get('new', 0):6} {s.get('changed', 0):7} "
                f"{s.get('removed', 0):7} {s['errors']:6}  {s['duration_s'] or 0:.1f}s"
            )
        if self.catalogue:
            c = self.catalogue
            lines.append(
                f"catalogue: {c.get('courses', 0)} courses, {c.get('active', 0)} active, "
                f"{c.get('embedded', 0)} embedded, {c.get('skill_links', 0)} skill links"
            )
        if self.sizes:
            lines.append(
                "data: "
                + ", ".join(f"{name} {_megabytes(size)}" for name, size in self.sizes.items())
                + f"; kept {self.retention} runs, pruned "
                + ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in self.pruned.items())
            )
        if self.reaped:
            lines.append(f"reaped {len(self.reaped)} leftovers of killed runs: {', '.join(self.reaped[:5])}")
        lines.append("published: yes" if self.published else "published: NO — the previous catalogue keeps serving")
        if self.feeds:
            lines.append(
                f"feeds: {self.feeds.get('feeds', 0)} watched goals, {self.feeds.get('entries', 0)} new entries"
            )
        lines.extend(f"failed: {f}" for f in self.failures)
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def run_nightly(
    paths: Paths,
    *,
    load_taxonomy: Callable[[], None],
    taxonomy_present: Callable[[], bool],
    crawl: Callable[[], list],
    build: Callable[[], object],
    sources: list[str] | None = None,
    limit: int | None = None,
    warm: Callable[[], object] | None = None,
) -> NightlyReport:
    """Run the steps under the lock and write the report; never raises for a failed step.

    `warm` (default: open the published catalogue, `warm_indexes`) runs after a publish; when it
    fails the catalogue still serves, so the run only logs it and notes a warning.

    `skillstack.lock.LockedError`, before anything ran, when another command holds the writers' lock.
    """
    started = time.perf_counter()
    report = NightlyReport(started_at=_now(), sources_requested=list(sources or []), limit=limit)
    with writer_lock(paths.lock_file, "nightly", wait=False):
        try:
            report.reaped = [str(path.relative_to(paths.home)) for path in reap_leftovers(paths)]
        except OSError as exc:
            report.warnings.append(f"reap: {_one_line(exc)}")
        tick = time.perf_counter()
        if not taxonomy_present():
            try:
                load_taxonomy()
                report.taxonomy = "loaded"
            except Exception as exc:  # the crawl and build can still run; the report says why
                report.taxonomy = "missing"
                report.failures.append(f"taxonomy: {_one_line(exc)}")
        report.step_seconds["taxonomy"] = round(time.perf_counter() - tick, 1)

        tick = time.perf_counter()
        try:
            summaries = crawl()
        except Exception as exc:
            summaries = []
            report.failures.append(f"crawl: {_one_line(exc)}")
        report.step_seconds["crawl"] = round(time.perf_counter() - tick, 1)
        report.sources = [{**s.as_dict(), "new": 0, "changed": 0, "removed": 0} for s in summaries]
        report.failures.extend(f"{s.source}: {_why_failed(s)}" for s in summaries if _failed(s))

        tick = time.perf_counter()
        try:
            built = build()
            report.published = True
            report.catalogue = built.as_dict()
            for source in report.sources:
                counts = built.per_source.get(source["source"], {})
                source.update({key: counts.get(key, 0) for key in ("new", "changed", "removed", "active")})
            # Published, but a source that lost most of its courses needs someone to look (exit 3).
            report.failures.extend(built.held_back_lines())
        except Exception as exc:
            report.failures.append(f"build: {_one_line(exc)}")
        report.step_seconds["build"] = round(time.perf_counter() - tick, 1)

        if report.published:
            tick = time.perf_counter()
            try:
                (warm or (lambda: warm_indexes(paths.catalog_db)))()
                report.step_seconds["warm"] = round(time.perf_counter() - tick, 1)
                log.info("catalogue indexes warmed in %.1f s", time.perf_counter() - tick)
            except Exception as exc:
                log.warning("could not warm the catalogue indexes: %s", _one_line(exc))
                report.warnings.append(f"warm: {_one_line(exc)}")
            update_feeds(paths, report)
        _prune(paths, report)
    if not report.published:
        report.exit_code = EXIT_NOTHING_PUBLISHED
    elif report.failures:
        report.exit_code = EXIT_SOME_SOURCES_FAILED
    report.seconds = round(time.perf_counter() - started, 1)
    report.finished_at = _now()
    try:
        write_report(paths.reports, report)
    except OSError as exc:
        # A full disk: the run's outcome is still printed, and cron sees that nothing was published.
        log.error("cannot write the report into %s: %s", paths.reports, _one_line(exc))
        report.failures.append(f"report: {_one_line(exc)}")
        if not report.published:
            report.exit_code = EXIT_NOTHING_PUBLISHED
    return report


def reap_leftovers(paths: Paths) -> list[Path]:
    """Delete what killed runs left behind: staging files of dead builds, `.part` downloads and
    reports, staging files of dead index writers. Under the writers' lock."""
    from pipeline.publish import remove_stale_staging
    from pipeline.retention import reap_partial_downloads
    from recommender.index_cache import reap_staging

    return [
        *remove_stale_staging(paths.catalog_db),
        *reap_partial_downloads(paths.downloads),
        *reap_partial_downloads(paths.reports),  # only a nightly writes reports, and this one holds the lock
        *reap_staging(paths.home / "cache"),
    ]


# The parts of SKILLSTACK_HOME whose sizes the report gives.
SIZED = ("crawl.duckdb", "catalog.duckdb", "httpcache", "reports", "cache", "downloads")


def _prune(paths: Paths, report: NightlyReport) -> None:
    """Drop what is older than the retention window and nothing the next build needs; note the
    sizes. A failure here is a warning: the catalogue is already published."""
    from pipeline.retention import prune_crawl_db, prune_http_cache, prune_reports, retention, sizes

    tick = time.perf_counter()
    try:
        report.retention = retention()
        report.pruned = {
            **{f"crawl_{what}": n for what, n in prune_crawl_db(paths.crawl_db, report.retention).items()},
            "http_cache_entries": prune_http_cache(paths.http_cache, report.retention),
            # this run's report makes the window full
            "reports": prune_reports(paths.reports, report.retention - 1),
        }
    except (OSError, ValueError, duckdb.Error) as exc:
        log.warning("could not prune: %s", _one_line(exc))
        report.warnings.append(f"prune: {_one_line(exc)}")
    report.sizes = sizes(paths.home, SIZED)
    report.step_seconds["prune"] = round(time.perf_counter() - tick, 1)


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def warm_indexes(catalog_path: Path) -> None:
    """Open the published catalogue once: the first open of a build builds the course indexes and
    keeps them beside it (`recommender.index_cache.course_indexes`); every later open reads them.

    In a process of its own: the open takes a few GB at 250k courses, which a child returns when it
    ends, and a child killed for memory leaves this run able to write its report.
    """
    result = subprocess.run(
        [sys.executable, "-c", _WARM_CODE, str(catalog_path)],
        capture_output=True,
        text=True,
        timeout=WARM_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        last = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
        raise RuntimeError(f"opening {catalog_path} failed: {last[0]}")


def update_feeds(paths: Paths, report: NightlyReport) -> None:
    """Every watched goal's feed gets what the new catalogue changed for it (`skillstack watch update`).

    In a child like the warm-up: it opens the catalogue and the model. A failure is a warning: the
    catalogue is published either way, and the next nightly compares with the last state it wrote.
    """
    if not (paths.home / "watches.json").exists():
        return
    tick = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "skillstack.cli", "watch", "update", "--json"],
        capture_output=True,
        text=True,
        timeout=WARM_TIMEOUT_S,
        check=False,
        env={**os.environ, "SKILLSTACK_HOME": str(paths.home)},
    )
    report.step_seconds["feeds"] = round(time.perf_counter() - tick, 1)
    try:
        report.feeds = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else {}
    except (IndexError, ValueError):
        report.feeds = {}
    if result.returncode != 0 or not report.feeds:
        last = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
        log.warning("could not update the watched goals' feeds: %s", last[0])
        report.warnings.append(f"feeds: {last[0]}")


_WARM_CODE = "import sys, pathlib; from recommender.engine import Engine; Engine.open(pathlib.Path(sys.argv[1]))"


def _failed(summary) -> bool:
    """Stopped early, or finished with errors and not one item (a dataset turned to garbage)."""
    return not summary.ok or (summary.errors > 0 and summary.items == 0)


def _why_failed(summary) -> str:
    """The finish reason, the error count and the HTTP statuses that were not 2xx/3xx."""
    if summary.finish_reason == NO_ITEMS:
        return f"{NO_ITEMS} (read to the end and found not one course; its courses are kept, none marked removed)"
    bad = ", ".join(f"HTTP {code} x{n}" for code, n in summary.http_status.items() if not code.startswith(("2", "3")))
    detail = f"{summary.errors} errors" + (f"; {bad}" if bad else "")
    return f"{summary.finish_reason or summary.status} ({detail})"


def write_report(directory: Path, report: NightlyReport) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"nightly-{report.started_at.replace(':', '')}"
    for attempt in range(2, 100):  # two runs started in the same second keep both reports
        if not stem.with_suffix(".json").exists():
            break
        stem = directory / f"nightly-{report.started_at.replace(':', '')}-{attempt}"
    _write_whole(stem.with_suffix(".json"), json.dumps(report.__dict__, indent=2, default=str))
    _write_whole(stem.with_suffix(".txt"), report.summary() + "\n")
    return stem.with_suffix(".json")


def _write_whole(path: Path, text: str) -> None:
    """Write beside `path` and rename: a full disk leaves no half-written report behind."""
    staging = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
