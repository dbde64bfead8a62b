"""Compare courses (counsellors): two to four chosen courses side by side — price, hours, level,
language, credential, rating — and, for a goal, which of its required skills each covers.

The chosen courses live in the URL (`courses`, repeated), so a link shows the same comparison.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import cached, common, words
from dashboard.words import md
from recommender import api

CANDIDATES = 20


def render() -> None:
    st.title("Compare courses")
    st.caption(f"Pick 2 to {api.MAX_COMPARED} courses: their facts side by side, and the goal's skills each covers.")
    summary = common.catalog()
    if summary is None:
        common.footer()
        return
    common.seed("compare_courses_goal", st.query_params.get("goal", ""))
    goal = st.text_input("Goal (optional)", key="compare_courses_goal", placeholder="data analyst").strip()
    asked = list(dict.fromkeys(st.query_params.get_all("courses")))
    options = list(asked)
    labels: dict[str, str] = {}
    if goal:
        try:
            with st.spinner("Finding courses for the goal…"):
                rec = cached.recommend(goal, api.Filters(), None, (), CANDIDATES, summary.version)
        except api.RecommenderError as exc:
            common.show_user_error(str(exc))
            rec = None
        for r in rec.results if rec else ():
            labels[r.course_id] = f"{r.title} ({r.provider})"
            if r.course_id not in options:
                options.append(r.course_id)
    common.seed("compare_courses_ids", asked[: api.MAX_COMPARED])
    chosen = st.multiselect(
        "Courses",
        options,
        key="compare_courses_ids",
        max_selections=api.MAX_COMPARED,
        format_func=lambda course_id: labels.get(course_id, course_id),
        help="The goal's best courses are offered; a link can carry any course ids.",
    )
    st.query_params["goal"] = goal
    st.query_params["courses"] = chosen
    if len(chosen) < 2:
        st.info(f"Choose at least two courses (up to {api.MAX_COMPARED}).")
        common.footer()
        return
    try:
        comparison = _compare(tuple(chosen), goal or None, summary.version)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        common.footer()
        return
    for missing in comparison.missing:
        st.warning(md(f"No course {missing} in the catalogue."))
    if comparison.occupation:
        st.subheader(f"Goal: {md(comparison.occupation.label)}")
    # Static tables: a handful of columns, read and printed as text (a data grid draws on a canvas).
    st.table(_facts(comparison))
    if comparison.occupation:
        st.header("Required skills each covers")
        st.table(_skills(comparison))
    for course in comparison.courses:
        common.course_links(course.course_id, course.url)
    common.footer()


@st.cache_data(show_spinner=False, max_entries=64)
def _compare(course_ids: tuple[str, ...], goal: str | None, version: str) -> api.CourseComparison:
    return api.compare_courses(course_ids, goal)


def _heading(course: api.CourseResult) -> str:
    return f"{course.title} ({course.provider})"


def _facts(comparison: api.CourseComparison) -> pd.DataFrame:
    """One column per course, one row per fact; every value a text (a table shows text as text)."""
    rows = {
        "price": lambda c: words.price_text(c),
        "hours": lambda c: words.hours_text(c.hours) or "not stated",
        "level": lambda c: c.level or "not stated",
        "language": lambda c: c.in_language or "not stated",
        "credential": lambda c: c.credential or "not stated",
        "rating": lambda c: words.rating_text(c.rating, c.rating_count) or "no rating",
        "institution": lambda c: c.institution or "",
    }
    if comparison.occupation:
        rows["required skills covered"] = lambda c: f"{len(c.matched_skills)} of {len(comparison.required)}"
    return pd.DataFrame(
        {_heading(c): [fact(c) for fact in rows.values()] for c in comparison.courses}, index=list(rows)
    )


def _skills(comparison: api.CourseComparison) -> pd.DataFrame:
    covered = {c.course_id: set(c.matched_skills) for c in comparison.courses}
    return pd.DataFrame(
        {
            _heading(c): ["✓" if r.label in covered[c.course_id] else "" for r in comparison.required]
            for c in comparison.courses
        },
        index=[r.label + (" (essential)" if r.essential else "") for r in comparison.required],
    )
