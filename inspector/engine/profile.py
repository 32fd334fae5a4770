"""Where one call's time goes, from TensorFlow's own profiler: a few calls sampled apart from
the timed ones, their trace read into a breakdown (before the graph runs, the graph, the rest)
and per-op times of the graph that ran.

What the trace holds (TensorFlow 2.21, CPU): on the host's "python" line, one event per
tf.function call named after the function, holding ``tf.constant`` (a NumPy argument's
conversion, with its ``EagerLocalExecute: _EagerConst`` kernel) and ``EagerLocalExecute: __inference_...`` whose
``KernelAndDeviceFunc::Run`` is the graph's execution; on the ``tf_Compute`` threads, one
``node:Op`` event per kernel. The reading is pure (``breakdown_of``); only ``sample`` imports
TensorFlow, when called.
"""

from __future__ import annotations

import bisect
import dataclasses
import glob
import os
import pathlib
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from inspector.report import OpTime, TimeBreakdown

# Calls traced per mode: enough for a median, few enough that tracing stays short (0: none,
# for the benchmark that checks sampling leaves the timing alone).
SAMPLED_CALLS = int(os.environ.get("INSPECTOR_PROFILE_CALLS", "5"))
_GRAPH_CALL = "EagerLocalExecute: __inference_"
_GRAPH_RUN = "KernelAndDeviceFunc::Run"
_KERNEL_EXECUTE = "EagerKernelExecute"
# A NumPy argument's conversion inside the call: tf.constant's span (the array's copy
# included), or where that is not traced, its _EagerConst kernel.
_CONVERSION = ("tf.constant", "EagerLocalExecute: _EagerConst")
_EAGER_OP = "EagerLocalExecute: "


class Event(NamedTuple):
    """One traced event: the thread (line) it ran on, its name, start and length in µs.
    (A tuple: a trace has ~40,000 per 5 ResNet50 calls, and a frozen dataclass's were 0.1 s.)"""

    line: str
    name: str
    start_us: float
    duration_us: float

    @property
    def end_us(self) -> float:
        return self.start_us + self.duration_us

    def holds(self, other: Event) -> bool:
        return self.start_us <= other.start_us and other.end_us <= self.end_us + 0.001


def _calls(events: Sequence[Event], function: str) -> list[Event]:
    """The python line's events for the sampled calls: named after the function, outermost."""
    python = sorted((e for e in events if e.line == "python" and e.name == function),
                    key=lambda e: e.start_us)
    outer: list[Event] = []
    for event in python:
        if not outer or not outer[-1].holds(event):
            outer.append(event)
    return outer


def _kernel(name: str) -> tuple[str, str] | None:
    """``node:Op`` on a compute thread, as (node, op)."""
    if "::" in name:  # the executor's own spans (ExecutorState::Process), not kernels
        return None
    node, sep, op = name.rpartition(":")
    return (node, op) if sep and node and op and " " not in op else None


def _kernels(events: Sequence[Event]) -> list[tuple[float, float, tuple[str, str]]]:
    """Every kernel event as (start, duration, (node, op)), by start."""
    found = [(e.start_us, e.duration_us, kernel) for e in events
             if (kernel := _kernel(e.name)) is not None]
    found.sort(key=lambda k: k[0])
    return found


def breakdown_of(events: Sequence[Event], function: str, device: str, call_us: Sequence[float],
                 eager: bool = False) -> tuple[TimeBreakdown | None, tuple[OpTime, ...], str | None]:
    """The sampled calls' breakdown and time per op (means), or why there is none.

    ``call_us``: each sampled call's wall time as the caller measured it (used for eager calls,
    which have no single event of their own).
    """
    if eager:
        return _eager(events, device, call_us)
    calls = _calls(events, function)
    python = [e for e in events if e.line == "python"]
    kernels = _kernels(events)
    starts = [start for start, _, _ in kernels]
    parts: list[tuple[float, float, float, float]] = []
    per_node: dict[tuple[str, str], float] = defaultdict(float)
    for call in calls:
        inside = [e for e in python if call.holds(e)]
        # XLA's compiled functions have no graph run of their own: their kernel execution is.
        runs = ([e for e in inside if e.name == _GRAPH_RUN]
                or [e for e in inside if e.name == _KERNEL_EXECUTE])
        graph_calls = [e for e in inside if e.name.startswith(_GRAPH_CALL)]
        if not runs or not graph_calls:
            continue
        run = max(runs, key=lambda e: e.duration_us)  # the function's graph, not a conversion
        before = run.start_us - call.start_us
        conversion = next((total for total in (sum(e.duration_us for e in inside if e.name == name)
                                               for name in _CONVERSION) if total), 0.0)
        parts.append((call.duration_us, before, conversion, run.duration_us))
        for _, duration, kernel in kernels[bisect.bisect_left(starts, run.start_us):
                                           bisect.bisect_right(starts, run.end_us)]:
            per_node[kernel] += duration  # an XLA cluster: one python-line op
    if not parts:
        return None, (), ("the profiler's trace holds no run of this function's graph "
                          f"(events seen: {len(events)})")
    # Means, as for the ops: a call's kernels fit in its graph run, so their means fit in its.
    total, before, conversion, graph = (statistics.fmean(p[i] for p in parts) for i in range(4))
    breakdown = TimeBreakdown(samples=len(parts), call_us=total, before_graph_us=before,
                              conversion_us=conversion, graph_us=graph,
                              other_us=max(0.0, total - before - graph))
    ops = tuple(sorted((OpTime(node, op, device, us / len(parts))
                        for (node, op), us in per_node.items()),
                       key=lambda o: -o.mean_us))
    return breakdown, ops, None


def _eager(events: Sequence[Event], device: str, call_us: Sequence[float]
           ) -> tuple[TimeBreakdown | None, tuple[OpTime, ...], str | None]:
    """Eager calls run op by op: each op's ``EagerLocalExecute`` event, no graph."""
    per_op: dict[str, float] = defaultdict(float)
    for event in events:
        if event.line == "python" and event.name.startswith(_EAGER_OP):
            per_op[event.name[len(_EAGER_OP):]] += event.duration_us
    samples = len(call_us)
    if not samples:
        return None, (), "no call was sampled"
    total = statistics.fmean(call_us)
    breakdown = TimeBreakdown(samples=samples, call_us=total, before_graph_us=0.0,
                              conversion_us=0.0, graph_us=0.0, other_us=total,
                              note="eager: no graph; each op runs as its own call")
    ops = tuple(sorted((OpTime(f"(eager) {op}", op, device, us / samples)
                        for op, us in per_op.items()), key=lambda o: -o.mean_us))
    return breakdown, ops, None if ops else "the profiler's trace holds no eager op events"


def with_graph_ops(ops: Sequence[OpTime], graph_ops: dict[str, str]) -> tuple[OpTime, ...]:
    """Each op time with the post-Grappler graph's op for its node (``graph_ops``: node name to
    op), None where the node is not in that graph."""
    return tuple(dataclasses.replace(o, graph_op=graph_ops.get(o.node)) for o in ops)


def _trace_files(folder: str) -> list[str]:
    return sorted(glob.glob(os.path.join(folder, "**", "*.xplane.pb"), recursive=True))


def read_trace(folder: str) -> list[Event]:
    """Every event of the host plane in the profiler's ``.xplane.pb`` under ``folder``."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    events: list[Event] = []
    for path in _trace_files(folder):
        space = xplane_pb2.XSpace()
        with open(path, "rb") as handle:
            space.ParseFromString(handle.read())
        for plane in space.planes:
            names = plane.event_metadata
            for line in plane.lines:
                base_ps = line.timestamp_ns * 1000
                for event in line.events:
                    events.append(Event(line.name, names[event.metadata_id].name,
                                        (base_ps + event.offset_ps) / 1e6,
                                        event.duration_ps / 1e6))
    return events


@dataclass(frozen=True)
class Sampled:
    """What ``sample`` saw: the trace's events, each call's wall time in µs, and the trace as
    the profiler wrote it (an ``XSpace``, the ``.xplane.pb`` TensorBoard's profile plugin
    opens; empty when the profiler wrote none)."""

    events: list[Event]
    walls: list[float]
    xspace: bytes


def sample(call: Callable[[], Any], calls: int = SAMPLED_CALLS) -> Sampled:
    """Trace ``calls`` calls with TensorFlow's profiler (host tracer), in a private folder
    removed afterwards."""
    import tensorflow as tf

    folder = tempfile.mkdtemp(prefix="tf-profile-")
    walls: list[float] = []
    try:
        options = tf.profiler.experimental.ProfilerOptions(host_tracer_level=2,
                                                           python_tracer_level=0,
                                                           device_tracer_level=1)
        tf.profiler.experimental.start(folder, options=options)
        try:
            for _ in range(calls):
                start = time.perf_counter_ns()
                call()
                walls.append((time.perf_counter_ns() - start) / 1e3)
        finally:
            tf.profiler.experimental.stop()
        written = _trace_files(folder)
        return Sampled(read_trace(folder), walls,
                       pathlib.Path(written[0]).read_bytes() if written else b"")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def conversion_alone(arrays: Sequence[Any], repeats: int = 200) -> float | None:
    """Median µs of ``tf.convert_to_tensor`` on the call's NumPy arrays, all of them, timed on
    its own (None without NumPy arguments)."""
    import numpy as np
    import tensorflow as tf

    arrays = [a for a in arrays if isinstance(a, np.ndarray)]
    if not arrays:
        return None
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for array in arrays:
            tf.convert_to_tensor(array)
        times.append((time.perf_counter_ns() - start) / 1e3)
    return statistics.median(times)
