"""Benchmarks: per-stage engine times, the inspector against raw TensorFlow, worker latency.

Prints a Markdown table per part; figures are ratios or medians measured in this run.
Usage: .venv/bin/python bench/run.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
SEEDS = ("process_data", "process_data_spec", "process_variable_data")

# Raw TensorFlow doing what `inspect --mode all --runs 100` captures, in one process.
RAW_SCRIPT = textwrap.dedent('''
    import sys, time
    import numpy as np
    import tensorflow as tf
    from tensorflow.python.eager import context
    from inspector import gallery, sources
    entry = gallery.get(sys.argv[1])
    fn = sources.load_function(sources.read_source("gallery:" + entry.name), entry.function).function
    shape = [int(d) for d in entry.calls[0].split("[")[1].rstrip("]").split(",")]
    x = np.ones(shape, np.float32)
    builds = [lambda f: f, tf.function, tf.function,
              lambda f: tf.function(f, input_signature=[tf.TensorSpec(shape)]),
              lambda f: tf.function(f, input_signature=[tf.TensorSpec([None] * len(shape))]),
              lambda f: tf.function(f, reduce_retracing=True),
              lambda f: tf.function(f, jit_compile=True)]
    for mode, build in enumerate(builds):
        g = build(fn)
        arg = x if mode in (1, 5) else tf.constant(x)
        context.enable_run_metadata()
        g(arg)
        md = context.export_run_metadata()
        context.disable_run_metadata()
        for _ in range(110):
            g(arg)
    import os
    os._exit(0)  # as the worker does: skip TensorFlow's teardown
''')


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def stages(names: tuple[str, ...]) -> None:
    """Per-stage times inside one process, the engine's own functions, mode spec."""
    code = textwrap.dedent('''
        import json, sys, time
        t = time.perf_counter(); import tensorflow as tf; t_import = time.perf_counter() - t
        from inspector import capture, diff, gallery, modes, shapes, sources, timing
        from inspector.specs import parse_calls
        out = {"import": t_import}
        for name in sys.argv[1:]:
            e = gallery.get(name); row = {}
            t = time.perf_counter()
            f = sources.load_function(sources.read_source("gallery:" + name), e.function).function
            row["load"] = time.perf_counter() - t
            call = parse_calls(e.calls)[0]
            fn = modes.build_function(f, "spec", call); args = modes.make_arguments(call, "spec", 0)
            t = time.perf_counter(); first = capture.capture_first_call(fn, args)
            row["trace+optimize+first call+capture"] = time.perf_counter() - t
            t = time.perf_counter(); diff.diff_graphs(first.pre_graph, first.post_graph)
            row["diff"] = time.perf_counter() - t
            t = time.perf_counter(); shapes.shape_table(first.pre_graph); shapes.shape_table(first.post_graph)
            row["shapes (pre+post)"] = time.perf_counter() - t
            t = time.perf_counter()
            timing.measure(lambda: fn(*args), first_call_us=0, runs=100, warmup=10)
            row["timing (100 runs)"] = time.perf_counter() - t
            out[name] = row
        print(json.dumps(out))
    ''')
    done = subprocess.run([PY, "-c", code, *names], cwd=ROOT, check=True, capture_output=True,
                          text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    import json

    data = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\n### Engine stages (mode spec, seconds; `import tensorflow`: {data['import']:.2f} s)\n")
    cols = list(next(v for k, v in data.items() if k != "import"))
    print("| entry | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name in names:
        print(f"| {name} | " + " | ".join(f"{data[name][c]:.3f}" for c in cols) + " |")


def versus_raw(names: tuple[str, ...], repeats: int) -> None:
    print("\n### `inspect --mode all --runs 100` vs raw TensorFlow doing the same captures\n")
    print("| entry | inspector (s) | raw TF (s) | ratio |")
    print("|---|---|---|---|")
    for name in names:
        ours = statistics.median(wall([PY, "-m", "inspector", "inspect", f"gallery:{name}",
                                       "--runs", "100", "--json", os.devnull])
                                 for _ in range(repeats))
        raw = statistics.median(wall([PY, "-c", RAW_SCRIPT, name]) for _ in range(repeats))
        print(f"| {name} | {ours:.2f} | {raw:.2f} | {ours / raw:.2f}x |")


def executor_latency(repeats: int) -> None:
    from inspector import gallery
    from inspector.executor import LocalExecutor
    from inspector.request import prepare
    from inspector.sources import read_source

    print("\n### Worker pool: request to report (all modes, 100 timed runs each)\n")
    request = prepare(read_source("gallery:process_data"), runs=100)
    start = time.perf_counter()
    with LocalExecutor(workers=1) as pool:
        pool.submit(request).result()
        cold = time.perf_counter() - start
    print(f"cold first request (worker start + TensorFlow import included): {cold:.2f} s\n")
    print("| entry | warm median (ms) | min (ms) | max (ms) |")
    print("|---|---|---|---|")
    with LocalExecutor(workers=1) as pool:
        for name in SEEDS:
            request = prepare(read_source(f"gallery:{name}"), runs=100)
            times = []
            for _ in range(repeats):
                pool.wait_warm()
                start = time.perf_counter()
                pool.submit(request).result()
                times.append((time.perf_counter() - start) * 1e3)
            print(f"| {name} | {statistics.median(times):.0f} | {min(times):.0f} | "
                  f"{max(times):.0f} |")
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak RSS: parent (no TensorFlow) {parent:.0f} MB; largest worker {worker:.0f} MB"
          f" ({'tensorflow' in sys.modules and 'parent imported TF!' or 'parent never imported TensorFlow'})")
    del gallery


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="seed examples only, fewer repeats")
    args = parser.parse_args()
    names = SEEDS if args.quick else (*SEEDS, "resnet50")
    stages(names)
    versus_raw(SEEDS, 1 if args.quick else 3)
    executor_latency(3 if args.quick else 10)


if __name__ == "__main__":
    main()
