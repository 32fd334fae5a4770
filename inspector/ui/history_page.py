"""The History page: every saved run, newest first, filtered and paged in the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from inspector.errors import InspectorError
from inspector.hosting.identity import User
from inspector.output import tables
from inspector.store import STATUSES
from inspector.store.runs import RunFilter, RunStore
from inspector.ui import services
from inspector.ui.plain import plain

# Rows per page: the database pages; the page never loads more.
PAGE_SIZE = 50
ANY = "(any)"


def _filters(runs: RunStore, user: User) -> tuple[RunFilter, Any]:
    """The filters, and the column left for the page number."""
    whose = st.radio("Runs", ["team", "mine"], horizontal=True, key="h_whose",
                     help="team: yours and your colleagues' team runs; mine: only yours")
    row = st.columns([3, 2, 2, 2, 2, 3])
    text = row[0].text_input("Search titles and source", key="h_text")

    def pick(column: int, label: str, values: list[str], key: str) -> str | None:
        chosen: Any = row[column].selectbox(label, [ANY, *values], key=key)
        return None if chosen == ANY else chosen

    def seen(column: str) -> list[str]:  # only over runs this user may see
        return runs.values(column, viewer=user.key, admin=user.admin)

    function = pick(1, "Function", seen("function"), "h_function")
    owner = pick(2, "Who", seen("owner_name"), "h_owner")
    status = pick(3, "Status", list(STATUSES), "h_status")
    version = pick(4, "TensorFlow", seen("tensorflow"), "h_tf")
    tag = pick(5, "Tag", seen("tag"), "h_tag")
    left, right = st.columns([2, 1])
    dates: Any = left.date_input("Created between", value=[], key="h_dates")
    since = until = None
    if isinstance(dates, tuple) and len(dates) == 2:
        since = dt.datetime.combine(dates[0], dt.time(), dt.UTC)
        until = dt.datetime.combine(dates[1] + dt.timedelta(days=1), dt.time(), dt.UTC)
    return RunFilter(function=function, owner_name=owner, status=status, tensorflow=version,
                     tag=tag, since=since, until=until, text=text.strip() or None,
                     viewer=user.key, viewer_is_admin=user.admin, mine=whose == "mine"), right


INSPECT_PAGE = "inspector/ui/inspect_page.py"
COMPARE_PAGE = "inspector/ui/compare_page.py"


def _actions(chosen: list[str], user: User) -> None:
    left, middle, right = st.columns(3)
    # Page links open in this tab (link buttons opened a new one).
    if len(chosen) == 1:
        left.page_link(INSPECT_PAGE, label="Open", query_params={"run": chosen[0]})
    if len(chosen) == 2:
        middle.page_link(COMPARE_PAGE, label="Compare",
                         query_params={"compare": f"{chosen[0]},{chosen[1]}"})
    if chosen and right.button(f"Delete {len(chosen)} run(s)", key="h_delete"):
        try:
            for run_id in chosen:
                services.forget_run(run_id, user)
        except InspectorError as exc:  # NotAllowed: another user's run
            st.error(f"{exc.type}: {plain(exc.message)}")
            return
        st.rerun()
    if not chosen:
        st.caption("Select one run to open it, two to compare them.")


def page() -> None:
    user = services.current_user()
    st.title("History")
    runs = services.store_or_error()
    if runs is None:
        return
    filters, page_column = _filters(runs, user)
    total = runs.count(filters)
    pages = max(1, -(-total // PAGE_SIZE))
    number = int(page_column.number_input(f"Page (of {pages}; {total} runs)", 1, pages, 1, key="h_page"))
    summaries = runs.find(filters, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    if not summaries:
        st.info(f"No saved runs match in {plain(runs.safe_url)}.")
        return
    frame = pd.DataFrame(tables.run_rows(summaries))
    frame.insert(0, "link", [f"/?run={s.id}" for s in summaries])
    selection: Any = st.dataframe(
        frame, hide_index=True, key="h_table", on_select="rerun", selection_mode="multi-row",
        column_config={"link": st.column_config.LinkColumn("open", display_text="open")})
    chosen = [summaries[i].id for i in selection.selection.rows]
    _actions(chosen, user)


page()
