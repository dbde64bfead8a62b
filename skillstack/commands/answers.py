"""Commands that answer: recommend, gap, plan, compare-courses, skills extract, goals resolve."""

from __future__ import annotations

import argparse
import json
import sys

from skillstack.commands import UserError

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


def filters_from_args(args: argparse.Namespace):
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


def _question(args: argparse.Namespace, held) -> dict:
    """What `gap` and `plan` ask of the API besides the goal: k, filters, occupation, what the learner has."""
    return {
        "k": args.k,
        "filters": filters_from_args(args),
        "occupation_uri": args.occupation,
        "have": tuple(args.have or ()),
        "have_skills": held.skills if held else (),
    }


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
    from core.language import language_name
    from recommender import api

    goals = _read_inputs(args.goal, args.goals_file, "goal", api.MAX_GOAL_CHARS)
    filters = filters_from_args(args)
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
    gap = api.skill_gap(args.goal, **_question(args, held))
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
    rec = api.recommend(args.goal, **_question(args, held))
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
