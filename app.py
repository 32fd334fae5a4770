"""Streamlit entry point: page config and navigation only."""

import streamlit as st

st.set_page_config(page_title="TF graph inspector", layout="wide")
st.navigation([st.Page("inspector/ui/inspect_page.py", title="Inspect", default=True)]).run()
