"""Skill gap: the goal's required skills — which the user has, which the skill stack covers, which
other courses teach, and which nothing in the catalogue covers."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import common
from dashboard.common import md
from recommender import api

HAVE = "you have it"
STACK = "the stack covers it"
ELSEWHERE = "other courses teach it"
NOTHING = "nothing covers it"
STATUS_COLORS = {HAVE: "#54a24b", STACK: "#4c78a8", ELSEWHERE: "#f58518", NOTHING: "#e45756"}


def render() -> None:
    st.title("Skill gap")
    st.caption("What the goal requires, what you already have, what the skill stack closes and what stays open.")
    state = common.view_state()
    summary = common.catalog()
    if summary is None:
        common.footer()
        return
    goal, have = common.goal_controls("gap", state)
    filters = common.filter_controls("gap", state, summary)
    if not goal:
        common.publish(common.ViewState(have=have, filters=filters))
        st.info("Type a goal to see the skills it requires.")
        common.footer()
        return
    try:
        with st.spinner("Working out the gap…"):
            occupation = common.occupation_choice("gap", goal, state)
            gap = common.skill_gap(goal, filters, occupation, have, summary.version)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        common.footer()
        return
    rec = gap.recommendation
    common.publish(
        common.ViewState(goal=goal, occupation=common.chosen_occupation_for_url(rec), have=have, filters=filters)
    )
    if rec.chosen:
        st.subheader(f"Goal: {md(rec.chosen.label)}")
    common.occupation_picker("gap", rec)
    common.have_matches("gap", rec, have, summary.version)
    if not gap.skills:
        st.info("ESCO lists no skills for this occupation.")
        common.footer()
        return

    frame = _table(gap)
    counts = frame["status"].value_counts()
    columns = st.columns(5)
    columns[0].metric("Required", len(frame))
    for column, status in zip(columns[1:], STATUS_COLORS, strict=True):
        column.metric(status.capitalize(), int(counts.get(status, 0)))
    st.altair_chart(_chart(frame), width="stretch")

    for status, note in (
        (HAVE, "Skills you said you have, matched to ESCO."),
        (STACK, "Closed by the skill stack on the Find page; the step says which course."),
        (ELSEWHERE, "Taught by courses in the catalogue that the stack did not need or did not reach."),
        (NOTHING, "No course in the catalogue (under these filters) teaches these yet."),
    ):
        part = frame[frame["status"] == status]
        st.header(f"{status.capitalize()} ({len(part)})")
        st.caption(note)
        if part.empty:
            st.text("none")
            continue
        st.dataframe(part.drop(columns="status"), hide_index=True, width="stretch")
    common.footer()


def _table(gap: api.SkillGap) -> pd.DataFrame:
    steps = gap.recommendation.stack.steps if gap.recommendation.stack else ()
    rows = []
    for skill in gap.skills:
        if skill.have:
            status = HAVE
        elif skill.stack_step is not None:
            status = STACK
        elif skill.courses:
            status = ELSEWHERE
        else:
            status = NOTHING
        step = skill.stack_step
        rows.append(
            {
                "skill": skill.label,
                "essential": skill.essential,
                "weight": round(skill.weight, 2),
                "status": status,
                "stack step": f"{step}. {steps[step - 1].course.title}" if step else "",
                "courses teaching it": skill.courses,
            }
        )
    return pd.DataFrame(rows)


def _chart(frame: pd.DataFrame) -> alt.Chart:
    counts = (
        frame.groupby(["status", "essential"]).size().reset_index(name="skills")
        if not frame.empty
        else pd.DataFrame(columns=["status", "essential", "skills"])
    )
    counts["kind"] = counts["essential"].map({True: "essential", False: "optional"})
    return (
        alt.Chart(counts, title="Required skills by where they stand")
        .mark_bar()
        .encode(
            x=alt.X("skills:Q", stack=True),
            y=alt.Y("kind:N", title=None),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values())),
                title=None,
            ),
            order=alt.Order("status:N"),
            tooltip=["kind:N", "status:N", "skills:Q"],
        )
        .properties(height=140)
    )
