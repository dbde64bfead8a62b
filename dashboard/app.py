"""Streamlit entrypoint: it only routes. Each page is one file under dashboard/pages/."""

import streamlit as st

from dashboard.pages import find

st.set_page_config(page_title="skillstack", page_icon="🎓", layout="wide")
page = st.navigation([st.Page(find.render, title="Find", url_path="find", default=True)])
page.run()
