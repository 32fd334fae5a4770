"""The few style rules the app adds to Streamlit's own, applied once per page run."""

from __future__ import annotations

import streamlit as st

# The mode matrix is one Markdown table (plain.markdown_table): a table wider than the page
# scrolls inside itself (the page and its tab bar scrolled sideways, in a walk), and a mode's
# name stays on one line ("spec-" over "dynamic").
_CSS = """<style>
[data-testid="stMarkdownContainer"] table { display: block; max-width: 100%; overflow-x: auto; }
[data-testid="stMarkdownContainer"] td:first-child { white-space: nowrap; }
</style>"""


def apply() -> None:
    st.html(_CSS)  # style only: Streamlit gives it no room on the page
