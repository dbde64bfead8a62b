"""Course (students): one course (`?course=<id>`) as a student needs it — the offer, length, level,
language, credential and rating, how old these facts are, the description, the skills with the
evidence for each, where else it is listed and similar courses. The raw record is one click away."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import cached, common, nav, words
from dashboard.words import md
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
            detail = cached.course_detail(course_id, summary.version)
            known = cached.facts((course_id, *(s.course_id for s in detail.similar)) if detail else (), summary.version)
            dates = cached.source_dates(summary.version)
    except api.RecommenderError as exc:
        common.show_user_error(str(exc))
        common.footer()
        return
    if detail is None:
        st.title("Course")
        st.warning(md(f"No course with the id {course_id} in the catalogue."))
        common.footer()
        return
    _course(detail, known, dates)
    common.footer()


def _course(detail: api.CourseDetail, known: dict[str, api.CourseFacts], dates: dict[str, api.SourceDate]) -> None:
    facts = known.get(detail.course_id)
    st.title(md(detail.title))
    byline = detail.provider + (f" – {detail.institution}" if detail.institution else "")
    st.caption(md(byline))
    st.caption(md(_freshness(detail, facts, dates)))
    if detail.status != "active":
        st.warning(md(f"This course is no longer listed by its source (last seen {detail.last_seen[:10]})."))
    out = common.provider_link(detail.url, detail.provider)
    if out:
        st.link_button(md(out[0]), out[1], icon=":material/open_in_new:")

    # Each fact as Markdown through `md`, tooltips too: a scraped duration or price text is text.
    offer, length, level = st.columns(3)
    listed = detail.offers[-1].price_raw if detail.offers else None
    _fact(offer, "Offer", words.price_text(detail, facts.certificate_price if facts else None),
          f"As the source lists it: {listed}" if listed else None)  # fmt: skip
    _fact(length, "Length", words.hours_text(detail.hours, facts) or "not stated", _hours_help(detail, facts))
    _fact(level, "Level", detail.level or "not stated", common.LEVEL_HELP, escape_help=False)
    language, credential, rating = st.columns(3)
    _fact(language, "Language", words.language_text(detail.in_language) or "not stated")
    _fact(credential, "Credential", _credential(detail),
          f"The provider's term: {detail.credential_raw}" if detail.credential_raw else None)  # fmt: skip
    _fact(rating, "Rating", words.rating_text(detail.rating, detail.rating_count) or "no ratings")

    if detail.description:
        st.header("Description")
        for paragraph in detail.description.split("\n\n"):
            if paragraph.strip():
                st.markdown(md(paragraph))

    st.header("Skills you practise")
    if detail.skills:
        st.caption("ESCO skills linked to this course, and where we found each.")
        for skill in detail.skills:
            st.markdown(md(f"{skill.label} — {_evidence(skill.evidence)}"))
    else:
        st.info("No ESCO skill is linked to this course.")
    if detail.skills_declared:
        st.caption(md("The provider's own tags: " + ", ".join(detail.skills_declared)))

    _listed(detail, dates)
    _price_history(detail)

    if detail.similar:
        st.header("Similar courses")
        for similar in detail.similar:
            common.course_card(similar, why="", known=known.get(similar.course_id))
    with st.expander("The raw record"):
        st.caption("The catalogue's own values for this course and each source's record, as stored.")
        st.dataframe(_raw(detail), hide_index=True, width="stretch", height="content")
        st.dataframe(_listings(detail), hide_index=True, width="stretch",
                     column_config={"link": st.column_config.LinkColumn("link")})  # fmt: skip
    st.page_link(nav.page("find"), label="Back to Find", icon=":material/arrow_back:",
                 query_params=common.view_state().query())  # fmt: skip


def _fact(column, label: str, value: str, help_text: str | None = None, *, escape_help: bool = True) -> None:
    column.markdown(f"**{label}**", help=(md(help_text) if escape_help else help_text) if help_text else None)
    column.markdown(md(value))


def _credential(detail: api.CourseDetail) -> str:
    if not detail.credential or detail.credential == "none":
        return "no credential"
    return detail.credential


def _hours_help(detail: api.CourseDetail, facts: api.CourseFacts | None) -> str | None:
    if not detail.hours:
        return None
    if facts and facts.hours_estimated:
        return (
            f"The provider states the length as {words.duration_as_stated(facts.duration_raw) or 'a length'}; "
            f"the {api.round_hours(detail.hours):g} hours are our estimate from it (10 hours a week)."
        )
    return "Hours as the provider states them."


def _evidence(evidence: str) -> str:
    kind, _, text = evidence.partition(":")
    text = text.strip().strip('"')
    if kind == "declared":
        return "the provider tags the course with it"
    if kind == "declared~":
        return f"close to the provider's tag \u201c{text}\u201d"
    if kind == "title":
        return "named in the title"
    if kind == "description":
        return f"in the description: \u201c{text}\u201d" if text else "in the description"
    return evidence


def _freshness(detail: api.CourseDetail, facts: api.CourseFacts | None, dates: dict[str, api.SourceDate]) -> str:
    """How old this page's facts are: the data date of the source they come from."""
    dated = dates.get(detail.source)
    age = words.facts_age(facts.as_of if facts else None)
    if dated and dated.data_date:
        return f"These facts come from a dataset collected in {dated.data_date}: {age}. Check the provider for today's."
    if age:
        return f"These facts were last seen at the source {age.removeprefix('as of ')}."
    return "When these facts were collected is not recorded."


def _listed(detail: api.CourseDetail, dates: dict[str, api.SourceDate]) -> None:
    others = [listing for listing in detail.listings[1:]]
    st.header("Where else it is listed")
    if not others:
        st.caption("Only one source lists this course.")
        return
    for listing in others:
        dated = dates.get(listing.source)
        when = dated.as_of if dated else listing.last_seen[:10]
        line = f"{listing.title} — {words.price_text(listing)}" + (
            f" · {words.rating_text(listing.rating, listing.rating_count)}" if listing.rating is not None else ""
        )
        st.markdown(md(f"{line} (listing as of {when})"))
        link = words.safe_url(listing.url)
        if link:
            st.link_button("Open this listing", link, icon=":material/open_in_new:")


def _raw(detail: api.CourseDetail) -> pd.DataFrame:
    facts = {
        "course id": detail.course_id,
        "source": detail.source,
        "credential": detail.credential,
        "credential as listed": detail.credential_raw,
        "mode": detail.course_mode,
        "duration as listed": detail.duration_raw,
        "hours": detail.hours,
        "language": detail.in_language,
        "price": detail.price,
        "currency": detail.currency,
        "access": detail.access_model,
        "ratings": detail.rating_count,
        "first seen": detail.first_seen,
        "last seen": detail.last_seen,
        "status": detail.status,
    }
    return pd.DataFrame({"field": list(facts), "value": ["" if v is None else str(v) for v in facts.values()]})


def _listings(detail: api.CourseDetail) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": [listing.source for listing in detail.listings],
            "title as listed": [listing.title for listing in detail.listings],
            "institution": [listing.institution or "" for listing in detail.listings],
            "price": [words.price_text(listing) for listing in detail.listings],
            "last seen": [listing.last_seen for listing in detail.listings],
            "status": [listing.status for listing in detail.listings],
            "link": [words.safe_url(listing.url) for listing in detail.listings],
        }
    )


def _price_history(detail: api.CourseDetail) -> None:
    priced = pd.DataFrame(
        {"observed": [o.observed_at for o in detail.offers], "price": [o.price for o in detail.offers]}
    ).dropna(subset=["price"])
    if priced["price"].nunique() <= 1:
        return  # one price, or none: the offer above says it all
    st.header("Price history")
    priced = priced.assign(observed=pd.to_datetime(priced["observed"]))
    st.altair_chart(
        alt.Chart(priced)
        .mark_line(point=True, interpolate="step-after")
        .encode(x=alt.X("observed:T", title=None), y=alt.Y("price:Q", axis=alt.Axis(format=",.2~f")),
                tooltip=["observed:T", "price:Q"])
        .properties(height=220),
        width="stretch",
    )  # fmt: skip
