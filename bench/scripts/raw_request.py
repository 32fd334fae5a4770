"""Raw TensorFlow doing all the work one inspection's report needs, in one process: the fair
baseline for the inspector's ratios (issue 24).

Per mode: a fresh tf.function; its first call with run metadata on (the graphs before and
after Grappler) while Grappler logs and dumps the graph after every pass, the log going to a
file; the log and every dump read back (read, not parsed: the floor of that step); 10 warm-up
and 100 timed calls (argv[4]); 5 calls under TensorFlow's profiler (host tracer), its trace
read back; for NumPy arguments the conversion timed alone (200 times); each later call the
entry lists. XLA records no run metadata: its graph goes through Grappler by hand (with the
same log and dumps), and its HLO before and after optimization is read. What it leaves to the
inspector is the judgement: diffs, shape tables, source lines, patterns and the report.

The source is loaded and the arguments built by the inspector's own helpers, so both sides
call the same function on the same values.

argv: entry, modes (comma-separated), repeats[, timed runs, 100 by default]. repeats 0 runs
once in a new process (the CLI comparison); N > 0 warms up as a worker does and prints N wall
times in ms as JSON.
"""

from __future__ import annotations

import os

# Before TensorFlow's import, as the worker sets them (engine/tf_log.py).
os.environ.update({"TF_CPP_MIN_LOG_LEVEL": "0", "TF_CPP_VMODULE": "meta_optimizer=4",
                   "TF_DUMP_GRAPH_PREFIX": "/dev/null/no-dumps"})

import gc  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.eager import context  # noqa: E402

from inspector.engine import functions, inspection, loader  # noqa: E402
from inspector.inputs import gallery, sources  # noqa: E402
from inspector.inputs.calls import parse_calls  # noqa: E402


def with_log(call: Callable[[], Any]) -> str:
    """Run ``call`` with file descriptor 2 (TensorFlow's C++ log) sent to a file; the text."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            call()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        return log.read().decode(errors="replace")


def with_dumps(call: Callable[[], list[Any]]) -> int:
    """Run ``call`` while Grappler dumps the graph after every pass into a private folder and
    logs to a file; read the log and every dump back. How many graphs were read."""
    folder = tempfile.mkdtemp(prefix="raw-passes-")
    os.environ["TF_DUMP_GRAPH_PREFIX"] = folder
    graphs: list[Any] = []
    try:
        log = with_log(lambda: graphs.extend(call()))
        assert "grappler item" in log, "Grappler logged nothing"
        # Read back, not parsed: the floor of this step (a full text_format parse of
        # ResNet50's ~30 dumps of 1-2 MB each takes seconds; the inspector reads only what
        # it needs from them).
        for dump in sorted(Path(folder).glob("*.pbtxt")):
            graphs.append(dump.read_bytes().count(b"\nnode {"))
        return len(graphs)
    finally:
        os.environ["TF_DUMP_GRAPH_PREFIX"] = "/dev/null/no-dumps"
        shutil.rmtree(folder, ignore_errors=True)


def first_call(fn: Any, args: list[Any]) -> list[Any]:
    """The first call with run metadata on: every function's graphs before and after."""
    context.export_run_metadata()
    context.enable_run_metadata()
    try:
        fn(*args)
        metadata = context.export_run_metadata()
    finally:
        context.disable_run_metadata()
    return [g for f in metadata.function_graphs
            for g in (f.pre_optimization_graph, f.post_optimization_graph)]


def offline_grappler(fn: Any, args: list[Any]) -> list[Any]:
    """For XLA, which records no run metadata: its graph through Grappler by hand."""
    from tensorflow.core.protobuf import meta_graph_pb2
    from tensorflow.python.grappler import tf_optimizer

    concrete = fn.get_concrete_function(*args)
    meta_graph = meta_graph_pb2.MetaGraphDef()
    meta_graph.graph_def.CopyFrom(concrete.graph.as_graph_def())
    keep = [t.op.name for t in concrete.inputs] + [t.op.name for t in concrete.outputs]
    meta_graph.collection_def["train_op"].node_list.value.extend(keep)
    return [meta_graph.graph_def,
            tf_optimizer.OptimizeGraph(context.context().config, meta_graph)]


def profiled_calls(fn: Any, args: list[Any], calls: int = 5) -> int:
    """``calls`` calls under the profiler, as the engine samples them; events read back."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    folder = tempfile.mkdtemp(prefix="raw-profile-")
    try:
        options = tf.profiler.experimental.ProfilerOptions(
            host_tracer_level=2, python_tracer_level=0, device_tracer_level=1)
        tf.profiler.experimental.start(folder, options=options)
        try:
            for _ in range(calls):
                fn(*args)
        finally:
            tf.profiler.experimental.stop()
        events = 0
        for trace in Path(folder).rglob("*.xplane.pb"):
            space = xplane_pb2.XSpace.FromString(trace.read_bytes())
            events += sum(len(line.events) for plane in space.planes for line in plane.lines)
        return events
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def one_mode(function: Any, mode: str, calls: Sequence[Any], runs: int) -> None:
    fn: Any = functions.build_function(function, mode, calls[0])
    args = functions.make_arguments(calls[0], mode, 0)
    if mode == "eager":
        fn(*args)
    elif mode == "xla":
        fn(*args)
        with_dumps(lambda: offline_grappler(fn, args))
    else:
        with_dumps(lambda: first_call(fn, args))
    for _ in range(10 + runs):
        fn(*args)
    profiled_calls(fn, args)
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if arrays:
        for _ in range(200):
            [tf.convert_to_tensor(a) for a in arrays]
    for number, call in enumerate(calls[1:], 1):
        try:  # as the inspector records a later call that fails (a fixed signature's misfit)
            fn(*functions.make_arguments(call, mode, number))
        except Exception:  # noqa: BLE001
            pass
    if mode == "xla":
        ir = fn.experimental_get_compiler_ir(*args)
        ir(stage="hlo"), ir(stage="optimized_hlo")


def one_request(entry: gallery.GalleryEntry, modes: list[str], number: int, runs: int) -> None:
    # Loaded anew each time as a worker does. AutoGraph caches conversions by code object and
    # a worker, a new process, always converts; code objects compare equal across file names
    # but not across line numbers, so each request's code starts lower.
    source = sources.read_source("gallery:" + entry.name)
    source = sources.Source("\n" * number + source.text, source.filename)
    with tempfile.TemporaryDirectory(prefix="bench-src-") as workdir:  # as the worker's run
        function = loader.load_function(source, entry.function, workdir).function
        calls = parse_calls(entry.calls)
        for mode in modes:
            one_mode(function, mode, calls, runs)


def main() -> None:
    entry = gallery.get(sys.argv[1])
    modes, repeats = sys.argv[2].split(","), int(sys.argv[3])
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    if repeats == 0:
        one_request(entry, modes, 0, runs)
    else:
        inspection.warm_up()
        gc.freeze()  # as the worker does before it says ready
        times = []
        for number in range(repeats):
            start = time.perf_counter()
            one_request(entry, modes, number, runs)
            times.append((time.perf_counter() - start) * 1e3)
        print(json.dumps(times))
    sys.stdout.flush()
    os._exit(0)  # as the worker does: skip TensorFlow's teardown


if __name__ == "__main__":
    main()
