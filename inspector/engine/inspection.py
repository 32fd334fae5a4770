"""The inspection itself, in this process: load, trace each mode, capture, analyse, time.

Imports TensorFlow. Call it only in a worker (see executor.py) or in tests; user code runs here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import io
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import tensorflow as tf
from tensorflow.python.eager import context
from tensorflow.python.framework import op_def_registry

from inspector.engine import (
    capture,
    functions,
    loader,
    origins,
    passlog,
    profile,
    retrace,
    shapes,
    tf_log,
    timing,
)
from inspector.errors import ErrorInfo, InspectorError, UsageError
from inspector.graphs import diff, lines, passes, patterns
from inspector.graphs.passes import ComparedPasses
from inspector.inputs import grappler, sources
from inspector.inputs.calls import CallSpec, parse_calls
from inspector.inputs.request import InspectRequest
from inspector.report import (
    AblationRow,
    CallRecord,
    GraphDiff,
    GrapplerPass,
    ModeResult,
    OpTime,
    Report,
    ShapeDependentConstants,
    Timing,
)
from inspector.stages import Stage

if TYPE_CHECKING:  # the type only: TensorBoard's protos are not needed in the worker
    from inspector.graphs.protos import GraphDef

# Cap on what the user's code may print into the report.
MAX_STDOUT_CHARS = 20_000
# Timed seconds per ablation row (a rough latency per optimizer, not the main measurement).
ABLATION_BUDGET_S = 0.3

# The event that carries a mode's figures for the matrix as soon as its timed calls end (a
# ModeResult with traces, calls, graph sizes, the diff, shapes and timing; no profile, passes,
# lines or graphs yet): every mode's come before any mode is profiled and analysed, so the
# first visible answer does not wait for tabs nobody has opened (issue 24).
MODE_MEASURED = "mode_measured"
# The event that carries a finished mode's ModeResult (the others carry a jobs Stage).
MODE_DONE = "mode_done"
# A progress callback: (stage, mode or None, payload or None).
EventSink = Callable[[str, "str | None", Any], None]
# Holds the turn for a block of timed calls: (label, on_wait, on_start) -> context manager.
TurnTaker = Callable[[str, Callable[[], None], Callable[[], None]],
                     contextlib.AbstractContextManager[None]]


@contextlib.contextmanager
def no_turn(label: str, on_wait: Callable[[], None] = lambda: None,
            on_start: Callable[[], None] = lambda: None) -> Iterator[None]:
    """A turn that never waits: one process alone (tests, the in-process API)."""
    on_start()
    yield


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
    try:  # Keras's import (about 1 s): gallery models, uploaded models, most pasted models
        import keras  # noqa: F401
    except ImportError:
        pass
    gc.collect()  # the throwaway functions' garbage, before the worker freezes what is left


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


def _traced_shapes(fn: Any, args: list[Any]
                   ) -> tuple[dict[str, Any], dict[str, shapes.TracedOp]]:
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
    pre_graph: GraphDef | None = None
    post_graph: GraphDef | None = None
    # The first call's captures, for the profile and analysis after every mode's timing.
    first: _FirstCall | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class _FirstCall:
    """A mode's first call: its graphs, where they came from, and what tracing knew."""

    first_call_us: float
    record: CallRecord
    graph_source: str | None = None
    pre: GraphDef | None = None
    post: GraphDef | None = None
    grappler_passes: tuple[GrapplerPass, ...] = ()
    passes: ComparedPasses | None = None
    hlo: dict[str, str] | None = None
    # Variable read shapes and every op's output shapes from the traced function.
    variable_reads: dict[str, Any] = dataclasses.field(default_factory=dict)
    traced_shapes: dict[str, shapes.TracedOp] = dataclasses.field(default_factory=dict)
    # The graphs that executed (run metadata's partition graphs; none offline).
    partitions: tuple[Any, ...] = ()

    @functools.cached_property
    def executed(self) -> GraphDef | None:
        """The partitions as one graph, merged once for the report's graphs and the lines."""
        return diff.merge_partitions(self.partitions) if self.partitions else None


def _first_call(fn: Any, args: list[Any], call: CallSpec, mode: str, params: tuple[str, ...],
                earlier: list[tuple[int, str]], device: str, events: EventSink,
                dumps: bool = True) -> _FirstCall:
    """Trace, optimize and run once, capturing the graphs the mode gives: run metadata for
    tf.functions, an offline Grappler run and HLO for XLA, nothing for eager."""
    if mode in ("eager", "xla"):
        start = time.perf_counter_ns()
        fn(*args)
        first_us = (time.perf_counter_ns() - start) / 1e3
        record = retrace.record_call(fn, args, call, params, earlier, number=1,
                                     count_before=0)
        if mode == "eager":
            return _FirstCall(first_call_us=first_us, record=record)
        reads, traced = _traced_shapes(fn, args)
        events(Stage.OPTIMIZING, mode, None)
        pre, post, log, compared = capture.offline_graphs(fn, args, device, dumps)
        compiler_ir = fn.experimental_get_compiler_ir(*args)
        return _FirstCall(
            first_call_us=first_us, record=record, graph_source="offline", pre=pre, post=post,
            grappler_passes=passlog.parse_passes(log, capture.OFFLINE_ITEM), passes=compared,
            # its ops' source_file attributes name this server's TensorFlow
            hlo={stage: loader.server_paths_out(compiler_ir(stage=stage))
                 for stage in ("hlo", "optimized_hlo")},
            variable_reads=reads, traced_shapes=traced)
    first = capture.capture_first_call(fn, args, dumps)
    record = retrace.record_call(fn, args, call, params, earlier, number=1, count_before=0)
    reads, traced = _traced_shapes(fn, args)
    pass_log = passlog.parse_passes(first.log, first.item) if first.item else ()
    return _FirstCall(first_call_us=first.first_call_us, record=record, graph_source="runtime",
                      pre=first.pre_graph, post=first.post_graph, grappler_passes=pass_log,
                      passes=first.passes, variable_reads=reads, traced_shapes=traced,
                      partitions=first.partitions)


def _matrix_fields(first: _FirstCall) -> dict[str, Any]:
    """What the matrix shows of the mode's graphs, as ModeResult fields: both graphs' sizes,
    the diff and the static shape tables."""
    if first.pre is None or first.post is None:
        return {}
    pre_shapes = shapes.shape_table(first.pre, first.variable_reads, first.traced_shapes)
    # The post graph is left to inference: Grappler may reuse a name for another value.
    post_shapes = shapes.shape_table(first.post, first.variable_reads)
    return dict(pre=diff.summarize(first.pre), post=diff.summarize(first.post),
                diff=diff.diff_graphs(first.pre, first.post),
                shapes={"pre": pre_shapes, "post": post_shapes})


def _analyse(first: _FirstCall, changes: GraphDiff | None, include_graphs: bool,
             passes_asked: bool = True, profiled: _Profiled | None = None) -> dict[str, Any]:
    """The rest of the mode's graphs beside the matrix's fields (``changes``: their diff), as
    ModeResult fields: the executed graph, rewrite patterns, per-pass entries and (with graphs)
    the serialized graphs, the profiled calls' trace as "trace"."""
    if first.pre is None or first.post is None or changes is None:
        return {}
    graphs = ({"pre": first.pre.SerializeToString(), "post": first.post.SerializeToString()}
              if include_graphs else None)
    if graphs is not None and first.executed is not None:
        graphs["executed"] = first.executed.SerializeToString()
    if graphs is not None and profiled is not None and profiled.xspace:
        graphs["trace"] = profiled.xspace
    pass_fields = _pass_fields(first, changes, graphs, passes_asked)
    executed = (diff.executed_graph(first.post, first.partitions, first.executed)
                if SOURCE_LINES else None)
    if executed is not None and profiled is not None and profiled.timing.breakdown is not None:
        executed = dataclasses.replace(executed, runtime_folded=_runtime_folded(
            first.post, {o.node for o in profiled.op_times}))
    return dict(
        executed=executed, graphs=graphs,
        patterns=patterns.find(changes, first.pre, first.post, pass_fields.get("attribution")),
        **pass_fields)


def _pass_fields(first: _FirstCall, changes: GraphDiff, graphs: dict[str, bytes] | None,
                 passes_asked: bool = True) -> dict[str, Any]:
    """The per-pass entries and attribution (and, with graphs, each pass's changed nodes)."""
    if first.passes is None:
        if not passes_asked:
            return {"passes_note": "not captured: turned off for this run (--no-passes)"}
        if not tf_log.dumps_enabled():
            return {"passes_note": "not captured: this TensorFlow was imported without "
                                   "TF_CPP_VMODULE=meta_optimizer=4"}
        # Seen with TensorFlow 2.20.0: it dumps each pass's graph but prints none of the meta
        # optimizer's VLOG lines, so no dump can be matched to this function.
        return {"passes_note": f"not captured: TensorFlow {tf.__version__} logged no "
                               "Grappler item for this function (its meta optimizer's "
                               "per-pass log lines did not appear), so its per-pass dumps "
                               "cannot be matched to it"}
    compared = first.passes
    if not compared.passes:
        said = f": {compared.skipped}" if compared.skipped else ""
        return {"passes_note": f"Grappler ran no passes on this function{said}"}
    if graphs is not None:
        graphs["passes"] = passes.pack_deltas(compared.deltas)
    return {"passes": compared.passes,
            "attribution": passes.attribute(changes, compared.passes, compared.deltas,
                                            first.pre, first.post)}


def _measure_mode(loaded: loader.LoadedFunction, mode: str, request: InspectRequest,
                  params: tuple[str, ...], device: str, events: EventSink,
                  turn: TurnTaker = no_turn) -> _ModeRun:
    """One mode up to the matrix's figures: first call and capture, timed calls, the later
    calls, the diff and shape tables."""
    calls = parse_calls(request.calls)
    fn: Any = functions.build_function(loaded.function, mode, calls[0])
    args = functions.make_arguments(calls[0], mode, 0)
    earlier: list[tuple[int, str]] = []
    events(Stage.TRACING, mode, None)
    try:
        first = _first_call(fn, args, calls[0], mode, params, earlier, device, events,
                            request.passes)
    except Exception as exc:
        error = loader.user_code_error(exc, loaded.path,
                                       "running the function eagerly" if mode == "eager"
                                       else "tracing and running the function")
        return _ModeRun(ModeResult(mode, error=ErrorInfo.from_exception(error)))

    with turn(mode, lambda: events(Stage.WAITING, mode, None),
              lambda: events(Stage.TIMING, mode, None)):
        measured = timing.measure(lambda: fn(*args), first_call_us=first.first_call_us,
                                  budget_s=request.budget_s, runs=request.runs,
                                  warmup=request.warmup, sync=_sync_for(device))

    records = [first.record]
    for number, call in enumerate(calls[1:], 2):
        call_args = functions.make_arguments(call, mode, number - 1)
        records.append(retrace.record_call(fn, call_args, call, params, earlier, number=number))

    if first.pre is not None:
        events(Stage.COMPARING, mode, None)
    result = ModeResult(
        mode, traces=fn.experimental_get_tracing_count() if mode != "eager" else 0,
        calls=tuple(records), signatures=tuple(s for _, s in earlier),
        graph_source=first.graph_source, timing=measured,
        grappler_passes=first.grappler_passes, hlo=first.hlo, **_matrix_fields(first))
    return _ModeRun(result, fn, args, first.pre, first.post, first)


def _finish_mode(run: _ModeRun, loaded: loader.LoadedFunction, request: InspectRequest,
                 device: str, events: EventSink, turn: TurnTaker = no_turn) -> ModeResult:
    """The measured mode's profiled calls (in a turn of their own), then the analyses the
    matrix does not need: passes, patterns, the executed graph, source lines."""
    first, mode, fn, args = run.first, run.result.mode, run.function, run.first_args or []
    if first is None or run.result.timing is None:  # it failed before its timed calls
        return run.result
    with turn(f"{mode} profiled", lambda: events(Stage.WAITING, mode, None),
              lambda: events(Stage.PROFILING, mode, None)):
        profiled = _profile(fn, args, mode, device, run.result.timing, first.post)
    if first.pre is not None:
        events(Stage.ANALYSING, mode, None)
    analysed = _analyse(first, run.result.diff, request.include_graphs, request.passes,
                        profiled)
    lines_found = _line_fields(fn, args, first, {"diff": run.result.diff, **analysed},
                               profiled.op_times, loaded, request)
    return dataclasses.replace(run.result, timing=profiled.timing, op_times=profiled.op_times,
                               op_times_note=profiled.note, **analysed, **lines_found)


# INSPECTOR_SOURCE_LINES=0 leaves out the sources, lines and executed graph (the benchmark's
# comparison of what they cost).
SOURCE_LINES = os.environ.get("INSPECTOR_SOURCE_LINES", "1") != "0"


def _line_fields(fn: Any, args: list[Any], first: _FirstCall, analysed: dict[str, Any],
                 op_times: tuple[Any, ...], loaded: loader.LoadedFunction,
                 request: InspectRequest) -> dict[str, Any]:
    """Each traced node's source line, and per line what became of its nodes (ModeResult's
    sources and lines). Best effort, like the traced shapes: without them, no lines."""
    if first.pre is None or first.post is None or not SOURCE_LINES:
        return {}
    try:  # the first call's concrete function: no retrace
        traced = origins.node_sources(fn.get_concrete_function(*args), loaded.path,
                                      request.source.filename)
    except Exception:  # a function TensorFlow will not hand out concretely: the graphs stand
        return {}
    # Only what the pre-Grappler graph holds: a captured variable's or constant's placeholder
    # is named otherwise there ("dense/MatMul/ReadVariableOp/resource" is an argument
    # "dense_matmul_readvariableop_resource").
    names = {n.name for n in first.pre.node}
    library = {f.signature.name for f in first.pre.library.function}
    found = {name: source for name, source in traced.items()
             if name in names or name.split("/", 1)[0] in library}
    folded = analysed["executed"].runtime_folded if analysed.get("executed") else ()
    layers = lines.layers(found, first.pre, first.post, analysed["diff"], op_times,
                          first.executed, folded)
    inlined = (passes.grappler_input(first.pre, first.passes)
               if not layers and request.source.model and first.passes else None)
    if inlined is not None:  # a SavedModel: its layers are inside the call the runtime inlined
        layers = lines.layers(lines.inlined_sources(found, inlined), inlined, first.post,
                              diff.diff_graphs(inlined, first.post), op_times, first.executed,
                              folded)
    return {"sources": found,
            "lines": lines.source_lines(found, request.source.text, first.pre, first.post,
                                        analysed["diff"], op_times, first.executed, folded),
            "layers": layers}


# Ops of a while loop or cond after Grappler lowered it into the executor's frames.
_CONTROL_FLOW_OPS = frozenset({"Enter", "Exit", "Switch", "Merge", "NextIteration", "LoopCond",
                               "While", "StatelessWhile", "If", "StatelessIf"})


@dataclasses.dataclass(frozen=True)
class _Profiled:
    """The timing with the profiled calls' breakdown, per-op times or why there are none, and
    the profiler's trace (an XSpace; empty when none was written)."""

    timing: Timing
    op_times: tuple[OpTime, ...] = ()
    note: str | None = None
    xspace: bytes = b""


def _profile(fn: Any, args: list[Any], mode: str, device: str, measured: Timing,
             post: GraphDef | None = None) -> _Profiled:
    """A few more calls, traced by TensorFlow's profiler after (and apart from) the timed ones:
    the breakdown goes into the timing, per-op times beside it (each with its op in the
    post-Grappler graph). Best effort: a profiler that fails leaves the timing as measured and
    says why."""
    if profile.SAMPLED_CALLS <= 0:
        return _Profiled(measured, note="not sampled (INSPECTOR_PROFILE_CALLS=0)")
    try:
        sampled = profile.sample(lambda: fn(*args))
    except Exception as exc:
        return _Profiled(measured, note=f"the profiler failed: {type(exc).__name__}: {exc}")
    breakdown, ops, note = profile.breakdown_of(sampled.events, getattr(fn, "__name__", ""),
                                                device, sampled.walls, eager=mode == "eager")
    if breakdown is None:
        return _Profiled(measured, note=note, xspace=sampled.xspace)
    if mode in ("numpy", "reduce-retracing"):
        breakdown = dataclasses.replace(breakdown,
                                        convert_alone_us=profile.conversion_alone(args))
    if mode == "xla":
        breakdown = dataclasses.replace(breakdown, note="XLA: the compiled cluster runs as one "
                                                        "op; its inside is not traced")
        ops = tuple(dataclasses.replace(o, op="XLA cluster") for o in ops)
    if post is not None:
        graph_ops = {n.name: n.op for n in post.node}
        ops = profile.with_graph_ops(ops, graph_ops)
        if not ops and note is None and mode != "xla":
            flow = sorted(_CONTROL_FLOW_OPS & set(graph_ops.values()))
            # TensorFlow's executor traces a kernel it rates cheap only at the profiler's
            # verbose level (GetTFTraceMeLevel): a tiny graph's ops, once the timed calls have
            # measured them, and a loop's; seen on seed example 1 and a 100-step while_loop.
            note = (f"TensorFlow's profiler recorded the graph's run in {breakdown.samples} "
                    "sampled calls but no kernel inside it: its executor leaves kernels it "
                    "rates cheap out of the trace" + (
                        f" (this graph runs control flow: {', '.join(flow)})" if flow else ""))
    return _Profiled(dataclasses.replace(measured, breakdown=breakdown), ops, note,
                     sampled.xspace)


def _runtime_folded(post: GraphDef, ran: set[str]) -> tuple[str, ...]:
    """The post-Grappler nodes the runtime folded when it instantiated the graph: computed from
    constants alone (not stateful, by TensorFlow's op registry) and run by no kernel in the
    profiled calls (``ran``: the nodes the profiler saw)."""
    stateful = set()
    for op in {n.op for n in post.node}:
        op_def = op_def_registry.get(op)
        if op_def is None or op_def.is_stateful:  # a function call, or an op with state
            stateful.add(op)
    return diff.runtime_folded(post, ran, frozenset(stateful))


def _ablate(run: _ModeRun, request: InspectRequest, device: str,
            turn: TurnTaker = no_turn) -> tuple[AblationRow, ...]:
    """Leave-one-out: the same tf.function re-optimized with each optimizer off (no retrace)."""
    args = run.first_args or []
    rows = []
    for option, off_value in grappler.ABLATION_OFF:
        try:
            with grappler_options({**request.grappler, option: off_value}):
                nodes = capture.recompile_post_nodes(run.function, args)
                with turn(f"{run.result.mode} without {option}", lambda: None, lambda: None):
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


def run(request: InspectRequest, events: EventSink = _no_events,
        turn: TurnTaker = no_turn) -> Report:
    """Inspect ``request`` in this process. Errors become the report's ``error`` fields.

    ``turn`` holds the timed calls' turn (the worker passes its pool's lock, jobs.turns.turn);
    the engine does not know how turns are kept. Grappler overrides are process-global: they
    are set for the run and put back after it.
    """
    # The source's file lives as long as the run (AutoGraph and tracebacks read it), no longer.
    with grappler_options(request.grappler), \
            tempfile.TemporaryDirectory(prefix=origins.SOURCE_FOLDER_PREFIX) as workdir:
        return _run(request, events, workdir, turn)


def _run(request: InspectRequest, events: EventSink, workdir: str,
         turn: TurnTaker = no_turn) -> Report:
    blank = request.blank_report(tf.__version__)
    printed = io.StringIO()
    try:
        device, devices = resolve_device(request.device)
        blank = dataclasses.replace(blank, device=device, devices=devices)
        events(Stage.LOADING, None, None)
        with contextlib.redirect_stdout(printed):
            loaded = loader.load_function(request.source, request.function, workdir)
    except InspectorError as exc:
        return dataclasses.replace(blank, error=ErrorInfo.from_exception(exc),
                                   stdout=printed.getvalue()[:MAX_STDOUT_CHARS])
    params = sources.find_function(request.source, request.function).params
    runs: dict[str, _ModeRun] = {}
    with tf.device(device), contextlib.redirect_stdout(printed):
        for mode in request.modes:  # the matrix's figures of every mode first
            runs[mode] = _measure_mode(loaded, mode, request, params, device, events, turn)
            events(MODE_MEASURED, mode, runs[mode].result)
        for mode, mode_run in runs.items():
            mode_run.result = _finish_mode(mode_run, loaded, request, device, events, turn)
            events(MODE_DONE, mode, mode_run.result)
        if request.ablate:
            for mode, mode_run in runs.items():
                if mode_run.function is not None and mode not in ("eager", "xla"):
                    events(Stage.ABLATING, mode, None)
                    rows = _ablate(mode_run, request, device, turn)
                    mode_run.result = dataclasses.replace(mode_run.result, ablation=rows)
    return dataclasses.replace(blank, results=tuple(r.result for r in runs.values()),
                               shape_dependent_constants=_shape_dependent(runs),
                               stdout=printed.getvalue()[:MAX_STDOUT_CHARS])
