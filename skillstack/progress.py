"""Progress of the long steps: a bar with rate and ETA on a terminal, plain log lines otherwise.

On a terminal, tqdm draws the bar on stderr. Elsewhere (a log file, cron, a pipe), a bar's carriage
returns would fill the log with half-lines, so the same figures go out as one INFO line of the
`skillstack.progress` logger every `LOG_EVERY_S` seconds and at the end; the CLI prints those with its
`skillstack: ` prefix. Like `settings`, this module imports nothing of the project, so the crawlers
may use it too. tqdm is used for the bar and to format rate and ETA in both cases: it is
small, pure Python, draws correctly when the terminal is resized, and was already installed.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

log = logging.getLogger("skillstack.progress")

LOG_EVERY_S = 30.0
MIN_ITEMS = 200  # fewer items than this (a query, a test) take no bar and no line


class _Lines:
    """A bar's figures as log lines: `name: 2,048/10,000 texts [01:10<04:32, 29.2 texts/s]`."""

    def __init__(self, total: int | None, name: str, unit: str) -> None:
        self.total, self.name, self.unit = total, name, unit
        self.n = 0
        self.started = self.last = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self.last >= LOG_EVERY_S:
            self.last = now
            self._line(now)

    def close(self) -> None:
        self._line(time.monotonic())

    def _line(self, now: float) -> None:
        elapsed = now - self.started
        meter = tqdm.format_meter(self.n, self.total, elapsed, prefix=self.name, unit=f" {self.unit}", ncols=0)
        log.info("%s", meter)


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


Progress = tqdm | _Lines | _Silent  # what `start` gives: each has `update(n)` and `close()`


def start(total: int | None, name: str | None, *, unit: str = "items") -> Progress:
    """A progress counter named `name` over `total` items (None: unknown); `.update(n)` as work is
    done, `.close()` at the end. No name, or fewer than `MIN_ITEMS`, shows nothing: short calls such
    as a query stay quiet."""
    if not name or (total is not None and total < MIN_ITEMS):
        return _Silent()
    if sys.stderr.isatty():
        return tqdm(total=total, desc=name, unit=f" {unit}", file=sys.stderr, dynamic_ncols=True, mininterval=0.5)
    return _Lines(total, name, unit)


@contextmanager
def progress_bar(total: int | None, name: str | None, *, unit: str = "items") -> Iterator[Progress]:
    """`start`, closed when the block ends."""
    bar = start(total, name, unit=unit)
    try:
        yield bar
    finally:
        bar.close()
