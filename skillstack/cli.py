"""The `skillstack` command: wires the layers together and holds no logic of theirs."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from skillstack.commands import UserError
from skillstack.commands.answers import (
    cmd_compare_courses,
    cmd_gap,
    cmd_goals_resolve,
    cmd_plan,
    cmd_recommend,
    cmd_skills_extract,
)
from skillstack.commands.data import cmd_build, cmd_crawl, cmd_nightly, cmd_serve, cmd_taxonomy_load
from skillstack.commands.measure import (
    cmd_bench_cli_recommend,
    cmd_bench_crawl,
    cmd_bench_derive,
    cmd_bench_encode,
    cmd_bench_first_page,
    cmd_bench_first_run,
    cmd_bench_generate,
    cmd_bench_recommend,
    cmd_bench_sizes,
    cmd_eval_goals,
    cmd_eval_recommend,
    cmd_eval_relevance,
    cmd_eval_skills,
)
from skillstack.commands.watch import cmd_watch_add, cmd_watch_list, cmd_watch_remove, cmd_watch_update


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
    deferral = build.add_mutually_exclusive_group()
    deferral.add_argument(
        "--defer-onet",
        action="store_true",
        help="embed the taxonomy's O*NET job titles and tasks at the next build, so a first run serves sooner "
        "(goals resolve on ESCO's own texts until then)",
    )
    deferral.add_argument(
        "--if-deferred", action="store_true", help="build only when the last build deferred texts (--defer-onet)"
    )
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
    bench_recommend = bench_sub.add_parser(
        "recommend", help="query latency p50/p95, goals seen first (cold) and again (warm), vs the bare top-k product"
    )
    bench_recommend.add_argument("--rounds", type=int, default=5, help="warm rounds over the goals (default 5)")
    bench_recommend.add_argument(
        "--baseline", metavar="DIR", help="also run the same protocol with this checkout's code, in turns"
    )
    bench_recommend.add_argument("--turns", type=int, default=2, help="with --baseline: processes per code")
    bench_recommend.add_argument("--json", action="store_true")
    bench_recommend.set_defaults(func=cmd_bench_recommend)
    first_run = bench_sub.add_parser(
        "first-run",
        help="`make run`'s steps in a new home (the captures unless SKILLSTACK_MIRROR is set), timed until the "
        "dashboard answers a goal in a headless browser",
    )
    first_run.add_argument("--limit", type=int, default=300, help="the crawl's --limit, as `make run` (default 300)")
    first_run.add_argument(
        "--baseline", action="store_true", help="first the same steps with a plain `build` (no deferral), for a ratio"
    )
    first_run.add_argument("--json", action="store_true")
    first_run.set_defaults(func=cmd_bench_first_run)
    derive = bench_sub.add_parser(
        "derive",
        help="a catalogue of N courses copied from this home's, each copy's vector its source's plus noise: for "
        "query latency only (no model time; never for relevance)",
    )
    derive.add_argument("n", type=int)
    derive.add_argument("--work-dir", help="where bench homes live (default SKILLSTACK_HOME/bench)")
    derive.set_defaults(func=cmd_bench_derive)
    cli_recommend = bench_sub.add_parser(
        "cli-recommend",
        help="wall time of whole `skillstack recommend GOAL --json` processes: a goal seen first, one the goal "
        "memo holds, and (--baseline) another checkout's code, in turns; median and p95",
    )
    cli_recommend.add_argument("--runs", type=int, default=12, help="processes per form (default 12)")
    cli_recommend.add_argument(
        "--baseline", metavar="DIR", help="a checkout to compare with, e.g. `git worktree add --detach /tmp/base main`"
    )
    cli_recommend.add_argument("--json", action="store_true")
    cli_recommend.set_defaults(func=cmd_bench_cli_recommend)
    first_page = bench_sub.add_parser(
        "first-page",
        help="restart serve RUNS times and time the first Find page view in headless chromium: median and max",
    )
    first_page.add_argument("--home", help="a SKILLSTACK_HOME with a built catalogue (default: this one)")
    first_page.add_argument("--runs", type=int, default=10)
    first_page.add_argument("--baseline", metavar="DIR", help="another checkout (a worktree of main), run in turns")
    first_page.add_argument("--goal", default="data analyst", help="also time this first goal ('' for none)")
    first_page.add_argument("--json", action="store_true")
    first_page.set_defaults(func=cmd_bench_first_page)
    return parser


# The layers whose log lines the command shows. Crawler lines go through Scrapy's own handler.
LOGGED_LAYERS = ("core", "pipeline", "recommender", "skillstack", "dashboard")


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


def _load_the_model_ahead(argv: list[str]) -> None:
    """`recommend` of one goal the goal memo does not hold: the model starts loading in its own
    process before anything else (`core.encoder_worker`), so that it is ready when the goal needs it.
    Decided on the raw arguments because parsing them imports the recommender, the very work to
    overlap; a batch (`--goals-file`) keeps the model in its own process."""
    if argv[:1] != ["recommend"] or {"--goals-file", "-h", "--help"} & set(argv):
        return
    from recommender.goal_memo import OCCUPATIONS_PER_GOAL, holds_any
    from skillstack import settings

    # Every word that is not an option may be the goal: another one matching a memo entry only costs
    # that command the model's load in its own process.
    maybe_goals = [arg for arg in argv[1:] if not arg.startswith("-")]
    if holds_any(settings.paths().catalog_db, maybe_goals, OCCUPATIONS_PER_GOAL):
        return
    from core import embed
    from core.encoder_worker import EncoderWorker

    embed.encode_queries_in(EncoderWorker.start())


def _disk_full(exc: BaseException) -> bool:
    """An OSError ENOSPC, or DuckDB's own error for it (an IOException carrying the same text)."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    return type(exc).__module__.startswith(("duckdb", "_duckdb")) and os.strerror(errno.ENOSPC) in str(exc)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _load_the_model_ahead(argv)
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
        if isinstance(exc.__cause__, KeyboardInterrupt):
            return 130  # Ctrl-C in a DuckDB query: DuckDB raises its own error from the interrupt
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
