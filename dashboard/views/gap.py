"""Skill gap: the goal's required skills — which the user has, which the skill stack covers, which
other courses teach, and which nothing in the catalogue covers."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import cached, common
from recommender import api

HAVE = "you have it"
STACK = "the stack covers it"
ELSEWHERE = "other courses teach it"
NOTHING = "nothing covers it"
STATUS_COLORS = {HAVE: "#54a24b", STACK: "#4c78a8", ELSEWHERE: "#f58518", NOTHING: "#e45756"}
# The columns of a status's table: what you have says where from; the rest, what could close it.
COLUMNS = {
    True: ("skill", "essential", "weight", "from"),
    False: ("skill", "essential", "weight", "stack step", "courses teaching it"),
}


def render() -> None:
    common.goal_page(
        "gap",
        "Skill gap",
        "What the goal requires, what you already have, what the skill stack closes and what stays open.",
        _answer,
        no_goal="Type a goal to see the skills it requires.",
    )


def _answer(asked: common.Asked, occupation: str | None) -> None:
    with st.spinner("Working out the gap…"):
        gap = cached.skill_gap(
            asked.goal, asked.filters, occupation, asked.have, asked.summary.version, asked.have_skills
        )
    rec = gap.recommendation
    common.goal_answer("gap", asked, rec)
    common.have_matches("gap", rec, asked.have, asked.summary.version)
    if not gap.skills:
        st.info("ESCO lists no skills for this occupation.")
        return

    frame = _table(gap)
    counts = frame["status"].value_counts()
    columns = st.columns(5)
    columns[0].metric("Required", len(frame))
    for column, status in zip(columns[1:], STATUS_COLORS, strict=True):
        column.metric(status.capitalize(), int(counts.get(status, 0)))
    st.altair_chart(_chart(frame), width="stretch")

    for status, note in (
        (HAVE, "Skills you said you have or your files show, matched to ESCO, and where each came from."),
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
        # Static tables whose cells wrap: the sources of held skills are sentences, and a phone shows
        # every column without scrolling sideways.
        shown = [c for c in COLUMNS[status == HAVE] if c in part.columns]
        st.table(part[shown], hide_index=True)


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
                "from": "; ".join(skill.have_from) or ("typed under Skills I already have" if skill.have else ""),
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
