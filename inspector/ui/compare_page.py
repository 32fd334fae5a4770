"""The Compare page: two saved runs side by side (``?compare=<id1>,<id2>``), from the store."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from inspector.output import compare, tables
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
        st.markdown(f"**{label}** [`{s.id}`](/?run={s.id}): {plain(s.title or s.function)} "
                    f"({plain(s.source_label)}), TensorFlow {plain(s.tensorflow)}, {s.status}, "
                    f"{s.created_at:%Y-%m-%d %H:%M} UTC")
    if a.report is None or b.report is None:
        st.warning("A run has no report (it was interrupted or is still running).")
        return
    st.subheader("Matrix")
    st.table(plain_table(pd.DataFrame(tables.formatted(compare.matrix_rows(a.report,
                                                                           b.report)))))
    st.subheader("After Grappler, node by node")
    for found in compare.graph_comparisons(a.report, b.report):
        sizes = f"{found.nodes_a} and {found.nodes_b} nodes"
        if not found.rows:
            st.write(f"**{found.mode}**: the same graph ({sizes})")
            continue
        st.write(f"**{found.mode}**: {len(found.rows)} differences ({sizes})")
        st.dataframe(pd.DataFrame(found.rows), hide_index=True, width="stretch")
    st.subheader("Source")
    diff = compare.source_diff(a.source_text, b.source_text, f"A {a.summary.id}",
                               f"B {b.summary.id}")
    if diff:
        st.code(diff, language="diff")
    else:
        st.write("The same code.")


page()
