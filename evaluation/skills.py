"""`skillstack eval skills`: the skill extractor on the TECH and HOUSE validation sets, beside a baseline.

Protocol (Decorte et al. 2022/2023, benchmarks/PROVENANCE.md): every sentence ranks all ESCO skills;
RP@K = |gold ∩ top K| / min(K, |gold|); MRR is the reciprocal rank of the first gold skill. Rows
labelled `LABEL NOT PRESENT` or `UNDERSPECIFIED` are dropped; `label` is the ESCO preferred label.

The baseline is the plain all-MiniLM-L6-v2 ranking of the preferred labels (the sentence vector
against every label vector); the system is `core.skill_extract.SkillExtractor`. Both run in the
same call on the same catalogue, so their figures compare.

Each set is split in two halves by a hash of the sentence: the extractor's weights were chosen on
`tune` only, and `held-out` shows whether the gain carries over to sentences they were not chosen on.

What it needs: a catalogue with the taxonomy (`skillstack taxonomy load`) and the skill vectors
(`skillstack build` stores them). When the catalogue lacks the vectors, `catalogue_for_eval` makes
them in a temporary copy, which costs a few minutes (the taxonomy labels are embedded) and leaves
the published catalogue untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from core import embed
from core.skill_extract import SkillExtractor
from core.taxonomy import ORIGIN_PREFERRED, skill_matrix, taxonomy_loaded
from pipeline.skills import ensure_skill_vectors
from skillstack.settings import BENCHMARKS_DIR

log = logging.getLogger(__name__)

BENCHMARK_DIR = BENCHMARKS_DIR / "skill_extraction"
SETS = {"tech": "tech_validation_annotations.csv", "house": "house_validation_annotations.csv"}
NO_LABEL = ("LABEL NOT PRESENT", "UNDERSPECIFIED")
KS = (5, 10)
HALVES = ("tune", "held-out")


class EvaluationError(Exception):
    """The evaluation cannot run; the message says what to do."""


@dataclass(frozen=True)
class Benchmark:
    name: str
    sentences: list[str]
    gold: list[frozenset[str]]  # ESCO skill URIs per sentence
    halves: list[str]
    unknown_labels: int  # gold labels that are no preferred label of the catalogue's ESCO (dropped)


def half_of(sentence: str) -> str:
    """`tune` or `held-out`, fixed by the sentence text alone so the split never moves."""
    digest = hashlib.sha1(sentence.encode("utf-8")).digest()
    return HALVES[digest[-1] % 2]


def load_benchmark(con: duckdb.DuckDBPyConnection, name: str, path: Path, limit: int | None = None) -> Benchmark:
    """One validation set as sentences with their gold skill URIs (sentences in a fixed order)."""
    if not path.is_file():
        raise EvaluationError(f"benchmark file missing: {path}; pass --benchmark-dir")
    frame = pd.read_csv(path, usecols=["sentence", "label"], dtype=str).dropna()
    frame = frame[~frame["label"].isin(NO_LABEL)]
    by_label = dict(con.execute("SELECT label, uri FROM skills").fetchall())
    frame = frame.assign(uri=frame["label"].map(by_label))
    unknown = int(frame["uri"].isna().sum())
    gold = frame.dropna(subset=["uri"]).groupby("sentence", sort=True)["uri"].agg(frozenset)
    if limit is not None:
        gold = gold.iloc[:limit]
    sentences = gold.index.tolist()
    return Benchmark(name, sentences, gold.tolist(), [half_of(s) for s in sentences], unknown)


def metrics(scores: np.ndarray, uris: list[str], gold: list[frozenset[str]]) -> pd.DataFrame:
    """Per sentence: rp@5, rp@10 and the reciprocal rank of the first gold skill; `scores` is sentences × skills."""
    index = {uri: i for i, uri in enumerate(uris)}
    rows = []
    for row, wanted in zip(scores, gold, strict=True):
        columns = np.fromiter((index[u] for u in wanted if u in index), dtype=np.int64)
        # Stable order: ties keep the catalogue order, the same for every run.
        ranked = np.argsort(-row, kind="stable")
        position = np.empty_like(ranked)
        position[ranked] = np.arange(len(ranked))
        ranks = np.sort(position[columns]) + 1 if len(columns) else np.array([], dtype=np.int64)
        record = {f"rp@{k}": float((ranks <= k).sum() / min(k, len(wanted))) for k in KS}
        record["mrr"] = float(1.0 / ranks[0]) if len(ranks) else 0.0
        rows.append(record)
    return pd.DataFrame(rows, columns=[*(f"rp@{k}" for k in KS), "mrr"])


def baseline_scores(con: duckdb.DuckDBPyConnection, sentences: list[str]) -> tuple[list[str], np.ndarray]:
    """The plain all-MiniLM-L6-v2 ranking: each sentence's vector against every preferred-label vector."""
    uris, _labels, matrix = skill_matrix(con)
    return uris, embed.encode(sentences) @ matrix.T


def system_scores(extractor: SkillExtractor, sentences: list[str]) -> tuple[list[str], np.ndarray]:
    rows = extractor.score(sentences)
    empty = np.full(len(extractor.uris), -np.inf, dtype=np.float32)
    return extractor.uris, np.vstack([empty if r is None else r for r in rows])


def summarise(per_sentence: pd.DataFrame, halves: list[str]) -> dict[str, dict[str, float]]:
    out = {}
    for part in ("all", *HALVES):
        chosen = per_sentence if part == "all" else per_sentence[np.asarray(halves) == part]
        out[part] = {"sentences": len(chosen), **{c: round(float(chosen[c].mean()), 4) for c in chosen}}
    return out


def evaluate_skills(
    con: duckdb.DuckDBPyConnection, *, limit: int | None = None, benchmark_dir: Path = BENCHMARK_DIR
) -> dict:
    """Baseline and system metrics per set, overall and per half; `limit` keeps the first N sentences of each set."""
    if not taxonomy_loaded(con):
        raise EvaluationError("no taxonomy in the catalogue: run `skillstack taxonomy load`")
    extractor = SkillExtractor.load(con)
    if not extractor.ready:
        raise EvaluationError("no skill vectors in the catalogue: run `skillstack build`")
    report: dict = {"model": embed.MODEL_KEY, "sets": {}}
    for name, file_name in SETS.items():
        bench = load_benchmark(con, name, benchmark_dir / file_name, limit)
        systems = {
            "baseline": baseline_scores(con, bench.sentences),
            "system": system_scores(extractor, bench.sentences),
        }
        report["sets"][name] = {
            "unknown_labels": bench.unknown_labels,
            **{
                system: summarise(metrics(scores, uris, bench.gold), bench.halves)
                for system, (uris, scores) in systems.items()
            },
        }
    return report


def has_skill_vectors(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM taxonomy_vectors WHERE kind = 'skill' AND origin = ? AND model = ?",
        [ORIGIN_PREFERRED, embed.MODEL_KEY],
    ).fetchone()
    return bool(row and row[0])


@contextlib.contextmanager
def catalogue_for_eval(catalog_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the published catalogue, or to a temporary copy given the vectors it lacks."""
    if not catalog_db.exists():
        raise EvaluationError(f"no catalogue at {catalog_db}: run `skillstack taxonomy load`")
    con = duckdb.connect(str(catalog_db), read_only=True)
    try:
        if not taxonomy_loaded(con):
            raise EvaluationError("no taxonomy in the catalogue: run `skillstack taxonomy load`")
        if has_skill_vectors(con):
            yield con
            return
    finally:
        con.close()
    log.warning(
        "the catalogue has no skill vectors: embedding them in a temporary copy (`skillstack build` stores them)"
    )
    with tempfile.TemporaryDirectory(prefix="skillstack-eval-") as folder:
        copy = Path(folder) / catalog_db.name
        shutil.copyfile(catalog_db, copy)
        con = duckdb.connect(str(copy))
        try:
            ensure_skill_vectors(con)
            yield con
        finally:
            con.close()


def format_report(report: dict) -> str:
    lines = [f"skill extraction ({report['model']}): RP@5 / RP@10 / MRR"]
    for name, result in report["sets"].items():
        for part in ("all", *HALVES):
            base, system = result["baseline"][part], result["system"][part]
            gain = system["rp@5"] - base["rp@5"]
            lines.append(
                f"  {name.upper():5} {part:8} n={base['sentences']:3}  baseline {_triple(base)}  "
                f"system {_triple(system)}  RP@5 {gain * 100:+.1f} pts"
            )
        if result["unknown_labels"]:
            lines.append(f"  {name.upper()}: {result['unknown_labels']} gold labels not in this ESCO, dropped")
    return "\n".join(lines)


def _triple(values: dict[str, float]) -> str:
    return f"{values['rp@5']:.3f} / {values['rp@10']:.3f} / {values['mrr']:.3f}"
