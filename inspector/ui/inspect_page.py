"""The Inspect page: choose a function, calls, modes and device; run in a worker; show the report.

The page only reads input, submits to the executor and shows what comes back. The job runs in
a worker process; the click's own run waits briefly for it, then a fragment polls it, so the
page stays responsive and can cancel.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from inspector.errors import ErrorInfo, InputError, InspectorError
from inspector.inputs import gallery, sources
from inspector.inputs.calls import parse_calls
from inspector.inputs.modes import MODE_HELP, MODES
from inspector.inputs.request import prepare
from inspector.inputs.sources import Source
from inspector.jobs.executor import Limits
from inspector.jobs.local import LocalExecutor
from inspector.report import Report
from inspector.ui import graphs_tab, results_tabs

PASTE = "(paste your own code)"
DEFAULT_MODES = ["eager", "numpy", "spec", "spec-dynamic"]
DEFAULT_DEVICE = "TensorFlow's default"
STARTER = "import tensorflow as tf\n\ndef f(x):\n    return tf.square(x)\n"
# Enough calls for a median and p10/p90 while the answer still comes within a second;
# raise it (or 0: a 1 s budget per mode) for steadier figures.
DEFAULT_RUNS = 100
# How long the click's own run waits for the job before showing progress and Cancel.
QUICK_ANSWER_S = 1.5
# Bounds on the limits a user may set in Advanced: one job holds a worker (about 1 GB) and,
# on a shared dashboard, keeps others queued.
MAX_TIME_LIMIT_S = 600
MAX_MEMORY_MB = 16384
# How often the page asks a running job for progress.
POLL_S = 0.1


@st.cache_resource
def executor() -> LocalExecutor:
    """One warm worker pool per server process, shared by every session; a shared dashboard
    sets INSPECTOR_WORKERS to serve several users at once (each worker holds ~1 GB)."""
    return LocalExecutor(workers=int(os.environ.get("INSPECTOR_WORKERS", "1")))


@st.cache_data(ttl=600, show_spinner="Waiting for a worker to list its devices ...")
def devices() -> tuple[list[str], str | None]:
    """The workers' devices, or why there are none (cached too: a pool that cannot start
    should not make every rerun wait for it)."""
    try:
        return list(executor().devices()), None
    except InspectorError as exc:
        return [], f"{exc.type}: {exc.message}"


def _settings_from_url() -> dict[str, Any]:
    params = st.query_params
    entry = params.get("entry", gallery.ENTRIES[0].name)
    return {"entry": entry if entry in [e.name for e in gallery.ENTRIES] else PASTE,
            "modes": [m for m in params.get_all("mode") if m in MODES] or DEFAULT_MODES,
            "calls": params.get_all("call"), "device": params.get("device")}


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
    st.html(f'<pre class="error-code" style="font-size:13px; padding:6px; '
            f'border:1px solid #f3b0b0">{rows}</pre>')


@dataclass(frozen=True)
class PageInputs:
    """What the page's widgets say: the request's parts, then the job's limits."""

    source: Source
    function: str | None
    calls: list[str]
    modes: Sequence[str]
    # InspectRequest options: device, runs, budget_s, ablate.
    options: dict[str, Any]
    # Grappler overrides as KEY=VALUE texts.
    grappler: list[str]
    # 0: the source's default (sources.default_timeout_s).
    time_limit_s: float
    memory_mb: int


def _source_inputs(url: dict[str, Any]) -> tuple[Source, str | None, list[str]]:
    """The function to inspect: a gallery entry or pasted code; with its default calls."""
    names = [e.name for e in gallery.ENTRIES] + [PASTE]
    choice: Any = st.selectbox("Function", names, index=names.index(url["entry"]), key="entry",
                               format_func=lambda n: str(n) if n == PASTE else
                               f"{n}: {gallery.get(n).title}")
    if choice == PASTE:
        code = st.text_area("Python source", key="code", height=240, value=STARTER,
                            help="Plain text editing; the highlighted, numbered copy below "
                                 "is what line numbers in errors refer to.")
        source = Source(code, "pasted.py")
        function = _function_picker(source)
        with st.expander("Highlighted", expanded=False):
            show_code(code)
        return source, function, ["float32[4]"]
    source = sources.gallery_source(choice)
    entry = gallery.get(choice)
    st.info(entry.hint)
    show_code(entry.source)
    return source, entry.function, list(entry.calls)


def _device_input(url: dict[str, Any]) -> str | None:
    seen, no_workers = devices()
    if no_workers:
        st.error(no_workers)
    options = [DEFAULT_DEVICE, *seen]
    device: Any = st.selectbox("Device", options, key="device",
                               index=options.index(url["device"])
                               if url["device"] in options else 0)
    if not any(":GPU:" in d for d in seen):
        st.caption("The workers' TensorFlow sees no GPU on this machine: CPU only.")
    return None if device == DEFAULT_DEVICE else device


def _inputs() -> PageInputs:
    url = _settings_from_url()
    left, right = st.columns([3, 2])
    with left:
        source, function, default_calls = _source_inputs(url)
    with right:
        calls_text = st.text_area("Calls, one per line (`float32[2,3]; int32[]`)", key="calls",
                                  value="\n".join(url["calls"] or default_calls))
        calls = [line for line in calls_text.splitlines() if line.strip()]
        try:
            parse_calls(calls)
        except InputError as exc:
            st.error(exc.message)
        modes = st.multiselect("Modes", MODES, default=url["modes"], key="modes",
                               help="\n".join(f"{m}: {h}" for m, h in MODE_HELP.items()))
        device = _device_input(url)
        with st.expander("Advanced"):
            runs = st.number_input("Timed runs per mode (0: as many as fit in 1 s)", 0, 100000,
                                   DEFAULT_RUNS, key="runs")
            overrides = st.text_input("Grappler overrides (KEY=VALUE, space-separated)",
                                      key="grappler", placeholder="constant_folding=off")
            ablate = st.checkbox("Leave-one-out ablation per optimizer", key="ablate")
            left, right = st.columns(2)
            time_limit = left.number_input(
                "Time limit, s (0: 60 s; gallery models their own)", 0, MAX_TIME_LIMIT_S, 0,
                key="time_limit")
            memory_mb = right.number_input("Memory limit, MB", 512, MAX_MEMORY_MB,
                                           Limits.memory_mb, step=512, key="memory_mb")
    return PageInputs(source, function, calls, modes,
                      {"runs": int(runs) or None, "budget_s": 1.0, "ablate": ablate,
                       "device": device},
                      overrides.split(), float(time_limit), int(memory_mb))


def _function_picker(source: Source) -> str | None:
    """A select box when the pasted code defines several functions."""
    try:
        names = sources.function_names(source)
    except InputError:
        return None  # the error is shown, with its line, when the user runs it
    if len(names) <= 1:
        return None
    picked: Any = st.selectbox("Function to inspect", names, index=len(names) - 1,
                               key="function")
    return picked


def _submit(inputs: PageInputs) -> None:
    for stale in ("report", "log", *graphs_tab.CACHES):  # caches are keyed by id(report)
        st.session_state.pop(stale, None)
    st.session_state["source_text"] = inputs.source.text
    try:
        request = prepare(inputs.source, inputs.function, inputs.calls, inputs.modes,
                          inputs.grappler, include_graphs=True, **inputs.options)
        time_limit = inputs.time_limit_s or sources.default_timeout_s(inputs.source)
        job = executor().submit(request, Limits(timeout_s=time_limit,
                                                memory_mb=inputs.memory_mb))
    except InputError as exc:
        st.session_state["report"] = Report(tensorflow=None, error=ErrorInfo.from_exception(exc))
        return
    params: dict[str, Any] = {"entry": inputs.source.gallery_name or "paste",
                              "mode": list(request.modes), "call": list(request.calls)}
    if request.device:
        params["device"] = request.device
    st.query_params.from_dict(params)
    st.session_state["job"] = job


def _collect(wait_s: float) -> bool:
    """Wait up to ``wait_s`` for the running job; when it has ended, keep its report."""
    job = st.session_state.get("job")
    if job is None or not job.wait(wait_s):
        return False
    st.session_state["report"] = job.result()
    st.session_state["log"] = job.log
    del st.session_state["job"]
    return True


@st.fragment(run_every=POLL_S)
def _progress() -> None:
    """Polls the running job; when it ends, redraws the whole page with its report."""
    job = st.session_state.get("job")
    if job is None:
        return
    if _collect(0):
        st.rerun()
    progress = job.progress
    done = f" (finished: {', '.join(progress.modes_done)})" if progress.modes_done else ""
    left, right = st.columns([5, 1])
    if progress.stage == "waiting":  # another user's job holds the pool's timing turn
        left.info(f"waiting for another inspection's timed calls to end before timing "
                  f"{progress.mode}{done}")
    else:
        left.info(f"{progress.stage} {progress.mode or ''}{done}".strip())
    if right.button("Cancel", key="cancel"):
        job.cancel()


def _error(error: ErrorInfo, where: str = "") -> None:
    line = f" (line {error.line})" if error.line else ""
    st.error(f"{where}{error.type}{line}: {error.message}")
    if error.line and st.session_state.get("source_text"):
        show_code(st.session_state["source_text"], error.line)
    for frame in error.frames:
        st.code(frame, language=None)


def _results(report: Report) -> None:
    if report.error is not None:
        _error(report.error)
        return
    st.caption(f"{report.function}: TensorFlow {report.tensorflow} on {report.device}")
    for result in report.results:
        if result.error is not None:
            _error(result.error, f"mode {result.mode}: ")
    # Only the open tab runs (on_change="rerun"): the first answer appears without drawing
    # graphs or charts nobody has looked at yet.
    names = ["Matrix", "Graphs", "Rewrites", "Shapes", "Retracing", "Grappler passes", "Timing",
             "XLA", "Export"]
    shows = [results_tabs.matrix, graphs_tab.show, results_tabs.rewrites, results_tabs.shapes,
             results_tabs.retracing, results_tabs.passes, results_tabs.timing, results_tabs.xla,
             lambda r: results_tabs.exports(r, st.session_state.get("log", ""))]
    for tab, show in zip(st.tabs(names, key="result_tab", on_change="rerun"), shows, strict=True):
        if tab.open:
            with tab:
                show(report)


st.title("TensorFlow graph optimization inspector")
st.caption("What tf.function and Grappler do to a function under each input mode, measured "
           "by TensorFlow in an isolated worker.")
inputs = _inputs()
running = "job" in st.session_state
if st.button("Inspect", type="primary", key="run", disabled=running):
    _submit(inputs)
    # Most inspections finish within a second: answer in this run, without polling round trips.
    running = not _collect(QUICK_ANSWER_S) and "job" in st.session_state
if running:
    _progress()
if "report" in st.session_state and not running:
    _results(st.session_state["report"])
