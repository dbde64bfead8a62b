"""Watch (students, counsellors): the watched goals, each one's feed of what changed after the
nightlies (new in its top, cheaper, free, gone) with the address to subscribe to, and the goal's
courses now with those new since the last nightly marked.

Watches are added from the command line or here; the nightly writes the feeds.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cached, common, nav
from dashboard.words import md
from recommender import api


def render() -> None:
    st.title("Watched goals")
    st.caption(
        "After every nightly, each watched goal's feed says which courses entered its top, got cheaper or free, "
        "or left."
    )
    summary = common.catalog()
    if summary is None:
        common.footer()
        return
    _add_form()
    watched = api.watches()
    if not watched:
        st.info("No goal is watched yet. Add one above, or run `skillstack watch add GOAL`.")
        common.footer()
        return
    ids = [w.id for w in watched]
    by_id = {w.id: w for w in watched}
    wanted = st.query_params.get("watch")
    common.seed("watch_id", wanted if wanted in by_id else ids[0])
    watch_id = st.selectbox(
        "Watched goal", ids, key="watch_id", format_func=lambda i: f"{by_id[i].goal} ({by_id[i].describe()})"
    )
    st.query_params["watch"] = watch_id
    chosen = by_id[watch_id]
    st.subheader(f"Feed: {md(chosen.goal)}")
    st.caption("Subscribe a feed reader on this machine to this address (copy it with the button on the right):")
    st.code(api.watch_feed_path(watch_id).resolve().as_uri(), language=None)
    entries = api.watch_feed(watch_id)
    if not entries:
        st.info("No entries yet: the next nightly compares this goal with the catalogue.")
    for entry in entries:
        with st.container(border=True):
            st.markdown(f"**{md(entry.title)}**")
            st.caption(md(f"{entry.updated} · {entry.summary}"))
            if entry.course_id:
                st.page_link(
                    nav.page("course"),
                    label="Course page",
                    icon=":material/info:",
                    query_params={"course": entry.course_id},
                )
    _current(chosen, summary)
    if st.button("Stop watching this goal", icon=":material/delete:", key="watch_remove"):
        api.watch_remove(watch_id)
        del st.query_params["watch"]
        st.session_state.pop("watch_id", None)
        st.rerun()
    common.footer()


def _add_form() -> None:
    with st.expander("Watch a goal"), st.form("watch_add", clear_on_submit=True):
        goal = st.text_input("Goal", placeholder="data analyst")
        top = st.number_input("Follow its top", min_value=1, max_value=50, value=10, step=1)
        if st.form_submit_button("Watch") and goal.strip():
            try:
                with st.spinner("Recording its top courses…"):
                    added = api.watch_add(goal, top=int(top))
            except api.RecommenderError as exc:
                common.show_user_error(str(exc))
                return
            st.query_params["watch"] = added.id
            st.session_state["watch_id"] = added.id
            st.success(md(f"Watching {added.goal}."))


def _current(chosen, summary: api.CatalogSummary) -> None:
    """The goal's top courses now; those the last nightly brought are marked."""
    st.header("Its courses now")
    try:
        rec = cached.recommend(
            chosen.goal, chosen.course_filters, chosen.occupation_uri, (), chosen.top, summary.version
        )
        fresh = cached.new_since_last_nightly(summary.version)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        return
    for rank, course in enumerate(rec.results, start=1):
        common.course_card(course, rank=rank, new=course.course_id in fresh)
