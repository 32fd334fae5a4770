"""The Compare page: two saved runs side by side (``?compare=<id1>,<id2>``), from the store."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from inspector.output import compare, tables
from inspector.report import Report
from inspector.ui import services
from inspector.ui.plain import plain, plain_table


def _ids() -> tuple[str, str] | None:
    given = [part.strip() for part in st.query_params.get("compare", "").split(",") if part]
    left, right = st.columns(2)
    first = left.text_input("Run A", value=given[0] if given else "", key="c_first")
    second = right.text_input("Run B", value=given[1] if len(given) > 1 else "", key="c_second")
    if not (first and second):
        st.info("Pick two runs in History, or give their ids.")
        return None
    st.query_params["compare"] = f"{first},{second}"
    return first, second


def _pairs(a: Report, b: Report) -> list[tuple[str, str]]:
    """The modes compared: each mode both runs have, and the pair the user picks (A's numpy
    against B's spec is the seed's own question); with no mode in common, the picked pair."""
    common = compare.common_modes(a, b)
    modes_a = [r.mode for r in a.results if r.post is not None]
    modes_b = [r.mode for r in b.results if r.post is not None]
    pairs = [(m, m) for m in common]
    if not modes_a or not modes_b:
        return pairs
    if common:
        st.caption(f"Modes in both runs: {', '.join(common)}. Pick a pair below to compare "
                   "across modes.")
    else:
        st.info("The runs have no mode in common: compare the pair of modes you pick.")
    left, right = st.columns(2)
    first: Any = left.selectbox("A's mode", ["(none)", *modes_a] if common else modes_a,
                                key="c_mode_a")
    second: Any = right.selectbox("B's mode", ["(none)", *modes_b] if common else modes_b,
                                  key="c_mode_b")
    if first != "(none)" and second != "(none)" and (first, second) not in pairs:
        pairs.append((first, second))
    return pairs


def page() -> None:
    user = services.current_user()
    st.title("Compare runs")
    runs = services.store_or_error()
    ids = _ids()
    if runs is None or ids is None:
        return
    try:
        a = runs.get(ids[0], viewer=user.key, admin=user.admin)
        b = runs.get(ids[1], viewer=user.key, admin=user.admin)
    except Exception as exc:  # RunNotFound: say which id
        st.error(f"{type(exc).__name__}: {plain(exc)}")
        return
    for label, saved in (("A", a), ("B", b)):
        s = saved.summary
        st.markdown(f"**{label}** [`{s.id}`](/?run={s.id}): {plain(s.title or s.function)}, "
                    f"{s.status}, {plain(s.owner_name)}, {s.created_at:%Y-%m-%d %H:%M} UTC")
    # First what the runs were asked to do: two runs that differ only by an override show
    # "the same graph" below, and this table says why.
    st.subheader("Inputs")
    inputs = compare.input_rows(compare.run_inputs(a.request, a.report, a.executor),
                                compare.run_inputs(b.request, b.report, b.executor))
    frame = plain_table(pd.DataFrame(inputs))
    st.table(frame.style.apply(lambda row: ["background-color: #fff3b0" if row["differs"]
                                            else "" for _ in row], axis=1))
    differing = [row["input"] for row in inputs if row["differs"]]
    st.caption("Differences: " + ", ".join(differing) if differing
               else "The same inputs: differences below come from TensorFlow itself.")
    if a.report is None or b.report is None:
        st.warning("A run has no report (it was interrupted or is still running).")
        return
    st.subheader("Matrix")
    st.table(plain_table(pd.DataFrame(tables.formatted(compare.matrix_rows(a.report,
                                                                           b.report)))))
    st.subheader("After Grappler, node by node")
    for found in compare.graph_comparisons(a.report, b.report, pairs=_pairs(a.report,
                                                                             b.report)):
        sizes = f"{found.nodes_a} and {found.nodes_b} nodes"
        if not found.rows:
            st.write(f"**{found.label}**: the same graph ({sizes})")
            continue
        st.write(f"**{found.label}**: {len(found.rows)} differences ({sizes})")
        st.dataframe(pd.DataFrame(found.rows), hide_index=True, width="stretch")
    st.subheader("Source")
    diff = compare.source_diff(a.source_text, b.source_text, f"A {a.summary.id}",
                               f"B {b.summary.id}")
    if diff:
        st.code(diff, language="diff")
    else:
        st.write("The same code.")


page()
