"""My plan (students): bring what you already hold — Open Badges, LinkedIn's Certifications.csv, a list
of completed courses — see the skills each brings and where from, and get a plan that leaves them out:
steps with hours, cost and the skills each closes, what stays open, to print or download as CSV,
an iCalendar schedule or schema.org JSON-LD.

Uploaded files live only in this browser session's memory (Streamlit keeps uploads there); nothing
of them is written on the server. Their text is shown as text.
"""

from __future__ import annotations

import json
import re
from datetime import date

import streamlit as st

from dashboard import cached, common, words
from dashboard.words import md
from recommender import api

RESULTS = 10


def render() -> None:
    common.goal_page(
        "plan",
        "My plan",
        "Bring what you already hold; get a plan that leaves it out, to print or to take to your calendar. "
        "Files stay in this session only; badge signatures and proofs are not checked.",
        _answer,
        no_goal="Type a goal to get a plan.",
    )


def _answer(asked: common.Asked, occupation: str | None) -> None:
    summary = asked.summary
    with st.spinner("Making the plan…"):
        rec = cached.recommend(
            asked.goal, asked.filters, occupation, asked.have, RESULTS, summary.version, asked.have_skills
        )
    common.goal_answer("plan", asked, rec, heading=False)
    if rec.stack is None or not rec.stack.steps:
        st.info("No course in the catalogue closes a required skill of this goal under these filters.")
        return
    left, right = st.columns(2)
    hours_per_week = left.number_input("Study hours per week", min_value=1.0, max_value=80.0, value=5.0, step=1.0)
    start = right.date_input("Start on", value=date.today(), key="plan_start")
    _printable(rec, summary, hours_per_week, start)
    _downloads(rec, hours_per_week, start)


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
            hours = words.hours_text(c.hours) or "hours not stated"
            st.caption(md(f"{c.provider} · {hours} · {words.price_text(c)} · {planned.start} to {planned.end}"))
            if step.closes:
                st.markdown(md("Closes: " + ", ".join(step.closes)))
            link = words.safe_url(c.url)
            if link:
                st.text(link)
    at_least = "≥ " if stack.unknown_hours else ""
    if stack.total_cost is None:
        cost = "cost not stated"
    elif stack.unknown_price:
        cost = f"at least {words.money(stack.total_cost, stack.currency)} ({stack.unknown_price} steps state no price)"
    else:
        cost = words.money(stack.total_cost, stack.currency) if stack.total_cost else "free"
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
