"""A report on screen: errors with the user's line highlighted, then the result tabs. Used for a
fresh inspection and for a saved run alike."""

from __future__ import annotations

import html

import streamlit as st

from inspector.errors import ErrorInfo
from inspector.output import charts
from inspector.report import Report
from inspector.ui import graphs_tab, passes_tab, results_tabs
from inspector.ui.plain import plain


def show_code(source: str, line: int | None = None, context: int = 3) -> None:
    """The user's code with line numbers; the line an error points at highlighted."""
    lines = source.splitlines()
    if line is None or not 1 <= line <= len(lines):
        st.code(source, language="python", line_numbers=True)
        return
    start, stop = max(1, line - context), min(len(lines), line + context)
    rows = "".join(
        f'<div style="background:{"#ffd6d6" if n == line else "transparent"}">'
        f'<span style="color:#999; display:inline-block; width:3em">{n}</span>'
        f"{html.escape(lines[n - 1])}</div>" for n in range(start, stop + 1))
    st.html(f'<pre class="error-code" style="font-size:13px; padding:6px; '  # a long line
            f'border:1px solid #f3b0b0; overflow-x:auto; max-width:100%">{rows}</pre>')


def _error(error: ErrorInfo, where: str = "") -> None:
    """The error's whole message (line breaks kept), the user's line highlighted, the user's
    frames, and the whole traceback folded away."""
    line = f" (line {error.line})" if error.line else ""
    message = plain(error.message).replace("\n", "  \n")
    st.error(f"{where}{plain(error.type)}{line}: {message}")
    if error.line and st.session_state.get("source_text"):
        show_code(st.session_state["source_text"], error.line)
    for frame in error.frames:
        st.code(frame, language=None)
    if error.traceback:
        with st.expander("Traceback"):
            st.code(error.traceback, language=None)


# The page's own stages after the report (inspect_page), by name.
DRAWING = "drawing the page"
SAVE_AFTER_DRAWING = "the save's end, after the drawing"


def waterfall(report: Report, after: tuple[tuple[str, float], ...] = ()) -> None:
    """Where the request's time went: the report's stages, then the page's own (saving, the
    poll that noticed the end, drawing the open tab)."""
    if not report.request_stages:
        return
    # The label leaves out the page's drawing and the save's end after it, measured anew at
    # every rerun: a label that changes makes another expander, which forgot it was opened
    # (found in a walk).
    total = sum(s.ms for s in report.request_stages) + sum(
        ms for name, ms in after if name not in (DRAWING, SAVE_AFTER_DRAWING))
    # Drawn only when opened (on_change="rerun"): a chart, even folded away, costs the browser
    # more than the matrix above it.
    box = st.expander(f"Where this request's {total:,.0f} ms went", key="request_stages_open",
                      on_change="rerun")
    with box:
        if not box.open:
            return
        st.plotly_chart(charts.request_stages(report, after), key="request_stages")
        st.caption("The server's clock: queued behind other jobs, waiting for a warm worker, "
                   "then the worker's stages as it reported them (tracing includes the first "
                   "call, Grappler and the per-pass dumps; comparing, the diff and shape "
                   "tables; every mode's figures for the matrix are sent before the profiled "
                   "calls and the analyses behind the other tabs), the report's transfer and "
                   "decoding, saving, and drawing this page.")


def show(report: Report, source_text: str = "", log: str = "") -> None:
    """The report's errors and result tabs; ``source_text`` for error lines, ``log`` for the
    Export tab."""
    st.session_state["source_text"] = source_text
    if report.error is not None:
        _error(report.error)
        return
    ran = (f", ran on {report.executor.kind}: {report.executor.node}" if report.executor
           else "")
    tensorflow = ", ".join(report.versions) if report.versions else report.tensorflow
    where = f" from {report.source}" if report.source else ""
    st.caption(plain(f"{report.function}{where}: TensorFlow {tensorflow}"
                     f"{' on ' + report.device if report.device else ''}{ran}"))
    for modes, error in report.mode_errors():
        _error(error, f"mode{'s' if len(modes) > 1 else ''} {', '.join(modes)}: ")
    unfinished = [r for r in report.results if r.unfinished]
    if unfinished:
        listed = ", ".join(r.mode for r in unfinished)
        st.warning(plain(f"No profile or analysis for {listed}: {unfinished[0].unfinished}. "
                         "The Matrix, Rewrites, Shapes, Retracing and XLA tabs have their "
                         "figures; Source, Graphs, Timing's breakdown and Grappler passes have "
                         "nothing for them."))
    # Only the open tab runs (on_change="rerun"): the first answer appears without drawing
    # graphs or charts nobody has looked at yet.
    names = ["Matrix", "Source", "Graphs", "Rewrites", "Shapes", "Retracing", "Grappler passes", "Timing",
             "XLA", "Export"]
    shows = [results_tabs.matrix, results_tabs.source, graphs_tab.show, results_tabs.rewrites, results_tabs.shapes,
             results_tabs.retracing, passes_tab.show, results_tabs.timing, results_tabs.xla,
             lambda r: results_tabs.exports(r, log)]
    # Several versions: the Matrix and Versions tabs show them all, the others the first's.
    first = report.for_version(report.versions[0]) if report.versions else report
    if report.versions:
        names.insert(1, "Versions")
        shows.insert(1, _versions)
    for name, tab, show in zip(names, st.tabs(names, key="result_tab", on_change="rerun"),
                               shows, strict=True):
        if tab.open:
            with tab:
                show(report if name in ("Matrix", "Versions") else first)




def _versions(report: Report) -> None:
    """Each later TensorFlow against the first, mode by mode; the other tabs show the first."""
    from inspector.output.text import format_version_comparison

    st.caption(f"The same request on TensorFlow {', '.join(report.versions)}, one after the "
               f"other. The Matrix has a row per version and mode; the other tabs show "
               f"{report.versions[0]}'s results.")
    st.code(format_version_comparison(report), language=None)
