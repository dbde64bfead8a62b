"""Compare providers (counsellors): for a goal's best-fitting courses or the whole catalogue, providers
side by side — courses, share free, share with certificate, price and hours, levels, languages and
coverage of the goal's required skills — as a table, as charts and as a CSV download."""

from __future__ import annotations

import csv
import io
import re

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import cached, common, words
from dashboard.words import md
from recommender import api

GOAL_SCOPE = "The courses that best fit the goal"
CATALOGUE_SCOPE = "The whole catalogue"
NOT_STATED = "not stated"
PAID = "Paid courses' price, median (p25–p75)"
HOURS = "Hours, median (p25–p75)"
TABLES = (
    ("Provider", "Courses", "Price stated", "Free (of those)", "With certificate"),
    ("Provider", PAID, "Certificate price", HOURS),
    ("Provider", "Goal coverage, all courses", "Coverage per course"),
)


def render() -> None:
    asked = common.goal_header(
        "compare",
        "Compare providers",
        "Providers side by side, for a goal or for the whole catalogue. Free is the share of the courses whose "
        "price the provider states; many listings state none.",
        have=False,
    )
    if asked is None:
        return
    state, summary, goal, filters = asked.state, asked.summary, asked.goal, asked.filters
    common.seed("compare_scope", GOAL_SCOPE if state.goal else CATALOGUE_SCOPE)
    scope = st.radio("Compare over", (GOAL_SCOPE, CATALOGUE_SCOPE), key="compare_scope", horizontal=True)
    for_goal = scope == GOAL_SCOPE and bool(goal)
    occupation = common.occupation_choice("compare", goal, state)
    if scope == GOAL_SCOPE and not goal:
        st.info("Type a goal to compare the providers of its courses; meanwhile, the whole catalogue.")
    try:
        with st.spinner("Comparing providers…"):
            occupations = cached.resolve_goal(goal, summary.version) if for_goal else ()
            comparison = cached.compare(goal if for_goal else None, filters, occupation, summary.version)
            dates = cached.source_dates(summary.version)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        common.footer()
        return
    chosen = comparison.occupation
    common.publish(
        common.ViewState(
            goal=goal,
            occupation=chosen.uri if chosen and occupations and chosen.uri != occupations[0].uri else None,
            have=asked.have,
            filters=filters,
        )
    )
    courses = sum(p.courses for p in comparison.providers)
    if comparison.goal:
        st.subheader(f"Goal: {md(chosen.label if chosen else comparison.goal)}")
        common.occupations_picker("compare", goal, occupations, chosen)
        st.caption(f"The {courses:,} courses that best fit the goal, by provider.")
    else:
        st.subheader("The whole catalogue")
        st.caption(f"All {courses:,} courses that pass the filters, by provider.")
    if not comparison.providers:
        st.info(md(common.empty_because(filters, summary.version)))
        common.footer()
        return

    table = _table(comparison)
    # A few columns a table, as static tables whose cells wrap: at phone width (400 px) every one fits
    # without scrolling sideways, which a data grid's unwrapped columns never do. The CSV has them as one.
    for columns in TABLES:
        shown = [c for c in columns if c in table.columns]
        if len(shown) > 1:
            st.table(table[shown], hide_index=True)
    st.caption(
        "Coverage per course: the average share of the goal's required skills (weighted) one course covers, so a "
        "provider does not lead by its number of courses alone. Hours include estimates from a length "
        "in weeks or months."
    )
    st.download_button(
        "Download CSV",
        data=_with_context(table, comparison, filters, summary, dates),
        file_name=f"skillstack-providers-{_slug(comparison.goal or 'catalogue')}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    _charts(comparison)
    common.footer()


def _percent(share: float | None) -> str:
    return NOT_STATED if share is None else f"{share:.0%}"


def _spread_text(median: float | None, quartiles: tuple[float, float] | None, unit: str) -> str:
    if median is None:
        return NOT_STATED
    text = f"{median:,.0f}{unit}" if median >= 10 else f"{median:,.1f}{unit}"
    if quartiles and quartiles[0] != quartiles[1]:
        text += f" ({quartiles[0]:,.0f}–{quartiles[1]:,.0f})"
    return text


def _table(comparison: api.Comparison) -> pd.DataFrame:
    """The comparison as a reader sees it: named columns, "not stated" rather than empty cells, spreads
    in one column each, so the table fits without scrolling sideways."""
    rows = []
    for p in comparison.providers:
        row = {
            "Provider": p.provider,
            "Courses": p.courses,
            "Price stated": _percent(p.share_priced),
            "Free (of those)": _percent(p.share_free),
            "With certificate": _percent(p.share_certificate),
            PAID: _spread_text(p.price_median, p.price_quartiles, ""),
            "Certificate price": NOT_STATED
            if p.certificate_price_median is None
            else words.money(p.certificate_price_median, None),
            HOURS: _spread_text(p.hours_median, p.hours_quartiles, " h"),
        }
        if comparison.goal is not None:
            row["Goal coverage, all courses"] = _percent(p.goal_coverage)
            row["Coverage per course"] = _percent(p.course_coverage)
        rows.append(row)
    return pd.DataFrame(rows)


def _with_context(
    table: pd.DataFrame,
    comparison: api.Comparison,
    filters: api.Filters,
    summary: api.CatalogSummary,
    dates: dict[str, api.SourceDate],
) -> str:
    """The CSV: first what it is about (goal, occupation, filters, the catalogue and its data dates),
    then the table as shown. A reader of the file alone knows what was compared."""
    set_filters = [
        f"{common.FILTER_LABELS[name]}={_filter_value(getattr(filters, name))}"
        for name in common.FILTER_LABELS
        if getattr(filters, name) not in (False, None, ())
    ]
    context = [
        ["goal", comparison.goal or "(the whole catalogue)"],
        ["occupation", comparison.occupation.label if comparison.occupation else ""],
        ["occupation uri", comparison.occupation.uri if comparison.occupation else ""],
        ["filters", "; ".join(set_filters) or "none"],
        ["catalogue built", summary.built_at or ""],
        ["data dates", "; ".join(f"{d.source} {d.as_of}" for d in dates.values() if d.as_of)],
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # the rows `_csv` writes end so too
    writer.writerows([[_defuse(cell) for cell in row] for row in context])
    writer.writerow([])
    return out.getvalue() + _csv(table)


def _filter_value(value: object) -> str:
    if isinstance(value, tuple):
        return "|".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes"
    return f"{value:g}" if isinstance(value, float) else str(value)


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
        _shares(
            shares, "share", "Share free and with certificate", order, ["provider:N", "what:N"],
            yOffset="what:N", color=alt.Color("what:N", title=None),
        ),
        width="stretch",
    )  # fmt: skip
    left, right = st.columns(2)
    if any(p.price_median is not None for p in providers):
        left.altair_chart(_spread(providers, "price", "Price of paid courses (p25–median–p75)"), width="stretch")
    else:
        left.info("No provider here states a price for a paid course: nothing to chart.")
    right.altair_chart(_spread(providers, "hours", "Hours (p25–median–p75)"), width="stretch")
    left, right = st.columns(2)
    left.altair_chart(_mix(providers, "levels", "Levels"), width="stretch")
    right.altair_chart(_mix(providers, "languages", "Languages"), width="stretch")
    if comparison.goal is not None:
        coverage = pd.DataFrame({"provider": order, "coverage": [p.course_coverage or 0.0 for p in providers]})
        st.altair_chart(
            _shares(coverage, "coverage", "Coverage of the goal's required skills per course (weighted, mean)", order),
            width="stretch",
        )


def _shares(
    frame: pd.DataFrame, share: str, title: str, order: list[str], tooltip: tuple = ("provider:N",), **encode
) -> alt.Chart:
    """Bars of a share (0 to 100 %) per provider, in the comparison's order."""
    return (
        alt.Chart(frame, title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{share}:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("provider:N", sort=order, title=None),
            tooltip=[*tooltip, alt.Tooltip(f"{share}:Q", format=".0%")],
            **encode,
        )
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
        [
            {"provider": p.provider, what: _mix_key(what, key), "courses": n}
            for p in providers
            for key, n in getattr(p, what).items()
        ],
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


def _mix_key(what: str, key: str) -> str:
    return (api.language_name(key) or key) if what == "languages" and key != "unknown" else key
