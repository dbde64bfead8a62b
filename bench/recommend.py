"""`skillstack bench recommend`: warm query latency on the published catalogue.

One query is what a user waits for: resolve the goal, retrieve, rank, build the stack
(`recommender.api.recommend`). It is compared, in the same process, with the bare exact top-k
search — the course-matrix product and the top-k selection alone — which no query can beat.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.scale import QUERY_GOALS
from core import embed
from recommender import api
from recommender.engine import Engine
from skillstack import settings


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def bench_recommend(*, rounds: int = 5, k: int = 10) -> dict:
    started = time.perf_counter()
    embed.load_model()
    model_s = time.perf_counter() - started
    # The first open of a catalogue on a new taxonomy builds the taxonomy indexes and keeps them
    # (recommender.index_cache.taxonomy_indexes); every later open, the usual case, reads them.
    started = time.perf_counter()
    Engine.open(settings.paths().catalog_db)
    first_open_s = time.perf_counter() - started
    started = time.perf_counter()
    eng = api.engine()
    open_s = time.perf_counter() - started

    for goal in QUERY_GOALS:  # warm: the model's first calls and the OS page cache
        api.recommend(goal, k=k)
    latencies = []
    for _ in range(rounds):
        for goal in QUERY_GOALS:
            tick = time.perf_counter()
            api.recommend(goal, k=k)
            latencies.append((time.perf_counter() - tick) * 1000)

    query = embed.encode(["data analyst"])[0]
    bare = []
    for _ in range(rounds * len(QUERY_GOALS)):
        tick = time.perf_counter()
        scores = eng.course_matrix @ query
        top = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
        top[np.argsort(-scores[top])]
        bare.append((time.perf_counter() - tick) * 1000)

    p95 = _percentile(latencies, 95)
    bare_p95 = _percentile(bare, 95)
    return {
        "courses": int(len(eng.courses)),
        "queries": len(latencies),
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(p95, 2),
        "bare_topk_p50_ms": round(_percentile(bare, 50), 2),
        "bare_topk_p95_ms": round(bare_p95, 2),
        "p95_over_bare_p95": round(p95 / bare_p95, 2) if bare_p95 else None,
        "model_load_s": round(model_s, 2),
        "catalog_open_s": round(open_s, 2),
        "catalog_first_open_s": round(first_open_s, 2),
    }


CLI_FORMS = ("baseline", "cold", "memo")


def bench_cli_recommend(*, runs: int = 12, baseline: Path | None = None) -> dict:
    """Wall time of whole `skillstack recommend GOAL --json` processes on this home, as a user waits.

    Forms, run in turns so each sees the same moments of a shared machine: `cold`, this code with
    the goal memo off (a goal seen for the first time: the model and the resolver are loaded);
    `memo`, this code on a goal the memo holds (a goal asked before); `baseline`, the code of the
    checkout at `baseline` (e.g. `git worktree add /tmp/base main`), when given. The goals are
    `QUERY_GOALS` in turn; every form must print the same answer for the same goal.
    """
    root = Path(__file__).resolve().parents[1]
    forms = {"cold": (root, {"SKILLSTACK_GOAL_MEMO": "off"}), "memo": (root, {})}
    goals = [QUERY_GOALS[i % len(QUERY_GOALS)] for i in range(runs)]
    answers: dict[tuple[str, str], str] = {}
    if baseline is not None:
        # A home of its own (the same catalogue file, linked): other code keeps other index caches
        # beside the catalogue, and each would delete the other's at every open.
        base_home = settings.paths().home / "bench" / "cli-baseline"
        shutil.rmtree(base_home, ignore_errors=True)
        base_home.mkdir(parents=True)
        try:
            os.link(settings.paths().catalog_db, base_home / "catalog.duckdb")
        except OSError:
            shutil.copy2(settings.paths().catalog_db, base_home / "catalog.duckdb")
        forms["baseline"] = (baseline.resolve(), {"SKILLSTACK_HOME": str(base_home)})
        _run_cli(*forms["baseline"], goals[0])  # its first open keeps its index caches, untimed
    for goal in dict.fromkeys(goals):  # fills the memo, untimed
        answers["fill", goal] = _run_cli(root, {}, goal)[1]
    seconds: dict[str, list[float]] = {name: [] for name in forms}
    for i, goal in enumerate(goals):
        order = list(forms)[i % len(forms) :] + list(forms)[: i % len(forms)]
        for name in order:
            took, answer = _run_cli(*forms[name], goal)
            seconds[name].append(took)
            answers[name, goal] = answer
    identical = all(answers[name, goal] == answers["fill", goal] for name in forms for goal in goals)
    figures = {
        name: {"median_s": round(float(np.median(values)), 3), "p95_s": round(_percentile(values, 95), 3)}
        for name, values in seconds.items()
    }
    report = {"runs": runs, "goals": len(set(goals)), "forms": figures, "answers_identical": identical}
    if baseline is not None:
        base = figures["baseline"]["median_s"]
        report["median_over_baseline"] = {n: round(figures[n]["median_s"] / base, 3) for n in ("cold", "memo")}
    return report


def _run_cli(root: Path, env: dict[str, str], goal: str) -> tuple[float, str]:
    environment = {**os.environ, "PYTHONPATH": str(root), **env}
    tick = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "skillstack.cli", "recommend", goal, "--json"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    took = time.perf_counter() - tick
    if done.returncode != 0:
        raise RuntimeError(f"skillstack recommend {goal!r} in {root} failed: {done.stderr.strip()[-300:]}")
    return took, done.stdout
