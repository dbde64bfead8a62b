"""`skillstack serve`: one process that loads what the first page view needs, then serves.

Streamlit runs in this process (its own `streamlit run`, called in-process) after `warm()` has
imported what the pages import, opened the published catalogue (its engine, with the kept indexes),
loaded the model beside it and asked one small query. The engine and the model are cached per process
(`recommender.api`, `core.embed`), so the first session's script run finds them there: the
health endpoint, `/_stcore/health`, answers only once the first page can be shown at once.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
# The query that loads the model and the goal resolver's and ranker's indexes. The dashboard's own
# warm-up query (`dashboard.cached`) is the same one, so its answer is cached too.
WARM_GOAL = "data analyst"


def warm() -> str | None:
    """Import the pages and load the catalogue and the model; None, or the message the dashboard
    will show instead of courses (no catalogue yet, a catalogue of another model...)."""
    # What the pages import takes seconds (the recommender, altair); the pages themselves then import
    # in tens of milliseconds. They are not imported here: their `st.cache_data` functions would make
    # their caches before Streamlit's runtime exists.
    import altair  # noqa: F401

    from recommender import api

    # Streamlit's own first-run imports: the page icon is looked up in its emoji table and the
    # navigation's icons in its Material icon names, a table that takes 0.15 s to import alone and
    # 0.65 s in the first page view's script run, beside the server's other threads.
    for table in ("streamlit.emojis", "streamlit.material_icon_names"):
        with contextlib.suppress(ImportError):
            importlib.import_module(table)

    try:
        # The model loads in a thread while the catalogue opens: both spend much of their time where
        # the other can run (reading files, DuckDB, torch's own code).
        with ThreadPoolExecutor(1, thread_name_prefix="skillstack-model") as pool:
            model = pool.submit(api.load_model)
            summary = api.catalog_summary()
            api.filter_report(api.Filters())
            model.result()
        if summary.active:
            api.recommend(WARM_GOAL, k=1)
    except api.RecommenderError as exc:
        return str(exc)
    except Exception as exc:
        # The warm-up only saves time: serve anyway, and the page shows the error as it would have.
        return f"the catalogue could not be opened ({type(exc).__name__}: {' '.join(str(exc).split())[:300]})"
    return None


def run(address: str, port: int) -> int:
    """Warm, then serve the dashboard on address:port until stopped."""
    from streamlit.web import cli as streamlit_cli

    started = time.perf_counter()
    print("skillstack: opening the catalogue and loading the model before serving", file=sys.stderr, flush=True)
    problem = warm()
    took = time.perf_counter() - started
    if problem:
        print(f"skillstack: {problem} (the dashboard says so); serving after {took:.1f}s", file=sys.stderr)
    else:
        print(f"skillstack: catalogue and model loaded in {took:.1f}s; serving", file=sys.stderr, flush=True)
    options = [
        "--server.address", address, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    # `streamlit run` itself, in this process: its configuration, signal handling and server.
    return streamlit_cli.main(["run", str(APP), *options], prog_name="streamlit", standalone_mode=False) or 0
