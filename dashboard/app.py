"""Streamlit entrypoint: it only routes. Each page is one file under dashboard/pages/ (see dashboard/nav.py)."""

import streamlit as st

from dashboard import nav

st.set_page_config(page_title="skillstack", page_icon="🎓", layout="wide")
st.navigation(nav.pages()).run()
