"""`skillstack bench` and `skillstack eval`: speed and quality figures."""

from __future__ import annotations

import argparse
import json
import sys

from skillstack import settings
from skillstack.commands import UserError


def cmd_bench_crawl(args: argparse.Namespace) -> int:
    from bench.crawl import MAX_PAGES, bench_crawl
    from core.store import open_crawl_db

    if not 1 <= args.pages <= MAX_PAGES:
        raise UserError(f"--pages must be between 1 and {MAX_PAGES}, not {args.pages}")
    report = bench_crawl(pages=args.pages, prepare_crawl_db=lambda path: open_crawl_db(path).close())
    print(json.dumps(report.as_dict(), indent=2) if args.json else "\n".join(report.lines()))
    return 0


def _bench_home_work_dir(args: argparse.Namespace):
    from pathlib import Path

    return Path(args.work_dir).resolve() if args.work_dir else settings.paths().home / "bench"


def cmd_bench_generate(args: argparse.Namespace) -> int:
    from bench.scale import BenchError, generate

    target = _bench_home_work_dir(args) / f"n{args.n}"
    try:
        generate(settings.paths().crawl_db, target, args.n)
    except BenchError as exc:
        raise UserError(str(exc)) from None
    print(f"{args.n} synthetic courses written to {target / 'crawl.duckdb'} (source bench_synthetic)")
    return 0


def cmd_bench_sizes(args: argparse.Namespace) -> int:
    """bench build and bench all: generate, build, encode, rebuild and query at each size."""
    from bench.scale import BenchError, as_json, bench_size

    sizes = [int(n) for n in str(args.sizes).split(",") if n.strip()]
    reports = []
    try:
        for n in sizes:
            reports.append(bench_size(settings.paths().home, _bench_home_work_dir(args), n))
            print(json.dumps(as_json(reports)["sizes"][-1]), file=sys.stderr)
    except BenchError as exc:
        raise UserError(str(exc)) from None
    result = as_json(reports)
    text = json.dumps(result, indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    print(text)
    return 0


def cmd_bench_encode(args: argparse.Namespace) -> int:
    from bench.scale import encode_rate

    figures = encode_rate(settings.paths().home, args.sample)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{figures['texts']} texts of this home, variants in turns of {figures['chunk']} (configured: "
          f"{figures['variant']})")  # fmt: skip
    for variant, figure in figures["variants"].items():
        line = f"{variant:5} {figure['texts_per_s']:8.1f} texts/s"
        if "speedup_over_fp32" in figure:
            cosine = figure["cosine_to_fp32"]
            line += (f"  {figure['speedup_over_fp32']:.2f}x fp32, cosine to fp32 min {cosine['min']:.5f} "
                     f"mean {cosine['mean']:.5f}")  # fmt: skip
        print(line)
    return 0


def cmd_bench_recommend(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bench.recommend import bench_recommend, bench_recommend_against

    if args.baseline:
        if not (Path(args.baseline) / "recommender" / "api.py").exists():
            raise UserError(f"{args.baseline} is not a checkout of this repository (no recommender/api.py)")
        figures = bench_recommend_against(Path(args.baseline), rounds=args.rounds, turns=args.turns)
    else:
        figures = bench_recommend(rounds=args.rounds)
    print(json.dumps(figures, indent=None if args.json else 2))
    return 0


def cmd_bench_first_run(args: argparse.Namespace) -> int:
    from bench.first_run import FirstRunError, bench_first_run

    try:
        # The baseline first: the run measured second meets a page cache warmed the same way.
        runs = {"full build first": bench_first_run(limit=args.limit, defer=False)} if args.baseline else {}
        runs["make run"] = bench_first_run(limit=args.limit)
    except FirstRunError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps({name: run.as_dict() for name, run in runs.items()}, indent=2))
    else:
        for name, run in runs.items():
            print(f"{name}: " + "\n".join(run.lines()))
        if args.baseline:
            ratio = runs["full build first"].total_s / runs["make run"].total_s
            print(f"make run answers {ratio:.2f}x as fast as with the whole taxonomy embedded before serving")
    return 0 if all(run.answered for run in runs.values()) else 1


def cmd_bench_derive(args: argparse.Namespace) -> int:
    from bench.recommend import derive_catalog

    if args.n < 1:
        raise UserError(f"N must be at least 1, not {args.n}")
    source = settings.paths().catalog_db
    if not source.exists():
        raise UserError(f"no catalogue at {source} to derive from: run `skillstack build` first")
    target = _bench_home_work_dir(args) / f"derived-{args.n}" / "catalog.duckdb"
    try:
        made = derive_catalog(source, target, args.n)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    print(f"{made:,} courses in {target}: vectors derived with noise, for latency benchmarks only (never relevance)")
    return 0


def cmd_bench_cli_recommend(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bench.recommend import bench_cli_recommend

    if args.runs < 1:
        raise UserError(f"--runs must be at least 1, not {args.runs}")
    if args.baseline and not (Path(args.baseline) / "skillstack" / "cli.py").exists():
        raise UserError(f"{args.baseline} is not a checkout of this repository (no skillstack/cli.py)")
    figures = bench_cli_recommend(runs=args.runs, baseline=Path(args.baseline) if args.baseline else None)
    print(json.dumps(figures, indent=None if args.json else 2))
    return 0


def cmd_bench_first_page(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bench.first_page import FirstPageError, lines, measure
    from bench.serving import ServeError

    home = Path(args.home).resolve() if args.home else settings.paths().home
    if not (home / "catalog.duckdb").exists():
        raise UserError(f"no catalogue in {home}: pass --home with a built catalogue")
    if args.runs < 1:
        raise UserError(f"--runs must be at least 1, not {args.runs}")
    baseline = Path(args.baseline) if args.baseline else None
    if baseline and not (baseline / "skillstack" / "cli.py").exists():
        raise UserError(f"{baseline} is not a skillstack checkout (e.g. `git worktree add --detach /tmp/base main`)")
    try:
        report = measure(home, args.runs, baseline=baseline, goal=args.goal or None)
    except (FirstPageError, ServeError) as exc:
        raise UserError(str(exc)) from None
    print(json.dumps(report, indent=2) if args.json else "\n".join(lines(report)))
    return 0


def cmd_eval_recommend(args: argparse.Namespace) -> int:
    from evaluation.recommend import evaluate

    report = evaluate(limit=args.limit)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{report['goals']} goals (ESCO occupations with >= {report['min_relevant']} relevant courses), k={report['k']}"
    )
    for part in ("all", "tune", "held-out"):
        figures = report[part]
        line = "  ".join(
            f"{name} nDCG@10 {figures[name]['ndcg@10']} R@10 {figures[name]['recall@10']}"
            for name in ("system", "tfidf_baseline", "dense_baseline")
        )
        ratio = figures["system_over_best_baseline"]
        print(f"{part:9} ({figures['system']['goals']} goals)  {line}  system/best baseline {ratio}")
    return 0


def cmd_eval_relevance(args: argparse.Namespace) -> int:
    from evaluation.relevance import evaluate, format_report

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, not {args.limit}")
    report = evaluate(limit=args.limit, ablations=not args.no_ablations)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def cmd_eval_goals(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.store import open_catalog_read_only
    from evaluation.goals import DEFAULT_BENCHMARK, evaluate_goals

    catalog = settings.paths().catalog_db
    if not catalog.exists():
        raise UserError("no catalogue yet: run `skillstack taxonomy load`, then `skillstack build`")
    benchmark = Path(args.titles) if args.titles else DEFAULT_BENCHMARK
    if not benchmark.is_file():
        raise UserError(f"no benchmark file at {benchmark}; pass --titles")
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, not {args.limit}")
    con = open_catalog_read_only(catalog)
    try:
        report = evaluate_goals(con, benchmark, limit=args.limit)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    finally:
        con.close()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return 0
    print(f"{report.benchmark} (weights tuned on the {report.tuned_on!r} half)")
    for name, figures in (("system", report.system), ("baseline", report.baseline)):
        for half, s in figures.items():
            recalls = "  ".join(f"R@{k} {v:.4f}" for k, v in s.recall.items())
            print(f"{name:9} {half:9} ({s.titles} titles)  MRR {s.mrr:.4f}  {recalls}")
    return 0


def cmd_eval_skills(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evaluation.skills import (
        BENCHMARK_DIR,
        EvaluationError,
        catalogue_for_eval,
        evaluate_skills,
        format_report,
    )

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, not {args.limit}")
    benchmark_dir = Path(args.benchmark_dir) if args.benchmark_dir else BENCHMARK_DIR
    try:
        with catalogue_for_eval(settings.paths().catalog_db) as con:
            report = evaluate_skills(con, limit=args.limit, benchmark_dir=benchmark_dir)
    except EvaluationError as exc:
        raise UserError(str(exc)) from None
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0
