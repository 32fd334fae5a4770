"""Helpers tests share (plain functions; fixtures stay in conftest.py)."""

from __future__ import annotations

import re


def shown(markdown: str) -> str:
    """What a person reads from an element's Markdown: backslash escapes undone (the app
    escapes user text so that it renders as written)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")
