"""`skillstack bench first-run`: what a newcomer waits for, from `make run` to the dashboard answering.

It runs the steps of the Makefile's `run` recipe (after installation) in a new, empty home, each as
its own process exactly as `make` runs it: `taxonomy load --if-missing`, `crawl --limit N`, `build`
and `serve`. Then it waits for the dashboard to answer a goal in a headless browser: the Find page
opened with the goal in its address, until the goal's heading and the first result are on screen.
Each step's seconds are reported, and the total is the target's figure.

The crawl reads `SKILLSTACK_MIRROR` when it is set, otherwise the bundled captures (`make demo`): a
live crawl's time is the network's, not this project's, and varies by the hour.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.serving import CHROMIUM, CHROMIUM_ARGS, REPOSITORY, ServeError, cli, serving, tail

BUNDLED_CAPTURES = REPOSITORY / "tests" / "captures"
GOAL = "data analyst"
ANSWER_TIMEOUT_S = 120.0


class FirstRunError(RuntimeError):
    """A step of the first run failed in a way that makes the figure meaningless."""


@dataclass
class FirstRun:
    home: str
    mirror: str | None
    limit: int
    goal: str
    steps: dict[str, float] = field(default_factory=dict)  # step → seconds, in the order run
    exit_codes: dict[str, int] = field(default_factory=dict)
    answered: bool = False
    deferred_build_s: float | None = None  # from `serve` starting until the background build published

    @property
    def total_s(self) -> float:
        return sum(self.steps.values())

    def as_dict(self) -> dict:
        return {**asdict(self), "total_s": round(self.total_s, 2)}

    def lines(self) -> list[str]:
        source = f"mirror {self.mirror}" if self.mirror else "a live crawl"
        out = [f"first run in {self.home} ({source}, --limit {self.limit}), goal {self.goal!r}:"]
        for step, seconds in self.steps.items():
            code = self.exit_codes.get(step)
            failed = f"  (exit {code}: some sources failed; the recipe goes on)" if code else ""
            out.append(f"  {step:<32} {seconds:7.1f} s{failed}")
        verdict = "answered" if self.answered else "did NOT answer"
        out.append(f"  {'total':<32} {self.total_s:7.1f} s  (the dashboard {verdict}; target under 120 s)")
        if self.deferred_build_s is not None:
            out.append(
                f"  the deferred O*NET texts were published {self.deferred_build_s:.1f} s after `serve` started "
                f"(exit {self.exit_codes.get(' '.join(BACKGROUND))}), in the background"
            )
        return out


# The Makefile's `run` recipe, in order: (arguments, must pass). The background build at the end
# is started beside `serve`, as the recipe's `&` does; tests/test_first_run.py checks the two agree.
RECIPE = (
    (("taxonomy", "load", "--if-missing"), True),
    (("crawl", "--limit", "{limit}"), False),  # `-` in the Makefile: a failed source does not stop the run
    (("build", "--defer-onet"), False),
)
BACKGROUND = ("build", "--if-deferred")


# The baseline: the same steps with the whole taxonomy embedded before `serve`, as a plain `build` does.
FULL_BUILD_FIRST = (*RECIPE[:-1], (("build",), False))


def bench_first_run(*, limit: int, home: Path | None = None, goal: str = GOAL, defer: bool = True) -> FirstRun:
    """Run `make run`'s steps in `home` (a new temporary one by default; it must not hold a catalogue).

    `defer=False` is the baseline: a plain `build` before `serve`, and no background build.
    """
    mirror = os.environ.get("SKILLSTACK_MIRROR") or str(BUNDLED_CAPTURES)
    with tempfile.TemporaryDirectory(prefix="skillstack-first-run-") as scratch:
        home = home or Path(scratch) / "home"
        if (home / "catalog.duckdb").exists():
            raise FirstRunError(f"{home} already holds a catalogue; a first run needs an empty home")
        home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "SKILLSTACK_HOME": str(home), "SKILLSTACK_MIRROR": mirror}
        run = FirstRun(home=str(home), mirror=mirror, limit=limit, goal=goal)
        log = Path(scratch) / "steps.log"
        for arguments, must_pass in RECIPE if defer else FULL_BUILD_FIRST:
            _step(run, [argument.format(limit=limit) for argument in arguments], env, log, must_pass=must_pass)
        if not defer:
            _serve_and_ask(run, env, log)
            return run
        started = time.perf_counter()
        with (home / "deferred-build.log").open("ab") as out:
            background = subprocess.Popen(
                ["nice", "-n", "10", *cli(*BACKGROUND)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPOSITORY
            )
        try:
            _serve_and_ask(run, env, log)
        finally:
            # Not part of the first run's total: the dashboard already answers meanwhile.
            background.wait()
            run.deferred_build_s = time.perf_counter() - started
            run.exit_codes[" ".join(BACKGROUND)] = background.returncode
        return run


def _step(run: FirstRun, arguments: list[str], env: dict, log: Path, *, must_pass: bool) -> None:
    name = " ".join(arguments)
    started = time.perf_counter()
    with log.open("ab") as out:
        code = subprocess.call(cli(*arguments), env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPOSITORY)
    run.steps[name] = time.perf_counter() - started
    run.exit_codes[name] = code
    if code and must_pass:
        raise FirstRunError(f"`skillstack {name}` exited {code}:\n{tail(log)}")


def _serve_and_ask(run: FirstRun, env: dict, log: Path) -> None:
    started = time.perf_counter()
    try:
        with serving(Path(run.home), log, env) as url:
            run.steps["serve (until healthy)"] = time.perf_counter() - started
            started = time.perf_counter()
            run.answered = _ask(url, run.goal)
            run.steps["first goal answered"] = time.perf_counter() - started
    except ServeError as exc:
        raise FirstRunError(str(exc)) from None


def _ask(url: str, goal: str) -> bool:
    """Open Find with the goal in its address and wait for its heading and a first result."""
    from urllib.parse import urlencode

    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise FirstRunError(f"{CHROMIUM} is missing: install Debian's chromium to measure the dashboard answering")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/?{urlencode({'goal': goal})}")
            timeout_ms = ANSWER_TIMEOUT_S * 1000
            page.get_by_text("Goal: ", exact=False).first.wait_for(state="visible", timeout=timeout_ms)
            page.get_by_text("1. ", exact=False).first.wait_for(state="visible", timeout=timeout_ms)
            return True
        except Exception:  # noqa: BLE001 - a page that never answers is the figure, reported as such
            return False
        finally:
            browser.close()
