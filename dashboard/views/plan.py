"""My plan (students): bring what you already hold — Open Badges, LinkedIn's Certifications.csv, a list
of completed courses — see the skills each brings and where from, and get a plan that leaves them out:
steps with hours, cost and the skills each closes, what stays open, to print or download as CSV,
an iCalendar schedule or schema.org JSON-LD.

Uploaded files live only in this browser session's memory (Streamlit keeps uploads there); nothing
of them is written on the server. Their text is shown as text.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date

import streamlit as st

from dashboard import common
from dashboard.common import md
from recommender import api

RESULTS = 10
FILE_TYPES = ["json", "jsonld", "jwt", "txt", "png", "svg", "csv"]
_HELD = "_plan_held"  # session only: (digest of the uploads, their HeldSkills)


def render() -> None:
    st.title("My plan")
    st.caption(
        "Bring what you already hold; get a plan that leaves it out, to print or to take to your calendar. "
        "Files stay in this session only; badge signatures and proofs are not checked."
    )
    state = common.view_state()
    summary = common.catalog()
    if summary is None:
        common.footer()
        return
    goal, have = common.goal_controls("plan", state)
    filters = common.filter_controls("plan", state, summary)
    uploads = st.file_uploader(
        "What I already hold",
        type=FILE_TYPES,
        accept_multiple_files=True,
        key="plan_files",
        help="Open Badges 2.0/3.0 (JSON, JWT, or a baked PNG/SVG badge), LinkedIn's Certifications.csv, "
        "or a text file listing completed courses (URL or title, one per line).",
    )
    held = _held(uploads or [])
    if held is not None:
        _show_held(held)
    if not goal:
        common.publish(common.ViewState(have=have, filters=filters))
        st.info("Type a goal to get a plan.")
        common.footer()
        return
    try:
        with st.spinner("Making the plan…"):
            occupation = common.occupation_choice("plan", goal, state)
            rec = _recommend(goal, filters, occupation, have, held.skills if held else (), summary.version)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        common.footer()
        return
    common.publish(
        common.ViewState(goal=goal, occupation=common.chosen_occupation_for_url(rec), have=have, filters=filters)
    )
    common.occupation_picker("plan", rec)
    if rec.stack is None or not rec.stack.steps:
        st.info("No course in the catalogue closes a required skill of this goal under these filters.")
        common.footer()
        return
    left, right = st.columns(2)
    hours_per_week = left.number_input("Study hours per week", min_value=1.0, max_value=80.0, value=5.0, step=1.0)
    start = right.date_input("Start on", value=date.today(), key="plan_start")
    _printable(rec, summary, hours_per_week, start)
    _downloads(rec, hours_per_week, start)
    common.footer()


def _held(uploads: list) -> api.HeldSkills | None:
    """The uploads' skills, read once per set of files and kept in this session only."""
    if not uploads:
        st.session_state.pop(_HELD, None)
        return None
    files = [(f.name, f.getvalue()) for f in uploads]
    digest = hashlib.sha256(b"".join(hashlib.sha256(name.encode() + data).digest() for name, data in files)).hexdigest()
    kept = st.session_state.get(_HELD)
    if kept and kept[0] == digest:
        return kept[1]
    try:
        with st.spinner("Reading your files…"):
            held = api.held_skills(files)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        return None
    st.session_state[_HELD] = (digest, held)
    return held


def _show_held(held: api.HeldSkills) -> None:
    st.header("What you bring")
    for problem in held.problems:
        st.warning(md(problem + "; the other files still count"), icon=":material/error:")
    st.caption(md(f"{len(held.items)} items read; {len(held.skills)} ESCO skills. Signatures and proofs not checked."))
    # Lines of text, not a table: the sources are long sentences, and text stays findable and printable.
    for skill in held.skills:
        more = f" (and {len(skill.sources) - 1} more)" if len(skill.sources) > 1 else ""
        st.markdown(f"**{md(skill.label)}** {md('— ' + skill.sources[0] + more)}")
    for source in held.unmatched:
        st.text(f"No skill found {source}")


@st.cache_data(show_spinner=False, max_entries=64)
def _recommend(
    goal: str,
    filters: api.Filters,
    occupation: str | None,
    have: tuple[str, ...],
    have_skills: tuple[api.HeldSkill, ...],
    version: str,
) -> api.Recommendation:
    return api.recommend(
        goal, k=RESULTS, filters=filters, occupation_uri=occupation, have=have, have_skills=have_skills
    )


def _printable(rec: api.Recommendation, summary: api.CatalogSummary, hours_per_week: float, start: date) -> None:
    """The plan as it prints: goal, occupation, steps with hours, cost and the skills each closes, what
    stays open and the catalogue's date."""
    stack = rec.stack
    st.header("Your plan")
    st.markdown(md(f"Goal: {rec.goal}"))
    st.markdown(md(f"Occupation: {rec.chosen.label if rec.chosen else 'none'}"))
    held_required = [r.label for r in rec.required if r.uri in {h.uri for h in rec.held}]
    if held_required:
        st.markdown(md("Already held: " + ", ".join(held_required)))
    schedule = api.plan_schedule(rec, hours_per_week=hours_per_week, start=start)
    for step, planned in zip(stack.steps, schedule, strict=True):
        c = step.course
        with st.container(border=True):
            st.markdown(f"**Step {planned.number}: {md(c.title)}**")
            hours = common.hours_text(c.hours) or "hours not stated"
            st.caption(md(f"{c.provider} · {hours} · {common.price_text(c)} · {planned.start} to {planned.end}"))
            if step.closes:
                st.markdown(md("Closes: " + ", ".join(step.closes)))
            link = common.safe_url(c.url)
            if link:
                st.text(link)
    at_least = "≥ " if stack.unknown_hours else ""
    if stack.total_cost is None:
        cost = "cost not stated"
    elif stack.unknown_price:
        cost = f"at least {common.money(stack.total_cost, stack.currency)} ({stack.unknown_price} steps state no price)"
    else:
        cost = common.money(stack.total_cost, stack.currency) if stack.total_cost else "free"
    st.markdown(md(f"Total: {len(stack.steps)} steps, {at_least}{api.round_hours(stack.total_hours):g} h, {cost}"))
    st.markdown(md("Still open: " + (", ".join(stack.uncovered) if stack.uncovered else "nothing")))
    st.caption(md(f"Catalogue of {summary.built_at or 'unknown date'}"))


def _downloads(rec: api.Recommendation, hours_per_week: float, start: date) -> None:
    st.header("Take it with you")
    name = re.sub(r"[^a-z0-9]+", "-", rec.goal.lower()).strip("-")[:60] or "plan"
    columns = st.columns(3)
    columns[0].download_button(
        "Plan as CSV", api.plan_csv(rec), file_name=f"skillstack-{name}.csv", mime="text/csv",
        icon=":material/download:", key="plan_csv",
    )  # fmt: skip
    columns[1].download_button(
        "Schedule (iCalendar)", api.plan_ical(rec, hours_per_week=hours_per_week, start=start),
        file_name=f"skillstack-{name}.ics", mime="text/calendar", icon=":material/calendar_month:", key="plan_ics",
    )  # fmt: skip
    columns[2].download_button(
        "Plan as JSON-LD", json.dumps(api.plan_jsonld(rec), indent=2, ensure_ascii=False),
        file_name=f"skillstack-{name}.jsonld", mime="application/ld+json", icon=":material/data_object:",
        key="plan_jsonld",
    )  # fmt: skip
