"""The Inspect page: choose a function, calls and modes; run in a worker; show the report."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from inspector import gallery, specs
from inspector.errors import InputError
from inspector.executor import Limits, LocalExecutor
from inspector.report import Report
from inspector.request import prepare
from inspector.sources import Source

PASTE = "(paste your own code)"
DEFAULT_MODES = ["eager", "numpy", "spec", "spec-dynamic"]


@st.cache_resource
def executor() -> LocalExecutor:
    """One warm worker pool per server process, shared by every session."""
    return LocalExecutor(workers=1)


def _settings_from_url() -> dict[str, Any]:
    params = st.query_params
    entry = params.get("entry", gallery.ENTRIES[0].name)
    return {"entry": entry if entry in [e.name for e in gallery.ENTRIES] else PASTE,
            "modes": [m for m in params.get_all("mode") if m in specs.MODES] or DEFAULT_MODES,
            "calls": params.get_all("call")}


def _inputs() -> tuple[Source, str | None, list[str], list[str], dict[str, Any]]:
    url = _settings_from_url()
    names = [e.name for e in gallery.ENTRIES] + [PASTE]
    left, right = st.columns([3, 2])
    with left:
        choice: Any = st.selectbox("Function", names, index=names.index(url["entry"]), key="entry",
                              format_func=lambda n: str(n) if n == PASTE else
                              f"{n}: {gallery.get(n).title}")
        if choice == PASTE:
            code = st.text_area("Python source", key="code", height=220,
                                value="import tensorflow as tf\n\ndef f(x):\n    return tf.square(x)\n")
            source, function, default_calls = Source(code, "pasted.py"), None, ["float32[4]"]
        else:
            entry = gallery.get(choice)
            st.info(entry.hint)
            st.code(entry.source, language="python", line_numbers=True)
            source, function, default_calls = Source(entry.source, f"gallery_{entry.name}.py",
                                                     entry.name), entry.function, list(entry.calls)
    with right:
        calls_text = st.text_area("Calls, one per line (`float32[2,3]; int32[]`)", key="calls",
                                  value="\n".join(url["calls"] or default_calls))
        calls = [line for line in calls_text.splitlines() if line.strip()]
        try:
            specs.parse_calls(calls)
        except InputError as exc:
            st.error(exc.message)
        modes = st.multiselect("Modes", specs.MODES, default=url["modes"], key="modes",
                               help="\n".join(f"{m}: {h}" for m, h in specs.MODE_HELP.items()))
        with st.expander("Advanced"):
            runs = st.number_input("Timed runs per mode (0: adapt to 1 s)", 0, 100000, 0, key="runs")
            overrides = st.text_input("Grappler overrides (KEY=VALUE, space-separated)",
                                      key="grappler", placeholder="constant_folding=off")
            ablate = st.checkbox("Leave-one-out ablation per optimizer", key="ablate")
            st.caption("Device: TensorFlow's default (the workers report the devices they see; "
                       "on a machine without a GPU that is the CPU only).")
    options: dict[str, Any] = {"runs": int(runs) or None, "budget_s": 1.0, "ablate": ablate,
               "grappler": overrides.split()}
    return source, function, calls, modes, options


def _run(source: Source, function: str | None, calls: list[str], modes: list[str],
         options: dict[str, Any]) -> None:
    grappler = options.pop("grappler")
    try:
        request = prepare(source, function, calls, modes, grappler, **options)  # type: ignore[arg-type]
    except InputError as exc:
        where = f" (line {exc.line})" if exc.line else ""
        st.error(f"{exc.type}{where}: {exc.message}")
        return
    st.query_params.from_dict({"entry": source.gallery_name or "paste", "mode": list(request.modes),
                               "call": list(request.calls)})
    limit = gallery.get(source.gallery_name).timeout_s if source.gallery_name else 60.0
    job = executor().submit(request, Limits(timeout_s=limit))
    with st.status("Inspecting ...", expanded=False) as status:
        while not job.wait(0.1):
            progress = job.progress
            status.update(label=f"{progress.stage} {progress.mode or ''}".strip())
            time.sleep(0.05)
        status.update(label="done", state="complete")
    st.session_state["report"] = job.result()


def _matrix(report: Report) -> pd.DataFrame:
    rows = []
    for r in report.results:
        t, d, u = r.timing, r.diff, r.unknown_shape_outputs
        rows.append({"mode": r.mode, "error": str(r.error) if r.error else "",
                     "traces": r.traces, "pre nodes": r.pre.nodes if r.pre else None,
                     "post nodes": r.post.nodes if r.post else None,
                     "folded": len(d.folded) if d else None, "fused": len(d.fused) if d else None,
                     "removed": len(d.removed) if d else None,
                     "unknown shapes pre": u["pre"] if u else None,
                     "unknown shapes post": u["post"] if u else None,
                     "first call us": t.first_call_us if t else None,
                     "median us": t.median_us if t else None, "p10 us": t.p10_us if t else None,
                     "p90 us": t.p90_us if t else None})
    return pd.DataFrame(rows)


def _results(report: Report) -> None:
    if report.error is not None:
        where = f" (line {report.error.line})" if report.error.line else ""
        st.error(f"{report.error.type}{where}: {report.error.message}")
        for frame in report.error.frames:
            st.code(frame)
        return
    st.caption(f"TensorFlow {report.tensorflow} on {report.device}")
    tabs = st.tabs(["Matrix", "Graphs", "Rewrites", "Shapes", "Retracing", "Grappler passes",
                    "Timing", "XLA", "Export"])
    with tabs[0]:
        st.table(_matrix(report).set_index("mode"))
        sdc = report.shape_dependent_constants
        if sdc:
            st.write(f"Constant with fixed shapes ({sdc.fixed_mode}) but not with None dims: "
                     f"pre {list(sdc.pre) or 'none'}, post {list(sdc.post) or 'none'}")
    graph_modes = [r.mode for r in report.results if r.dot]
    with tabs[1]:
        if graph_modes:
            mode = st.selectbox("Mode", graph_modes, key="graph_mode")
            result: Any = report.result(mode)
            view = st.radio("View", ["pre | post", "diff"], horizontal=True, key="graph_view")
            if view == "diff":
                st.graphviz_chart(result.dot["diff"])
            else:
                pre_col, post_col = st.columns(2)
                pre_col.markdown(f"**Before Grappler** ({result.pre.nodes} nodes)")
                pre_col.graphviz_chart(result.dot["pre"])
                post_col.markdown(f"**After Grappler** ({result.post.nodes} nodes)")
                post_col.graphviz_chart(result.dot["post"])
            st.download_button("Download DOT", result.dot[view.split()[0]],
                               file_name=f"{report.function}-{mode}-{view.split()[0]}.dot",
                               key="dl_dot")
    with tabs[2]:
        for r in report.results:
            if r.diff:
                st.markdown(f"**{r.mode}**")
                d = r.diff
                st.dataframe(pd.DataFrame(
                    [{"node": n, "what": "removed"} for n in d.removed]
                    + [{"node": n, "what": "added"} for n in d.added]
                    + [{"node": n, "what": "folded"} for n in d.folded]
                    + [{"node": f.name, "what": f"fused {f.op} [{'+'.join(f.fused_ops)}]"} for f in d.fused]
                    + [{"node": w.name, "what": f"rewired {list(w.pre_inputs)} -> {list(w.post_inputs)}"}
                       for w in d.rewired]), hide_index=True)
    with tabs[3]:
        only_unknown = st.checkbox("Only outputs with unknown dims", key="only_unknown")
        for r in report.results:
            if r.shapes:
                rows = [{"graph": side, "node": n.name, "op": n.op, "shapes": " ".join(n.outputs)}
                        for side, table in r.shapes.items() for n in table.nodes
                        if not only_unknown or any("None" in s or "unknown" in s for s in n.outputs)]
                st.markdown(f"**{r.mode}**")
                st.dataframe(pd.DataFrame(rows), hide_index=True)
    with tabs[4]:
        st.dataframe(pd.DataFrame([{"mode": r.mode, "call": n, "spec": c.spec, "traced": c.traced,
                                    "reason": c.reason, "signature": c.signature,
                                    "error": c.error.type if c.error else ""}
                                   for r in report.results for n, c in enumerate(r.calls, 1)]),
                     hide_index=True, key="retracing")
    with tabs[5]:
        for r in report.results:
            if r.grappler_passes:
                fig = go.Figure(go.Bar(x=[f"{p.iteration}:{p.optimizer[:30]}" for p in r.grappler_passes],
                                       y=[p.node_delta for p in r.grappler_passes]))
                fig.update_layout(title=f"{r.mode}: node change per pass", height=300)
                st.plotly_chart(fig, key=f"passes_{r.mode}")
            if r.ablation:
                st.dataframe(pd.DataFrame([vars(a) for a in r.ablation]), hide_index=True)
    with tabs[6]:
        fig = go.Figure()
        for r in report.results:
            if r.timing:
                fig.add_trace(go.Box(y=list(r.timing.samples_us), name=r.mode, boxpoints=False))
        fig.update_layout(yaxis_title="latency per call (us)", yaxis_type="log", height=420)
        st.plotly_chart(fig, key="timing_chart")
    with tabs[7]:
        for r in report.results:
            if r.hlo:
                for stage, text in r.hlo.items():
                    with st.expander(f"{r.mode}: {stage}"):
                        st.code(text)
    with tabs[8]:
        st.download_button("Download JSON report", report.to_json(),
                           file_name=f"{report.function}-report.json", key="dl_json")


st.title("TensorFlow graph optimization inspector")
st.caption("What tf.function and Grappler do to a function under each input mode, measured "
           "by TensorFlow in an isolated worker.")
inputs = _inputs()
if st.button("Inspect", type="primary", key="run"):
    _run(*inputs)
if "report" in st.session_state:
    _results(st.session_state["report"])
