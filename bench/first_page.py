"""The first page view after a restart, in a real browser: `skillstack serve` started on a free port of
127.0.0.1 over a built catalogue, then Find opened in headless chromium (Debian's `/usr/bin/chromium`,
never a downloaded one), timed until the real page is on screen.

Ready: `serve`'s health endpoint, `/_stcore/health`, answers 200 (what an operator's probe asks).
Shown: the sidebar lists the pages by title, the goal box and the filters are visible, the catalogue
line ("983 courses from 18 providers. Type a goal to start.") is shown and no spinner or skeleton is
left. The figure is the seconds from ready to shown, the page opened at once in a fresh browser
context (nothing cached). Each run also times launch → ready, the first goal when one is given (Enter
→ its first course on screen) and a later view of the same server in another fresh context: what a
page view costs the browser and the server once nothing is left to load.

A baseline is the same harness on another checkout's code (`--baseline DIR`, e.g. a worktree of
main), run after each run of this code, so both see the same machine.
"""

from __future__ import annotations

import contextlib
import re
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.serving import CHROMIUM, CHROMIUM_ARGS, REPOSITORY, linked_home, serving

NAV_TITLES = ("Find", "Compare providers", "Course", "Skill gap", "Sources")
SHOWN_TIMEOUT_MS = 180_000

# True once the Find page is the real page: titled navigation, goal box, filters, the catalogue line,
# and nothing still loading.
_SHOWN_JS = """(titles) => {
  const visible = (e) => !!e && e.getClientRects().length > 0;
  const goal = document.querySelector('input[aria-label="Your goal"]');
  const nav = new Set([...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
    .map((a) => a.innerText.trim().split("\\n").pop()));
  const filters = [...document.querySelectorAll('[data-testid="stSidebar"] h3')]
    .some((h) => h.innerText.trim() === "Filters");
  const line = [...document.querySelectorAll('[data-testid="stAlert"]')]
    .some((a) => a.innerText.includes("Type a goal to start"));
  const loading = document.querySelector(
    '[data-testid="stSpinner"], [data-testid="stSkeleton"], [data-testid="stAppSkeleton"]');
  return visible(goal) && titles.every((t) => nav.has(t)) && filters && line && !loading;
}"""


@dataclass(frozen=True)
class Run:
    code: str  # the checkout whose code served
    launch_to_ready_s: float
    ready_to_shown_s: float
    first_goal_s: float | None  # Enter → the first result's title on screen
    first_result: str | None
    later_view_s: float  # the same page opened again in a fresh context: what a view costs once warm


class FirstPageError(RuntimeError):
    pass


def first_view(browser, home: Path, code: Path, log_path: Path, goal: str | None) -> Run:
    """One restart of `serve`, the first page view after it, the first goal, and a later view."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        launched = time.perf_counter()
        with serving(home, log_path, code=code) as url:
            ready = time.perf_counter()
            page.goto(url, wait_until="commit")
            page.wait_for_function(_SHOWN_JS, arg=list(NAV_TITLES), polling="raf", timeout=SHOWN_TIMEOUT_MS)
            shown = time.perf_counter() - ready
            first_goal = first_result = None
            if goal:
                box = page.get_by_role("textbox", name="Your goal")
                box.fill(goal)
                entered = time.perf_counter()
                box.press("Enter")
                # The first course card's title: "1. <title>".
                card = page.locator('[data-testid="stMain"] strong').filter(has_text=re.compile(r"^1\. ")).first
                card.wait_for(state="visible", timeout=SHOWN_TIMEOUT_MS)
                first_goal = time.perf_counter() - entered
                first_result = card.inner_text().removeprefix("1. ").strip()
            later = _view(browser, url)
    finally:
        context.close()
    return Run(
        str(code), round(ready - launched, 3), round(shown, 3), _round(first_goal), first_result, round(later, 3)
    )


def _view(browser, url: str) -> float:
    """Seconds to the real page in a fresh browser context (nothing cached in the browser)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_function(_SHOWN_JS, arg=list(NAV_TITLES), polling="raf", timeout=SHOWN_TIMEOUT_MS)
        return time.perf_counter() - started
    finally:
        context.close()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def measure(
    home: Path, runs: int, *, baseline: Path | None = None, goal: str | None = None, log_dir: Path | None = None
) -> dict:
    """`runs` restarts of this checkout's serve (and, interleaved, of `baseline`'s): every run and the
    median and max of each figure per checkout."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise FirstPageError(f"{CHROMIUM} is missing: `apt-get install -y chromium` (never `playwright install`)")
    codes = [REPOSITORY] + ([baseline.resolve()] if baseline else [])
    done: list[Run] = []
    with contextlib.ExitStack() as stack:
        # serve's output, which an error message ends with; not written into the home measured.
        log_dir = log_dir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="first-page-")))
        # The baseline serves the same files from a home of its own, beside its own index caches.
        homes = [home] + ([linked_home(home, log_dir / "baseline-home")] if baseline else [])
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        for i in range(runs):
            for n, code in enumerate(codes):
                done.append(first_view(browser, homes[n], code, log_dir / f"serve-{n}-{i}.log", goal))
                print(_line(done[-1]), file=sys.stderr)
    return {
        "home": str(home),
        "runs": runs,
        "ready": "GET /_stcore/health answers 200",
        "shown": "titled navigation, goal box, filters and the catalogue line visible; no spinner or skeleton",
        "summary": {
            code_name: summarise([r for r in done if r.code == str(code)])
            for code_name, code in zip(("this", "baseline"), codes, strict=False)
        },
        "each": [asdict(r) for r in done],
    }


def summarise(runs: list[Run]) -> dict:
    figures: dict = {"code": runs[0].code if runs else None}
    for name in ("ready_to_shown_s", "launch_to_ready_s", "first_goal_s", "later_view_s"):
        values = [getattr(r, name) for r in runs if getattr(r, name) is not None]
        if values:
            figures[name] = {"median": round(statistics.median(values), 3), "max": round(max(values), 3)}
    figures["first_results"] = sorted({r.first_result for r in runs if r.first_result})
    return figures


def _line(run: Run) -> str:
    goal = f", first goal {run.first_goal_s:.2f}s ({run.first_result})" if run.first_goal_s is not None else ""
    shown = f"page shown {run.ready_to_shown_s:.2f}s later"
    return f"{run.code}: ready after {run.launch_to_ready_s:.2f}s, {shown}{goal}; a later view {run.later_view_s:.2f}s"


def lines(report: dict) -> list[str]:
    out = [f"{report['runs']} restarts over {report['home']}; ready: {report['ready']}"]
    for name, figures in report["summary"].items():
        parts = [
            f"{label} median {figures[key]['median']:.2f}s max {figures[key]['max']:.2f}s"
            for key, label in (
                ("ready_to_shown_s", "ready → page shown"),
                ("launch_to_ready_s", "launch → ready"),
                ("first_goal_s", "first goal → result"),
            )  # fmt: skip
            if key in figures
        ]
        out.append(f"{name:8} ({figures['code']}): " + "; ".join(parts))
    return out
