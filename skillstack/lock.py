"""The writers' lock: one `skillstack` command at a time writes crawl.duckdb or publishes catalog.duckdb.

`crawl`, `build`, `taxonomy load` and `nightly` all take it. Without it a `build` run by hand during
a nightly could publish older data over newer, and two crawls would fight over DuckDB's single
writer. It is an `fcntl` lock, which the kernel releases when the process ends however it ends, so
a command killed by SIGKILL or a reboot never blocks the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

EXIT_LOCKED = 75  # EX_TEMPFAIL: another writer holds the lock; cron may simply try again later

log = logging.getLogger(__name__)

# A command that holds the lock calls other writers' code (the nightly runs `taxonomy load`, the
# crawl and the build): those take it again in the same process. A second `flock` on a new
# descriptor would wait for the first one forever.
_held: dict[Path, int] = {}


class LockedError(Exception):
    """Another command holds the lock and this one was told not to wait."""


@contextlib.contextmanager
def writer_lock(lock_file: Path, command: str, *, wait: bool) -> Iterator[None]:
    """Hold the writers' lock for `command` ("build", "nightly"...). When another process holds
    it: with `wait`, say so on the log and wait for it; without, raise LockedError at once."""
    lock_file = lock_file.resolve()
    if lock_file in _held:
        _held[lock_file] += 1
        try:
            yield
        finally:
            _held[lock_file] -= 1
        return
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            if not wait:
                raise LockedError(f"another {holder} is running; this one exits") from None
            log.info("waiting for another %s to finish (--no-wait exits instead)", holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        # On a full disk the holder's name stays unwritten: it is only for the messages, the lock holds,
        # and the command goes on to say in one line what the full disk stopped.
        with contextlib.suppress(OSError):
            os.pwrite(fd, f"{os.getpid()} {command}".encode(), 0)
        _held[lock_file] = 1
        try:
            yield
        finally:
            del _held[lock_file]
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """The holder as "nightly (pid 1234)", from the lock file's "1234 nightly"."""
    pid, _, command = os.pread(fd, 128, 0).decode(errors="replace").strip().partition(" ")
    return f"{command or 'skillstack command'} (pid {pid or '?'})"
