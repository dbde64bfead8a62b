"""The goal resolver on the job-title benchmark, with the plain dense baseline in the same run.

Benchmark: benchmarks/job_titles/titles.validation.csv.gz — real vacancy titles, each
with the ESCO occupation it was labelled with (JobBERT, Decorte et al. 2021). Protocol: every
title ranks all ESCO occupations; MRR and Recall@1/5/10 of the labelled one. Tied scores count
half (the expected rank under a random tie-break), so a ranking full of ties earns no credit it
did not make. A label missing from the catalogue counts as a miss.

Titles are split in two fixed halves by a hash of the normalised title (so a title that occurs
twice never lands in both): the resolver's weights were tuned on `tune` only; `held_out` is the
figure to quote.

The baseline is what the resolver started as: all-MiniLM-L6-v2 over ESCO preferred and
alternative labels, each occupation scored by its best label, on the raw title.

The variants measured and not kept (channel fusions, clean-ups, priors, feedback, fine-tuning) and
what the remaining misses are: docs/evaluation.md.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from core import embed
from recommender.goals import LABEL_ORIGINS, GoalResolver
from skillstack.settings import BENCHMARKS_DIR

DEFAULT_BENCHMARK = BENCHMARKS_DIR / "job_titles" / "titles.validation.csv.gz"
TUNE_HALF = "tune"
HELD_OUT_HALF = "held_out"
CUTOFFS = (1, 5, 10)
BATCH = 256


@dataclass(frozen=True)
class Scores:
    mrr: float
    recall: dict[int, float]
    titles: int

    def as_dict(self) -> dict:
        return {
            "mrr": round(self.mrr, 4),
            **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
            "titles": self.titles,
        }


@dataclass(frozen=True)
class GoalsEvaluation:
    benchmark: str
    tuned_on: str
    system: dict[str, Scores]  # half (tune, held_out, all) -> scores
    baseline: dict[str, Scores]
    seconds: float

    def as_dict(self) -> dict:
        return {
            "benchmark": self.benchmark,
            "tuned_on": self.tuned_on,
            "system": {half: s.as_dict() for half, s in self.system.items()},
            "baseline": {half: s.as_dict() for half, s in self.baseline.items()},
            "seconds": round(self.seconds, 1),
        }


def split_half(title: str) -> str:
    digest = hashlib.md5(" ".join(title.casefold().split()).encode("utf-8")).digest()
    return TUNE_HALF if digest[0] % 2 == 0 else HELD_OUT_HALF


def read_benchmark(path: Path = DEFAULT_BENCHMARK, *, limit: int | None = None) -> pd.DataFrame:
    """(title, uri, half) rows of the benchmark; `limit` keeps an evenly spaced sample of that many."""
    frame = pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)
    frame = frame.rename(columns={"vacancyTitle": "title", "conceptUri": "uri"})[["title", "uri"]]
    frame["title"] = frame["title"].str.strip()
    frame = frame[frame["title"] != ""].reset_index(drop=True)
    if limit is not None and limit < len(frame):
        # Evenly spaced rather than the first N: the file is grouped by occupation.
        frame = frame.iloc[np.linspace(0, len(frame) - 1, limit).astype(int)].reset_index(drop=True)
    frame["half"] = frame["title"].map(split_half)
    return frame


def gold_ranks(scores: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """1-based rank of each row's gold column; ties count half; gold -1 (unknown) → infinity."""
    known = gold >= 0
    gold_score = scores[np.arange(len(scores)), np.where(known, gold, 0)][:, None]
    ranks = 1 + (scores > gold_score).sum(axis=1) + 0.5 * ((scores == gold_score).sum(axis=1) - 1)
    return np.where(known, ranks, np.inf)


def summarise(ranks: np.ndarray) -> Scores:
    if not len(ranks):
        return Scores(0.0, {k: 0.0 for k in CUTOFFS}, 0)
    return Scores(
        mrr=float(np.mean(1.0 / ranks)),
        recall={k: float(np.mean(ranks <= k)) for k in CUTOFFS},
        titles=len(ranks),
    )


class LabelBaseline:
    """all-MiniLM-L6-v2 over ESCO preferred + alternative labels, max per occupation."""

    def __init__(self, con: duckdb.DuckDBPyConnection, occupation_uris: list[str]):
        rows = con.execute(
            "SELECT uri, vector FROM taxonomy_vectors WHERE kind = 'occupation' AND model = ? "
            "AND list_contains(?, origin)",
            [embed.MODEL_KEY, list(LABEL_ORIGINS)],
        ).df()
        index = {uri: i for i, uri in enumerate(occupation_uris)}
        rows = rows[rows["uri"].isin(index)]
        occupation = rows["uri"].map(index).to_numpy()
        order = np.argsort(occupation, kind="stable")
        self.occupation = occupation[order]
        self.matrix = np.vstack(rows["vector"].to_numpy()).astype(np.float32)[order]
        self.starts = np.flatnonzero(np.r_[True, self.occupation[1:] != self.occupation[:-1]])
        self.n_occupations = len(occupation_uris)

    def score_matrix(self, vectors: np.ndarray) -> np.ndarray:
        # Occupations without a label score below any cosine.
        out = np.full((len(vectors), self.n_occupations), -2.0, dtype=np.float32)
        out[:, self.occupation[self.starts]] = np.maximum.reduceat(vectors @ self.matrix.T, self.starts, axis=1)
        return out


def evaluate_goals(
    con: duckdb.DuckDBPyConnection,
    path: Path = DEFAULT_BENCHMARK,
    *,
    limit: int | None = None,
    resolver: GoalResolver | None = None,
) -> GoalsEvaluation:
    """Rank every ESCO occupation for every benchmark title with the resolver and the baseline."""
    started = time.perf_counter()
    bench = read_benchmark(path, limit=limit)
    resolver = resolver or GoalResolver.load(con)
    if not resolver.ready:
        raise ValueError("the catalogue has no occupation vectors: run `skillstack build` first")
    index = {uri: i for i, uri in enumerate(resolver.occupation_uris)}
    gold = bench["uri"].map(index).fillna(-1).astype(int).to_numpy()
    baseline = LabelBaseline(con, resolver.occupation_uris)

    # Each distinct text is embedded once, for both systems.
    prepared = [resolver.prepare(title) for title in bench["title"]]
    texts = sorted(set(prepared) | set(bench["title"]))
    vectors = dict(zip(texts, embed.encode(texts, batch_size=BATCH), strict=True))

    system_ranks = np.empty(len(bench))
    baseline_ranks = np.empty(len(bench))
    for start in range(0, len(bench), BATCH):
        part = slice(start, start + BATCH)
        goals = prepared[part]
        scores = resolver.score_matrix(goals, np.vstack([vectors[g] for g in goals]))
        system_ranks[part] = gold_ranks(scores, gold[part])
        raw = np.vstack([vectors[t] for t in bench["title"].iloc[part]])
        baseline_ranks[part] = gold_ranks(baseline.score_matrix(raw), gold[part])

    halves = {
        TUNE_HALF: bench["half"].eq(TUNE_HALF).to_numpy(),
        HELD_OUT_HALF: bench["half"].eq(HELD_OUT_HALF).to_numpy(),
    }
    halves["all"] = np.ones(len(bench), dtype=bool)
    return GoalsEvaluation(
        benchmark=str(path),
        tuned_on=TUNE_HALF,
        system={half: summarise(system_ranks[mask]) for half, mask in halves.items()},
        baseline={half: summarise(baseline_ranks[mask]) for half, mask in halves.items()},
        seconds=time.perf_counter() - started,
    )
