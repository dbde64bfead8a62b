"""Find: a goal in plain words → the resolved occupation and the ranked courses, with the why."""

import streamlit as st

from dashboard.common import footer, show_user_error
from recommender import api


@st.cache_data(show_spinner=False, max_entries=256)
def _recommend(goal: str, k: int, catalog_key: str) -> api.Recommendation:
    # catalog_key makes a newly published catalogue a cache miss.
    return api.recommend(goal, k=k)


def _price_text(result: api.CourseResult) -> str:
    if result.price == 0 or result.access_model == "free":
        return "free"
    if result.access_model == "free-audit+paid-certificate":
        return "free to audit"
    if result.price:
        return f"{result.price:g} {result.currency or ''}".strip()
    return "price not listed"


def render() -> None:
    st.title("skillstack")
    st.caption("Type a career goal in your own words; get the courses and certificates that lead there, and why.")
    goal = st.text_input(
        "Your goal", value=st.query_params.get("goal", ""), placeholder="I want to become a data analyst"
    )
    if not goal.strip():
        footer()
        return
    st.query_params["goal"] = goal
    try:
        summary = api.catalog_summary()
        with st.spinner("Finding courses…"):
            rec = _recommend(goal, 10, summary.built_at or "")
    except api.RecommenderError as exc:
        show_user_error(str(exc))
        footer()
        return
    if rec.chosen:
        st.subheader(f"Goal: {rec.chosen.label}")
        if len(rec.occupations) > 1:
            st.caption("Also close: " + ", ".join(o.label for o in rec.occupations[1:]))
    if not rec.results:
        st.info("No course matches this goal yet.")
    for result in rec.results:
        with st.container(border=True):
            st.markdown(f"**{_escape(result.title)}**")
            facts = [result.provider, result.institution, result.credential, result.level,
                     f"{result.hours:g} h" if result.hours else None, _price_text(result)]  # fmt: skip
            st.text(" · ".join(str(f) for f in facts if f))
            if result.matched_skills:
                st.text("Why: covers " + ", ".join(result.matched_skills[:8]))
            st.link_button("Open course", result.url)
    footer()


def _escape(text: str) -> str:
    """Markdown-escape scraped text so it shows as typed (Streamlit never renders it as HTML here)."""
    specials = "\\`*_{}[]()#+-.!|<>~$"
    return "".join("\\" + ch if ch in specials else ch for ch in text)
