"""Per-stage times of the engine's own functions inside one process, mode spec: load, the
first call with its capture, the diff, the shape tables and 100 timed runs. argv: gallery
entries. Prints seconds per entry and stage as JSON (and `import tensorflow`'s time)."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from typing import Any

start = time.perf_counter()
import tensorflow  # noqa: E402,F401

IMPORT_S = time.perf_counter() - start

from inspector.engine import capture, functions, loader, shapes, timing  # noqa: E402
from inspector.graphs import diff  # noqa: E402
from inspector.inputs import gallery, sources  # noqa: E402
from inspector.inputs.calls import parse_calls  # noqa: E402


def stages(name: str, workdir: str) -> dict[str, float]:
    entry = gallery.get(name)
    row = {}
    start = time.perf_counter()
    f = loader.load_function(sources.read_source("gallery:" + name), entry.function,
                             workdir).function
    row["load"] = time.perf_counter() - start
    call = parse_calls(entry.calls)[0]
    fn: Any = functions.build_function(f, "spec", call)
    args = functions.make_arguments(call, "spec", 0)
    start = time.perf_counter()
    first = capture.capture_first_call(fn, args)
    row["trace+optimize+first call+capture"] = time.perf_counter() - start
    start = time.perf_counter()
    diff.diff_graphs(first.pre_graph, first.post_graph)
    row["diff"] = time.perf_counter() - start
    start = time.perf_counter()
    concrete = fn.get_concrete_function(*args)  # as the engine: the pre table from tracing
    reads = shapes.variable_read_shapes(concrete)
    shapes.shape_table(first.pre_graph, reads, shapes.traced_shapes(concrete))
    shapes.shape_table(first.post_graph, reads)
    row["shapes (pre+post)"] = time.perf_counter() - start
    start = time.perf_counter()
    timing.measure(lambda: fn(*args), first_call_us=0, runs=100, warmup=10)
    row["timing (100 runs)"] = time.perf_counter() - start
    return row


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="bench-src-") as folder:
        print(json.dumps({"import": IMPORT_S,
                          **{name: stages(name, folder) for name in sys.argv[1:]}}))
