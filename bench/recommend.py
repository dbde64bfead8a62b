"""`skillstack bench recommend`: warm query latency on the published catalogue.

One query is what a user waits for: resolve the goal, retrieve, rank, build the stack
(`recommender.api.recommend`). It is compared, in the same process, with the bare exact top-k
search — the course-matrix product and the top-k selection alone — which no query can beat.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.scale import _PREFIXES, _SUFFIXES, QUERY_GOALS
from bench.serving import linked_home
from core import embed
from recommender import api
from recommender.engine import Engine
from skillstack import settings


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


# Distinct goals per run: QUERY_GOALS, then ESCO occupation labels of the catalogue in a fixed order.
DISTINCT_GOALS = 60
WARM_UP_GOALS = 5


def bench_goals(eng: Engine, n: int) -> list[str]:
    """`QUERY_GOALS`, then occupation labels of the catalogue in a fixed order, n in all (fewer when the
    taxonomy is smaller), every one distinct."""
    labels = [
        label
        for (label,) in eng.read("SELECT DISTINCT label FROM occupations ORDER BY hash(label), label").itertuples(
            index=False
        )
        if label not in QUERY_GOALS
    ]
    return [*QUERY_GOALS, *labels][:n]


def bench_recommend(*, rounds: int = 5, k: int = 10) -> dict:
    """Query latency on the published catalogue, in one process with the model loaded and warmed:

    - cold: each of `DISTINCT_GOALS` goals asked for the first time (resolving it and encoding it
      are part of the time, as for a user's new question);
    - warm: the same goals asked again, `rounds` times (the engine remembers resolutions and query
      vectors: a dashboard user changing a filter, a reload);
    - the bare exact top-k product (course matrix × query vector, top-k selection) in the same run,
      which no query can beat.
    """
    # A goal the goal memo holds would not be cold: the memo is for new processes, this is one process.
    os.environ["SKILLSTACK_GOAL_MEMO"] = "off"
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

    goals = bench_goals(eng, DISTINCT_GOALS + WARM_UP_GOALS)
    warm_up, goals = goals[:WARM_UP_GOALS], goals[WARM_UP_GOALS:]
    for goal in warm_up:  # the model's first calls, the resolver's first read and the OS page cache
        api.recommend(goal, k=k)
    cold = []
    for goal in goals:
        tick = time.perf_counter()
        api.recommend(goal, k=k)
        cold.append((time.perf_counter() - tick) * 1000)
    warm = []
    for _ in range(rounds):
        for goal in goals:
            tick = time.perf_counter()
            api.recommend(goal, k=k)
            warm.append((time.perf_counter() - tick) * 1000)

    query = embed.encode(["data analyst"])[0]
    bare = []
    for _ in range(len(cold) + len(warm)):
        tick = time.perf_counter()
        scores = eng.course_matrix @ query
        top = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
        top[np.argsort(-scores[top])]
        bare.append((time.perf_counter() - tick) * 1000)

    bare_p95 = _percentile(bare, 95)
    figures = {
        "courses": int(len(eng.courses)),
        "goals": len(goals),
        "cold_queries": len(cold),
        "warm_queries": len(warm),
        "cold_p50_ms": round(_percentile(cold, 50), 2),
        "cold_p95_ms": round(_percentile(cold, 95), 2),
        "warm_p50_ms": round(_percentile(warm, 50), 2),
        "warm_p95_ms": round(_percentile(warm, 95), 2),
        # As before the cold/warm split: every query of the run.
        "p50_ms": round(_percentile(cold + warm, 50), 2),
        "p95_ms": round(_percentile(cold + warm, 95), 2),
        "bare_topk_p50_ms": round(_percentile(bare, 50), 2),
        "bare_topk_p95_ms": round(bare_p95, 2),
        "cold_p95_over_bare_p95": round(_percentile(cold, 95) / bare_p95, 2) if bare_p95 else None,
        "model_load_s": round(model_s, 2),
        "catalog_open_s": round(open_s, 2),
        "catalog_first_open_s": round(first_open_s, 2),
        "model_variant": embed.MODEL_KEY,
    }
    if LATENCY_ONLY_KEY in eng.meta:
        figures[LATENCY_ONLY_KEY] = eng.meta[LATENCY_ONLY_KEY]
    return figures


# Runs `bench_recommend` of this file with the `recommender` of whatever checkout is on PYTHONPATH:
# the baseline's code measured by the same protocol.
_RECOMMEND_RUNNER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("skillstack_bench_recommend", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(module.bench_recommend(rounds=int(sys.argv[2]))))
"""


def bench_recommend_against(baseline: Path, *, rounds: int = 5, turns: int = 2) -> dict:
    """`bench_recommend` for this code and for the checkout at `baseline`, each in processes of its
    own taking turns (this, baseline, baseline, this, ...), on the same catalogue file (the baseline
    in a home of its own, linked: each code keeps its own index caches)."""
    root = Path(__file__).resolve().parents[1]
    base_home = _linked_home("recommend-baseline")
    forms = {"this": (root, {}), "baseline": (baseline.resolve(), {"SKILLSTACK_HOME": str(base_home)})}
    runs: dict[str, list[dict]] = {name: [] for name in forms}
    for turn in range(turns):
        for name in list(forms) if turn % 2 == 0 else list(forms)[::-1]:
            code, env = forms[name]
            done = subprocess.run(
                [sys.executable, "-c", _RECOMMEND_RUNNER, str(Path(__file__).resolve()), str(rounds)],
                cwd=code,
                env={**os.environ, "PYTHONPATH": str(code), **env},
                capture_output=True,
                text=True,
                check=False,
                timeout=3 * 3600,
            )
            if done.returncode != 0:
                raise RuntimeError(f"bench recommend with {code} failed: {done.stderr.strip()[-400:]}")
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    ratios = {
        key: [round(this[key] / base[key], 3) for this, base in zip(runs["this"], runs["baseline"], strict=True)]
        for key in ("cold_p50_ms", "cold_p95_ms", "warm_p50_ms", "warm_p95_ms")
    }
    return {"runs": runs, "this_over_baseline": ratios}


def _linked_home(name: str) -> Path:
    return linked_home(settings.paths().home, settings.paths().home / "bench" / name)


def bench_cli_recommend(*, runs: int = 12, baseline: Path | None = None) -> dict:
    """Wall time of whole `skillstack recommend GOAL --json` processes on this home, as a user waits.

    Forms, run in turns so each sees the same moments of a shared machine: `cold`, this code with
    the goal memo off (a goal seen for the first time: the model and the resolver are loaded);
    `memo`, this code on a goal the memo holds (a goal asked before); `baseline`, the code of the
    checkout at `baseline` (e.g. `git worktree add /tmp/base main`) with its memo off, when given. The goals are
    `QUERY_GOALS` in turn; every form must print the same answer for the same goal.
    """
    root = Path(__file__).resolve().parents[1]
    forms = {"cold": (root, {"SKILLSTACK_GOAL_MEMO": "off"}), "memo": (root, {})}
    goals = [QUERY_GOALS[i % len(QUERY_GOALS)] for i in range(runs)]
    answers: dict[tuple[str, str], str] = {}
    if baseline is not None:
        # A home of its own (the same catalogue file, linked): other code keeps other index caches
        # beside the catalogue, and each would delete the other's at every open.
        base_home = _linked_home("cli-baseline")
        # The memo off there too: the baseline answers each goal as one seen first, like `cold`.
        forms["baseline"] = (baseline.resolve(), {"SKILLSTACK_HOME": str(base_home), "SKILLSTACK_GOAL_MEMO": "off"})
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


LATENCY_ONLY_KEY = "latency_only"
_DERIVED_NOISE = 0.01  # per dimension, before normalising: a derived vector's cosine to its source ~0.98


def derive_catalog(source: Path, target: Path, n: int, *, seed: int = 7) -> int:
    """A catalogue of n active courses for query latency only, made from `source` without the model.

    Each derived course copies a real course (title given one of `bench generate`'s prefixes and
    suffixes, its skill links kept) and takes its vector plus small Gaussian noise, normalised. Its
    vectors are no course's meaning, so nothing about relevance may be read from it; `catalog_meta`
    says so under `latency_only`, and `bench recommend` repeats it. Building a real 250k catalogue
    takes ~50 minutes of model time on this machine; this takes about one.
    """
    import duckdb
    import pyarrow as pa

    from core import embed

    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    rng = np.random.default_rng(seed)
    with duckdb.connect(str(target)) as con:
        base = con.execute(
            """
            SELECT c.id, e.vector FROM courses c
            JOIN course_embeddings e ON e.content_hash = c.content_hash AND e.model = ?
            WHERE c.status = 'active' ORDER BY c.id
            """,
            [embed.MODEL_KEY],
        ).to_arrow_table()
        ids = base.column("id").to_pylist()
        vectors = base.column("vector").combine_chunks().flatten().to_numpy().reshape(len(ids), embed.DIMENSIONS)
        if not ids:
            raise ValueError(f"{source} has no active course with a vector of {embed.MODEL_KEY}")
        con.execute(
            "CREATE TEMP TABLE derive_base AS SELECT unnest(?) AS id, generate_subscripts(?, 1) AS i", [ids, ids]
        )
        copy = 0
        made = len(ids)
        while made < n:
            copy += 1
            take = min(len(ids), n - made)
            noisy = vectors[:take] + rng.normal(0.0, _DERIVED_NOISE, size=(take, embed.DIMENSIONS))
            noisy = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
            suffix = f"~d{copy}"
            derived = pa.table(
                {
                    "i": pa.array(np.arange(1, take + 1, dtype=np.int64)),
                    "vector": pa.FixedSizeListArray.from_arrays(pa.array(noisy.ravel()), embed.DIMENSIONS),
                }
            )
            con.register("derive_vectors", derived)
            con.execute(
                f"""
                INSERT INTO courses SELECT c.* REPLACE (
                    c.id || '{suffix}' AS id,
                    c.content_hash || '{suffix}' AS content_hash,
                    list_element({list(_PREFIXES)}, ((b.i + {copy}) % {len(_PREFIXES)}) + 1) || c.name
                        || list_element({list(_SUFFIXES)}, ((b.i * 7 + {copy}) % {len(_SUFFIXES)}) + 1) AS name)
                FROM courses c JOIN derive_base b ON b.id = c.id WHERE b.i <= ?
                """,
                [take],
            )
            con.execute(
                f"""
                INSERT INTO course_embeddings
                SELECT c.content_hash || '{suffix}', ?, any_value(v.vector)
                FROM courses c JOIN derive_base b ON b.id = c.id JOIN derive_vectors v ON v.i = b.i
                WHERE b.i <= ? GROUP BY c.content_hash
                """,
                [embed.MODEL_KEY, take],
            )
            con.execute(
                f"""
                INSERT INTO course_skills SELECT s.course_id || '{suffix}', s.skill_uri, s.score, s.evidence
                FROM course_skills s JOIN derive_base b ON b.id = s.course_id WHERE b.i <= ?
                """,
                [take],
            )
            made += take
        note = f"{n} courses derived from {len(ids)} of {source} with noisy vectors: latency only, never relevance"
        con.execute("DELETE FROM catalog_meta WHERE key IN ('built_at', ?)", [LATENCY_ONLY_KEY])
        con.execute(
            "INSERT INTO catalog_meta VALUES ('built_at', ?), (?, ?)",
            [f"derived-{n}-{seed}-{time.time():.0f}", LATENCY_ONLY_KEY, note],
        )
    return made
