"""The `skillstack` command: wires the layers together and holds no logic of theirs."""

from __future__ import annotations

import argparse
import json
import sys

from skillstack import settings


class UserError(Exception):
    """A problem the user can fix; printed as one line with what to run, exit code 2."""


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawlers.runner import list_sources, run_crawl
    from pipeline.store import open_crawl_db

    if args.list:
        for name, urls in list_sources():
            print(f"{name:28} {' '.join(urls)}")
        return 0
    paths = settings.paths()
    open_crawl_db(paths.crawl_db).close()
    summaries = run_crawl(args.sources or None, limit=args.limit, crawl_db=paths.crawl_db)
    if args.json:
        print(json.dumps([s.as_dict() for s in summaries], indent=2, default=str))
    else:
        for s in summaries:
            print(s.one_line())
    return 0 if all(s.ok for s in summaries) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skillstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    crawl = sub.add_parser("crawl", help="crawl sources into crawl.duckdb (all when none is named)")
    crawl.add_argument("sources", nargs="*", metavar="SOURCE")
    crawl.add_argument("--limit", type=int, help="at most N items per source (a quick, bounded crawl)")
    crawl.add_argument("--list", action="store_true", help="list the sources and their live URLs")
    crawl.add_argument("--json", action="store_true", help="print the run summary as JSON")
    crawl.set_defaults(func=cmd_crawl)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"skillstack: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
