"""Streamlit entry point: page config, the app's style rules and navigation only."""

import streamlit as st

from inspector.ui import style

st.set_page_config(page_title="TF graph inspector", layout="wide")
style.apply()
st.navigation([
    st.Page("inspector/ui/inspect_page.py", title="Inspect", default=True),
    st.Page("inspector/ui/history_page.py", title="History", url_path="history"),
    st.Page("inspector/ui/compare_page.py", title="Compare", url_path="compare"),
]).run()
