"""Screenshots of every dashboard page at desktop and phone width, into docs/screenshots/.

    SKILLSTACK_HOME=/path/to/built/home python scripts/screenshots.py [--goal "data analyst"] [--out docs/screenshots]

Serves the dashboard over the catalogue in SKILLSTACK_HOME (`skillstack serve` on a free local port),
opens each page in Debian's chromium (/usr/bin/chromium, headless; never `playwright install`) and
saves `<page>-desktop.png` and `<page>-phone.png`. The course page shows the goal's first result.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
# Streamlit scrolls inside its own container, so a screenshot shows one viewport: tall ones show the
# whole page; "phone-fold" is what a phone shows before any scrolling.
WIDTHS = {"desktop": (1400, 2600), "phone": (400, 2600), "phone-fold": (400, 860)}
LOAD_MS = 240_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goal", default="data analyst")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from bench.serving import CHROMIUM, CHROMIUM_ARGS, serving  # after the path: the script runs from a checkout
    from recommender import api

    rec = api.recommend(args.goal, k=10)
    course_id = rec.results[0].course_id
    pages = {
        "find": ("/", {"goal": args.goal}, rec.results[0].title),
        "compare": ("/compare", {"goal": args.goal}, "Download CSV"),
        "course": ("/course", {"course": course_id}, "Skills you practise"),
        "gap": ("/gap", {"goal": args.goal}, "Required"),
        "plan": ("/plan", {"goal": args.goal}, "Your plan"),
        "sources": ("/sources", {}, "Providers"),
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = Path(tempfile.mkdtemp(prefix="skillstack-screenshots-")) / "streamlit.log"
    with serving(Path(os.environ["SKILLSTACK_HOME"]), log, env) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for width_name, (width, height) in WIDTHS.items():
            phone = width_name.startswith("phone")
            context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone)
            page = context.new_page()
            for name, (path, query, ready) in pages.items():
                page.goto(f"{url}{path}" + (f"?{urlencode(query)}" if query else ""))
                page.get_by_text(ready, exact=False).first.wait_for(timeout=LOAD_MS)
                _settle(page)
                target = args.out / f"{name}-{width_name}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
            context.close()
        browser.close()
    return 0


def _settle(page: Page) -> None:
    # Charts and tables draw after the page's last element arrives; a page still running shows its
    # status widget.
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=LOAD_MS)
    # Every page ends with the attribution footer: once it is there, the page has run to its end.
    page.get_by_text("ESCO classification", exact=False).first.wait_for(timeout=LOAD_MS)
    # Widgets show as grey skeletons until their code has loaded.
    page.wait_for_function("!document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=LOAD_MS)
    for chart in page.locator('[data-testid="stVegaLiteChart"], [data-testid="stDataFrame"]').all():
        chart.locator("canvas, svg").first.wait_for(state="attached")
    page.wait_for_timeout(800)


if __name__ == "__main__":
    raise SystemExit(main())
