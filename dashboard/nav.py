"""The pages and their URLs: the entrypoint routes with them and pages link to each other through them."""

from __future__ import annotations

import streamlit as st

# url path → (title, icon); the first is the default page.
PAGES = {
    "find": ("Find", ":material/search:"),
    "compare": ("Compare providers", ":material/compare_arrows:"),
    "course": ("Course", ":material/school:"),
    "gap": ("Skill gap", ":material/checklist:"),
    "sources": ("Sources", ":material/monitor_heart:"),
    "plan": ("My plan", ":material/event_note:"),
    "compare-courses": ("Compare courses", ":material/view_column:"),
    "watch": ("Watched goals", ":material/notifications:"),
}


def pages() -> list[st.Page]:
    # Imported here: the pages import this module to link to each other.
    from dashboard.views import compare, compare_courses, course, find, gap, plan, sources, watch

    renders = {"find": find, "compare": compare, "course": course, "gap": gap, "sources": sources}
    renders.update({"plan": plan, "compare-courses": compare_courses, "watch": watch})
    return [
        st.Page(renders[path].render, title=title, icon=icon, url_path=path, default=path == "find")
        for path, (title, icon) in PAGES.items()
    ]


def page(url_path: str) -> st.Page:
    """The page registered under `url_path`, for st.page_link (the default page's `url_path` reads "")."""
    return dict(zip(PAGES, pages(), strict=True))[url_path]
