"""`skillstack serve` started on a free port of 127.0.0.1 and stopped again: for the benchmarks that
time the dashboard and for the browser tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; a browser is never downloaded
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
# `serve` opens the catalogue and loads the model before it answers (dashboard/serve.py): the first open
# of a 250k build, which builds its indexes, takes 28 s on an idle machine.
HEALTHY_TIMEOUT_S = 300.0


class ServeError(RuntimeError):
    """`skillstack serve` exited or never became healthy; the message ends with its log."""


def cli(*arguments: str) -> list[str]:
    """The command line of `skillstack ARGUMENTS` run by this interpreter."""
    return [sys.executable, "-m", "skillstack.cli", *arguments]


@contextmanager
def serving(home: Path, log_path: Path, env: dict[str, str] | None = None, *, code: Path = REPOSITORY) -> Iterator[str]:
    """`skillstack serve` over `home` until the block ends; yields its URL once it is healthy.

    Healthy is Streamlit's own `/_stcore/health` answering 200: the moment `serve` is ready. `code` is
    the checkout whose `serve` runs (another one for a baseline, e.g. a worktree of main).
    """
    port = free_port()
    env = {**(env or os.environ), "SKILLSTACK_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    if code != REPOSITORY:
        env["PYTHONPATH"] = str(code)
    with log_path.open("ab") as log:
        # Its own process group: an older `serve` runs streamlit as a child, and both must stop.
        server = subprocess.Popen(
            cli("serve", "--port", str(port)), env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=code,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(f"{url}/_stcore/health", server, log_path)
        yield url
    finally:
        stop(server)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(health_url: str, server: subprocess.Popen, log_path: Path, timeout: float = HEALTHY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServeError(f"skillstack serve exited {server.returncode}:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(health_url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise ServeError(f"{health_url} not healthy after {timeout:.0f} s:\n{tail(log_path)}")


def stop(server: subprocess.Popen, timeout: float = 15) -> None:
    """Stop serve's process group and wait until every process of it is gone (an older `serve` runs
    streamlit as a child), so what runs next has the machine to itself."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.poll()
        try:
            os.killpg(server.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=timeout)


def tail(log_path: Path, chars: int = 3000) -> str:
    return log_path.read_text(encoding="utf-8", errors="replace")[-chars:]


def linked_home(source: Path, target: Path) -> Path:
    """A home at `target` holding `source`'s catalogue and crawl files (hard links, else copies), for
    another checkout's code: each code keeps its own index caches beside the catalogue, and two codes
    sharing a home would delete each other's at every open."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("catalog.duckdb", "crawl.duckdb"):
        if (source / name).exists():
            try:
                os.link(source / name, target / name)
            except OSError:
                shutil.copy2(source / name, target / name)
    return target
