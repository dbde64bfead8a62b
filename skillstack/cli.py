"""The `skillstack` command: wires the layers together and holds no logic of theirs."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from skillstack import settings


class UserError(Exception):
    """A problem the user can fix; printed as one line with what to run, exit code 2."""


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawlers.runner import (
        UnknownSourceError,
        UrlsNotSupportedError,
        check_sources,
        check_urls,
        list_sources,
        run_crawl,
    )
    from pipeline.store import open_crawl_db
    from skillstack.lock import writer_lock

    if args.list:
        for name, urls in list_sources():
            print(f"{name:28} {' '.join(urls)}")
        return 0
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, not {args.limit}")
    try:
        # Before crawl.duckdb is created: a mistyped name should leave nothing behind.
        check_sources(args.sources)
        if args.urls:
            check_urls(args.sources)
        paths = settings.paths()
        with writer_lock(paths.lock_file, "crawl", wait=not args.no_wait):
            open_crawl_db(paths.crawl_db).close()
            summaries = run_crawl(args.sources or None, limit=args.limit, crawl_db=paths.crawl_db, urls=args.urls)
    except (UnknownSourceError, UrlsNotSupportedError) as exc:
        raise UserError(str(exc)) from exc
    if args.json:
        print(json.dumps([s.as_dict() for s in summaries], indent=2, default=str))
    else:
        for s in summaries:
            print(s.one_line())
    return 0 if all(s.ok for s in summaries) else 1


def cmd_taxonomy_load(args: argparse.Namespace) -> int:
    from pipeline.publish import CATALOG_TABLES, publishing
    from pipeline.taxonomy import load_taxonomy
    from skillstack.lock import writer_lock

    paths = settings.paths()
    with writer_lock(paths.lock_file, "taxonomy load", wait=not args.no_wait):
        if args.if_missing and _catalog_has_taxonomy(paths.catalog_db):
            print("taxonomy already in the catalogue; `skillstack taxonomy load` reloads it")
            return 0
        # The taxonomy lives in the catalogue: republish it with the new taxonomy and every other table
        # kept. Its vectors too: the next build drops those of surfaces gone and embeds only new ones,
        # where dropping them all made it embed ~100k texts again (4 minutes) for one added O*NET table.
        with publishing(paths.catalog_db, carry_over=(*CATALOG_TABLES, "taxonomy_vectors")) as con:
            counts = load_taxonomy(con, paths.downloads)
    print("taxonomy loaded: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
    return 0


def _catalog_has_taxonomy(catalog_db) -> bool:
    import duckdb

    if not catalog_db.exists():
        return False
    from pipeline.taxonomy import taxonomy_complete

    con = duckdb.connect(str(catalog_db), read_only=True)
    try:
        return taxonomy_complete(con)
    finally:
        con.close()


def cmd_build(args: argparse.Namespace) -> int:
    from pipeline.build import BuildError, build_catalog
    from pipeline.publish import PublishError
    from skillstack.lock import writer_lock

    paths = settings.paths()
    try:
        with writer_lock(paths.lock_file, "build", wait=not args.no_wait):
            report = build_catalog(paths.crawl_db, paths.catalog_db, allow_mass_removal=args.allow_mass_removal)
    except (BuildError, PublishError) as exc:
        raise UserError(str(exc)) from None
    print(json.dumps(report.as_dict(), indent=2, default=str) if args.json else report.one_line())
    return 0


# A --file / --goals-file is read up to this size: `--goals-file /dev/zero` read forever.
MAX_INPUT_FILE_BYTES = 1_000_000


def _read_inputs(text: str | None, file: str | None, what: str, max_chars: int) -> list[str]:
    """The non-empty lines of `file` (bounded, UTF-8), or `text`; UserError naming the problem."""
    if file:
        try:
            with open(file, "rb") as handle:
                data = handle.read(MAX_INPUT_FILE_BYTES + 1)
        except OSError as exc:
            raise UserError(f"cannot read {file}: {exc.strerror}") from None
        if len(data) > MAX_INPUT_FILE_BYTES:
            raise UserError(f"{file} is larger than {MAX_INPUT_FILE_BYTES:,} bytes; split it into smaller files")
        try:
            lines = [line.strip() for line in data.decode("utf-8").splitlines()]
        except UnicodeDecodeError as exc:
            raise UserError(f"{file} is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})") from None
        for number, line in enumerate(lines, 1):
            if len(line) > max_chars:
                raise UserError(f"{file} line {number}: a {what} of {len(line):,} characters; at most {max_chars:,}")
        return [line for line in lines if line]
    if text is None or not text.strip():
        raise UserError(f"give a {what} or --file FILE (one per line)")
    return [text]


def _filters(args: argparse.Namespace):
    from recommender.api import Filters

    return Filters(
        free_only=args.free,
        with_certificate=args.certificate,
        levels=tuple(args.level or ()),
        languages=tuple(args.language or ()),
        max_hours=args.max_hours,
        max_price=args.max_price,
        providers=tuple(args.provider or ()),
    )


def _held_skills(args: argparse.Namespace):
    """The skills of the --have-file files, with each unreadable file's one line on stderr; None without files."""
    from recommender import api

    if not args.have_file:
        return None
    files = []
    for path in args.have_file:
        try:
            with open(path, "rb") as handle:
                files.append((path, handle.read()))
        except OSError as exc:
            print(f"skillstack: {path}: cannot read it ({exc.strerror}); the other files still count", file=sys.stderr)
    held = api.held_skills(files)
    for problem in held.problems:
        print(f"skillstack: {problem}; the other files still count", file=sys.stderr)
    return held


def _print_held(held) -> None:
    if held is None:
        return
    print(f"From your files ({len(held.items)} items; signatures and proofs not checked):")
    for skill in held.skills:
        print(
            f"  {skill.label} — {skill.sources[0]}"
            + (f" (+{len(skill.sources) - 1} more)" if len(skill.sources) > 1 else "")
        )
    for source in held.unmatched:
        print(f"  no skill found {source}")


def cmd_recommend(args: argparse.Namespace) -> int:
    from pipeline.language import language_name
    from recommender import api

    goals = _read_inputs(args.goal, args.goals_file, "goal", api.MAX_GOAL_CHARS)
    filters = _filters(args)
    held = _held_skills(args)
    if held is not None and not args.json:
        _print_held(held)
    for goal in goals:
        have = tuple(args.have or ())
        rec = api.recommend(
            goal,
            k=args.k,
            filters=filters,
            occupation_uri=args.occupation,
            have=have,
            have_skills=held.skills if held else (),
        )
        if args.json:
            print(json.dumps(rec.as_dict(), ensure_ascii=False, default=str))
            continue
        chosen = rec.chosen.label if rec.chosen else "no occupation"
        others = ", ".join(o.label for o in rec.occupations[1:4])
        print(f"Goal: {goal}  →  {chosen}" + (f"  (also: {others})" if others and rec.chosen else ""))
        for note in rec.notes:
            print(f"  note: {note}")
        if not rec.results and any(
            getattr(args, name)
            for name in ("free", "certificate", "level", "language", "max_hours", "max_price", "provider")
        ):
            print("  no course matches these filters; loosen them (e.g. drop --free or --max-hours)")
        for rank, r in enumerate(rec.results, 1):
            price = "free" if r.price == 0 else (f"{r.price:g} {r.currency or ''}".strip() if r.price else "price ?")
            hours = f"{api.round_hours(r.hours):g} h" if r.hours else "? h"
            print(
                f"{rank:2}. {r.title} — {r.provider} · {r.credential or 'course'} · {hours} · {price}  [{r.score:.3f}]"
            )
            print(f"    {r.url}")
            if r.matched_skills:
                print(f"    covers: {', '.join(r.matched_skills[:6])}")
            if r.also_in:
                print(f"    also in: {', '.join(language_name(e.in_language) for e in r.also_in)}")
        if rec.have:
            print("You have: " + ", ".join(h.label for h in rec.have))
        if rec.stack and rec.stack.steps:
            stack = rec.stack
            if stack.total_cost is None:
                cost = "cost not stated"
            elif stack.unknown_price:
                cost = f"at least {stack.total_cost:g} {stack.currency or ''}".strip()
                cost += f" ({stack.unknown_price} of {len(stack.steps)} steps state no price)"
            else:
                cost = f"{stack.total_cost:g} {stack.currency or ''}".strip() if stack.total_cost else "free"
            at_least = "≥ " if stack.unknown_hours else ""  # steps of unstated length count 0 in the total
            print(f"Skill stack: {len(stack.steps)} steps, {at_least}{api.round_hours(stack.total_hours):g} h, {cost}")
            for number, step in enumerate(stack.steps, 1):
                print(f"  {number}. {step.course.title} ({step.course.provider}) — closes {', '.join(step.closes[:5])}")
            if stack.uncovered:
                print(f"  still open: {', '.join(stack.uncovered[:8])}")
    return 0


def cmd_gap(args: argparse.Namespace) -> int:
    from recommender import api

    if not args.goal or not args.goal.strip():
        raise UserError('give a goal, e.g. `skillstack gap "data analyst"`')
    held = _held_skills(args)
    gap = api.skill_gap(
        args.goal,
        k=args.k,
        filters=_filters(args),
        occupation_uri=args.occupation,
        have=tuple(args.have or ()),
        have_skills=held.skills if held else (),
    )
    rec = gap.recommendation
    if args.json:
        print(
            json.dumps(
                {
                    "goal": rec.goal,
                    "occupation": rec.chosen.label if rec.chosen else None,
                    "skills": [
                        {
                            "uri": s.uri,
                            "label": s.label,
                            "weight": round(s.weight, 3),
                            "essential": s.essential,
                            "have": s.have,
                            "have_from": list(s.have_from),
                            "stack_step": s.stack_step,
                            "courses": s.courses,
                        }
                        for s in gap.skills
                    ],
                    "held": held.as_dict() if held else None,
                },
                ensure_ascii=False,
            )
        )
        return 0
    _print_held(held)
    print(f"Goal: {rec.goal}  →  {rec.chosen.label if rec.chosen else 'no occupation'}")
    for s in gap.skills:
        if s.have:
            state = "have" + (f" ({s.have_from[0]})" if s.have_from else "")
        elif s.stack_step:
            state = f"step {s.stack_step}"
        elif s.courses:
            state = f"{s.courses} courses teach it"
        else:
            state = "nothing in the catalogue covers it"
        print(f"  {'*' if s.essential else ' '} {s.label}: {state}")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from datetime import date

    from recommender import api

    if not args.goal or not args.goal.strip():
        raise UserError('give a goal, e.g. `skillstack plan "data analyst" --format ical`')
    try:
        start = date.fromisoformat(args.start) if args.start else date.today()
    except ValueError:
        raise UserError(f"--start takes a date as YYYY-MM-DD, not {args.start!r}") from None
    if args.hours_per_week <= 0:
        raise UserError(f"--hours-per-week must be more than 0, not {args.hours_per_week:g}")
    held = _held_skills(args)
    rec = api.recommend(
        args.goal,
        k=args.k,
        filters=_filters(args),
        occupation_uri=args.occupation,
        have=tuple(args.have or ()),
        have_skills=held.skills if held else (),
    )
    if rec.stack is None or not rec.stack.steps:
        raise UserError("no skill stack for this goal: nothing in the catalogue closes its gap under these filters")
    if args.format == "csv":
        output: str | bytes = api.plan_csv(rec)
    elif args.format == "ical":
        output = api.plan_ical(rec, hours_per_week=args.hours_per_week, start=start)
    elif args.format == "jsonld":
        output = json.dumps(api.plan_jsonld(rec), indent=2, ensure_ascii=False) + "\n"
    else:
        output = _plan_text(api, rec, args.hours_per_week, start)
    if args.output:
        data = output if isinstance(output, bytes) else output.encode("utf-8")
        with open(args.output, "wb") as handle:
            handle.write(data)
        print(f"plan written to {args.output}", file=sys.stderr)
    elif isinstance(output, bytes):
        sys.stdout.buffer.write(output)
    else:
        sys.stdout.write(output)
    return 0


def _plan_text(api, rec, hours_per_week: float, start) -> str:
    stack = rec.stack
    lines = [f"Study plan: {rec.goal}", f"Occupation: {rec.chosen.label if rec.chosen else 'none'}"]
    schedule = api.plan_schedule(rec, hours_per_week=hours_per_week, start=start)
    for step, planned in zip(stack.steps, schedule, strict=True):
        c = step.course
        hours = f"{api.round_hours(c.hours):g} h" if c.hours else "hours not stated"
        cost = (
            "free"
            if api.step_cost(c) == 0 and c.access_model
            else (f"{c.price:g} {c.currency or ''}".strip() if c.price else "price not stated")
        )
        lines.append(f"{planned.number}. {c.title} ({c.provider}) — {hours}, {cost}, {planned.start} to {planned.end}")
        lines.append(f"   {c.url}")
        if step.closes:
            lines.append(f"   closes: {', '.join(step.closes)}")
    if stack.total_cost is None:
        total = "cost not stated"
    elif stack.unknown_price:
        total = (
            f"at least {stack.total_cost:g} {stack.currency or ''}".strip() + f" ({stack.unknown_price} state no price)"
        )
    else:
        total = f"{stack.total_cost:g} {stack.currency or ''}".strip() if stack.total_cost else "free"
    at_least = "≥ " if stack.unknown_hours else ""
    lines.append(f"Total: {len(stack.steps)} steps, {at_least}{api.round_hours(stack.total_hours):g} h, {total}")
    lines.append(f"Still open: {', '.join(stack.uncovered) if stack.uncovered else 'nothing'}")
    lines.append(f"Catalogue of {api.catalog_summary().built_at or 'unknown date'}")
    return "\n".join(lines) + "\n"


def cmd_compare_courses(args: argparse.Namespace) -> int:
    from recommender import api

    comparison = api.compare_courses(tuple(args.course_ids), args.goal, occupation_uri=args.occupation)
    for missing in comparison.missing:
        print(f"skillstack: no course {missing} in the catalogue", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "goal": comparison.goal,
                    "occupation": comparison.occupation.label if comparison.occupation else None,
                    "courses": [c.as_dict() for c in comparison.courses],
                    "missing": list(comparison.missing),
                },
                ensure_ascii=False,
            )
        )
        return 0
    if comparison.occupation:
        print(f"Goal: {comparison.goal}  →  {comparison.occupation.label}")
    for c in comparison.courses:
        hours = f"{api.round_hours(c.hours):g} h" if c.hours else "? h"
        price = "free" if c.price == 0 else (f"{c.price:g} {c.currency or ''}".strip() if c.price else "price ?")
        rating = f"{c.rating:g} ({c.rating_count or 0})" if c.rating is not None else "no rating"
        print(f"{c.title} — {c.provider}")
        print(
            f"  {price} · {hours} · {c.level or 'level ?'} · {c.in_language or 'language ?'} · "
            f"{c.credential or 'no credential'} · {rating}"
        )
        if comparison.occupation:
            print(f"  covers {len(c.matched_skills)} required: {', '.join(c.matched_skills) or 'none'}")
    return 0


def cmd_watch_add(args: argparse.Namespace) -> int:
    from recommender import api

    if args.top < 1:
        raise UserError(f"--top must be at least 1, not {args.top}")
    added = api.watch_add(args.goal, top=args.top, filters=_filters(args), occupation_uri=args.occupation)
    print(f"watching {added.id}: {added.goal} ({added.describe()})")
    print(f"feed: {api.watch_feed_path(added.id)}")
    return 0


def cmd_watch_list(args: argparse.Namespace) -> int:
    from recommender import api

    watched = api.watches()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": w.id,
                        "goal": w.goal,
                        "filters": w.describe(),
                        "feed": str(api.watch_feed_path(w.id)),
                        "entries": len(api.watch_feed(w.id)),
                    }
                    for w in watched
                ],
                ensure_ascii=False,
            )
        )
        return 0
    if not watched:
        print('no goal is watched; `skillstack watch add "data analyst"` watches one')
    for w in watched:
        print(f"{w.id}  {w.goal} ({w.describe()})  {len(api.watch_feed(w.id))} entries  {api.watch_feed_path(w.id)}")
    return 0


def cmd_watch_remove(args: argparse.Namespace) -> int:
    from recommender import api

    if not api.watch_remove(args.watch_id):
        raise UserError(f"no watch {args.watch_id}; `skillstack watch list` lists them")
    print(f"no longer watching {args.watch_id}")
    return 0


def cmd_watch_update(args: argparse.Namespace) -> int:
    from recommender import api

    updates = api.update_watch_feeds()
    if args.json:
        print(json.dumps({"feeds": len(updates), "entries": sum(u.entries for u in updates)}))
    else:
        for u in updates:
            print(f"{u.watch_id}: {u.entries} new entries  {u.path}")
    return 0


def _print_ranked(args: argparse.Namespace, what: str, key: str, rank, max_chars: int) -> int:
    """One line of JSON per input text ({"text", key: [{uri, label, score}]}), or a readable list."""
    for text in _read_inputs(args.text, args.file, what, max_chars):
        matches = rank(text, k=args.k)
        if args.json:
            found = [{"uri": m.uri, "label": m.label, "score": round(m.score, 4)} for m in matches]
            print(json.dumps({"text": text, key: found}, ensure_ascii=False))
        else:
            print(text)
            for m in matches:
                print(f"  {m.score:.3f}  {m.label}")
    return 0


def cmd_skills_extract(args: argparse.Namespace) -> int:
    from recommender import api

    return _print_ranked(args, "text", "skills", api.extract_skills, api.MAX_TEXT_CHARS)


def cmd_goals_resolve(args: argparse.Namespace) -> int:
    from recommender import api

    return _print_ranked(args, "goal", "occupations", api.resolve_goal, api.MAX_GOAL_CHARS)


def cmd_nightly(args: argparse.Namespace) -> int:
    from crawlers.runner import UnknownSourceError, check_sources, list_sources
    from pipeline.retention import retention
    from skillstack import nightly

    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, not {args.limit}")
    try:
        sources = check_sources(args.sources or [])
        keep = retention()
    except (UnknownSourceError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    paths = settings.paths()
    if args.dry_run:
        taxonomy = "present" if _catalog_has_taxonomy(paths.catalog_db) else "missing: would load it"
        which = "the sources" if sources else "every source"
        bound = f", at most {args.limit} items each" if args.limit else ""
        print(f"SKILLSTACK_HOME {paths.home}")
        print(f"mirror: {settings.mirror_dir() or 'none (live web)'}")
        print(f"1. taxonomy: {taxonomy}")
        print(
            f"2. crawl {which} into {paths.crawl_db}{bound}: "
            + ", ".join(sources or [name for name, _ in list_sources()])
        )
        print(f"3. build and publish {paths.catalog_db} (atomic rename; the old one serves until then)")
        print("4. open the new catalogue once, so its indexes are built and kept for the first reader")
        print(
            f"5. write the run report into {paths.reports}; keep what the next build needs and the last "
            f"{keep} runs (crawl runs, reports, HTTP cache days), prune the rest"
        )
        return 0

    def load_taxonomy() -> None:
        cmd_taxonomy_load(argparse.Namespace(if_missing=False, no_wait=True))

    def crawl() -> list:
        from crawlers.runner import run_crawl
        from pipeline.store import open_crawl_db

        open_crawl_db(paths.crawl_db).close()
        return run_crawl(sources or None, limit=args.limit, crawl_db=paths.crawl_db)

    def build():
        from pipeline.build import build_catalog

        return build_catalog(paths.crawl_db, paths.catalog_db, allow_mass_removal=args.allow_mass_removal)

    report = nightly.run_nightly(
        paths,
        load_taxonomy=load_taxonomy,
        taxonomy_present=lambda: _catalog_has_taxonomy(paths.catalog_db),
        crawl=crawl,
        build=build,
        sources=sources,
        limit=args.limit,
    )
    print(report.summary())
    return report.exit_code


def cmd_serve(args: argparse.Namespace) -> int:
    import subprocess
    from pathlib import Path

    app = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", args.address, "--server.port", str(args.port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
    ]  # fmt: skip
    if not settings.paths().catalog_db.exists():
        print("skillstack: no catalogue yet; the dashboard will say which commands fill it", file=sys.stderr)
    return subprocess.call(command)


def cmd_bench_crawl(args: argparse.Namespace) -> int:
    from crawlers.bench import MAX_PAGES, bench_crawl
    from pipeline.store import open_crawl_db

    if not 1 <= args.pages <= MAX_PAGES:
        raise UserError(f"--pages must be between 1 and {MAX_PAGES}, not {args.pages}")
    report = bench_crawl(pages=args.pages, prepare_crawl_db=lambda path: open_crawl_db(path).close())
    print(json.dumps(report.as_dict(), indent=2) if args.json else "\n".join(report.lines()))
    return 0


def _bench_home_work_dir(args: argparse.Namespace):
    from pathlib import Path

    return Path(args.work_dir).resolve() if args.work_dir else settings.paths().home / "bench"


def cmd_bench_generate(args: argparse.Namespace) -> int:
    from pipeline.bench import BenchError, generate

    target = _bench_home_work_dir(args) / f"n{args.n}"
    try:
        generate(settings.paths().crawl_db, target, args.n)
    except BenchError as exc:
        raise UserError(str(exc)) from None
    print(f"{args.n} synthetic courses written to {target / 'crawl.duckdb'} (source bench_synthetic)")
    return 0


def cmd_bench_sizes(args: argparse.Namespace) -> int:
    """bench build and bench all: generate, build, encode, rebuild and query at each size."""
    from pipeline.bench import BenchError, as_json, bench_size

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
    from pipeline.bench import encode_rate

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
    from recommender.bench import bench_recommend

    figures = bench_recommend(rounds=args.rounds)
    print(json.dumps(figures, indent=None if args.json else 2))
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

    from evaluation.goals import DEFAULT_BENCHMARK, evaluate_goals
    from pipeline.store import open_catalog_read_only

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


class _Parser(argparse.ArgumentParser):
    """Argument mistakes in one line (`skillstack recommend: argument --k: ...`), exit 2, like every
    other mistake; `--help` still shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}\n")


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"a whole number from {low} to {high:,}, not {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"a whole number from {low} to {high:,}, not {number}")
        return number

    return parse


def _bounded_text(max_chars: int, what: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > max_chars:
            raise argparse.ArgumentTypeError(f"a {what} of {len(value):,} characters; at most {max_chars:,}")
        return value

    return parse


class _AppendAtMost(argparse.Action):
    """`append`, refusing more than `at_most` values."""

    def __init__(self, *args, at_most: int, **kwargs):
        self.at_most = at_most
        super().__init__(*args, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        given = [*(getattr(namespace, self.dest) or []), values]
        if len(given) > self.at_most:
            raise argparse.ArgumentError(self, f"at most {self.at_most} times")
        setattr(namespace, self.dest, given)


def _add_no_wait(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="exit with 75 when another crawl, build, taxonomy load or nightly is running, instead of waiting",
    )


def _add_allow_mass_removal(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-mass-removal",
        action="store_true",
        help="let a complete crawl mark more than half of a source's courses removed (held back otherwise)",
    )


HAVE_FILE_HELP = (
    "what you already hold: an Open Badges 2.0/3.0 credential (JSON, JWT, baked PNG or SVG; signatures are "
    "not checked), LinkedIn's Certifications.csv, or a list of completed course URLs or titles; repeat for several"
)


def _filter_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--free", action="store_true", help="free (or free to audit) courses only")
    parser.add_argument("--certificate", action="store_true", help="only courses that give a credential")
    parser.add_argument("--level", action="append", choices=["beginner", "intermediate", "advanced", "mixed"])
    parser.add_argument("--language", action="append", metavar="LANG", help="BCP 47 primary tag, e.g. en")
    parser.add_argument("--max-hours", type=float)
    parser.add_argument("--max-price", type=float)
    parser.add_argument("--provider", action="append", help="e.g. Coursera; repeat for several")


def build_parser() -> argparse.ArgumentParser:
    from recommender.api import MAX_GOAL_CHARS, MAX_HAVE, MAX_K, MAX_TEXT_CHARS, MIN_K

    k_type = _bounded_int(MIN_K, MAX_K)
    goal_type = _bounded_text(MAX_GOAL_CHARS, "goal")
    parser = _Parser(prog="skillstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    crawl = sub.add_parser("crawl", help="crawl sources into crawl.duckdb (all when none is named)")
    crawl.add_argument("sources", nargs="*", metavar="SOURCE")
    crawl.add_argument("--limit", type=int, help="at most N items per source (a quick, bounded crawl)")
    crawl.add_argument("--list", action="store_true", help="list the sources and their live URLs")
    crawl.add_argument("--json", action="store_true", help="print the run summary as JSON")
    crawl.add_argument(
        "--url",
        action="append",
        dest="urls",
        metavar="URL",
        help="re-crawl only this page with the parser of the one SOURCE named (repeat for several)",
    )
    _add_no_wait(crawl)
    crawl.set_defaults(func=cmd_crawl)

    taxonomy = sub.add_parser("taxonomy", help="the ESCO and O*NET taxonomy")
    taxonomy_sub = taxonomy.add_subparsers(dest="taxonomy_command", required=True)
    load = taxonomy_sub.add_parser("load", help="download ESCO v1.1.1, O*NET 29.2 and the crosswalk into the catalogue")
    load.add_argument("--if-missing", action="store_true", help="do nothing when the catalogue already has it")
    _add_no_wait(load)
    load.set_defaults(func=cmd_taxonomy_load)

    build = sub.add_parser("build", help="normalise, embed and link skills; publish catalog.duckdb atomically")
    build.add_argument("--json", action="store_true", help="print the build report as JSON")
    _add_no_wait(build)
    _add_allow_mass_removal(build)
    build.set_defaults(func=cmd_build)

    recommend = sub.add_parser("recommend", help="courses for a career goal in plain words")
    recommend.add_argument(
        "goal",
        nargs="?",
        type=goal_type,
        help=f'e.g. "I want to become a data analyst" (at most {MAX_GOAL_CHARS} characters)',
    )
    recommend.add_argument("--goals-file", help="one goal per line; prints JSON Lines with --json")
    recommend.add_argument("--k", type=k_type, default=10, help=f"how many courses (default 10, at most {MAX_K})")
    recommend.add_argument("--json", action="store_true", help="one JSON object per goal")
    recommend.add_argument("--occupation", metavar="URI", help="use this ESCO occupation instead of the best match")
    recommend.add_argument("--free", action="store_true", help="free (or free to audit) courses only")
    recommend.add_argument("--certificate", action="store_true", help="only courses that give a credential")
    recommend.add_argument("--level", action="append", choices=["beginner", "intermediate", "advanced", "mixed"])
    recommend.add_argument("--language", action="append", metavar="LANG", help="BCP 47 primary tag, e.g. en")
    recommend.add_argument("--max-hours", type=float)
    recommend.add_argument("--max-price", type=float)
    recommend.add_argument("--provider", action="append", help="e.g. Coursera; repeat for several")
    recommend.add_argument(
        "--have",
        action=_AppendAtMost,
        at_most=MAX_HAVE,
        type=_bounded_text(MAX_GOAL_CHARS, "skill"),
        metavar="SKILL",
        help=f"a skill you already have (free text); repeat for several (at most {MAX_HAVE})",
    )
    recommend.add_argument("--have-file", action="append", metavar="FILE", help=HAVE_FILE_HELP)
    recommend.set_defaults(func=cmd_recommend)

    gap = sub.add_parser(
        "gap", help="a goal's required skills: which you have, which the stack closes, which stay open"
    )
    gap.add_argument("goal", help='e.g. "data analyst"')
    gap.add_argument("--k", type=int, default=10, help="courses ranked for the stack (default 10)")
    gap.add_argument("--json", action="store_true", help="one JSON object")
    gap.add_argument("--occupation", metavar="URI", help="use this ESCO occupation instead of the best match")
    _filter_arguments(gap)
    gap.add_argument("--have", action="append", metavar="SKILL", help="a skill you already have (free text)")
    gap.add_argument("--have-file", action="append", metavar="FILE", help=HAVE_FILE_HELP)
    gap.set_defaults(func=cmd_gap)

    skills = sub.add_parser("skills", help="the skill extractor")
    skills_sub = skills.add_subparsers(dest="skills_command", required=True)
    extract = skills_sub.add_parser("extract", help="ESCO skills a text expresses")
    extract.add_argument("text", nargs="?", type=_bounded_text(MAX_TEXT_CHARS, "text"))
    extract.add_argument("--file", help="one text per line")
    extract.add_argument("--k", type=k_type, default=10)
    extract.add_argument("--json", action="store_true", help="JSON Lines: {text, skills: [{uri, label, score}]}")
    extract.set_defaults(func=cmd_skills_extract)

    goals = sub.add_parser("goals", help="the goal resolver")
    goals_sub = goals.add_subparsers(dest="goals_command", required=True)
    resolve = goals_sub.add_parser("resolve", help="ESCO occupations for a goal in plain words")
    resolve.add_argument("text", nargs="?", type=goal_type)
    resolve.add_argument("--file", help="one goal per line")
    resolve.add_argument("--k", type=k_type, default=5)
    resolve.add_argument("--json", action="store_true", help="JSON Lines: {text, occupations: [{uri, label, score}]}")
    resolve.set_defaults(func=cmd_goals_resolve)

    plan = sub.add_parser("plan", help="the skill stack as a plan: text, CSV, iCalendar schedule or schema.org JSON-LD")
    plan.add_argument("goal", help='e.g. "data analyst"')
    plan.add_argument("--format", choices=["text", "csv", "ical", "jsonld"], default="text")
    plan.add_argument("--hours-per-week", type=float, default=5.0, help="study time for the schedule (default 5)")
    plan.add_argument("--start", metavar="YYYY-MM-DD", help="the schedule's first day (default today)")
    plan.add_argument("--output", metavar="FILE", help="write the plan here instead of to stdout")
    plan.add_argument("--k", type=int, default=10)
    plan.add_argument("--occupation", metavar="URI")
    _filter_arguments(plan)
    plan.add_argument("--have", action="append", metavar="SKILL", help="a skill you already have (free text)")
    plan.add_argument("--have-file", action="append", metavar="FILE", help=HAVE_FILE_HELP)
    plan.set_defaults(func=cmd_plan)

    compare_courses = sub.add_parser(
        "compare-courses", help="2 to 4 courses side by side: price, hours, level, language, credential, rating"
    )
    compare_courses.add_argument("course_ids", nargs="+", metavar="COURSE_ID")
    compare_courses.add_argument("--goal", help="also show which of the goal's required skills each covers")
    compare_courses.add_argument("--occupation", metavar="URI")
    compare_courses.add_argument("--json", action="store_true")
    compare_courses.set_defaults(func=cmd_compare_courses)

    watch = sub.add_parser("watch", help="watched goals: an Atom feed each of what changed after every nightly")
    watch_sub = watch.add_subparsers(dest="watch_command", required=True)
    watch_add = watch_sub.add_parser("add", help="watch a goal (with filters); its top courses are recorded now")
    watch_add.add_argument("goal")
    watch_add.add_argument("--top", type=int, default=10, help="how many of the best courses to follow (default 10)")
    watch_add.add_argument("--occupation", metavar="URI")
    _filter_arguments(watch_add)
    watch_add.set_defaults(func=cmd_watch_add)
    watch_list = watch_sub.add_parser("list", help="the watched goals and their feeds")
    watch_list.add_argument("--json", action="store_true")
    watch_list.set_defaults(func=cmd_watch_list)
    watch_remove = watch_sub.add_parser("remove", help="stop watching a goal (its feed goes too)")
    watch_remove.add_argument("watch_id", metavar="ID", help="as `watch list` shows it")
    watch_remove.set_defaults(func=cmd_watch_remove)
    watch_update = watch_sub.add_parser("update", help="compare every watch with the catalogue now (the nightly does)")
    watch_update.add_argument("--json", action="store_true", help='print {"feeds", "entries"}')
    watch_update.set_defaults(func=cmd_watch_update)

    nightly_help = (
        "taxonomy if missing, crawl all, build, publish; locked; a report in SKILLSTACK_HOME/reports. "
        "Exit 0 ok, 3 some sources failed, 4 nothing published, 75 another crawl, build or nightly is running"
    )
    nightly_parser = sub.add_parser("nightly", help=nightly_help, description=nightly_help)
    nightly_parser.add_argument("--dry-run", action="store_true", help="say what it would do, do nothing")
    nightly_parser.add_argument("--limit", type=int, help="bound each source (for trials; the nightly crawls all)")
    nightly_parser.add_argument(
        "--source",
        action="append",
        dest="sources",
        metavar="SOURCE",
        help="crawl only this source (repeat for several; default every source); the build uses them all",
    )
    _add_allow_mass_removal(nightly_parser)
    nightly_parser.set_defaults(func=cmd_nightly)

    evaluation = sub.add_parser("eval", help="quality figures on public benchmarks")
    eval_sub = evaluation.add_subparsers(dest="eval_command", required=True)
    eval_recommend = eval_sub.add_parser("recommend", help="nDCG@10 and Recall@10 vs TF-IDF and dense baselines")
    eval_recommend.add_argument("--limit", type=int, help="evaluate the first N goals only")
    eval_recommend.add_argument("--json", action="store_true")
    eval_recommend.set_defaults(func=cmd_eval_recommend)
    eval_relevance = eval_sub.add_parser(
        "relevance",
        help="nDCG@10 and Recall@10 on goals judged from providers' role-named credentials, vs BM25 and MiniLM",
    )
    eval_relevance.add_argument("--limit", type=int, help="the first N goals only")
    eval_relevance.add_argument("--no-ablations", action="store_true", help="the system and baselines only")
    eval_relevance.add_argument("--json", action="store_true")
    eval_relevance.set_defaults(func=cmd_eval_relevance)
    eval_skills = eval_sub.add_parser(
        "skills", help="RP@5, RP@10 and MRR on the TECH and HOUSE skill-extraction sets vs a MiniLM baseline"
    )
    eval_skills.add_argument(
        "--benchmark-dir",
        help="folder holding tech_validation_annotations.csv and house_validation_annotations.csv "
        "(default: benchmarks/skill_extraction of the repository)",
    )
    eval_skills.add_argument("--limit", type=int, help="the first N sentences of each set only")
    eval_skills.add_argument("--json", action="store_true")
    eval_skills.set_defaults(func=cmd_eval_skills)
    eval_goals = eval_sub.add_parser("goals", help="MRR and Recall@1/5/10 on the job-title benchmark vs a baseline")
    eval_goals.add_argument(
        "--titles",
        "--file",
        help="the job-title benchmark, CSV or .csv.gz (default: benchmarks/job_titles/titles.validation.csv.gz)",
    )
    eval_goals.add_argument("--limit", type=int, help="an evenly spaced sample of N titles")
    eval_goals.add_argument("--json", action="store_true")
    eval_goals.set_defaults(func=cmd_eval_goals)

    serve = sub.add_parser("serve", help="the Streamlit dashboard")
    serve.add_argument("--address", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8501)
    serve.set_defaults(func=cmd_serve)

    bench = sub.add_parser("bench", help="benchmarks; each starts what it needs and stops by itself")
    # One subcommand per layer (crawl, recommend, build, generate...), each with --json.
    bench_sub = bench.add_subparsers(dest="bench_command", required=True)
    bench_crawl = bench_sub.add_parser(
        "crawl",
        help="crawl generated course pages and API pages from a 127.0.0.1 server: pages/s, items/s, parse ms/page",
    )
    bench_crawl.add_argument("--pages", type=int, default=3000, help="pages to serve (default 3000, at most 5000)")
    bench_crawl.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench_crawl.set_defaults(func=cmd_bench_crawl)

    generate = bench_sub.add_parser("generate", help="N synthetic courses from the real crawl (scale tests only)")
    generate.add_argument("n", type=int)
    generate.add_argument("--work-dir", help="where bench homes live (default SKILLSTACK_HOME/bench)")
    generate.set_defaults(func=cmd_bench_generate)
    for name, default_sizes, what in (
        ("build", "10000", "build, raw encode, no-change rebuild, query and size at generated sizes"),
        ("all", "10000,100000,250000", "every scale figure at 10k/100k/250k generated courses, as one JSON"),
    ):
        sizes = bench_sub.add_parser(name, help=what)
        sizes.add_argument("--sizes", default=default_sizes, help=f"comma-separated counts (default {default_sizes})")
        sizes.add_argument("--work-dir", help="where bench homes live (default SKILLSTACK_HOME/bench)")
        sizes.add_argument("--output", help="also write the JSON to this file")
        sizes.add_argument("--json", action="store_true", help="JSON (the only output format; kept for symmetry)")
        sizes.set_defaults(func=cmd_bench_sizes)
    encode = bench_sub.add_parser(
        "encode", help="the model's raw encode rate in each variant (fp32, bf16) on a sample of this home's texts"
    )
    encode.add_argument("--sample", type=int, default=2000)
    encode.add_argument("--json", action="store_true")
    encode.set_defaults(func=cmd_bench_encode)
    bench_recommend = bench_sub.add_parser("recommend", help="warm query latency p50/p95 vs the bare top-k product")
    bench_recommend.add_argument("--rounds", type=int, default=5)
    bench_recommend.add_argument("--json", action="store_true")
    bench_recommend.set_defaults(func=cmd_bench_recommend)
    return parser


# The layers whose log lines the command shows. Crawler lines go through Scrapy's own handler.
LOGGED_LAYERS = ("pipeline", "recommender", "skillstack", "dashboard")


def show_layer_logs(level: int) -> None:
    """Print the layers' log lines at `level` and above on stderr; stdout stays the command's answer.

    Long commands show their progress (INFO); the others only warnings, so a bad goal still
    answers in one line. The layers' loggers stop propagating: after a crawl Scrapy's root
    handler would print every line a second time.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("skillstack: %(message)s"))
    for name in LOGGED_LAYERS:
        layer = logging.getLogger(name)
        layer.handlers = [handler]
        layer.setLevel(level)
        layer.propagate = False


# As the nightly's "nothing could be published": the previous catalogue keeps serving.
EXIT_DISK_FULL = 4


def _disk_full(exc: BaseException) -> bool:
    """An OSError ENOSPC, or DuckDB's own error for it (an IOException carrying the same text)."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    return type(exc).__module__.startswith(("duckdb", "_duckdb")) and os.strerror(errno.ENOSPC) in str(exc)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    long_running = (cmd_crawl, cmd_taxonomy_load, cmd_build, cmd_nightly, cmd_bench_generate, cmd_bench_sizes,
                    cmd_bench_encode)  # fmt: skip
    show_layer_logs(logging.INFO if args.func in long_running else logging.WARNING)
    from pipeline.fetch import FetchError
    from recommender.api import RecommenderError
    from skillstack.lock import EXIT_LOCKED, LockedError

    try:
        return args.func(args)
    except (UserError, RecommenderError, FetchError) as exc:
        print(f"skillstack: {exc}", file=sys.stderr)
        return 2
    except LockedError as exc:
        print(f"skillstack: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except Exception as exc:
        if not _disk_full(exc):
            raise
        # Whatever step hit it, the catalogue it would have replaced still serves (publishing renames
        # a complete file over it, or nothing).
        print(f"skillstack: the disk is full: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return EXIT_DISK_FULL
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
