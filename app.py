"""Streamlit entry point: page config and navigation only."""

import streamlit as st

st.set_page_config(page_title="TF graph inspector", layout="wide")
st.navigation([
    st.Page("inspector/ui/inspect_page.py", title="Inspect", default=True),
    st.Page("inspector/ui/history_page.py", title="History", url_path="history"),
    st.Page("inspector/ui/compare_page.py", title="Compare", url_path="compare"),
]).run()
