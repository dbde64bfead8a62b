"""Compare providers (counsellors): for a goal's best-fitting courses or the whole catalogue, providers
side by side — courses, share free, share with certificate, price and hours, levels, languages and
coverage of the goal's required skills — as a table, as charts and as a CSV download."""

from __future__ import annotations

import re

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import common
from dashboard.common import md
from recommender import api

GOAL_SCOPE = "The courses that best fit the goal"
CATALOGUE_SCOPE = "The whole catalogue"

COLUMNS = {
    "provider": "Provider",
    "courses": "Courses",
    "share_free": "Free",
    "share_priced": "Price stated",
    "share_certificate": "With certificate",
    "price_p25": "Price p25",
    "price_median": "Price median",
    "price_p75": "Price p75",
    "hours_p25": "Hours p25",
    "hours_median": "Hours median",
    "hours_p75": "Hours p75",
    "levels": "Levels",
    "languages": "Languages",
    "goal_coverage": "Goal coverage",
}


def render() -> None:
    st.title("Compare providers")
    st.caption(
        "Providers side by side, for a goal or for the whole catalogue. Free is the share of the courses whose "
        "price the provider states; prices are of paid courses."
    )
    state = common.view_state()
    summary = common.catalog()
    if summary is None:
        common.footer()
        return
    goal = common.goal_box("compare", state)
    filters = common.filter_controls("compare", state, summary)
    common.seed("compare_scope", GOAL_SCOPE if state.goal else CATALOGUE_SCOPE)
    scope = st.radio("Compare over", (GOAL_SCOPE, CATALOGUE_SCOPE), key="compare_scope", horizontal=True)
    occupation = common.occupation_choice("compare", goal, state)
    common.publish(
        common.ViewState(
            goal=goal, occupation=occupation, have=state.have if goal == state.goal else (), filters=filters
        )
    )
    for_goal = scope == GOAL_SCOPE and bool(goal)
    if scope == GOAL_SCOPE and not goal:
        st.info("Type a goal to compare the providers of its courses; meanwhile, the whole catalogue.")
    try:
        with st.spinner("Comparing providers…"):
            comparison = common.compare(goal if for_goal else None, filters, occupation, summary.version)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        common.footer()
        return
    courses = sum(p.courses for p in comparison.providers)
    if comparison.goal:
        label = comparison.occupation.label if comparison.occupation else comparison.goal
        st.subheader(f"Goal: {md(label)}")
        st.caption(f"The {courses:,} courses that best fit the goal, by provider.")
    else:
        st.subheader("The whole catalogue")
        st.caption(f"All {courses:,} courses that pass the filters, by provider.")
    if not comparison.providers:
        st.info("No course passes these filters.")
        common.footer()
        return

    frame = pd.DataFrame([p.as_row() for p in comparison.providers])
    if comparison.goal is None:
        frame = frame.drop(columns="goal_coverage")
    table = frame.rename(columns=COLUMNS)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            **{
                name: st.column_config.NumberColumn(format="percent")
                for name in ("Free", "Price stated", "With certificate", "Goal coverage")
                if name in table
            },
            # Hours from a calendar length are estimates ("3 - 6 Months" at 10 h a week): no hundredths.
            **{name: st.column_config.NumberColumn(format="%.1f") for name in table if name.startswith("Hours")},
        },
    )
    st.download_button(
        "Download CSV",
        data=_csv(frame),
        file_name=f"skillstack-providers-{_slug(comparison.goal or 'catalogue')}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    _charts(comparison)
    common.footer()


def _csv(frame: pd.DataFrame) -> str:
    """The table as CSV; a text cell that a spreadsheet would run as a formula is quoted with a '."""
    # CRLF rows (RFC 4180): the writer then quotes every cell holding a carriage return, which with
    # "\n" rows it leaves bare, and a spreadsheet would start a new row, a formula perhaps, there.
    return frame.map(_defuse).to_csv(index=False, lineterminator="\r\n")


# What a spreadsheet may read as the start of a formula (OWASP, "CSV Injection"): a tab or a carriage
# return first hides the "=" that follows from a check of the first character alone.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _defuse(value: object) -> object:
    """A text that a spreadsheet would run as a formula, prefixed with a single quote (shown as text)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "goal"


def _charts(comparison: api.Comparison) -> None:
    providers = comparison.providers
    order = [p.provider for p in providers]
    shares = pd.DataFrame(
        [
            {"provider": p.provider, "share": share, "what": what}
            for p in providers
            for what, share in (("free", p.share_free), ("with certificate", p.share_certificate))
            if share is not None
        ]
    )
    counts = pd.DataFrame({"provider": order, "courses": [p.courses for p in providers]})
    left, right = st.columns(2)
    left.altair_chart(
        alt.Chart(counts, title="Courses")
        .mark_bar()
        .encode(x="courses:Q", y=alt.Y("provider:N", sort=order, title=None), tooltip=["provider:N", "courses:Q"]),
        width="stretch",
    )
    right.altair_chart(
        alt.Chart(shares, title="Share free and with certificate")
        .mark_bar()
        .encode(
            x=alt.X("share:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("provider:N", sort=order, title=None),
            yOffset="what:N",
            color=alt.Color("what:N", title=None),
            tooltip=["provider:N", "what:N", alt.Tooltip("share:Q", format=".0%")],
        ),
        width="stretch",
    )
    left, right = st.columns(2)
    left.altair_chart(_spread(providers, "price", "Price of paid courses (p25–median–p75)"), width="stretch")
    right.altair_chart(_spread(providers, "hours", "Hours (p25–median–p75)"), width="stretch")
    left, right = st.columns(2)
    left.altair_chart(_mix(providers, "levels", "Levels"), width="stretch")
    right.altair_chart(_mix(providers, "languages", "Languages"), width="stretch")
    if comparison.goal is not None:
        coverage = pd.DataFrame({"provider": order, "coverage": [p.goal_coverage or 0.0 for p in providers]})
        st.altair_chart(
            alt.Chart(coverage, title="Coverage of the goal's required skills (weighted)")
            .mark_bar()
            .encode(
                x=alt.X("coverage:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
                y=alt.Y("provider:N", sort=order, title=None),
                tooltip=["provider:N", alt.Tooltip("coverage:Q", format=".0%")],
            ),
            width="stretch",
        )


def _spread(providers: tuple[api.ProviderStats, ...], what: str, title: str) -> alt.LayerChart:
    rows = []
    for p in providers:
        quartiles = getattr(p, f"{what}_quartiles")
        median = getattr(p, f"{what}_median")
        if quartiles is not None and median is not None:
            rows.append({"provider": p.provider, "p25": quartiles[0], "median": median, "p75": quartiles[1]})
    frame = pd.DataFrame(rows, columns=["provider", "p25", "median", "p75"])
    order = [p.provider for p in providers]
    y = alt.Y("provider:N", sort=order, title=None)
    base = alt.Chart(frame, title=title)
    spread = base.mark_rule(strokeWidth=6, opacity=0.5).encode(
        x=alt.X("p25:Q", title=what), x2="p75:Q", y=y, tooltip=["provider:N", "p25:Q", "median:Q", "p75:Q"]
    )
    middle = base.mark_tick(thickness=3, size=16, color="black").encode(x="median:Q", y=y)
    return spread + middle


def _mix(providers: tuple[api.ProviderStats, ...], what: str, title: str) -> alt.Chart:
    frame = pd.DataFrame(
        [{"provider": p.provider, what: key, "courses": n} for p in providers for key, n in getattr(p, what).items()],
        columns=["provider", what, "courses"],
    )
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X("courses:Q", stack="normalize", axis=alt.Axis(format="%"), title="share of courses"),
            y=alt.Y("provider:N", sort=[p.provider for p in providers], title=None),
            color=alt.Color(f"{what}:N"),
            tooltip=["provider:N", f"{what}:N", "courses:Q"],
        )
    )
