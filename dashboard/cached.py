"""The recommender API's calls as the pages make them: cached per catalogue version, and waiting for the
warm-up query so the model is never loaded twice.

Every cached call takes the catalogue's version: a newly published catalogue is a cache miss, so
results are never pinned to a file that has been replaced.
"""

from __future__ import annotations

import contextlib
import threading

import streamlit as st

from recommender import api


@st.cache_resource(show_spinner=False, max_entries=1)
def warm_up(version: str) -> threading.Thread:
    """One query in the background as soon as a page opens, so the model is loaded by the time the first
    goal is typed; queries wait for it rather than load the model a second time beside it."""
    thread = threading.Thread(target=_first_query, name="skillstack-warm-up", daemon=True)
    thread.start()
    return thread


def _first_query() -> None:
    with contextlib.suppress(api.RecommenderError):
        api.recommend("data analyst", k=1)


@st.cache_data(show_spinner=False, max_entries=256)
def recommend(
    goal: str,
    filters: api.Filters,
    occupation: str | None,
    have: tuple[str, ...],
    k: int,
    version: str,
    have_skills: tuple[api.HeldSkill, ...] = (),
) -> api.Recommendation:
    warm_up(version).join()
    return api.recommend(goal, k=k, filters=filters, occupation_uri=occupation, have=have, have_skills=have_skills)


@st.cache_data(show_spinner=False, max_entries=64)
def compare(goal: str | None, filters: api.Filters, occupation: str | None, version: str) -> api.Comparison:
    warm_up(version).join()
    return api.compare_providers(goal, filters=filters, occupation_uri=occupation)


@st.cache_data(show_spinner=False, max_entries=256)
def course_detail(course_id: str, version: str) -> api.CourseDetail | None:
    return api.course_detail(course_id)


@st.cache_data(show_spinner=False, max_entries=64)
def skill_gap(
    goal: str,
    filters: api.Filters,
    occupation: str | None,
    have: tuple[str, ...],
    version: str,
    have_skills: tuple[api.HeldSkill, ...] = (),
) -> api.SkillGap:
    warm_up(version).join()
    return api.skill_gap(goal, filters=filters, occupation_uri=occupation, have=have, have_skills=have_skills)


@st.cache_data(show_spinner=False, ttl=60)
def sources_status(version: str) -> tuple[api.SourceStatus, ...]:
    return api.sources_status()


@st.cache_data(show_spinner=False, max_entries=16)
def source_dates(version: str) -> dict[str, api.SourceDate]:
    return api.source_dates()


@st.cache_data(show_spinner=False, max_entries=256)
def facts(course_ids: tuple[str, ...], version: str) -> dict[str, api.CourseFacts]:
    return api.course_facts(course_ids)


@st.cache_data(show_spinner=False, max_entries=256)
def filter_report(filters: api.Filters, version: str) -> api.FilterReport:
    return api.filter_report(filters)


@st.cache_data(show_spinner=False, max_entries=256)
def match_have(have: tuple[str, ...], version: str) -> tuple[api.HaveMatch, ...]:
    warm_up(version).join()
    return api.match_have(have)


@st.cache_data(show_spinner=False, max_entries=4)
def new_since_last_nightly(version: str) -> frozenset[str]:
    """Ids of the courses the last published nightly brought in; a new publish is a new version."""
    return api.new_since_last_nightly()


@st.cache_data(show_spinner=False, max_entries=64)
def resolve_goal(goal: str, version: str) -> tuple[api.Occupation, ...]:
    warm_up(version).join()
    return api.resolve_goal(goal, k=5)
