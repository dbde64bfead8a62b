"""Crawl spiders of `tests.local_spiders` into `$SKILLSTACK_HOME/crawl.duckdb`; print the summaries as JSON.

`python -m tests.run_local_crawl SPIDER ...`, in a subprocess of its own: `run_crawl` runs a Twisted
reactor, which a process can start only once. The caller sets `SKILLSTACK_HOME` and
`SKILLSTACK_TEST_SERVER`, and leaves `SKILLSTACK_MIRROR` unset so requests reach the local server.
"""

from __future__ import annotations

import json
import sys

from core.store import open_crawl_db
from crawlers.runner import run_crawl
from skillstack.settings import paths

SPIDER_MODULES = ["tests.local_spiders"]


def main(names: list[str]) -> int:
    crawl_db = paths().crawl_db
    open_crawl_db(crawl_db).close()
    summaries = run_crawl(names, limit=None, crawl_db=crawl_db, spider_modules=SPIDER_MODULES)
    print(json.dumps([summary.as_dict() for summary in summaries], default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
