"""Run a tf.function and record what TensorFlow did: its graphs before and after Grappler,
Grappler's per-pass log, and each call's tracing."""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow.python.eager import context
from tensorflow.python.grappler import tf_optimizer

from inspector.errors import ErrorInfo
from inspector.report import CallRecord
from inspector.specs import CallSpec, PythonArg

# The grappler item name the offline path logs under.
OFFLINE_ITEM = "graph_to_optimize"


@dataclass(frozen=True)
class FirstCall:
    """The first call of a fresh tf.function, with run metadata on."""

    pre_graph: Any  # GraphDef before Grappler
    post_graph: Any  # GraphDef after Grappler (what executes)
    first_call_us: float
    # The process's C-level stderr during the call (Grappler's pass log, when enabled).
    log: str
    # The grappler item (function) name of the traced function, e.g. "__inference_f_29".
    item: str | None


@contextmanager
def stderr_to_text() -> Iterator[list[str]]:
    """Capture file descriptor 2 (TensorFlow's C++ log) for the block; yields a one-item list.

    What was captured is written on to the real stderr afterwards, so the job's log keeps it.
    """
    out: list[str] = [""]
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured = sink.read()
            rest = memoryview(captured)
            while rest:
                rest = rest[os.write(2, rest):]
            out[0] = captured.decode("utf-8", "replace")


def _is_conversion(graph_def: Any) -> bool:
    return any(n.op == "_EagerConst" for n in graph_def.node)


def _call_with_metadata(fn: Callable[..., Any], args: list[Any]) -> Any:
    """Call once with run metadata on; the function's own graphs entry, or None if none."""
    context.export_run_metadata()  # drain anything older
    context.enable_run_metadata()
    try:
        fn(*args)
        metadata = context.export_run_metadata()
    finally:
        context.disable_run_metadata()
    graphs = [g for g in metadata.function_graphs if not _is_conversion(g.pre_optimization_graph)]
    return max(graphs, key=lambda g: len(g.pre_optimization_graph.node)) if graphs else None


def capture_first_call(fn: Callable[..., Any], args: list[Any]) -> FirstCall:
    """Call a fresh tf.function once with run metadata on and pick its own graphs.

    NumPy arguments add a conversion graph (an ``_EagerConst`` node); it is left out, and the
    function is the remaining entry with the most pre-Grappler nodes.
    """
    with stderr_to_text() as log:
        start = time.perf_counter_ns()
        chosen = _call_with_metadata(fn, args)
        elapsed_us = (time.perf_counter_ns() - start) / 1e3
    if chosen is None:
        raise RuntimeError("TensorFlow recorded no graph for the first call")
    items = re.findall(r"Starting optimization for grappler item: (\S+)", log[0])
    name = getattr(getattr(fn, "python_function", None), "__name__", "")
    own = [i for i in items if i.startswith(f"__inference_{name}_")]
    return FirstCall(chosen.pre_optimization_graph, chosen.post_optimization_graph, elapsed_us,
                     log[0], own[0] if own else None)


def recompile_post_nodes(fn: Callable[..., Any], args: list[Any]) -> int | None:
    """Node count of the graph that executes after Grappler options changed (no retrace)."""
    chosen = _call_with_metadata(fn, args)
    return None if chosen is None else len(chosen.post_optimization_graph.node)


def offline_graphs(fn: Any, args: list[Any], device: str) -> tuple[Any, Any, str]:
    """Pre and post graphs through Grappler by hand, for functions that record no run metadata
    (``jit_compile=True``). Boundary ops are Placeholder/Identity, not _Arg/_Retval."""
    concrete = fn.get_concrete_function(*args)
    pre = concrete.graph.as_graph_def()
    for node in pre.node:
        node.device = device  # the remapper fuses nothing on unplaced nodes
    meta_graph = meta_graph_pb2.MetaGraphDef()
    meta_graph.graph_def.CopyFrom(pre)
    keep = [t.op.name for t in concrete.inputs] + [t.op.name for t in concrete.outputs]
    meta_graph.collection_def["train_op"].node_list.value.extend(keep)
    with stderr_to_text() as log:
        post = tf_optimizer.OptimizeGraph(context.context().config, meta_graph)
    return pre, post, log[0]


def format_signature(concrete: Any) -> str:
    """A concrete function's inputs in call-spec grammar, None for unknown dims."""
    args, kwargs = concrete.structured_input_signature
    parts = []
    for spec in list(args) + list(kwargs.values()):
        if isinstance(spec, tf.TensorSpec):
            if spec.shape.rank is None:
                dims = "<unknown rank>"
            else:
                dims = ",".join("None" if d is None else str(d) for d in spec.shape.as_list())
            parts.append(f"{spec.dtype.name}[{dims}]")
        else:
            parts.append(repr(spec))
    return "; ".join(parts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.split(" Received args:")[0]  # TensorFlow appends the full argument values


def _explain_retrace(call: CallSpec, params: tuple[str, ...], earlier: list[tuple[int, str]],
                     signature: str | None) -> str:
    """Why a call traced: which argument matched no earlier trace, against the latest one."""
    if not earlier:
        return "first call: nothing was traced yet"
    traced_at, latest = earlier[-1]
    latest_parts = [p.strip() for p in latest.split(";")]
    reasons = []
    for position, arg in enumerate(call.args):
        name = params[position] if position < len(params) else f"arg{position}"
        before = latest_parts[position] if position < len(latest_parts) else "?"
        if isinstance(arg, PythonArg):
            if repr(arg.value) != before:
                reasons.append(f"{name}: Python value {arg.value!r} is part of the trace key "
                               f"and differs from {before} (call {traced_at})")
        elif not before.startswith(arg.dtype + "["):
            reasons.append(f"{name}: dtype {arg.dtype} differs from {before} (call {traced_at})")
        elif str(arg) != before and "None" not in before:
            reasons.append(f"{name}: shape {str(arg)[len(arg.dtype):]} differs from {before} "
                           f"(call {traced_at})")
        elif "None" in before or "unknown" in before:
            reasons.append(f"{name}: {arg} has a rank {before} does not admit")
    text = "; ".join(reasons) or f"its arguments matched no earlier trace (latest: {latest})"
    if signature and signature != str(call) and ("None" in signature or "unknown" in signature):
        text += f"; TensorFlow generalized the new trace to {signature}"
    return text


def record_call(fn: Any, args: list[Any], call: CallSpec, params: tuple[str, ...],
                earlier: list[tuple[int, str]], number: int,
                count_before: int | None = None) -> CallRecord:
    """Make one call and say whether it traced, and why; ``earlier`` grows with each new trace.

    With ``count_before`` given, the call was already made (the capture's first call) and that
    was the tracing count before it.
    """
    if not hasattr(fn, "experimental_get_tracing_count"):  # eager
        error = None
        try:
            fn(*args)
        except Exception as exc:
            error = ErrorInfo(type(exc).__name__, _first_line(exc))
        return CallRecord(str(call), False, "eager: nothing is traced", None, error)
    error = None
    if count_before is None:
        count_before = fn.experimental_get_tracing_count()
        try:
            fn(*args)
        except Exception as exc:
            error = ErrorInfo(type(exc).__name__, _first_line(exc))
    traced = fn.experimental_get_tracing_count() > count_before
    if error is not None:
        return CallRecord(str(call), traced, f"TensorFlow refused the call: {error.message}",
                          None, error)
    signature = format_signature(fn.get_concrete_function(*args))
    if traced:
        reason = _explain_retrace(call, params, earlier, signature)
        earlier.append((number, signature))
        return CallRecord(str(call), True, reason, signature)
    served_by = next((n for n, s in earlier if s == signature), None)
    where = f" traced at call {served_by}" if served_by else ""
    return CallRecord(str(call), False, f"matches the signature {signature}{where}", signature)
