"""Sources (operators): each source's last crawl — when, items, errors, duration, status — and the
catalogue's size and freshness, so last night's run can be checked at a glance."""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import cached, common
from dashboard.words import md
from recommender import api

# A nightly catalogue older than this missed at least one night.
STALE_AFTER_HOURS = 30


def render() -> None:
    st.title("Sources")
    st.caption("The last crawl of each source and the catalogue published from them.")
    # Sources show even when no course came through: that is when an operator needs them most.
    summary = common.catalog(need_courses=False)
    if summary is None:
        common.footer()
        return
    try:
        with st.spinner("Reading the crawl history…"):
            sources = cached.sources_status(summary.version)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        common.footer()
        return

    dates = cached.source_dates(summary.version)
    failed = [s.source for s in sources if s.status != "finished"]
    with_errors = [s.source for s in sources if s.status == "finished" and s.errors]
    age = _age_hours(summary.built_at)
    if not sources:
        st.warning("No crawl recorded in this catalogue: run `skillstack crawl` then `skillstack build`.")
    elif failed:
        st.error(md(f"{len(failed)} of {len(sources)} sources did not finish their last crawl: {', '.join(failed)}"))
    else:
        st.success(f"All {len(sources)} sources finished their last crawl.")
    if with_errors:
        st.warning(md(f"Finished with errors: {', '.join(with_errors)}"))
    if age is not None and age > STALE_AFTER_HOURS:
        st.warning(f"The catalogue was built {age:.0f} hours ago: the last nightly build did not publish.")

    dated = sorted((d.data_date, d.source) for d in dates.values() if d.data_date)
    if dated:
        # A build minutes old over a 2020 dump is not fresh data: say how old the listings are.
        st.warning(
            md(
                "The catalogue is built from datasets collected between "
                f"{dated[0][0]} ({dated[0][1]}) and {dated[-1][0]} ({dated[-1][1]}): its prices, ratings and courses "
                "are as old as that, whenever we crawled them."
            )
        )
    courses, active, providers, built = st.columns(4)
    courses.metric("Courses", f"{summary.courses:,}")
    active.metric("Active", f"{summary.active:,}")
    providers.metric("Providers", len(summary.providers))
    built.metric("Built", _when(summary.built_at), help=f"The catalogue file was built at {summary.built_at}.")
    if not sources:
        common.footer()
        return

    frame = pd.DataFrame(
        {
            "source": [s.source for s in sources],
            "data from": [_data_from(dates.get(s.source)) for s in sources],
            "status": [_status(s) for s in sources],
            "last started": [s.last_started for s in sources],
            "last finished": [s.last_finished for s in sources],
            "duration (s)": [round(s.duration_s, 1) if s.duration_s is not None else None for s in sources],
            "items": [s.items for s in sources],
            "errors": [s.errors for s in sources],
            "dropped": [s.dropped for s in sources],
            "active courses": [s.active_courses for s in sources],
            "removed courses": [s.removed_courses for s in sources],
            "last success": [s.last_success for s in sources],
        }
    )
    st.dataframe(frame, hide_index=True, width="stretch")
    long = frame.melt(id_vars="source", value_vars=["items", "errors", "dropped"], var_name="count", value_name="n")
    st.altair_chart(
        alt.Chart(long, title="Last crawl: items, errors and drops per source")
        .mark_bar()
        .encode(
            x="n:Q",
            y=alt.Y("source:N", title=None),
            yOffset="count:N",
            color=alt.Color(
                "count:N",
                scale=alt.Scale(domain=["items", "errors", "dropped"], range=["#4c78a8", "#e45756", "#f58518"]),
                title=None,
            ),
            tooltip=["source:N", "count:N", "n:Q"],
        )
        .properties(height=alt.Step(12)),
        width="stretch",
    )
    common.footer()


def _data_from(dated: api.SourceDate | None) -> str:
    """The date of a source's listings: a dataset's collection date, else our last crawl of it (live)."""
    if dated is None:
        return "never crawled to the end"
    if dated.data_date:
        return f"{dated.data_date} (dataset)"
    return f"{dated.as_of} (live crawl)"


def _status(source: api.SourceStatus) -> str:
    if source.status == "finished":
        return "finished" + (f", {source.errors} errors" if source.errors else "")
    return f"FAILED ({source.status or 'unknown'})"


def _age_hours(built_at: str | None) -> float | None:
    if not built_at:
        return None
    try:
        built = datetime.fromisoformat(built_at)
    except ValueError:
        return None
    now = datetime.now(built.tzinfo) if built.tzinfo else datetime.now()
    return (now - built).total_seconds() / 3600


def _when(built_at: str | None) -> str:
    age = _age_hours(built_at)
    if age is None:
        return built_at or "never"
    if age < 1:
        return f"{max(age * 60, 0):.0f} min ago"
    if age < 48:
        return f"{age:.0f} h ago"
    return f"{age / 24:.0f} days ago"
