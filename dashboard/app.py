"""Streamlit entrypoint: it only routes. Each page is one file under dashboard/views/ (see dashboard/nav.py).

The folder is not called `pages/`: Streamlit treats a `pages/` folder beside the entry script as an
automatic multipage app and shows its module names (app, compare, course, ...) in the sidebar until
this script's `st.navigation` replaces them, seconds later on a cold start.
"""

import streamlit as st

from dashboard import nav

st.set_page_config(page_title="skillstack", page_icon="🎓", layout="wide")
st.navigation(nav.pages()).run()
