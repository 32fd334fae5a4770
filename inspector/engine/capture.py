"""Capture what Grappler did to a tf.function: its graphs before and after Grappler (run
metadata of the first call, or an offline Grappler run) and Grappler's per-pass log."""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow.python.eager import context
from tensorflow.python.grappler import tf_optimizer

from inspector.engine import tf_log
from inspector.errors import CaptureError
from inspector.graphs import passes

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
    # The graph after each pass of the item's Grappler runs (None: dumps are off).
    passes: passes.ComparedPasses | None = None
    # The graphs the runtime executed (run metadata's partition graphs, one per device).
    partitions: tuple[Any, ...] = ()


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


def _traced_names(fn: Callable[..., Any], args: list[Any]) -> set[str]:
    """The op names of the concrete function the call used (already traced: no retrace)."""
    try:
        concrete = fn.get_concrete_function(*args)  # type: ignore[attr-defined]
        return {op.name for op in concrete.graph.get_operations()}
    except Exception:  # not a tf.function, or one TensorFlow will not hand out concretely
        return set()


def _call_with_metadata(fn: Callable[..., Any], args: list[Any]) -> Any:
    """Call once with run metadata on; the function's own graphs entry, or None if none.

    The entry is the one whose nodes are the traced function's ops; a first call can run
    other functions too (a Keras model built on its first call runs its variables'
    initializers, a bigger graph), and without names to match, the biggest entry is taken."""
    context.export_run_metadata()  # drain anything older
    context.enable_run_metadata()
    try:
        fn(*args)
        metadata = context.export_run_metadata()
    finally:
        context.disable_run_metadata()
    graphs = [g for g in metadata.function_graphs if not _is_conversion(g.pre_optimization_graph)]
    if not graphs:
        return None
    traced = _traced_names(fn, args)
    return max(graphs, key=lambda g: (len(traced & {n.name for n in g.pre_optimization_graph.node}),
                                      len(g.pre_optimization_graph.node)))


def capture_first_call(fn: Callable[..., Any], args: list[Any], dumps: bool = True) -> FirstCall:
    """Call a fresh tf.function once with run metadata on and pick its own graphs.

    NumPy arguments add a conversion graph (an ``_EagerConst`` node); it is left out, and the
    function is the remaining entry with the most pre-Grappler nodes.
    """
    with _dumps(dumps) as folder:
        with stderr_to_text() as log:
            start = time.perf_counter_ns()
            chosen = _call_with_metadata(fn, args)
            elapsed_us = (time.perf_counter_ns() - start) / 1e3
        if chosen is None:
            raise CaptureError("TensorFlow recorded no graph for the first call")
        items = re.findall(r"Starting optimization for grappler item: (\S+)", log[0])
        name = getattr(getattr(fn, "python_function", None), "__name__", "")
        own = [i for i in items if i.startswith(f"__inference_{name}_")]
        item = own[0] if own else None
        compared = _compare(log[0], item, folder, chosen.pre_optimization_graph)
    return FirstCall(chosen.pre_optimization_graph, chosen.post_optimization_graph, elapsed_us,
                     log[0], item, compared, tuple(chosen.partition_graphs))


def _dumps(wanted: bool = True):
    """The capture's own dump folder, when asked for and this TensorFlow dumps each pass."""
    return tf_log.pass_dumps() if wanted and tf_log.dumps_enabled() else nullcontext(None)


def _compare(log: str, item: str | None, folder: str | None,
             pre: Any = None) -> passes.ComparedPasses | None:
    """The item's per-pass graphs, read from the folder the log says they went to."""
    if folder is None or item is None:
        return None
    dumps = [d for d in passes.dumps_in_log(log) if Path(d.path).parent == Path(folder)]
    compared = passes.compare_passes(dumps, item, lambda path: Path(path).read_text("utf-8"), pre)
    if not compared.passes:
        return dataclasses.replace(compared, skipped=passes.skipped_reason(log))
    return compared


def recompile_post_nodes(fn: Callable[..., Any], args: list[Any]) -> int | None:
    """Node count of the graph that executes after Grappler options changed (no retrace)."""
    chosen = _call_with_metadata(fn, args)
    return None if chosen is None else len(chosen.post_optimization_graph.node)


def offline_graphs(fn: Any, args: list[Any], device: str, dumps: bool = True
                   ) -> tuple[Any, Any, str, passes.ComparedPasses | None]:
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
    with _dumps(dumps) as folder:
        with stderr_to_text() as log:
            post = tf_optimizer.OptimizeGraph(context.context().config, meta_graph)
        compared = _compare(log[0], OFFLINE_ITEM, folder)
    return pre, post, log[0], compared
