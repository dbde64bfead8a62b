"""Find (students): a goal in plain words → the resolved occupation, the skill stack that closes the
gap, the ranked courses with the why, and the tools of the trade."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import common
from dashboard.common import md
from recommender import api

RESULTS = 10


def render() -> None:
    st.title("Find courses for a goal")
    st.caption("Type a career goal in your own words; get a short path of courses and certificates, and why.")
    state = common.view_state()
    summary = common.catalog()
    if summary is None:
        common.footer()
        return
    goal, have = common.goal_controls("find", state)
    filters = common.filter_controls("find", state, summary)
    if not goal:
        common.publish(common.ViewState(have=have, filters=filters))
        st.info(f"{summary.active:,} courses from {len(summary.providers)} providers. Type a goal to start.")
        common.footer()
        return
    try:
        with st.spinner("Finding courses…"):
            occupation = common.occupation_choice("find", goal, state)
            rec = common.recommend(goal, filters, occupation, have, RESULTS, summary.version)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        common.footer()
        return
    common.publish(
        common.ViewState(goal=goal, occupation=common.chosen_occupation_for_url(rec), have=have, filters=filters)
    )

    if rec.chosen:
        st.subheader(f"Goal: {md(rec.chosen.label)}")
    common.occupation_picker("find", rec)
    if rec.have:
        st.caption(md("You already have: " + ", ".join(h.label for h in rec.have)))
    _stack(rec)
    _results(rec)
    _tools(rec)
    common.footer()


def _stack(rec: api.Recommendation) -> None:
    st.header("Your skill stack")
    stack = rec.stack
    if stack is None or not stack.steps:
        st.info("No course in the catalogue closes a required skill of this goal under these filters.")
        return
    steps, hours, cost, covered = st.columns(4)
    steps.metric("Steps", len(stack.steps))
    if stack.unknown_hours:
        hours.metric(
            "Total hours",
            f"≥ {api.round_hours(stack.total_hours):g}",
            help=f"Sum of the steps' hours; {stack.unknown_hours} step(s) do not say how long they take.",
        )
    else:
        hours.metric("Total hours", f"{api.round_hours(stack.total_hours):g}", help="Sum of the steps' hours.")
    cost.metric("Total cost", common.money(stack.total_cost, stack.currency if stack.total_cost else None))
    required = len(stack.covered) + len(stack.uncovered)
    covered.metric("Gap closed", f"{len(stack.covered)} of {required} skills")
    for number, step in enumerate(stack.steps, start=1):
        with st.container(border=True):
            st.markdown(f"**Step {number}: {md(step.course.title)}**")
            st.caption(md(common.course_facts(step.course)))
            st.markdown(md("Closes: " + ", ".join(step.closes)))
            common.course_links(step.course.course_id, step.course.url)
    st.altair_chart(_stack_chart(stack), width="stretch")
    if stack.uncovered:
        st.caption(md("Left open: " + ", ".join(stack.uncovered[:15])))


def _stack_chart(stack: api.SkillStack) -> alt.Chart:
    frame = pd.DataFrame(
        {
            "step": [f"{i}" for i in range(1, len(stack.steps) + 1)],
            "course": [s.course.title for s in stack.steps],
            "skills closed": [len(s.closes) for s in stack.steps],
        }
    )
    frame["skills covered so far"] = frame["skills closed"].cumsum()
    base = alt.Chart(frame).encode(x=alt.X("step:O", title="Step", axis=alt.Axis(labelAngle=0)))
    bars = base.mark_bar().encode(
        y=alt.Y("skills closed:Q", title="Skills"), tooltip=["step:O", "course:N", "skills closed:Q"]
    )
    line = base.mark_line(point=True, color="#e45756").encode(y="skills covered so far:Q")
    return (bars + line).properties(title="Skills covered per step (bars) and so far (line)", height=260)


def _results(rec: api.Recommendation) -> None:
    st.header("Courses, best first")
    if not rec.results:
        st.info("No course matches this goal under these filters.")
        return
    for rank, result in enumerate(rec.results, start=1):
        common.course_card(result, rank=rank)


def _tools(rec: api.Recommendation) -> None:
    if not rec.tools:
        return
    st.header("Tools of the trade")
    st.caption("Technology examples for this occupation from O*NET, in-demand first.")
    st.markdown(md(", ".join(rec.tools)))
