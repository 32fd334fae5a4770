"""The result tabs other than Graphs: matrix, rewrites, shapes, retracing, passes, timing, XLA,
exports. Every number comes from the report; tables and charts are shared with the HTML report.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from inspector.graphs import dot_text, patterns, protos, render, views
from inspector.output import charts, files, graph_viewer, tables
from inspector.output.html_report import html_report
from inspector.report import Report
from inspector.ui import graphs_tab, kept
from inspector.ui.plain import markdown_table, plain

MIME = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf",
        "pbtxt": "text/plain", "pb": "application/octet-stream"}


# How much of a mode's error the matrix shows (its first line; the whole is above the tabs).
MATRIX_ERROR_CHARS = 80


def matrix(report: Report) -> None:
    rows = tables.matrix(report)
    errors = any(row["error"] for row in rows)
    # The error last and cut short: a long message (XLA's names its function with every
    # attribute) pushed the figures out of sight.
    for row in rows:
        error = row.pop("error")
        if errors:
            row["error"] = tables.shortened(error, MATRIX_ERROR_CHARS)
    # Text cells, formatted once for every table: counts stay integers, n/a where nothing applies.
    # One Markdown table: it is the first thing a click waits for (plain.markdown_table).
    st.markdown(markdown_table(tables.formatted(rows)))
    sdc = report.shape_dependent_constants
    if sdc:  # node names are the user's: shown as written
        st.markdown(plain(tables.shape_dependent_sentence(sdc)))



def _mode_picker(report: Report, key: str, need: str) -> str | None:
    modes = [r.mode for r in report.results if getattr(r, need)]
    if not modes:
        st.info(f"No mode has {need.replace('_', ' ')}.")
        return None
    chosen: Any = st.selectbox("Mode", modes, key=key)
    return chosen


def _open_line(report: Report, modes: list[str], numbers: list[int]) -> None:
    """The Source table's selection callback: the picked line's nodes in the Graphs tab."""
    picked = st.session_state["source_table"].selection.rows
    if not picked:
        return
    graph_modes = [m for m in modes if (r := report.result(m)) is not None and r.graphs]
    if graph_modes:
        st.session_state["graph_mode"] = graph_modes[0]
    st.session_state["graph_search"] = f"line {numbers[picked[0]]}"
    st.session_state["result_tab"] = "Graphs"


def source(report: Report) -> None:
    """Each line of the user's code that made nodes: per mode side by side, its nodes before
    Grappler -> after -> executed, what changed (the diff view's colours), and its profiled
    time per call (bars on one scale for every mode). A row opens its nodes in Graphs."""
    modes = [r.mode for r in report.results if r.lines]
    if not modes:
        st.info("No source lines: no mode has them (eager mode has no graph, failed modes "
                "stopped before capture, and modes of a job that stopped after their figures "
                "were not analysed).")
        return
    chosen = st.pills("Modes side by side", modes, selection_mode="multi",
                      default=modes[:2], key="source_modes") or modes[:1]
    rows = tables.source_lines(report, chosen)
    lines = {mode: result.lines for mode in chosen if (result := report.result(mode))}
    status = {mode: {line.line: tables.line_status(line.changes) for line in mode_lines}
              for mode, mode_lines in lines.items()}

    def band(row: pd.Series) -> list[str]:
        """The changes cells coloured as the diff view colours their nodes."""
        out = []
        for column in row.index:
            mode = column.removesuffix(": changes")
            known = column.endswith(": changes") and row["line"] in status.get(mode, {})
            out.append(f"background-color: {dot_text.COLOURS[status[mode][row['line']]]}"
                       if known else "")
        return out

    scale = max((line.time_us or 0.0 for mode_lines in lines.values() for line in mode_lines),
                default=0.0)
    # The line and its code stay in view while three modes side by side scroll sideways.
    config: dict[str, Any] = {"line": st.column_config.NumberColumn(width="small", pinned=True),
                              "code": st.column_config.TextColumn(pinned=True)}
    for mode in chosen:
        config[f"{mode}: us"] = st.column_config.ProgressColumn(
            f"{mode}: us per call", format="%.1f", min_value=0.0, max_value=scale or 1.0)
    st.caption("Each line of your code that made graph nodes. Nodes: before Grappler -> after "
               "-> in the graph that executed (after placement and the runtime's own rewrites, "
               "such as oneDNN's _Mkl kernels). Changes are coloured as in the diff view. Time: "
               "the line's nodes, profiled, per call. Pick a row to see its nodes in Graphs.")
    before = [f"{mode} {b.before_graph_us:,.1f} us"
              + (f" (converting NumPy arguments {b.conversion_us:,.1f} us)"
                 if b.conversion_us else "")
              for mode in chosen if (r := report.result(mode)) and r.timing
              and (b := r.timing.breakdown) is not None]
    if before:
        st.caption("Before the graph runs, per call (no line's nodes: argument handling and "
                   "dispatch): " + "; ".join(before) + ".")
    numbers = [row["line"] for row in rows]
    st.dataframe(pd.DataFrame(rows).style.apply(band, axis=1), hide_index=True, width="stretch",
                 column_config=config, key="source_table", on_select=lambda: _open_line(
                     report, chosen, numbers), selection_mode="single-row")
    layered = {mode: r.layers for mode in chosen if (r := report.result(mode)) and r.layers}
    if layered:
        with_layers = list(layered)
        line = layered[with_layers[0]][0].line
        st.markdown(f"**Line {line}'s model, layer by layer** (its nodes by name scope, in "
                    "the order the model made them)")
        st.dataframe(pd.DataFrame(tables.source_lines(report, with_layers, layers=True)),
                     hide_index=True, width="stretch", column_config=config,
                     key="source_layers")


def rewrites(report: Report) -> None:
    mode = _mode_picker(report, "rewrites_mode", "diff")
    if mode:
        _patterns(report, mode)
        runtime = tables.runtime_rewrites(report, mode)
        if runtime:
            st.markdown("**What the runtime did after Grappler** (the graph that executed: "
                        "Graphs -> executed)")
            st.dataframe(pd.DataFrame(runtime), hide_index=True, width="stretch",
                         key="runtime_rewrites_table")
        st.markdown("**Every changed node**")
        st.dataframe(pd.DataFrame(tables.rewrites(report, mode)), hide_index=True,
                     width="stretch")
    _compare_modes(report)


def _patterns(report: Report, mode: str) -> None:
    """The mode's changes as rewrite patterns, a picture of one instance of the chosen one,
    and its instances (one opens in the Graphs tab's search)."""
    result = report.result(mode)
    if result is None or not result.patterns:
        return
    changed = sum(len(nodes) for p in result.patterns for nodes in p.nodes)
    st.markdown(f"**{changed} changed nodes in {len(result.patterns)} rewrite patterns** "
                "(the same rewrite up to node names and scopes)")
    st.dataframe(pd.DataFrame(tables.patterns(report, mode)), hide_index=True, width="stretch",
                 key="patterns_table")
    labels = [f"x{p.count} {p.summary}" for p in result.patterns]
    chosen: Any = st.selectbox("Pattern", range(len(labels)), format_func=lambda i: labels[i],
                               key=f"pattern_{mode}")
    pattern = result.patterns[chosen]
    graphs = graphs_tab.mode_graphs(report, mode)
    left, right = st.columns([3, 2])
    with left:
        if graphs is not None:
            st.caption("One instance, before -> after (diff view: removed nodes dashed)")
            one = patterns.instance_graphs(graphs, pattern.nodes[0])
            graphs_tab.viewer(report, [("", replace(one, mode=f"{mode} pattern {chosen}"),
                                        "diff")],
                              patterns.instance_view(pattern.nodes[0]), f"viewer_pattern_{mode}",
                              width_px=graph_viewer.PAGE_PX * 3 // 5)
    with right:
        instances = [", ".join(nodes) for nodes in pattern.nodes]
        picked: Any = st.selectbox(f"Its {pattern.count} instance(s)", instances,
                                   key=f"pattern_instance_{mode}")
        if st.button("Find it in the Graphs tab", key=f"pattern_find_{mode}"):
            st.session_state["graph_mode"] = mode
            st.session_state["graph_search"] = picked.split(", ")[0]
            st.info("Open the Graphs tab: the node is searched and outlined there.")


def _compare_modes(report: Report) -> None:
    """Two modes' graphs side by side as a node-by-node difference (e.g. numpy against spec:
    does a NumPy argument change what is traced or what Grappler does?)."""
    modes = [r.mode for r in report.results if r.graphs]
    if len(modes) < 2:
        return
    st.subheader("Compare two modes")
    left, middle, right = st.columns(3)
    first: Any = left.selectbox("Mode", modes, key="compare_a",
                                index=modes.index("numpy") if "numpy" in modes else 0)
    others = [m for m in modes if m != first]
    second: Any = middle.selectbox("against", others, key="compare_b",
                                   index=others.index("spec") if "spec" in others else 0)
    side: Any = right.radio("Graphs", ["before Grappler", "after Grappler"], key="compare_side",
                            horizontal=True)
    graphs_a = graphs_tab.mode_graphs(report, first)
    graphs_b = graphs_tab.mode_graphs(report, second)
    if graphs_a is None or graphs_b is None:
        return
    pre = side == "before Grappler"
    graph_a, graph_b = (graphs_a.pre, graphs_b.pre) if pre else (graphs_a.post, graphs_b.post)
    rows = tables.mode_comparison(graph_a, graph_b, first, second)
    counts = f"{first} {len(graph_a.node)} nodes, {second} {len(graph_b.node)} nodes"
    if not rows:
        st.success(f"The same graph {side}: same nodes, ops and inputs ({counts}).")
        return
    st.caption(f"{len(rows)} differences ({counts}).")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="mode_comparison")
    _compare_patterns(report, first, second)


def _compare_patterns(report: Report, first: str, second: str) -> None:
    result_a, result_b = report.result(first), report.result(second)
    if result_a is None or result_b is None or not (result_a.patterns or result_b.patterns):
        return
    st.markdown(f"**Rewrite patterns, {first} against {second}**")
    st.dataframe(pd.DataFrame(patterns.compare(result_a.patterns, result_b.patterns, first,
                                               second)), hide_index=True, width="stretch",
                 key="pattern_comparison")


def shapes(report: Report) -> None:
    mode = _mode_picker(report, "shapes_mode", "shapes")
    if not mode:
        return
    only_unknown = st.checkbox("Only nodes with unknown dims", key="only_unknown")
    frame = pd.DataFrame(tables.shapes(report, mode, only_unknown))
    if frame.empty:
        st.write("No node matches.")
        return
    marked = "constant only with fixed shapes"
    sdc = report.shape_dependent_constants
    if sdc is not None and sdc.fixed_mode == mode:
        st.caption(f"Highlighted: nodes that are constants in {mode} (fixed input shapes) but "
                   "not in spec-dynamic (None dims).")
    elif sdc is not None:
        st.caption(f"Constants that only fixed input shapes make are highlighted in "
                   f"{sdc.fixed_mode}'s table (against spec-dynamic).")
    st.dataframe(frame.style.apply(lambda row: ["background-color: #fff3b0" if row[marked]
                                                else "" for _ in row], axis=1),
                 hide_index=True, width="stretch")


def retracing(report: Report) -> None:
    st.dataframe(pd.DataFrame(tables.retracing(report)), hide_index=True, key="retracing",
                 width="stretch")


def timing(report: Report) -> None:
    kept.restore("timing_kind", ("box", "violin"))
    kind = st.radio("Distribution", ["box", "violin"], horizontal=True, key="timing_kind")
    kept.remember("timing_kind")
    st.plotly_chart(charts.timing_distribution(report, str(kind)), key="timing_chart")
    st.plotly_chart(charts.timing_ecdf(report), key="timing_ecdf")
    rows = tables.breakdown(report)
    if not rows:
        return
    st.subheader("Where one call's time goes")
    st.caption("TensorFlow's profiler on a few calls made after the timed ones. The diamond: "
               "tf.convert_to_tensor on the same NumPy arrays, timed on its own.")
    st.plotly_chart(charts.time_breakdown(report), key="time_breakdown")
    # Notes are sentences: below the table, whole, not cut to a column's width.
    st.dataframe(pd.DataFrame([{k: v for k, v in row.items() if k != "note"}
                               for row in tables.formatted(rows)]),
                 hide_index=True, key="breakdown_table")
    for row in rows:
        if row["note"]:
            note = str(row["note"]).removeprefix(f"{row['mode']}: ")  # eager's says "eager:"
            st.caption(f"{row['mode']}: {plain(note)}")
    with_ops = [r.mode for r in report.results if r.op_times]
    if with_ops:
        kept.restore("top_ops_mode", with_ops)
        mode: Any = st.selectbox("Costliest ops of mode", with_ops, key="top_ops_mode")
        kept.remember("top_ops_mode")
        st.dataframe(pd.DataFrame(tables.formatted(tables.top_ops(report, mode))),
                     hide_index=True, key="top_ops_table")


def xla(report: Report) -> None:
    shown = False
    for r in report.results:
        for stage, text in (r.hlo or {}).items():
            shown = True
            with st.expander(f"{r.mode}: {stage}"):
                st.code(text)
    if not shown:
        st.info("Add the xla mode to see its HLO before and after XLA's optimization.")


def exports(report: Report, log: str) -> None:
    stem = report.function or "report"
    st.caption("Reports")
    cols = st.columns(3)
    cols[0].download_button("JSON report", report.to_json(), f"{stem}-report.json",
                            "application/json", key="dl_json", on_click="ignore")
    cols[1].download_button("HTML report", lambda: html_report(report),
                            f"{stem}-report.html", "text/html", key="dl_html",
                            on_click="ignore")
    cols[2].download_button("TensorBoard logs (zip)",
                            lambda: files.zip_directory(files.write_tensorboard, report),
                            f"{stem}-tensorboard.zip", "application/zip", key="dl_tb",
                            on_click="ignore")
    st.caption("TensorBoard: unzip, then `tensorboard --logdir <folder>`; one run per mode "
               "and graph, and the profiled calls' trace per mode for TensorBoard's profile "
               "plugin. Pictures use the overview settings (scopes collapsed to fit).")
    # Per mode, grouped by what they are: one row per picture (its formats side by side),
    # then one row per GraphDef (13 buttons in a row wrapped into 6 + 6 + 1).
    for r in report.results:
        graphs = graphs_tab.mode_graphs(report, r.mode)
        if graphs is None:
            continue
        st.markdown(f"**{r.mode}**")
        executed = protos.executed_graphs(r)
        # (label, graphs drawn, view drawn): the graph that ran is its pair's "post" side.
        drawn: list[tuple[str, protos.ModeGraphs, str]] = [(view, graphs, view)
                                                           for view in views.VIEWS]
        sides = [("pre", graphs.pre), ("post", graphs.post)]
        if executed is not None:
            drawn.append(("executed", executed, "post"))
            sides.append(("executed", executed.post))
        pictures, graph_defs = st.columns(2)
        with pictures:
            st.caption("Pictures")
            for label, pair, view in drawn:
                row = st.columns(len(render.FORMATS))
                for cell, fmt in zip(row, render.FORMATS, strict=True):
                    name = files.file_name(report.function, r.mode, label, fmt)
                    cell.download_button(f"{label} .{fmt}", _image(pair, view, fmt), name,
                                         MIME[fmt], key=f"dl_{r.mode}_{label}_{fmt}",
                                         on_click="ignore")
        with graph_defs:
            st.caption("GraphDefs")
            for side, graph_def in sides:
                row = st.columns(len(files.GRAPH_FORMATS))
                for cell, fmt in zip(row, files.GRAPH_FORMATS, strict=True):
                    data: Any = (r.graphs or {})[side] if fmt == "pb" else _text_of(graph_def)
                    cell.download_button(
                        f"{side} .{fmt}", data, files.file_name(report.function, r.mode, side,
                                                                fmt),
                        MIME[fmt], key=f"dl_{r.mode}_{side}_{fmt}", on_click="ignore")
    with st.expander("Worker log (TensorFlow's C++ log for this job)"):
        st.code(log or "(empty)")


def _image(graphs: protos.ModeGraphs, view: str, fmt: str) -> Any:
    return lambda: render.draw(graphs, view, (fmt,)).data[fmt]


def _text_of(graph_def: Any) -> Any:
    return lambda: protos.to_text(graph_def)
