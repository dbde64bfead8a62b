"""`skillstack bench recommend`: warm query latency on the published catalogue.

One query is what a user waits for: resolve the goal, retrieve, rank, build the stack
(`recommender.api.recommend`). It is compared, in the same process, with the bare exact top-k
search — the course-matrix product and the top-k selection alone — which no query can beat.
"""

from __future__ import annotations

import time

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
