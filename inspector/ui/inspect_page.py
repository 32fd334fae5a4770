"""The Inspect page: choose a function, calls, modes and device; run in a worker; show the report.

The page only reads input, submits to the executor and shows what comes back. The job runs in
a worker process; the click's own run waits briefly for it, then a fragment polls it, so the
page stays responsive and can cancel.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from inspector.errors import (
    ErrorInfo,
    InputError,
    InspectorError,
    ModelLoadError,
    SetupError,
    error_types,
)
from inspector.inputs import gallery, models, sources
from inspector.inputs.calls import parse_calls
from inspector.inputs.modes import CODE_MODES, MODE_HELP, MODES
from inspector.inputs.request import InspectRequest, prepare
from inspector.inputs.sources import Source
from inspector.jobs.executor import Limits
from inspector.report import Report
from inspector.store.runs import SavedRun
from inspector.ui import graphs_tab, permalink, report_view, results_tabs, services
from inspector.ui.permalink import FormSettings
from inspector.ui.plain import plain

PASTE = "(paste your own code)"
UPLOAD = "(upload a model)"
DEFAULT_MODES = ["eager", "numpy", "spec", "spec-dynamic"]
DEFAULT_DEVICE = "TensorFlow's default"
STARTER = "import tensorflow as tf\n\ndef f(x):\n    return tf.square(x)\n"
# Enough calls for a median and p10/p90 while the answer still comes within a second;
# raise it (or 0: a 1 s budget per mode) for steadier figures.
DEFAULT_RUNS = 100
MAX_RUNS = 100000
# How long the click's own run waits for the job before showing progress and Cancel.
QUICK_ANSWER_S = 1.5
# How the page follows a running job: each poll (a fragment's script run in the server) waits
# up to POLL_WAIT_S for the job's end or a change in its progress, so that the end is drawn at
# once while the browser redraws only what changed. Polls at 10 a second cost chromium 45% of a
# core during a ResNet50 job on these 2 cores (CPU the job's timed calls lost), and made another
# user's page load 1.7x slower than the same job run from the CLI (bench/run.py --only stall).
POLL_S = 0.1
POLL_WAIT_S = 1.0
# How often the click's own run looks for the matrix's figures while it waits for the job,
# and how long it waits for the end once it has drawn them: no longer than a moment without
# the progress line and Cancel (the page is drawn again with them).
EARLY_CHECK_S = 0.005
AFTER_FIGURES_S = 0.15
# Set while the page's own run draws the poll (which then does not wait).
INLINE_POLL = "poll_inline"


def _defaults() -> FormSettings:
    """A fresh form: the page's defaults, within the operator's memory bound."""
    return FormSettings(modes=tuple(DEFAULT_MODES), runs=DEFAULT_RUNS,
                        memory_mb=min(Limits.memory_mb, services.policy().max_memory_mb))


def _settings_from_url() -> FormSettings:
    """The form as the page's URL gives it; an entry the picker does not offer falls back to
    pasted code (where allowed) or the first gallery entry."""
    params = st.query_params
    settings = permalink.from_query({key: params.get_all(key) for key in params}, _defaults())
    fallback = PASTE if services.policy().pasted_code else gallery.ENTRIES[0].name
    entry = {permalink.PASTE: PASTE, permalink.MODEL: UPLOAD}.get(
        settings.entry or "", settings.entry or gallery.ENTRIES[0].name)
    return dataclasses.replace(settings, entry=entry if entry in _choices() else fallback,
                               modes=tuple(m for m in settings.modes if m in MODES)
                               or tuple(DEFAULT_MODES))


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
    # "team" or "private".
    visibility: str = "team"
    # The TensorFlow versions to run on (empty: the server's own).
    tf_versions: tuple[str, ...] = ()
    # Why there is nothing to inspect yet (no model uploaded): said instead of running.
    missing: str = ""


def _choices() -> list[str]:
    """What the Function picker offers: the gallery, the operator's files (``file:NAME``), and
    pasted code where the operator allows it."""
    settings = services.policy()
    return ([e.name for e in gallery.ENTRIES]
            + [sources.PROVIDED_PREFIX + n for n in sources.provided_names(settings.files_dir)]
            + ([PASTE, UPLOAD] if settings.pasted_code else []))


def _choice_label(choice: str) -> str:
    if choice in (PASTE, UPLOAD) or choice.startswith(sources.PROVIDED_PREFIX):
        return choice
    return f"{choice}: {gallery.get(choice).title}"


def _default_calls(choice: str) -> list[str]:
    """A choice's own calls: a gallery entry's, a model's, else one float32[4] call."""
    if choice == UPLOAD:
        model = _model_source()
        return list(model.model.get("calls") or ()) if model and model.model else []
    if choice == PASTE or choice.startswith(sources.PROVIDED_PREFIX):
        return ["float32[4]"]
    entry = gallery.get(choice)
    if entry.model is not None:
        try:
            return list((sources.gallery_source(choice).model or {}).get("calls") or ())
        except InputError:
            return []
    return list(entry.calls)


def _entry_changed() -> None:
    """Picking another function loads its calls: the previous entry's calls (or the user's edits
    of them) do not fit it."""
    st.session_state["calls"] = "\n".join(_default_calls(st.session_state["entry"]))


def _model_source() -> Source | None:
    """The uploaded model as a Source (kept per file and signature), else the model of the
    run put back by Edit as new; None when there is none. Its error, if any, is kept in
    ``model_error``."""
    state = st.session_state
    uploaded = state.get("model_file")
    signature = (state.get("model_signature") or "").strip() or None
    kept = state.get("kept_model")
    if kept:  # until another file is uploaded (_model_changed)
        return Source(kept["text"], kept["filename"], model=kept["model"])
    if uploaded is None:
        return None
    if uploaded.name.endswith(models.KERAS_SUFFIX):  # the box is for a SavedModel's only
        signature = None
    key = (uploaded.file_id, signature)
    if state.get("model_key") != key:
        state["model_key"], state["model_error"], state["model_built"] = key, None, None
        limit = services.policy().max_model_mb
        try:
            if uploaded.size > limit * 2**20:
                raise ModelLoadError(f"{uploaded.name} is {uploaded.size / 2**20:,.0f} MB, more "
                                     f"than the {limit} MB this dashboard takes ([inputs] "
                                     "max_model_mb)")
            state["model_built"] = sources.model_source(uploaded.name, uploaded.getvalue(),
                                                        signature)
        except InputError as exc:
            state["model_error"] = f"{exc.type}: {exc.message}"
    built: Source | None = state.get("model_built")
    return built


def _model_changed() -> None:
    """A new model (or signature) loads its own calls."""
    st.session_state.pop("kept_model", None)
    st.session_state["calls"] = "\n".join(_default_calls(UPLOAD))


def _model_input() -> tuple[Source, str | None, list[str], str]:
    """The upload box: a .keras file or a zipped SavedModel, read for its inputs only (it is
    loaded in the sandboxed worker)."""
    limit = services.policy().max_model_mb
    st.file_uploader(f"Model: a .keras file, or a SavedModel as a .zip, .tar.gz, .tgz or .tar "
                     f"(up to {limit} MB)", type=["keras", "zip", "gz", "tgz", "tar"],
                     key="model_file", on_change=_model_changed)
    uploaded = st.session_state.get("model_file")
    kept = st.session_state.get("kept_model")
    name = uploaded.name if uploaded is not None else (kept or {}).get("model", {}).get("name")
    if not (name or "").endswith(models.KERAS_SUFFIX):  # a Re-run's .keras: no box either
        st.text_input("SavedModel signature", key="model_signature", value="serving_default",
                      on_change=_model_changed)
    source = _model_source()
    error = st.session_state.get("model_error")
    if error and not st.session_state.get("kept_model") and \
            st.session_state.get("model_file") is not None:
        st.error(plain(error))
        return Source("", "model.py"), None, [], error
    if source is None or not source.model:
        return Source("", "model.py"), None, [], (
            "Upload a model first: a .keras file, or a SavedModel folder as a .zip or .tar.gz")
    model = source.model
    kept = " (the model of the run put back; upload another to replace it)" \
        if st.session_state.get("kept_model") else ""
    inputs = "; ".join(models.ModelInput(n, d, None if shape is None else tuple(shape))
                       .described() for n, d, shape in model["inputs"])
    st.caption(plain(f"{model['name']} (sha256 {model['sha256'][:12]}){kept}: "
                     f"{'Keras' if model['kind'] == 'keras' else 'SavedModel'}, inputs "
                     f"{inputs}. Loaded and run in the sandboxed worker; "
                     f"{models.modes_note(model['kind'], model.get('endpoint'))}."))
    report_view.show_code(source.text)
    return source, None, list(model.get("calls") or ()), ""


def _source_inputs(url: FormSettings) -> tuple[Source, str | None, list[str], str]:
    """The function to inspect: a gallery entry, an operator's file, pasted code or an uploaded
    model; with its default calls, and why there is nothing to inspect yet (else "")."""
    names = _choices()
    index = names.index(url.entry) if url.entry in names else 0
    choice: Any = st.selectbox("Function", names, index=index, key="entry",
                               format_func=_choice_label, on_change=_entry_changed)
    if choice == UPLOAD:
        return _model_input()
    if choice.startswith(sources.PROVIDED_PREFIX):
        source = sources.provided_source(services.policy().files_dir,
                                         choice[len(sources.PROVIDED_PREFIX):])
        st.caption("A file the dashboard's operator provides.")
        report_view.show_code(source.text)
        calls = list(source.model["calls"]) if source.model else _default_calls(choice)
        return source, _function_picker(source) if not source.model else None, calls, ""
    if choice == PASTE:
        code = st.text_area("Python source", key="code", height=240, value=STARTER,
                            help="Plain text editing; the highlighted, numbered copy below "
                                 "is what line numbers in errors refer to.")
        source = Source(code, "pasted.py")
        function = _function_picker(source)
        with st.expander("Highlighted", expanded=False):
            report_view.show_code(code)
        return source, function, _default_calls(choice), ""
    entry = gallery.get(choice)
    st.info(entry.hint)
    try:
        source = sources.gallery_source(choice)
    except InputError as exc:  # a model the set-up has not made here
        st.error(plain(f"{exc.type}: {exc.message}"))
        return Source("", "model.py"), None, [], f"{exc.type}: {exc.message}"
    report_view.show_code(source.text)
    calls = list(source.model["calls"]) if source.model else _default_calls(choice)
    return source, entry.function, calls, ""


def _device_input(url: FormSettings) -> str | None:
    seen, nodes, no_workers = services.devices()
    if no_workers:
        st.error(no_workers)
    options = [DEFAULT_DEVICE, *seen]
    where = {d: [n["node"] for n in nodes if d in n["devices"]] for d in seen}
    device: Any = st.selectbox("Device", options, key="device",
                               index=options.index(url.device)
                               if url.device in options else 0,
                               format_func=lambda d: d if d == DEFAULT_DEVICE or len(nodes) < 2
                               else f"{d} (on {', '.join(where[d])})")
    if url.device and url.device not in options:  # a link made where that device exists
        st.warning(f"The link asks for device {plain(url.device)}, which no worker here has: "
                   "TensorFlow's default placement is used instead.")
    if len(nodes) > 1:  # a cluster: which node has what (a job goes to a node with its device)
        st.caption("Nodes: " + "; ".join(
            f"{n['node']}, TensorFlow {n['tensorflow']}: {', '.join(n['devices'])}"
            for n in nodes))
    if not any(":GPU:" in d for d in seen):
        st.caption("The workers' TensorFlow sees no GPU on this machine: CPU only.")
    return None if device == DEFAULT_DEVICE else device


def _inputs() -> PageInputs:
    url = _settings_from_url()
    settings = services.policy()
    left, right = st.columns([3, 2])
    with left:
        source, function, default_calls, missing = _source_inputs(url)
    with right:
        calls_text = st.text_area("Calls, one per line (`float32[2,3]; int32[]`)", key="calls",
                                  value="\n".join(url.calls or default_calls))
        calls = [line for line in calls_text.splitlines() if line.strip()]
        try:
            parse_calls(calls)
        except InputError as exc:
            st.error(exc.message)
        # Pills, not a multiselect: its chips ran off the box's one line, and with 7 modes
        # chosen reduce-retracing and xla could not be seen.
        offered = MODES if (source.model or {}).get("kind") == "saved_model" and not (
            source.model or {}).get("endpoint") else CODE_MODES
        if any(m not in offered for m in st.session_state.get("modes") or ()):
            st.session_state["modes"] = [m for m in st.session_state["modes"] if m in offered]
        modes = st.pills("Modes", offered, selection_mode="multi",
                         default=[m for m in url.modes if m in offered], wrap=True,
                         key="modes", help="\n".join(f"{m}: {h}" for m, h in MODE_HELP.items()))
        device = _device_input(url)
        tf_versions = _versions_input(url)
        with st.expander("Advanced"):
            runs = st.number_input("Timed runs per mode (0: as many as fit in 1 s)", 0, MAX_RUNS,
                                   min(max(url.runs, 0), MAX_RUNS), key="runs")
            overrides = st.text_input("Grappler overrides (KEY=VALUE, space-separated)",
                                      " ".join(url.grappler), key="grappler",
                                      placeholder="constant_folding=off")
            ablate = st.checkbox("Leave-one-out ablation per optimizer", url.ablate,
                                 key="ablate")
            passes = st.checkbox("Graph after each Grappler pass", value=url.passes, key="passes",
                                 help="TensorFlow's dumps of every pass: I/O that grows with "
                                      "the graph's constants (off for functions with large "
                                      "constants)")
            private = st.checkbox("Private run (only you and admins see it)", key="private")
            left, right = st.columns(2)
            max_time = int(settings.max_timeout_s)
            time_limit = left.number_input(
                "Time limit, s (0: 60 s; gallery models their own)", 0, max_time,
                min(max(url.time_limit, 0), max_time), key="time_limit")
            memory_mb = right.number_input("Memory limit, MB", 512, settings.max_memory_mb,
                                           min(max(url.memory_mb, 512), settings.max_memory_mb),
                                           step=512, key="memory_mb")
    return PageInputs(source, function, calls, modes,
                      {"runs": int(runs) or None, "budget_s": 1.0, "ablate": ablate,
                       "device": device, "passes": passes},
                      overrides.split(), float(time_limit), int(memory_mb),
                      "private" if private else "team", tf_versions, missing)


def _versions_input(url: FormSettings) -> tuple[str, ...]:
    """Which TensorFlow versions to run on, when the operator added any (versions add); a
    link's choice where still installed."""
    installed = services.installed_versions()
    if len(installed) < 2:
        return ()
    default = [v for v in installed if v in url.versions] or installed[:1]
    chosen = st.multiselect("TensorFlow", installed, default=default, key="tf_versions",
                            help="run the same request on each version in turn; a Versions "
                                 "tab then compares them (the server's own is first)")
    return tuple(v for v in installed if v in chosen)


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


def _submit(request: InspectRequest, limits: Limits, visibility: str = "team",
            tf_versions: tuple[str, ...] = ()) -> None:
    """Queue the request as a saved run of this page's user; the page then waits for it."""
    for stale in ("report", "log", "saving", "waited_ms", *graphs_tab.CACHES):
        st.session_state.pop(stale, None)
    st.session_state["source_text"] = request.source.text
    try:
        st.session_state["job"] = services.submit(request, limits, USER, visibility,
                                                  tf_versions)
    except (InputError, SetupError) as exc:  # arguments too big; a store that cannot open
        st.session_state["report"] = Report(tensorflow=None, error=ErrorInfo.from_exception(exc))


def _submit_inputs(inputs: PageInputs) -> None:
    if inputs.missing:  # "Type: message" of the model's error, or what to do first
        kind, _, text = inputs.missing.partition(": ")
        error = (ErrorInfo(kind, text) if kind in error_types(InspectorError)
                 else ErrorInfo.from_exception(ModelLoadError(inputs.missing)))
        st.session_state["report"] = Report(tensorflow=None, error=error)
        return
    try:
        request = prepare(inputs.source, inputs.function, inputs.calls, inputs.modes,
                          inputs.grappler, include_graphs=True, **inputs.options)
    except InputError as exc:
        st.session_state["source_text"] = inputs.source.text
        st.session_state["report"] = Report(tensorflow=None, error=ErrorInfo.from_exception(exc))
        return
    params = permalink.to_query(_form_settings(inputs, request), _defaults())
    if "as" in st.query_params:  # the test identity hook (services.TEST_IDENTITY_ENV)
        params["as"] = st.query_params["as"]
    st.query_params.from_dict(params)
    time_limit = inputs.time_limit_s or sources.default_timeout_s(inputs.source)
    _submit(request, Limits(timeout_s=time_limit, memory_mb=inputs.memory_mb),
            inputs.visibility, inputs.tf_versions)


def _form_settings(inputs: PageInputs, request: InspectRequest) -> FormSettings:
    """What the URL keeps of a submitted form: everything that decides the inspection."""
    provided = inputs.source.provided_name
    return FormSettings(
        entry=inputs.source.gallery_name or (
            sources.PROVIDED_PREFIX + provided if provided
            else permalink.MODEL if inputs.source.model else permalink.PASTE),
        modes=tuple(request.modes), calls=tuple(request.calls), device=request.device,
        runs=inputs.options["runs"] or 0, grappler=tuple(inputs.grappler),
        ablate=bool(inputs.options["ablate"]), passes=bool(inputs.options["passes"]),
        time_limit=int(inputs.time_limit_s), memory_mb=inputs.memory_mb,
        versions=inputs.tf_versions)


def _collect(wait_s: float, early: Any = None) -> bool:
    """Wait up to ``wait_s`` for the running job; when it has ended, keep its report. With a
    placeholder ``early`` (the report's place), the matrix's figures are drawn into it as soon
    as they come, and the wait goes on at most AFTER_FIGURES_S more."""
    saved: services.SavedJob | None = st.session_state.get("job")
    if saved is None:
        return False
    if early is not None:
        deadline = time.monotonic() + wait_s
        while not saved.job.wait(EARLY_CHECK_S) and time.monotonic() < deadline:
            if _measured_matrix(saved, early):  # the rest soon, or the page with Cancel
                deadline = min(deadline, time.monotonic() + AFTER_FIGURES_S)
                break
        wait_s = max(0.0, deadline - time.monotonic())
    if not saved.job.wait(wait_s):
        return False
    st.session_state["report"] = saved.report()
    st.session_state["waited_ms"] = saved.waited_ms()
    st.session_state["saving"] = saved  # its header waits for the save, after the drawing
    st.session_state["log"] = saved.job.log
    del st.session_state["job"]
    return True


def _news(saved: services.SavedJob, most_s: float) -> None:
    """Wait up to ``most_s`` for the job to end or its progress (or place in the queue) to
    change."""
    seen = (saved.job.progress, saved.job.queued_ahead)
    deadline = time.monotonic() + most_s
    while not saved.job.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline or (saved.job.progress, saved.job.queued_ahead) != seen:
            return


def _progress() -> None:
    """Polls the running job; when it ends, redraws the whole page with its report."""
    saved: services.SavedJob | None = st.session_state.get("job")
    if saved is None:
        return
    if _collect(0):
        st.rerun()
    progress = saved.job.progress
    done = f" (finished: {', '.join(progress.modes_done)})" if progress.modes_done else ""
    left, right = st.columns([5, 1])
    ahead = saved.job.queued_ahead if progress.stage == "queued" else None
    if ahead is not None and saved.job.at_user_cap:
        left.info(f"queued behind your own running job(s): one user may run "
                  f"{services.policy().jobs_per_user} at once ([workers] jobs_per_user); this "
                  f"one starts when one of yours ends (run {saved.run_id})")
    elif ahead is not None:
        left.info(f"queued: {ahead} job(s) ahead of this one (users are served in turn; "
                  f"run {saved.run_id})")
    elif progress.stage == "queued":  # taken by a warm worker, waiting for a running job's end
        left.info(f"queued: next to start, when one of the running jobs ends (every worker "
                  f"is busy, whatever its TensorFlow version; run {saved.run_id})")
    elif progress.stage == "waiting":  # another user's job holds the pool's timing turn
        left.info(f"waiting for another inspection's timed calls to end before timing "
                  f"{progress.mode}{done}")
    else:
        left.info(f"{progress.stage} {progress.mode or ''}{done} (run {saved.run_id})".strip())
    if right.button("Cancel", key="cancel"):
        saved.job.cancel()
    matrix = st.empty()
    shown = _measured_matrix(saved, matrix)
    if not st.session_state.pop(INLINE_POLL, False):  # the poll's own run: the browser has the
        _news(saved, POLL_WAIT_S)  # progress; wait here for its next change or the end
        if _collect(0):
            st.rerun()
        if not shown:  # the figures that came during the wait, at once
            _measured_matrix(saved, matrix)


def _measured_matrix(saved: services.SavedJob, slot: Any) -> bool:
    """The running job's matrix, once every mode's figures came (its profile and analysis go
    on; the tabs come with the whole report)."""
    report = saved.job.measured()
    if report is None:
        return False
    with slot.container():  # light: no columns or link box (the whole report brings them)
        st.markdown(_status_line(saved.run_id, "measured; the profile and analysis follow"))
        st.caption("The matrix as TensorFlow measured it; Source, Graphs, Timing and the other "
                   "tabs open when the profiled calls and the analysis end.")
        results_tabs.matrix(report)
    return True


_poll = st.fragment(run_every=POLL_S)(_progress)


def _run_header(run_id: str, status: str) -> Any:
    """The run's id and the link that opens it again (the code box has a copy button); the
    placeholder of its status line, for a status that changes (a save ending)."""
    left, right = st.columns([1, 3])
    line = left.empty()
    line.markdown(_status_line(run_id, status))
    right.code(services.run_url(run_id), language=None)
    return line


def _status_line(run_id: str, status: str) -> str:
    return f"**Run `{run_id}`** · {status}"


def _edit_as_new(saved: SavedRun) -> None:
    """Put a saved run's inputs into the Inspect form (pasted code included; an operator's
    file that is no longer offered comes back as pasted code where that is allowed)."""
    form = permalink.from_saved(saved.request, saved.limits, _defaults(),
                                _saved_versions(saved))
    state = st.session_state
    entry = {permalink.PASTE: PASTE, permalink.MODEL: UPLOAD}.get(form.entry or "", form.entry)
    if entry not in _choices():
        entry = PASTE if services.policy().pasted_code else _choices()[0]
    state["entry"] = entry
    if entry == PASTE:
        state["code"] = saved.source_text
    source = saved.request.get("source") or {}
    if entry == UPLOAD and source.get("model"):  # the run's model, until another is uploaded
        state["kept_model"] = {"text": source["text"], "filename": source["filename"],
                               "model": source["model"]}
    state["calls"] = "\n".join(form.calls)
    state["modes"] = list(form.modes)
    state["device"] = form.device or DEFAULT_DEVICE
    state["runs"] = form.runs
    state["grappler"] = " ".join(form.grappler)
    state["ablate"] = form.ablate
    state["passes"] = form.passes
    # A private run's copy stays private (unticking it is the user's own choice).
    state["private"] = saved.summary.visibility == "private"
    # Within the form's bounds (a CLI run may have asked for more).
    settings = services.policy()
    state["memory_mb"] = min(max(form.memory_mb, 512), settings.max_memory_mb)
    state["time_limit"] = min(form.time_limit, int(settings.max_timeout_s))
    installed = services.installed_versions()
    if len(installed) > 1:  # the picker is shown: the run's versions still here, else the default
        state["tf_versions"] = [v for v in installed if v in form.versions] or installed[:1]
    st.query_params.clear()


def _saved_versions(saved: SavedRun) -> tuple[str, ...]:
    """The TensorFlow versions a saved run ran on, when it ran on several."""
    report = saved.report
    return tuple(report.versions) if report is not None and len(report.versions) > 1 else ()


def _rerun(saved: SavedRun) -> None:
    """The saved run's inputs as a new run, on the same TensorFlow versions; an error, and no
    run, when one of them is no longer installed (Edit as new lets the user choose)."""
    wanted = _saved_versions(saved)
    missing = [v for v in wanted if v not in services.installed_versions()]
    if missing:
        st.session_state["rerun_error"] = (
            f"This run compared TensorFlow {', '.join(wanted)}, and {', '.join(missing)} is no "
            "longer installed here (versions list). Use Edit as new to choose versions.")
        return
    request = InspectRequest.from_dict(saved.request)
    _edit_as_new(saved)  # the form shows what is re-run
    _submit(request, Limits(**saved.limits), saved.summary.visibility, wanted)


def _saved_run(run_id: str) -> None:
    """A saved run read from the store (no worker): its header, actions and report."""
    runs = services.store_or_error()
    if runs is None:
        return
    try:
        saved = services.saved_run(run_id, USER)
    except (InputError, SetupError) as exc:  # RunNotFound; StoreError
        st.error(f"{exc.type}: {plain(exc.message)}")
        return
    summary = saved.summary
    st.subheader(plain(f"{summary.title or summary.function} ({summary.source_label})"),
                 anchor=False)
    _run_header(run_id, f"{summary.status} · {plain(summary.owner_name)} · {summary.visibility} · "
                        f"{summary.created_at:%Y-%m-%d %H:%M} UTC")
    actions = st.columns(5)
    if actions[0].button("Re-run", key="rerun_saved", on_click=services.expect_job,
                         help="the same inputs as a new run, as private or team as this one"):
        _rerun(saved)
        st.rerun()
    if "rerun_error" in st.session_state:
        st.error(st.session_state.pop("rerun_error"))
    if actions[1].button("Edit as new", key="edit_saved",
                         help="load these inputs, code included, into the form"):
        _edit_as_new(saved)
        st.rerun()
    actions[2].link_button("History", "/history")
    if USER.admin or summary.owner == USER.key:  # only the owner or an admin
        if actions[3].button("Delete", key="delete_saved"):
            services.forget_run(run_id, USER)
            st.query_params.clear()
            st.rerun()
        other = "private" if summary.visibility == "team" else "team"
        if actions[4].button(f"Make {other}", key="visibility_saved"):
            runs.set_visibility(run_id, other, by=USER.key, admin=USER.admin)
            services.saved_run_cache_clear()
            st.rerun()
    else:
        actions[3].caption(f"{plain(summary.owner_name)}'s run ({summary.visibility})")
    if saved.report is None:
        st.info(f"This run is {summary.status}: it has no report. Re-run it.")
        return
    report_view.show(saved.report, saved.source_text, saved.log)
    report_view.waterfall(saved.report)


def _limits_in_force() -> None:
    """What the operator allows, and whether user code runs in the sandbox (said once)."""
    settings = services.policy()
    pool = services.executor_or_error()
    if pool is None:
        st.stop()
    guard = pool.sandbox
    spares = getattr(pool, "spares", 0)
    st.caption(f"Limits in force: {settings.workers} worker(s)"
               f"{f' and {spares} warm spare(s)' if spares else ''}, {settings.jobs_per_user} job(s) "
               f"at once per user, time limit up to {settings.max_timeout_s:g} s, memory up to "
               f"{settings.max_memory_mb} MB; pasted code "
               f"{'allowed' if settings.pasted_code else 'not allowed (gallery only)'}"
               f"{'; the operator provides files' if settings.files_dir else ''}.")
    if not guard.active:
        st.warning(f"User code runs without a sandbox: {plain(guard.reason)}. It runs with "
                   "this server's rights: it can read your files and stop this app.")


def _show_report(slot: Any) -> None:
    """The finished report in ``slot``: the run's header (saving, then saved), the report,
    and where its time went."""
    with slot.container():
        report = st.session_state["report"]
        # The run is saved while its report is drawn; its status line says so, then how it ended.
        saving: services.SavedJob | None = st.session_state.get("saving")
        line = (_run_header(report.run_id, saving.save_status(0) if saving else "saved")
                if report.run_id else None)
        drawing = time.monotonic()
        report_view.show(report, st.session_state.get("source_text", ""),
                         st.session_state.get("log", ""))
        drawn = time.monotonic()
        if saving is not None:
            saving.drawn()
        if line is not None and saving is not None:
            line.markdown(_status_line(report.run_id, saving.save_status()))
        report_view.waterfall(report, (
            ("until the page asked", st.session_state.get("waited_ms", 0.0)),
            (report_view.DRAWING, (drawn - drawing) * 1e3),
            (report_view.SAVE_AFTER_DRAWING, (time.monotonic() - drawn) * 1e3)))


USER = services.current_user()
st.title("TensorFlow graph optimization inspector")
st.caption("What tf.function and Grappler do to a function under each input mode, measured "
           "by TensorFlow in an isolated worker. Every inspection is kept: see History.")
if services.policy_or_error() is None:
    st.stop()
if "run" in st.query_params and "job" not in st.session_state:
    _saved_run(st.query_params["run"])
    st.stop()
_limits_in_force()
inputs = _inputs()
running = "job" in st.session_state
# An upload's error is shown under its box already: Inspect would only say it again (walk).
refused = bool(inputs.missing) and inputs.missing == st.session_state.get("model_error")
clicked = st.button("Inspect", type="primary", key="run", disabled=running or refused,
                    help="Upload a model that loads first (its error is above)" if refused
                    else None, on_click=services.expect_job)
# One place for the report, and before it for the matrix of a job still running: a click
# clears the previous report at once (it stood under the new matrix, found in a walk).
report_slot = st.empty()
if clicked:
    _submit_inputs(inputs)
    # Most inspections finish within a second: answer in this run, without polling round trips
    # (the matrix as soon as its figures come, the rest of the report when the job ends).
    running = not _collect(QUICK_ANSWER_S, report_slot) and "job" in st.session_state
    if running:  # this run drew Inspect enabled, before the submit: draw the page again
        st.rerun()  # with it disabled while the job runs (a second click did nothing, but
        # the button looked as if it would start another job)
if running:
    st.session_state[INLINE_POLL] = True  # drawn within the page's run: no wait
    with report_slot.container():  # the report replaces it at once when the job ends (its
        _poll()  # progress line, Cancel and early matrix stood under the report, in a walk)
if "report" in st.session_state and not running:
    _show_report(report_slot)
