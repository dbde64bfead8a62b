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
}


def pages() -> list[st.Page]:
    # Imported here: the pages import this module to link to each other.
    from dashboard.views import compare, course, find, gap, sources

    renders = {"find": find, "compare": compare, "course": course, "gap": gap, "sources": sources}
    return [
        st.Page(renders[path].render, title=title, icon=icon, url_path=path, default=path == "find")
        for path, (title, icon) in PAGES.items()
    ]


def page(url_path: str) -> st.Page:
    """The page registered under `url_path`, for st.page_link (the default page's `url_path` reads "")."""
    return dict(zip(PAGES, pages(), strict=True))[url_path]
