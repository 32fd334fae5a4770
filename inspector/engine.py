"""The inspection itself, in this process: load, trace each mode, capture, analyse, time.

Imports TensorFlow. Call it only in a worker (see executor.py) or in tests; user code runs here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import time
from collections.abc import Callable
from typing import Any

import tensorflow as tf
from tensorflow.python.eager import context

from inspector import capture, diff, grappler_log, modes, shapes, sources, timing, turns
from inspector.errors import ErrorInfo, InspectorError, UsageError
from inspector.report import AblationRow, ModeResult, Report, ShapeDependentConstants
from inspector.request import InspectRequest
from inspector.specs import parse_calls

# Cap on what the user's code may print into the report.
MAX_STDOUT_CHARS = 20_000
# Timed seconds per ablation row (a rough latency per optimizer, not the main measurement).
ABLATION_BUDGET_S = 0.3

# A progress callback: (stage, mode or None, payload or None).
EventSink = Callable[[str, "str | None", Any], None]


def _no_events(stage: str, mode: str | None, payload: Any) -> None:
    pass


def warm_up() -> None:
    """Pay TensorFlow's one-time costs (function runtime, Grappler, run metadata, XLA) on a
    throwaway function, so a pre-started worker's first real job does not (130-250 ms here)."""
    import numpy as np

    plain = tf.function(lambda x: tf.reduce_sum(x * 2.0 + 1.0))
    context.enable_run_metadata()
    try:
        plain(np.ones([3], np.float32))
        context.export_run_metadata()
    finally:
        context.disable_run_metadata()
    compiled = tf.function(lambda x: x * 2.0, jit_compile=True)
    compiled(tf.constant([1.0]))
    compiled.experimental_get_compiler_ir(tf.constant([1.0]))(stage="optimized_hlo")


def resolve_device(requested: str | None) -> tuple[str, tuple[str, ...]]:
    """The full device name to run on, and every logical device TensorFlow sees."""
    devices = tuple(d.name for d in tf.config.list_logical_devices())
    if requested is None:
        gpus = [d for d in devices if ":GPU:" in d]
        return (gpus[0] if gpus else devices[0]), devices
    wanted = requested.strip().upper().replace("/DEVICE:", "")
    if ":" not in wanted:
        wanted += ":0"
    for name in devices:
        if name.upper().endswith("/DEVICE:" + wanted):
            return name, devices
    gpu_note = "" if any(":GPU:" in d for d in devices) else " (TensorFlow sees no GPU here)"
    raise UsageError(f"no device {requested!r}; devices: {', '.join(devices)}{gpu_note}")


def _sync_for(device: str) -> Callable[[], None] | None:
    if ":GPU:" in device:
        return tf.test.experimental.sync_devices
    return None


@contextlib.contextmanager
def grappler_options(options: dict[str, bool | int]):
    """Set process-global Grappler options for the block, then put the old ones back."""
    ctx = context.context()
    saved = dict(getattr(ctx, "_optimizer_experimental_options", {}))
    tf.config.optimizer.set_experimental_options(options)
    try:
        yield
    finally:
        if hasattr(ctx, "_optimizer_experimental_options"):
            ctx._optimizer_experimental_options = saved
            ctx._thread_local_data.function_call_options = None  # recompile with the old config


def _traced_shapes(fn: Any, args: list[Any]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """What the traced function knew (the first call's concrete function, already traced: no
    retrace): its variable reads' shapes, and every op's output shapes. Best effort: without
    them, shapes are only what a re-import infers."""
    try:
        concrete = fn.get_concrete_function(*args)
        return shapes.variable_read_shapes(concrete), shapes.traced_shapes(concrete)
    except Exception:  # e.g. a function TensorFlow will not hand out concretely; shapes only
        return {}, {}


@dataclasses.dataclass
class _ModeRun:
    """What one mode leaves for the cross-mode steps (ablation, shape comparison)."""

    result: ModeResult
    function: Any = None
    first_args: list[Any] | None = None
    pre_graph: Any = None
    post_graph: Any = None


def _inspect_mode(loaded: sources.LoadedFunction, mode: str, request: InspectRequest,
                  params: tuple[str, ...], device: str, events: EventSink) -> _ModeRun:
    calls = parse_calls(request.calls)
    fn: Any = modes.build_function(loaded.function, mode, calls[0])
    args = modes.make_arguments(calls[0], mode, 0)
    doing = f"tracing and running the function in mode {mode}"
    timing_options: dict[str, Any] = dict(budget_s=request.budget_s, runs=request.runs,
                                          warmup=request.warmup, sync=_sync_for(device))
    earlier: list[tuple[int, str]] = []
    fields: dict[str, Any] = {}
    pre = post = None
    reads: dict[str, Any] = {}
    traced: dict[str, list[Any]] = {}
    events("tracing", mode, None)
    try:
        if mode == "eager":
            start = time.perf_counter_ns()
            fn(*args)
            first_us = (time.perf_counter_ns() - start) / 1e3
            records = [capture.record_call(fn, args, calls[0], params, earlier, 1, 0)]
        elif mode == "xla":
            start = time.perf_counter_ns()
            fn(*args)
            first_us = (time.perf_counter_ns() - start) / 1e3
            records = [capture.record_call(fn, args, calls[0], params, earlier, 1, 0)]
            reads, traced = _traced_shapes(fn, args)
            events("optimizing", mode, None)
            pre, post, log = capture.offline_graphs(fn, args, device)
            fields.update(graph_source="offline",
                          grappler_passes=grappler_log.parse_passes(log, capture.OFFLINE_ITEM))
            compiler_ir = fn.experimental_get_compiler_ir(*args)
            fields["hlo"] = {stage: compiler_ir(stage=stage) for stage in ("hlo", "optimized_hlo")}
        else:
            first = capture.capture_first_call(fn, args)
            first_us = first.first_call_us
            pre, post = first.pre_graph, first.post_graph
            records = [capture.record_call(fn, args, calls[0], params, earlier, 1, 0)]
            reads, traced = _traced_shapes(fn, args)
            passes = grappler_log.parse_passes(first.log, first.item) if first.item else ()
            fields.update(graph_source="runtime", grappler_passes=passes)
    except Exception as exc:
        error = sources.user_code_error(exc, loaded.path, doing)
        return _ModeRun(ModeResult(mode, error=ErrorInfo.from_exception(error)))

    with turns.turn(mode, on_wait=lambda: events("waiting", mode, None),
                     on_start=lambda: events("timing", mode, None)):
        fields["timing"] = timing.measure(lambda: fn(*args), first_call_us=first_us,
                                          **timing_options)

    for number, call in enumerate(calls[1:], 2):
        call_args = modes.make_arguments(call, mode, number - 1)
        records.append(capture.record_call(fn, call_args, call, params, earlier, number))

    if pre is not None:
        events("analysing", mode, None)
        pre_shapes = shapes.shape_table(pre, reads, traced)
        post_shapes = shapes.shape_table(post, reads)  # Grappler may reuse a name for another value
        fields.update(
            pre=diff.summarize(pre), post=diff.summarize(post), diff=diff.diff_graphs(pre, post),
            shapes={"pre": pre_shapes, "post": post_shapes},
            unknown_shape_outputs={"pre": pre_shapes.unknown_outputs,
                                   "post": post_shapes.unknown_outputs})
        if request.include_graphs and post is not None:
            fields["graphs"] = {"pre": pre.SerializeToString(), "post": post.SerializeToString()}
    traces = fn.experimental_get_tracing_count() if mode != "eager" else 0
    result = ModeResult(mode, traces=traces, calls=tuple(records),
                        signatures=tuple(s for _, s in earlier), **fields)
    return _ModeRun(result, fn, args, pre, post)


def _ablate(run: _ModeRun, request: InspectRequest, device: str) -> tuple[AblationRow, ...]:
    """Leave-one-out: the same tf.function re-optimized with each optimizer off (no retrace)."""
    args = run.first_args or []
    rows = []
    for option, off_value in grappler_log.ABLATION_OFF:
        try:
            with grappler_options({**request.grappler, option: off_value}):
                nodes = capture.recompile_post_nodes(run.function, args)
                with turns.turn(f"{run.result.mode} without {option}"):
                    measured = timing.measure(lambda: run.function(*args), first_call_us=0.0,
                                              budget_s=ABLATION_BUDGET_S, warmup=3,
                                              sync=_sync_for(device))
            rows.append(AblationRow(option, nodes, measured.median_us))
        except Exception as exc:  # one optimizer's failure leaves the other rows
            rows.append(AblationRow(option, None, None, f"{type(exc).__name__}: {exc}"))
    return tuple(rows)


def _shape_dependent(runs: dict[str, _ModeRun]) -> ShapeDependentConstants | None:
    dynamic = runs.get("spec-dynamic")
    fixed_mode = next((m for m in ("spec", "tensor", "numpy") if m in runs
                       and runs[m].pre_graph is not None), None)
    if dynamic is None or dynamic.pre_graph is None or fixed_mode is None:
        return None
    fixed = runs[fixed_mode]

    def only_fixed(fixed_graph: Any, dynamic_graph: Any) -> tuple[str, ...]:
        dynamic_names = {n.name for n in dynamic_graph.node}
        dynamic_consts = diff.constant_nodes(dynamic_graph)
        return tuple(sorted(name for name in diff.constant_nodes(fixed_graph)
                            if name in dynamic_names and name not in dynamic_consts))

    return ShapeDependentConstants(fixed_mode, only_fixed(fixed.pre_graph, dynamic.pre_graph),
                                   only_fixed(fixed.post_graph, dynamic.post_graph))


def run(request: InspectRequest, events: EventSink = _no_events) -> Report:
    """Inspect ``request`` in this process. Errors become the report's ``error`` fields.

    Grappler overrides are process-global: they are set for the run and put back after it.
    """
    with grappler_options(request.grappler):
        return _run(request, events)


def _run(request: InspectRequest, events: EventSink) -> Report:
    source = request.source
    header: dict[str, Any] = dict(
        tensorflow=tf.__version__,
        source=f"gallery:{source.gallery_name}" if source.gallery_name else source.filename,
        function=request.function, calls=request.calls, modes=request.modes,
        grappler={k: str(v) for k, v in request.grappler.items()})
    printed = io.StringIO()
    try:
        device, devices = resolve_device(request.device)
        header.update(device=device, devices=devices)
        events("loading", None, None)
        with contextlib.redirect_stdout(printed):
            loaded = sources.load_function(source, request.function)
    except InspectorError as exc:
        return Report(error=ErrorInfo.from_exception(exc),
                      stdout=printed.getvalue()[:MAX_STDOUT_CHARS], **header)
    params = sources.find_function(source, request.function).params
    runs: dict[str, _ModeRun] = {}
    with tf.device(device), contextlib.redirect_stdout(printed):
        for mode in request.modes:
            runs[mode] = _inspect_mode(loaded, mode, request, params, device, events)
            events("mode_done", mode, runs[mode].result)
        if request.ablate:
            for mode, mode_run in runs.items():
                if mode_run.function is not None and mode not in ("eager", "xla"):
                    events("ablating", mode, None)
                    rows = _ablate(mode_run, request, device)
                    mode_run.result = dataclasses.replace(mode_run.result, ablation=rows)
    return Report(results=tuple(r.result for r in runs.values()),
                  shape_dependent_constants=_shape_dependent(runs),
                  stdout=printed.getvalue()[:MAX_STDOUT_CHARS], **header)
