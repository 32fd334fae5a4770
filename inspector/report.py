"""The inspection's results as frozen dataclasses, and their one JSON form.

Workers send reports to the parent as JSON; ``Report.from_dict`` rebuilds the dataclasses,
so the CLI, the app and the exports all read the same typed objects.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from inspector.errors import ErrorInfo, WorkerCrashed


@dataclass(frozen=True)
class FunctionGraph:
    """A function in a graph's library (a nested tf.function, a cond branch, a loop body)."""

    name: str
    nodes: int
    ops: dict[str, int]


@dataclass(frozen=True)
class GraphSummary:
    """One GraphDef in numbers."""

    # Nodes in the main graph (not counting library functions).
    nodes: int
    # Op type -> how many nodes have it.
    ops: dict[str, int]
    # The graph's function library, each reported separately.
    functions: tuple[FunctionGraph, ...] = ()


@dataclass(frozen=True)
class FusedNode:
    name: str
    op: str
    # The ops folded into this kernel, from its ``fused_ops`` attr (e.g. ["BiasAdd", "Relu"]).
    fused_ops: tuple[str, ...]


@dataclass(frozen=True)
class OpChange:
    name: str
    pre_op: str
    post_op: str


@dataclass(frozen=True)
class Rewire:
    name: str
    pre_inputs: tuple[str, ...]
    post_inputs: tuple[str, ...]


@dataclass(frozen=True)
class GraphDiff:
    """What Grappler changed, by node name (names survive rewriting)."""

    # Only in the pre-Grappler graph.
    removed: tuple[str, ...]
    # Only in the post-Grappler graph (Grappler-made nodes carry prefixes like ConstantFolding/).
    added: tuple[str, ...]
    # In both; the op became Const.
    folded: tuple[str, ...]
    # Post nodes whose op starts with _Fused.
    fused: tuple[FusedNode, ...]
    # In both with a different op (folded ones included).
    op_changed: tuple[OpChange, ...]
    # In both with different inputs (data or control).
    rewired: tuple[Rewire, ...]


@dataclass(frozen=True)
class NodeShapes:
    """Static output shapes of one node, as TensorFlow prints them ("(4,)", "(None, 3)", "<unknown>")."""

    name: str
    op: str
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class ShapeTable:
    # Every node of the graph, in GraphDef order.
    nodes: tuple[NodeShapes, ...]
    # Outputs whose static shape is not fully defined (unknown rank or a None dim).
    unknown_outputs: int
    # Set when the GraphDef could not be imported to infer shapes.
    error: str | None = None


@dataclass(frozen=True)
class CallRecord:
    """One call of the function, in the order made."""

    # The call in call-spec grammar.
    spec: str
    # Whether this call made TensorFlow trace the function again.
    traced: bool
    # Why it traced or did not, in terms of the arguments.
    reason: str
    # The concrete function's input signature that served the call, when one did.
    signature: str | None
    # Set when TensorFlow refused the call or the function raised.
    error: ErrorInfo | None = None


@dataclass(frozen=True)
class TimeBreakdown:
    """One call's latency split by TensorFlow's profiler: means over calls sampled apart from
    the timed ones (engine/profile.py), µs."""

    # Calls traced.
    samples: int
    # The whole call, as the trace saw it.
    call_us: float
    # From the call's start to the graph's run: argument conversion, binding, function lookup
    # and dispatch, on the Python side.
    before_graph_us: float
    # Part of before_graph_us: NumPy arguments converted to tensors inside the call.
    conversion_us: float
    # The runtime running the graph (TensorFlow's KernelAndDeviceFunc::Run).
    graph_us: float
    # The rest: results back to Python.
    other_us: float
    # ``tf.convert_to_tensor`` on the same NumPy arrays, timed on its own in the same worker
    # (None without NumPy arguments).
    convert_alone_us: float | None = None
    # What the figures cannot show for this mode (eager, XLA).
    note: str | None = None


@dataclass(frozen=True)
class NodeSource:
    """The line of the user's source that made a node, from the op's creation stack."""

    file: str
    line: int
    # The user's function that line is in.
    function: str
    # The user's frames, outermost first, each (file, line, function): the call chain.
    stack: tuple[tuple[str, int, str], ...] = ()
    # The node's name scope (a Keras layer's name, a tf.name_scope), when it has one.
    scope: str | None = None


@dataclass(frozen=True)
class SourceLine:
    """One line of the user's source that made nodes, and what became of them."""

    file: str
    line: int
    text: str
    # Nodes the line made before Grappler, after it, and in the graph that executed (None when
    # that graph was not recorded).
    nodes: int
    post_nodes: int
    executed_nodes: int | None
    # How many of its nodes each kind of change touched: folded, fused, removed, added,
    # op_changed, rewired.
    changes: dict[str, int]
    # Per call, the profiled time of the nodes it made (None when none of them was profiled).
    time_us: float | None = None


@dataclass(frozen=True)
class ExecutedGraph:
    """The graph the runtime executed: run metadata's partition graphs, after placement,
    partitioning and the runtime's own rewrites (oneDNN kernels, _Send/_Recv)."""

    nodes: int
    # Data and control inputs, counted once each.
    edges: int
    ops: dict[str, int]
    # One partition per device.
    devices: tuple[str, ...]
    # The post-Grappler graph against this one, by node name.
    diff: GraphDiff
    # Post-Grappler nodes the runtime folded when it instantiated the graph (after this record,
    # so they are still in it): computed from constants alone, and no kernel ran for them in
    # the profiled calls. Empty when no call was profiled.
    runtime_folded: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpTime:
    """One node of the graph that ran, timed by the profiler (mean over the sampled calls)."""

    node: str
    # The kernel that ran: on a CPU with oneDNN kernels the runtime swaps some in after
    # Grappler (MatMul runs as _MklMatMul), so it may differ from the graph's op.
    op: str
    device: str
    mean_us: float
    # The post-Grappler graph's op for this node, or None when the node is not in that graph
    # (eager ops, XLA clusters, nodes the runtime added after placement).
    graph_op: str | None = None

    @property
    def label(self) -> str:
        """"MatMul (ran as _MklMatMul)" where the kernel differs from the graph's op."""
        if self.graph_op and self.graph_op != self.op:
            return f"{self.graph_op} (ran as {self.op})"
        return self.op


@dataclass(frozen=True)
class Timing:
    """Steady-state latency of one call with the mode's real argument types."""

    runs: int
    warmup: int
    median_us: float
    p10_us: float
    p90_us: float
    mean_us: float
    stdev_us: float
    min_us: float
    # The first call: trace + optimize + run.
    first_call_us: float
    # Every timed call, in order, for distribution charts.
    samples_us: tuple[float, ...]
    # Where one call's time goes (profiled calls, not the timed ones); None when not measured.
    breakdown: TimeBreakdown | None = None


@dataclass(frozen=True)
class GrapplerPass:
    """One line of Grappler's meta optimizer log for the captured function."""

    # 1 for the first round of passes, 2 for the second.
    iteration: int
    optimizer: str
    nodes_after: int
    node_delta: int
    edges_after: int
    edge_delta: int
    time_ms: float


@dataclass(frozen=True)
class PassChange:
    """The graph after one Grappler pass, against the graph before that pass (TensorFlow's own
    dumps of the first call)."""

    # The meta-optimizer round, numbered as ``grappler_passes`` numbers it (1 = first round).
    iteration: int
    # As TensorFlow names the pass: constant_folding, arithmetic_optimizer, remapper, ...
    optimizer: str
    # Nodes and edges (data and control inputs) of the graph after the pass.
    nodes: int
    edges: int
    # Node names the pass removed, added, gave another op, or gave other inputs.
    removed: tuple[str, ...]
    added: tuple[str, ...]
    op_changed: tuple[str, ...]
    rewired: tuple[str, ...]
    # 1: the function's main Grappler run; 2 and on: later runs on the same function in the
    # same call (TensorFlow runs a short tfg_optimizer pipeline after the main one); 0: the
    # BEFORE_GRAPPLER entry.
    run: int = 1

    @property
    def changed(self) -> bool:
        return bool(self.removed or self.added or self.op_changed or self.rewired)


# The first entry of ``passes`` (iteration 0, run 0) when the runtime changed the graph before
# Grappler saw it: it inlines nested function calls into the function's graph.
BEFORE_GRAPPLER = "before_grappler"
# The optimizer named for a change that the graph after Grappler's last pass does not have yet:
# TensorFlow's runtime made it after Grappler (lowering an If into Switch/Merge, for one).
AFTER_GRAPPLER = "after_grappler"


@dataclass(frozen=True)
class Attribution:
    """The pass after which a changed node is in its final state."""

    # The round, as PassChange.iteration (0 with AFTER_GRAPPLER).
    iteration: int
    # As TensorFlow names the pass, or AFTER_GRAPPLER.
    optimizer: str
    # Which Grappler run on the function (see PassChange.run; 0 with AFTER_GRAPPLER).
    run: int = 1


@dataclass(frozen=True)
class RewritePattern:
    """Changes that are the same rewrite up to node names and scopes."""

    # fused, folded, op_changed, removed, added or rewired.
    kind: str
    # One line: the ops before -> after ("Conv2D + BiasAdd -> _FusedConv2D [BiasAdd]"), and the
    # pass when every instance was made by the same one.
    summary: str
    # Instances.
    count: int
    # Per instance, the names of its changed nodes (the main node first).
    nodes: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class AblationRow:
    """The function re-optimized with one Grappler option turned off."""

    option: str
    post_nodes: int | None
    median_us: float | None
    error: str | None = None


@dataclass(frozen=True)
class ModeResult:
    """Everything one input mode showed."""

    mode: str
    error: ErrorInfo | None = None
    # experimental_get_tracing_count() after all calls (0 for eager).
    traces: int = 0
    calls: tuple[CallRecord, ...] = ()
    # Input signatures of every concrete function traced, in order.
    signatures: tuple[str, ...] = ()
    # "runtime": graphs from run metadata of the first call (Grappler's output as the runtime
    # received it; below 10 MB the runtime may still fold constant subgraphs after it);
    # "offline": the traced graph run through Grappler by hand (jit_compile functions);
    # None: no graph (eager, or the mode failed first).
    graph_source: str | None = None
    pre: GraphSummary | None = None
    post: GraphSummary | None = None
    diff: GraphDiff | None = None
    # Every node's static shapes: {"pre": table, "post": table}.
    shapes: dict[str, ShapeTable] | None = None
    timing: Timing | None = None
    grappler_passes: tuple[GrapplerPass, ...] = ()
    # The graph after each Grappler pass against the one before it, in run order (empty when
    # not captured; see passes_note).
    passes: tuple[PassChange, ...] = ()
    # For every node the diff names, the pass after which it is in its final state.
    attribution: dict[str, Attribution] | None = None
    # Why passes are missing or partial (e.g. a graph above the dump size limit), else None.
    passes_note: str | None = None
    # The diff's changes grouped into rewrite patterns, biggest first.
    patterns: tuple[RewritePattern, ...] = ()
    # Per node of the graph that ran, its time per call (costliest first), from the profiler.
    op_times: tuple[OpTime, ...] = ()
    # Why op_times (or the breakdown) are missing or partial, else None.
    op_times_note: str | None = None
    # XLA HLO text by stage ("hlo", "optimized_hlo"), for the xla mode.
    hlo: dict[str, str] | None = None
    ablation: tuple[AblationRow, ...] = ()
    # Per pre-Grappler node made by the user's code (nodes of cond and loop bodies as
    # "<function>/<node>"), the line that made it.
    sources: dict[str, NodeSource] | None = None
    # The user's lines that made nodes, in line order, with what became of their nodes.
    lines: tuple[SourceLine, ...] = ()
    # When every node came from one line (a Keras model's call): the same per layer, each
    # row's text the layer's scope, in the order the model made them.
    layers: tuple[SourceLine, ...] = ()
    # The graph that executed (None for eager, XLA and offline graphs).
    executed: ExecutedGraph | None = None
    # The TensorFlow version that produced this result (the worker's, as its ready event said;
    # None in reports made before it was recorded).
    tensorflow: str | None = None
    # Why the profiled calls and the analyses behind the other tabs (lines, graphs, passes,
    # per-op times) are missing although the matrix's figures are here: the job stopped after
    # this mode was measured (a cancel, a time limit, a crash). None when the mode finished.
    unfinished: str | None = None
    # Serialized GraphDefs {"pre", "post", and "executed" when recorded}; left out of the JSON
    # report unless asked.
    graphs: dict[str, bytes] | None = field(default=None, compare=False)

    # Properties the JSON form carries beside the fields (kept for readers of older reports).
    DERIVED_JSON: typing.ClassVar[tuple[str, ...]] = ("unknown_shape_outputs",)

    @property
    def unknown_shape_outputs(self) -> dict[str, int] | None:
        """Outputs with a not fully defined static shape: {"pre": n, "post": n}."""
        if not self.shapes:
            return None
        return {side: table.unknown_outputs for side, table in self.shapes.items()}


@dataclass(frozen=True)
class ShapeDependentConstants:
    """Nodes constant with fixed input shapes but not with None dims (the same node names)."""

    # The mode with fixed shapes that was compared ("spec", else "tensor" or "numpy").
    fixed_mode: str
    # Constant in the fixed mode's pre-Grappler graph (folded while tracing), not in spec-dynamic's.
    pre: tuple[str, ...]
    # Constant after Grappler with fixed shapes, not with None dims.
    post: tuple[str, ...]


@dataclass(frozen=True)
class RequestStage:
    """One step of a request, in order, as the server saw it: its wall time."""

    # "queued", "waiting for a worker", "loading", "tracing spec", "timing spec", ...,
    # "sending the report", "decoding".
    stage: str
    ms: float


@dataclass(frozen=True)
class ExecutorInfo:
    """Where the inspection ran."""

    # "local" (this machine's pool) or "ray".
    kind: str
    # The host name (with Ray: host and the start of Ray's node id).
    node: str
    # The TensorFlow version of the worker that ran it.
    tensorflow: str | None = None


@dataclass(frozen=True)
class Report:
    """One inspection: a function, its calls, and a result per mode."""

    tensorflow: str | None
    error: ErrorInfo | None = None
    source: str | None = None
    function: str | None = None
    # The device the calls ran on, e.g. "/device:CPU:0".
    device: str | None = None
    # Every logical device the worker's TensorFlow saw.
    devices: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    # Grappler options the user overrode (empty: TensorFlow's defaults).
    grappler: dict[str, str] = field(default_factory=dict)
    results: tuple[ModeResult, ...] = ()
    shape_dependent_constants: ShapeDependentConstants | None = None
    # What the module printed while loading and the function printed while running.
    stdout: str = ""
    # The saved run's id (inspect --save, the app, history show); None when not saved.
    run_id: str | None = None
    # Where it ran (None in reports made before it was recorded, or before any worker took it).
    executor: ExecutorInfo | None = None
    # Where the request's wall time went, in order (the server's clock; empty in reports made
    # before it was recorded, and for jobs that did not run).
    request_stages: tuple[RequestStage, ...] = ()
    # Every TensorFlow version the request ran on, in order, when it ran on more than one
    # (``results`` then holds one entry per version and mode; ``tensorflow`` is the first's).
    versions: tuple[str, ...] = ()

    def result(self, mode: str, tensorflow: str | None = None) -> ModeResult | None:
        """The mode's result (of the given TensorFlow version; default: the first one)."""
        return next((r for r in self.results if r.mode == mode
                     and tensorflow in (None, r.tensorflow)), None)

    def for_version(self, tensorflow: str) -> Report:
        """The report as if the request had run on that version alone."""
        return dataclasses.replace(self, tensorflow=tensorflow, versions=(), results=tuple(
            r for r in self.results if r.tensorflow == tensorflow))

    @property
    def failed_modes(self) -> tuple[str, ...]:
        return tuple(r.mode for r in self.results if r.error is not None)

    def mode_errors(self) -> list[tuple[tuple[str, ...], ErrorInfo]]:
        """The modes' errors, each said once with the modes that raised it (in mode order):
        a function that fails the same way in every mode is one error, not seven. "The same
        way": the same type, line, frames and first line of the message (Keras then prints
        each mode's argument its own way; the first mode's whole message is kept). A run on
        several TensorFlow versions names each mode's version."""
        groups: dict[tuple[Any, ...], tuple[list[str], ErrorInfo]] = {}
        for result in self.results:
            error = result.error
            if error is not None:
                first = error.message.splitlines()[0] if error.message else ""
                key = (error.type, first, error.line, error.frames)
                label = f"{result.mode} (TF {result.tensorflow})" if self.versions else result.mode
                groups.setdefault(key, ([], error))[0].append(label)
        return [(tuple(modes), error) for modes, error in groups.values()]

    def to_dict(self, include_graphs: bool = False) -> dict[str, Any]:
        return to_data(self, include_graphs)

    def to_json(self, include_graphs: bool = False, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(include_graphs), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return _from_data(cls, data)

    @classmethod
    def from_json(cls, text: str) -> Report:
        return cls.from_dict(json.loads(text))


def to_data(value: Any, include_graphs: bool) -> Any:
    if isinstance(value, ErrorInfo):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            if f.name == "graphs" and not include_graphs:
                continue
            out[f.name] = to_data(getattr(value, f.name), include_graphs)
        for name in getattr(value, "DERIVED_JSON", ()):
            out[name] = to_data(getattr(value, name), include_graphs)
        return out
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: to_data(v, include_graphs) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_data(v, include_graphs) for v in value]
    return value


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    # Resolving string annotations compiles each one: uncached it was most of a report's
    # decoding time (16 ms for the seed example's seven modes).
    return typing.get_type_hints(cls)


# What a strict decoding accepts for each scalar type (bool is an int in Python: not here).
_SCALARS: dict[Any, tuple[type, ...]] = {bool: (bool,), int: (int,), float: (int, float),
                                         str: (str,)}


def _from_data(hint: Any, data: Any, strict: bool = False) -> Any:
    """``data`` (the JSON form) as ``hint``. ``strict``: a value of another type than the
    field's is WorkerCrashed naming it (data from a worker, which runs the user's code: a
    forged figure of the wrong type must not reach the store and break other pages)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if data is None else _from_data(options[0], data, strict)
    if data is None:
        if strict:
            raise WorkerCrashed(f"null where {_name(hint)} belongs")
        return None
    if hint is bytes:
        return base64.b64decode(data)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if strict and not isinstance(data, dict):
            raise WorkerCrashed(f"{type(data).__name__} where {hint.__name__} belongs")
        if hint is ErrorInfo and not strict:
            return ErrorInfo.from_dict(data)
        hints = _type_hints(hint)
        kwargs = {f.name: _from_data(hints[f.name], data[f.name], strict)
                  for f in dataclasses.fields(hint) if f.name in data and f.init}
        return hint(**kwargs)
    if origin is tuple:
        if strict and not isinstance(data, (list, tuple)):
            raise WorkerCrashed(f"{type(data).__name__} where {_name(hint)} belongs")
        items = typing.get_args(hint)
        if len(items) == 2 and items[1] is Ellipsis or not strict:
            return tuple(_from_data(items[0], v, strict) for v in data)
        if len(data) != len(items):
            raise WorkerCrashed(f"{len(data)} items where {_name(hint)} belongs")
        return tuple(_from_data(item, v, strict) for item, v in zip(items, data, strict=True))
    if origin is dict:
        _, value_hint = typing.get_args(hint)
        if strict and not (isinstance(data, dict) and all(isinstance(k, str) for k in data)):
            raise WorkerCrashed(f"{type(data).__name__} where {_name(hint)} belongs")
        return {k: _from_data(value_hint, v, strict) for k, v in data.items()}
    accepted = _SCALARS.get(hint)
    if strict and accepted is not None and (
            not isinstance(data, accepted) or (hint is not bool and isinstance(data, bool))):
        raise WorkerCrashed(f"{type(data).__name__} {str(data)[:40]!r} where {_name(hint)} "
                            "belongs")
    return data


def _name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint)


def mode_result_from_worker(data: Any) -> ModeResult:
    """A ModeResult a worker sent, every field of its type (WorkerCrashed when one is not)."""
    result: ModeResult = _from_data(ModeResult, data, strict=True)
    return result


def report_from_worker(data: Any) -> Report:
    """A Report a worker sent (its results read apart: see protocol.assemble), every field of
    its type (WorkerCrashed when one is not)."""
    report: Report = _from_data(Report, data, strict=True)
    return report


def merge_versions(runs: list[tuple[str, Report]]) -> Report:
    """The same request's reports from several TensorFlow versions as one: ``results`` per
    version, then mode, in the order given; the header is the first's. A version that could
    not run the request at all gives each mode that error, naming the version."""
    if len(runs) == 1:
        return runs[0][1]
    first = runs[0][1]
    results: list[ModeResult] = []
    for version, report in runs:
        if report.error is None:
            results += [dataclasses.replace(r, tensorflow=version) for r in report.results]
            continue
        error = dataclasses.replace(report.error,
                                    message=f"TensorFlow {version}: {report.error.message}")
        results += [ModeResult(mode, error=error, tensorflow=version)
                    for mode in report.modes or first.modes]
    all_failed = all(report.error is not None for _, report in runs)
    stages = tuple(dataclasses.replace(stage, stage=f"TF {version}: {stage.stage}")
                   for version, report in runs for stage in report.request_stages)
    return dataclasses.replace(first, tensorflow=runs[0][0],
                               error=first.error if all_failed else None,
                               results=tuple(results), versions=tuple(v for v, _ in runs),
                               request_stages=stages)
