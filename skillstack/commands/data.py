"""Commands that write: crawl, taxonomy load, build, nightly; and serve."""

from __future__ import annotations

import argparse
import json
import sys

from skillstack import settings
from skillstack.commands import UserError


def cmd_crawl(args: argparse.Namespace) -> int:
    from core.store import open_crawl_db
    from crawlers.runner import (
        UnknownSourceError,
        UrlsNotSupportedError,
        check_sources,
        check_urls,
        list_sources,
        run_crawl,
    )
    from skillstack.lock import writer_lock

    if args.list:
        for name, urls in list_sources():
            print(f"{name:28} {' '.join(urls)}")
        return 0
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, not {args.limit}")
    try:
        # Before crawl.duckdb is created: a mistyped name should leave nothing behind.
        check_sources(args.sources)
        if args.urls:
            check_urls(args.sources)
        paths = settings.paths()
        with writer_lock(paths.lock_file, "crawl", wait=not args.no_wait):
            open_crawl_db(paths.crawl_db).close()
            summaries = run_crawl(args.sources or None, limit=args.limit, crawl_db=paths.crawl_db, urls=args.urls)
    except (UnknownSourceError, UrlsNotSupportedError) as exc:
        raise UserError(str(exc)) from exc
    if args.json:
        print(json.dumps([s.as_dict() for s in summaries], indent=2, default=str))
    else:
        for s in summaries:
            print(s.one_line())
    return 0 if all(s.ok for s in summaries) else 1


def cmd_taxonomy_load(args: argparse.Namespace) -> int:
    from pipeline.publish import CATALOG_TABLES, publishing
    from pipeline.taxonomy import load_taxonomy
    from skillstack.lock import writer_lock

    paths = settings.paths()
    with writer_lock(paths.lock_file, "taxonomy load", wait=not args.no_wait):
        if args.if_missing and _catalog_has_taxonomy(paths.catalog_db):
            print("taxonomy already in the catalogue; `skillstack taxonomy load` reloads it")
            return 0
        # The taxonomy lives in the catalogue: republish it with the new taxonomy and every other table
        # kept. Its vectors too: the next build drops those of surfaces gone and embeds only new ones,
        # where dropping them all made it embed ~100k texts again (4 minutes) for one added O*NET table.
        with publishing(paths.catalog_db, carry_over=(*CATALOG_TABLES, "taxonomy_vectors")) as con:
            counts = load_taxonomy(con, paths.downloads)
    print("taxonomy loaded: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
    return 0


def _deferred_surfaces(catalog_db) -> int:
    """What the catalogue's last build left to embed (`build --defer-onet`); 0 without a catalogue."""
    import duckdb

    if not catalog_db.exists():
        return 0
    con = duckdb.connect(str(catalog_db), read_only=True)
    try:
        row = con.execute("SELECT value FROM catalog_meta WHERE key = 'deferred_surfaces'").fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def _catalog_has_taxonomy(catalog_db) -> bool:
    import duckdb

    if not catalog_db.exists():
        return False
    from pipeline.taxonomy import taxonomy_complete

    con = duckdb.connect(str(catalog_db), read_only=True)
    try:
        return taxonomy_complete(con)
    finally:
        con.close()


def cmd_build(args: argparse.Namespace) -> int:
    from pipeline.build import BuildError, build_catalog
    from pipeline.publish import PublishError
    from skillstack.lock import writer_lock

    paths = settings.paths()
    if args.if_deferred and not _deferred_surfaces(paths.catalog_db):
        print("nothing deferred: the catalogue's taxonomy is embedded in full")
        return 0
    try:
        with writer_lock(paths.lock_file, "build", wait=not args.no_wait):
            report = build_catalog(
                paths.crawl_db, paths.catalog_db, allow_mass_removal=args.allow_mass_removal,
                defer_onet=args.defer_onet,
            )  # fmt: skip
    except (BuildError, PublishError) as exc:
        raise UserError(str(exc)) from None
    print(json.dumps(report.as_dict(), indent=2, default=str) if args.json else report.one_line())
    if args.if_deferred:
        # This build runs beside a dashboard (`make run`): open the new catalogue once, as the nightly
        # does, so the dashboard's next answer reads its indexes instead of building them.
        from skillstack.nightly import warm_indexes

        warm_indexes(paths.catalog_db)
    return 0


def cmd_nightly(args: argparse.Namespace) -> int:
    from crawlers.runner import UnknownSourceError, check_sources, list_sources
    from pipeline.retention import retention
    from skillstack import nightly

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, not {args.limit}")
    try:
        sources = check_sources(args.sources or [])
        keep = retention()
    except (UnknownSourceError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    paths = settings.paths()
    if args.dry_run:
        taxonomy = "present" if _catalog_has_taxonomy(paths.catalog_db) else "missing: would load it"
        which = "the sources" if sources else "every source"
        bound = f", at most {args.limit} items each" if args.limit else ""
        print(f"SKILLSTACK_HOME {paths.home}")
        print(f"mirror: {settings.mirror_dir() or 'none (live web)'}")
        print(f"1. taxonomy: {taxonomy}")
        print(
            f"2. crawl {which} into {paths.crawl_db}{bound}: "
            + ", ".join(sources or [name for name, _ in list_sources()])
        )
        print(f"3. build and publish {paths.catalog_db} (atomic rename; the old one serves until then)")
        print("4. open the new catalogue once, so its indexes are built and kept for the first reader")
        print(
            f"5. write the run report into {paths.reports}; keep what the next build needs and the last "
            f"{keep} runs (crawl runs, reports, HTTP cache days), prune the rest"
        )
        return 0

    def load_taxonomy() -> None:
        cmd_taxonomy_load(argparse.Namespace(if_missing=False, no_wait=True))

    def crawl() -> list:
        from core.store import open_crawl_db
        from crawlers.runner import run_crawl

        open_crawl_db(paths.crawl_db).close()
        return run_crawl(sources or None, limit=args.limit, crawl_db=paths.crawl_db)

    def build():
        from pipeline.build import build_catalog

        return build_catalog(paths.crawl_db, paths.catalog_db, allow_mass_removal=args.allow_mass_removal)

    report = nightly.run_nightly(
        paths,
        load_taxonomy=load_taxonomy,
        taxonomy_present=lambda: _catalog_has_taxonomy(paths.catalog_db),
        crawl=crawl,
        build=build,
        sources=sources,
        limit=args.limit,
    )
    print(report.summary())
    return report.exit_code


def cmd_serve(args: argparse.Namespace) -> int:
    from dashboard import serve

    if not settings.paths().catalog_db.exists():
        print("skillstack: no catalogue yet; the dashboard will say which commands fill it", file=sys.stderr)
    return serve.run(args.address, args.port)
