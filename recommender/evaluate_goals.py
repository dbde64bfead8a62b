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

Measured and left out (MRR tune / held-out; the resolver before them scored 0.4029 / 0.4015):
reciprocal-rank fusion of the channels (k=10: 0.397 / 0.399; k=60: 0.387 / 0.390); word-level
TF-IDF overlap over the labels as a further channel (0.403 / 0.405); a head-noun match bonus
(0.401 / 0.400); a residual linear projection of the query toward the occupation centroids, trained
on ESCO and O*NET titles (0.404 / 0.404); a harsher title clean-up that also drops parentheses,
"lead", "head", "intern", "trainee" and "associate" (0.399 / 0.400), with the parts of "A / B",
"A cum B" titles scored apart on top of it (0.401 / 0.403); adding the mean score of the
occupation's ISCO unit group (0.408 / 0.408 against 0.408 / 0.406 without: within noise, and it put
"industrial designer" above "user interface designer" for "UX designer"). O*NET task statements through
the crosswalk as a channel at full weight on every title (weights 0.05–0.5: tune 0.4073 down to
0.3901 against 0.4076 without); it is kept, gated to goals no label matches well (tune 0.4082 /
held-out 0.4061 against 0.4076 / 0.4058), for the lay descriptions it is there for. Fine-tuning the
model's top two layers on the 143k ESCO alternative labels and crosswalked O*NET titles, each
against its occupation's preferred label (in-batch negatives, 400 steps of 128): best-label MRR on
the prepared titles 0.3617 → 0.3609 tune, 0.3615 → 0.3617 held-out; the labels already say what
they can, and the vacancy titles' own conventions are not in them. Pseudo-relevance feedback (the
goal vector moved toward the centroids of its k best occupations, weighted by score; k=1, β=0.1:
0.4080 / 0.4062; β=0.25: 0.4069 / 0.4053; β=0.5: 0.4043 / 0.4023; k=3, β=0.1: 0.4074 / 0.4058).
Priors from ESCO's own structure added to the fused score (standardised, weights 0.005–0.04): a
shallower occupation code (best 0.4086 / 0.4062), more alternative labels (best 0.4085 / 0.4066 at
0.005, 0.4081 / 0.4072 at 0.01), more narrower occupations (0.4032 / 0.4026 down to 0.359 / 0.359).
Of the tune titles not ranked first, 11 % have their best occupation in the gold's ISCO unit group
and 24 % rank the gold below 100: the misses are not near-misses. Most remaining misses are the
benchmark's own labelling conventions ("sales and marketing executive" → promotion assistant), not
reachable from ESCO and O*NET text alone.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline import embed
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
