"""Choices that survive their tab being closed.

Only the open result tab runs, and Streamlit forgets the state of a widget that a run did not
draw: a "diff" picked in the Graphs tab was back to "pre | post" after a look at the Matrix.
Each kept widget's value is copied beside it whenever it is drawn (``remember``) and put back
before it is drawn again (``restore``), when it is still one of the widget's options. Widgets
given a ``value=`` or ``default=`` are not kept this way (Streamlit warns when such a widget
also gets its value from the session).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import streamlit as st

_PREFIX = "kept:"


def restore(key: str, options: Collection[Any] | None = None) -> None:
    """Put back the value ``key`` had when it was last drawn (None: any value is an option;
    a list value keeps only its items that are options)."""
    if key in st.session_state or _PREFIX + key not in st.session_state:
        return
    value = st.session_state[_PREFIX + key]
    if options is not None:
        if isinstance(value, list):
            value = [item for item in value if item in options]
        elif value not in options:
            return
    st.session_state[key] = value


def remember(*keys: str) -> None:
    """Copy each drawn widget's value beside it (call after the widgets)."""
    for key in keys:
        if key in st.session_state:
            st.session_state[_PREFIX + key] = st.session_state[key]
