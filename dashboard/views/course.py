"""Course: everything about one course (`?course=<id>`) — its facts, description, skills with the
evidence for each, its offers and their history, its other listings and similar courses."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import common, nav
from dashboard.common import md
from recommender import api


def render() -> None:
    summary = common.catalog(need_courses=False)
    if summary is None:
        st.title("Course")
        common.footer()
        return
    common.seed("course_id", st.query_params.get("course", ""))
    course_id = st.sidebar.text_input("Course id", key="course_id", help="Open a course from Find, or paste its id.")
    course_id = course_id.strip()
    if not course_id:
        st.title("Course")
        st.info("Open a course from the Find page, or paste a course id in the sidebar.")
        common.footer()
        return
    if st.query_params.get("course") != course_id:
        st.query_params["course"] = course_id
    try:
        with st.spinner("Loading the course…"):
            detail = common.course_detail(course_id, summary.version)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        common.footer()
        return
    if detail is None:
        st.title("Course")
        st.warning(md(f"No course with the id {course_id} in the catalogue."))
        common.footer()
        return
    _course(detail)
    common.footer()


def _course(detail: api.CourseDetail) -> None:
    st.title(md(detail.title))
    byline = detail.provider + (f" – {detail.institution}" if detail.institution else "")
    st.caption(md(byline))
    if detail.status != "active":
        st.warning(f"This course was {detail.status} from its source (last seen {detail.last_seen}).")
    link = common.safe_url(detail.url)
    if link:
        st.link_button("Open at the provider", link, icon=":material/open_in_new:")
    price, hours, level, rating = st.columns(4)
    price.metric("Price", common.price_text(detail))
    hours.metric("Hours", f"{detail.hours:g}" if detail.hours else "–", help=detail.duration_raw)
    level.metric("Level", detail.level or "–")
    rating.metric("Rating", f"{detail.rating:.1f}" if detail.rating is not None else "–",
                  help=f"{detail.rating_count:,} ratings" if detail.rating_count else None)  # fmt: skip
    st.dataframe(_facts(detail), hide_index=True, width="stretch", height="content")

    if detail.description:
        st.header("Description")
        for paragraph in detail.description.split("\n\n"):
            if paragraph.strip():
                st.markdown(md(paragraph))

    st.header("Skills")
    if detail.skills:
        st.caption("ESCO skills linked to this course, with the evidence for each link.")
        skills = pd.DataFrame(
            {
                "skill": [s.label for s in detail.skills],
                "score": [round(s.score, 3) for s in detail.skills],
                "evidence": [s.evidence for s in detail.skills],
            }
        )
        st.dataframe(skills, hide_index=True, width="stretch")
    else:
        st.info("No ESCO skill is linked to this course.")
    if detail.skills_declared:
        st.caption(md("The provider's own tags: " + ", ".join(detail.skills_declared)))

    st.header("Offers")
    _offers(detail)

    st.header("Listed by")
    st.caption(f"{len(detail.listings)} source(s) list this course; its details come from the first that states each.")
    st.dataframe(_listings(detail), hide_index=True, width="stretch",
                 column_config={"link": st.column_config.LinkColumn("link")})  # fmt: skip
    if detail.similar:
        st.header("Similar courses")
        for similar in detail.similar:
            common.course_card(similar, why="")
    st.page_link(nav.page("find"), label="Back to Find", icon=":material/arrow_back:",
                 query_params=common.view_state().query())  # fmt: skip


def _facts(detail: api.CourseDetail) -> pd.DataFrame:
    facts = {
        "Course id": detail.course_id,
        "Source": detail.source,
        "Credential": detail.credential or "none",
        "The provider's term": detail.credential_raw,
        "Mode": detail.course_mode,
        "Duration as listed": detail.duration_raw,
        "Language": detail.in_language,
        "Access": detail.access_model,
        "Ratings": f"{detail.rating_count:,}" if detail.rating_count else None,
        "First seen": detail.first_seen,
        "Last seen": detail.last_seen,
        "Status": detail.status,
    }
    return pd.DataFrame({"": list(facts), "value": [str(v) if v is not None else "–" for v in facts.values()]})


def _listings(detail: api.CourseDetail) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": [listing.source for listing in detail.listings],
            "title as listed": [listing.title for listing in detail.listings],
            "institution": [listing.institution for listing in detail.listings],
            "price": [common.price_text(listing) for listing in detail.listings],
            "rating": [common.rating_text(listing.rating, listing.rating_count) for listing in detail.listings],
            "last seen": [listing.last_seen for listing in detail.listings],
            "status": [listing.status for listing in detail.listings],
            "link": [common.safe_url(listing.url) for listing in detail.listings],
        }
    )


def _offers(detail: api.CourseDetail) -> None:
    if not detail.offers:
        st.info("No offer recorded.")
        return
    offers = pd.DataFrame(
        {
            "observed": [o.observed_at for o in detail.offers],
            "price": [o.price for o in detail.offers],
            "currency": [o.currency for o in detail.offers],
            "access": [o.access_model for o in detail.offers],
            "as listed": [o.price_raw for o in detail.offers],
        }
    )
    st.caption(f"{len(offers)} offer(s) recorded; a new one is added whenever the price or access changes.")
    st.dataframe(offers, hide_index=True, width="stretch")
    priced = offers.dropna(subset=["price"])
    if priced["price"].nunique() > 1:
        priced = priced.assign(observed=pd.to_datetime(priced["observed"]))
        st.altair_chart(
            alt.Chart(priced, title="Price history")
            .mark_line(point=True, interpolate="step-after")
            .encode(x=alt.X("observed:T", title=None), y=alt.Y("price:Q", axis=alt.Axis(format=",.2~f")),
                    tooltip=["observed:T", "price:Q", "currency:N", "access:N"])
            .properties(height=220),
            width="stretch",
        )  # fmt: skip
