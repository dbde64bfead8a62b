"""Scale benchmarks: a generated catalogue of N courses, built, rebuilt and queried.

`skillstack bench generate N` makes N course records from the real crawled records of
`SKILLSTACK_HOME` (titles, descriptions and prices perturbed; `extras.synthetic = true`) and writes
them as one finished crawl run of the source `bench_synthetic` into a bench home. Scale tests only:
they never reach a real catalogue.

`skillstack bench build|recommend|all` then measure, each step in a subprocess of its own so its
peak RSS is its own (`ru_maxrss` of the child): the full build (courses/s), the model's raw
`encode` rate on the same texts (a random sample of them, extrapolated to N: the limit a build can
reach), a rebuild with no change, recommender query latency p50/p95 against the bare top-k matrix
product in the same process, and the catalogue's size on disk.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np

from core.store import open_crawl_db
from skillstack.progress import progress_bar

SYNTHETIC_SOURCE = "bench_synthetic"
ENCODE_SAMPLE = 2000
ENCODE_CHUNK = 250  # texts per turn of a variant in `encode_rate`
QUERY_GOALS = (
    "I want to become a data analyst",
    "protect companies from hackers",
    "welder",
    "nurse",
    "front-end developer",
    "UX designer",
    "I love drawing and want to design logos",
    "accountant",
    "machine learning engineer",
    "project manager",
    "teach english abroad",
    "cloud architect",
)
_PREFIXES = ("", "", "Applied ", "Practical ", "Introduction to ", "Foundations of ", "Advanced ", "Modern ")
_SUFFIXES = ("", "", " for Beginners", " in Practice", " Essentials", " Bootcamp", " for Professionals", " Masterclass")


class BenchError(Exception):
    pass


def generate(real_crawl_db: Path, bench_home: Path, n: int, *, seed: int = 7) -> int:
    """Write n synthetic items, derived from the real items of `real_crawl_db`, into the bench home's crawl."""
    if not real_crawl_db.exists():
        raise BenchError("no real crawl to generate from: run `skillstack crawl` first")
    with duckdb.connect(str(real_crawl_db), read_only=True) as con:
        real = [
            json.loads(item)
            for (item,) in con.execute("SELECT item FROM crawl_items WHERE source <> ?", [SYNTHETIC_SOURCE]).fetchall()
        ]
    if not real:
        raise BenchError("the crawl holds no items: run `skillstack crawl` first")
    rng = random.Random(seed)
    run_id = f"bench-{n}-{seed}"
    now = datetime.now(UTC).replace(tzinfo=None)
    bench_home.mkdir(parents=True, exist_ok=True)
    con = open_crawl_db(bench_home / "crawl.duckdb")
    try:
        con.execute("DELETE FROM crawl_items WHERE source = ?", [SYNTHETIC_SOURCE])
        con.execute("DELETE FROM crawl_runs WHERE source = ?", [SYNTHETIC_SOURCE])
        con.execute(
            "INSERT INTO crawl_runs (run_id, source, started_at, finished_at, status, finish_reason, items, stats) "
            "VALUES (?, ?, ?, ?, 'finished', 'finished', ?, ?)",
            [run_id, SYNTHETIC_SOURCE, now, now, n, json.dumps({"synthetic": True})],
        )
        batch: list[tuple] = []
        with progress_bar(n, "bench generate", unit="courses") as bar:
            for i in range(n):
                item = _perturb(rng.choice(real), i, rng)
                batch.append(
                    (run_id, SYNTHETIC_SOURCE, item["id"], item["url"], json.dumps(item, ensure_ascii=False), now)
                )
                if len(batch) == 5000:
                    _insert_items(con, batch)
                    bar.update(len(batch))
                    batch = []
            _insert_items(con, batch)
            bar.update(len(batch))
    finally:
        con.close()
    return n


def _insert_items(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    if rows:
        con.executemany("INSERT INTO crawl_items VALUES (?, ?, ?, ?, ?, ?)", rows)


def _perturb(base: dict, i: int, rng: random.Random) -> dict:
    item = dict(base)
    item["source"] = SYNTHETIC_SOURCE
    item["provider_ref"] = f"syn{i}"
    item["id"] = f"{SYNTHETIC_SOURCE}/syn{i}"
    name = str(base.get("name") or "Course")
    item["name"] = f"{rng.choice(_PREFIXES)}{name}{rng.choice(_SUFFIXES)} ({i % 97 + 1})"
    description = base.get("description")
    if isinstance(description, str) and description:
        sentences = re.split(r"(?<=[.!?])\s+", description)
        rng.shuffle(sentences)
        item["description"] = " ".join(sentences[: max(1, len(sentences) - rng.randint(0, 2))])
    price = base.get("price")
    if isinstance(price, int | float) and price > 0:
        item["price"] = round(price * rng.uniform(0.6, 1.6), 2)
    item["url"] = f"https://bench.invalid/course/syn{i}"
    item["extras"] = {**(base.get("extras") or {}), "synthetic": True, "based_on": base.get("id")}
    return item


# ---------------------------------------------------------------- measured steps, each in a subprocess


@dataclass
class StepFigure:
    seconds: float
    peak_rss_mb: float
    output: dict = field(default_factory=dict)


def run_step(home: Path, *args: str, timeout: float = 4 * 3600) -> StepFigure:
    """Run `python -m skillstack.cli ARGS` with SKILLSTACK_HOME=home: its wall time and its own peak RSS."""
    env = {**os.environ, "SKILLSTACK_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("SKILLSTACK_MIRROR", None)  # a bench never fetches anything
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "skillstack.cli", *args], env=env, stdout=out, stderr=err)
        deadline = started + timeout
        while True:
            # wait4 reaps the child and returns its own rusage: ru_maxrss is this step's peak alone.
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                os.wait4(process.pid, 0)
                raise BenchError(f"skillstack {' '.join(args)} took longer than {timeout:.0f}s")
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        last = stderr.strip().splitlines()[-1:] or ["no output"]
        raise BenchError(f"skillstack {' '.join(args)} exited {process.returncode}: {last[0]}")
    output = json.loads(stdout) if stdout.strip().startswith("{") else {"stdout": stdout[-2000:]}
    return StepFigure(seconds=seconds, peak_rss_mb=usage.ru_maxrss / 1024, output=output)


@dataclass
class SizeReport:
    courses: int
    generate_s: float = 0.0
    build_s: float = 0.0
    build_courses_per_s: float = 0.0
    build_peak_rss_mb: float = 0.0
    encode_texts_per_s: float = 0.0
    encode_s_estimated: float = 0.0
    build_over_encode: float = 0.0
    rebuild_s: float = 0.0
    rebuild_peak_rss_mb: float = 0.0
    rebuild_share_of_build: float = 0.0
    query: dict = field(default_factory=dict)
    query_peak_rss_mb: float = 0.0
    catalog_mb: float = 0.0
    build_timings: dict = field(default_factory=dict)


def bench_size(real_home: Path, work_dir: Path, n: int) -> SizeReport:
    """Generate n courses beside a copy of the real catalogue (for its taxonomy) and measure every step."""
    real_catalog = real_home / "catalog.duckdb"
    if not real_catalog.exists():
        raise BenchError("no real catalogue to take the taxonomy from: run `skillstack taxonomy load` and `build`")
    home = work_dir / f"n{n}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    report = SizeReport(courses=n)
    started = time.perf_counter()
    generate(real_home / "crawl.duckdb", home, n)
    report.generate_s = time.perf_counter() - started
    _seed_catalog(real_catalog, home / "catalog.duckdb")

    build = run_step(home, "build", "--json")
    report.build_s = build.seconds
    report.build_courses_per_s = n / build.seconds
    report.build_peak_rss_mb = build.peak_rss_mb
    report.build_timings = build.output.get("timings", {})

    encode = run_step(home, "bench", "encode", "--sample", str(ENCODE_SAMPLE), "--json")
    report.encode_texts_per_s = encode.output["texts_per_s"]
    report.encode_s_estimated = n / report.encode_texts_per_s
    report.build_over_encode = report.build_s / report.encode_s_estimated

    rebuild = run_step(home, "build", "--json")
    report.rebuild_s = rebuild.seconds
    report.rebuild_peak_rss_mb = rebuild.peak_rss_mb
    report.rebuild_share_of_build = rebuild.seconds / build.seconds

    query = run_step(home, "bench", "recommend", "--json")
    report.query = query.output
    report.query_peak_rss_mb = query.peak_rss_mb
    report.catalog_mb = (home / "catalog.duckdb").stat().st_size / 2**20
    return report


def _seed_catalog(real_catalog: Path, target: Path) -> None:
    """The bench catalogue starts with the real taxonomy and its vectors, and no courses."""
    from pipeline.publish import TAXONOMY_TABLES, publishing, sql_string

    with publishing(target, carry_over=()) as con:
        con.execute(f"ATTACH {sql_string(real_catalog)} AS real (READ_ONLY)")
        for table in TAXONOMY_TABLES:
            con.execute(f"INSERT INTO {table} SELECT * FROM real.{table}")  # identifiers from a constant
        con.execute("DETACH real")


def encode_rate(home: Path, sample: int, *, seed: int = 11, chunk: int = ENCODE_CHUNK) -> dict:
    """The model's raw encode rate on a random sample of the catalogue's own embedded texts, in every
    variant, and how close each variant's vectors are to fp32's on those texts.

    The variants take turns on the same chunks of texts, in an order reversed every chunk
    (fp32, int8, int8, fp32, ...): the machine is shared, its speed drifts within a run, and a
    ratio is only fair when both sides saw the same moments. `texts_per_s` is the configured
    variant's (what a build reaches at best).
    """
    from core import embed
    from pipeline.build import embedding_text
    from pipeline.normalise import normalise_item
    from skillstack.settings import MODEL_VARIANTS, model_variant

    with duckdb.connect(str(home / "crawl.duckdb"), read_only=True) as con:
        items = [json.loads(i) for (i,) in con.execute("SELECT item FROM crawl_items").fetchall()]
    rng = random.Random(seed)
    chosen = rng.sample(items, min(sample, len(items)))
    texts = [embedding_text(normalise_item(item)) for item in chosen]
    variants = list(MODEL_VARIANTS)
    seconds = dict.fromkeys(variants, 0.0)
    vectors: dict[str, list[np.ndarray]] = {variant: [] for variant in variants}
    for variant in variants:
        embed.encode_documents(texts[:16], variant=variant)  # load and warm each form outside the timing
    with progress_bar(len(texts) * len(variants), "bench encode", unit="texts") as bar:
        for number, start in enumerate(range(0, len(texts), chunk)):
            part = texts[start : start + chunk]
            for variant in variants if number % 2 == 0 else variants[::-1]:
                started = time.perf_counter()
                vectors[variant].append(embed.encode_documents(part, variant=variant))
                seconds[variant] += time.perf_counter() - started
                bar.update(len(part))
    figures = {
        variant: {"seconds": seconds[variant], "texts_per_s": len(texts) / seconds[variant]} for variant in variants
    }
    fp32 = np.vstack(vectors["fp32"]) if texts else np.zeros((0, embed.DIMENSIONS), dtype=np.float32)
    for variant in variants:
        if variant != "fp32" and texts:
            cosines = (np.vstack(vectors[variant]) * fp32).sum(axis=1)
            figures[variant]["speedup_over_fp32"] = seconds["fp32"] / seconds[variant]
            figures[variant]["cosine_to_fp32"] = {"min": float(cosines.min()), "mean": float(cosines.mean())}
    configured = model_variant()
    return {
        "texts": len(texts),
        "variant": configured,
        "seconds": seconds[configured],
        "texts_per_s": figures[configured]["texts_per_s"],
        "chunk": chunk,
        "variants": figures,
    }


def machine() -> dict:
    import platform

    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }


def as_json(reports: list[SizeReport]) -> dict:
    return {"machine": machine(), "sizes": [asdict(r) for r in reports]}
