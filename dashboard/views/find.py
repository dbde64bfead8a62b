"""Find (students): a goal in plain words → the resolved occupation, the ranked courses with the why
and the skill stack that closes the gap (in the order the user chooses), and the tools of the trade."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import cached, common, words
from dashboard.words import md
from recommender import api

RESULTS = 10  # shown at first; "More courses" adds as many
MAX_RESULTS = 50
COURSES_FIRST = "Courses"
PLAN_FIRST = "Skill stack"
SORTS = ("Best fit", "Rating", "Price", "Hours", "Newest")


def render() -> None:
    common.goal_page(
        "find",
        "Find courses for a goal",
        "Type a career goal in your own words; get courses and a path of certificates, and why.",
        _goal_results,
        no_goal="{courses} courses from {providers} providers. Type a goal to start.",
    )


def _goal_results(asked: common.Asked, occupation: str | None) -> None:
    goal, have, filters, version = asked.goal, asked.have, asked.filters, asked.summary.version
    shown_key = f"find_shown::{goal.lower()}"
    shown = st.session_state.get(shown_key, RESULTS)
    with st.spinner("Finding courses…"):
        rec = cached.recommend(goal, filters, occupation, have, shown, version, asked.have_skills)
        ids = tuple(r.course_id for r in rec.results) + tuple(
            s.course.course_id for s in (rec.stack.steps if rec.stack else ())
        )
        known = cached.facts(ids, version)
        fresh = cached.new_since_last_nightly(version)
    common.goal_answer("find", asked, rec)
    if rec.language_fallback:
        st.caption("The catalogue has no course in your goal's language: courses in every language are shown.")
    required = {r.uri for r in rec.required}
    had = dict.fromkeys(h.label for h in (*rec.have, *rec.held) if h.uri in required or h in rec.have)
    if had:
        st.caption(md("You already have: " + ", ".join(had)))
    first, sort = _view_options()
    if first == PLAN_FIRST:
        _stack(rec, known)
        _results(rec, known, fresh, sort, shown, shown_key, filters, version)
    else:
        _results(rec, known, fresh, sort, shown, shown_key, filters, version)
        _stack(rec, known)
    common.have_matches("find", rec, have, version)
    _tools(rec)


def _view_options() -> tuple[str, str]:
    """What comes first and how the courses are sorted, behind one button: on a phone two widgets
    would push the first course below the fold."""
    first = st.session_state.get("find_first") or COURSES_FIRST
    by = st.session_state.get("find_sort") or SORTS[0]
    with st.popover(f"{first} first · sorted by {by.lower()}", icon=":material/sort:"):
        first = st.segmented_control("Show first", (COURSES_FIRST, PLAN_FIRST), key="find_first", default=COURSES_FIRST)
        by = st.selectbox("Sort courses by", SORTS, key="find_sort")
    return first or COURSES_FIRST, by


def _sorted(results: tuple[api.CourseResult, ...], by: str, known: dict[str, api.CourseFacts]) -> list:
    """The results in the chosen order; courses that do not state the sorted value go last."""
    ranked = list(results)
    if by == "Rating":
        return sorted(ranked, key=lambda r: (r.rating is None, -(r.rating or 0)))
    if by == "Price":
        return sorted(ranked, key=lambda r: (_paid(r, known) is None, _paid(r, known) or 0))
    if by == "Hours":
        return sorted(ranked, key=lambda r: (r.hours is None, r.hours or 0))
    if by == "Newest":
        return sorted(ranked, key=lambda r: (known.get(r.course_id) is None, _newest_key(known.get(r.course_id))))
    return ranked


def _newest_key(facts: api.CourseFacts | None) -> str:
    # Newest first: invert the ISO date's characters so an ascending sort puts later dates first.
    return "".join(chr(0x10FFFF - ord(c)) for c in (facts.as_of or "")) if facts else ""


def _paid(result: api.CourseResult, known: dict[str, api.CourseFacts]) -> float | None:
    """What a learner pays to take the course: 0 when free or free to audit, else its price."""
    if result.access_model in ("free", "free-audit+paid-certificate") or result.price == 0:
        return 0.0
    return result.price


def _results(
    rec: api.Recommendation,
    known: dict[str, api.CourseFacts],
    fresh: frozenset[str],
    sort: str,
    shown: int,
    shown_key: str,
    filters: api.Filters,
    version: str,
) -> None:
    st.header("Courses, best first" if sort == "Best fit" else f"Courses by {sort.lower()}")
    if not rec.results:
        st.info(md(common.empty_because(filters, version)))
        return
    for rank, result in enumerate(_sorted(rec.results, sort, known), start=1):
        common.course_card(result, rank=rank, known=known.get(result.course_id), new=result.course_id in fresh)
    if rec.little_more:
        st.caption(f"The catalogue has little more for this goal than these {len(rec.results)}.")
    if len(rec.results) >= shown and shown < MAX_RESULTS:
        st.button(
            "More courses", key="find_more", on_click=_more, args=(shown_key, shown), icon=":material/expand_more:"
        )


def _more(shown_key: str, shown: int) -> None:
    st.session_state[shown_key] = min(shown + RESULTS, MAX_RESULTS)


def _stack(rec: api.Recommendation, known: dict[str, api.CourseFacts]) -> None:
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
    if any(known.get(s.course.course_id) and known[s.course.course_id].hours_estimated for s in stack.steps):
        hours.caption("Some hours are estimates from a length in weeks or months.")
    cost_text, cost_help = _stack_cost(stack)
    cost.metric("Total cost", cost_text, help=cost_help)
    required = len(stack.covered) + len(stack.uncovered)
    covered.metric("Gap closed", f"{len(stack.covered)} of {required} skills")
    for number, step in enumerate(stack.steps, start=1):
        with st.container(border=True):
            st.markdown(f"**Step {number}: {md(step.course.title)}**")
            st.caption(md(common.course_facts(step.course, known.get(step.course.course_id))))
            st.markdown(md("Closes: " + ", ".join(step.closes)))
            common.course_links(step.course.course_id, step.course.url, step.course.provider)
    st.altair_chart(_stack_chart(stack), width="stretch")
    if stack.uncovered:
        st.caption(md("Left open: " + ", ".join(stack.uncovered[:15])))


def _stack_cost(stack: api.SkillStack) -> tuple[str, str]:
    """The stack's price as far as its sources state it: "not stated" when no step states one,
    "at least $X" when some do not."""
    total = getattr(stack, "total_price", stack.total_cost)
    unknown = stack.unknown_price
    currency = stack.currency if stack.currency != "mixed" else None
    if unknown >= len(stack.steps) or total is None and unknown:
        return "not stated", "No step of the stack states a price: their sources list none."
    if unknown:
        return (
            f"at least {words.money(total, currency)}",
            f"{unknown} of {len(stack.steps)} steps do not state a price; the sum is of the others.",
        )
    return words.money(total, currency), "Sum of the steps' prices; courses free to audit count as free."


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


def _tools(rec: api.Recommendation) -> None:
    if not rec.tools:
        return
    st.header("Tools of the trade")
    st.caption("Technology examples for this occupation from O*NET, in-demand first.")
    st.markdown(md(", ".join(rec.tools)))
