"""Where one call's time goes: the profiler's trace read into a breakdown and per-op times.
Pure tests on made-up events first; then TensorFlow's own trace of real calls."""

from __future__ import annotations

import pytest

from inspector.engine.profile import Event, breakdown_of


def call(start: float, conversion: float, graph_start: float, graph: float, end: float,
         kernels: list[tuple[str, float, float]]) -> list[Event]:
    events = [Event("python", "f", start, end - start),
              Event("python", "EagerLocalExecute: _EagerConst", start + 10, conversion),
              Event("python", "EagerLocalExecute: __inference_f_9", graph_start - 5, graph + 10),
              Event("python", "KernelAndDeviceFunc::Run", graph_start, graph)]
    events += [Event("tf_Compute/1", "ExecutorState::Process", graph_start, graph)]
    events += [Event("tf_Compute/1", name, at, length) for name, at, length in kernels]
    return events


def test_a_call_splits_into_before_the_graph_the_graph_and_after():
    events = (call(0, 40, 100, 500, 650, [("mm:MatMul", 110, 300), ("mean:Mean", 420, 50)])
              + call(1000, 60, 1120, 700, 1850, [("mm:MatMul", 1130, 500), ("mean:Mean", 1640, 70)])
              + call(2000, 50, 2110, 600, 2750, [("mm:MatMul", 2120, 400), ("mean:Mean", 2530, 60)])
              + [Event("tf_Compute/1", "stray:Add", 5000, 99)])  # outside every graph run
    parts, ops, note = breakdown_of(events, "f", "/device:CPU:0", [700, 900, 800])
    assert note is None and parts.samples == 3
    assert (parts.call_us, parts.before_graph_us, parts.conversion_us, parts.graph_us,
            parts.other_us) == (750, 110, 50, 600, 40)
    assert [(o.node, o.op, o.mean_us) for o in ops] == [("mm", "MatMul", 400),
                                                        ("mean", "Mean", 60)]


def test_no_graph_run_in_the_trace_says_so():
    parts, ops, note = breakdown_of([Event("python", "g", 0, 10)], "f", "/device:CPU:0", [10])
    assert parts is None and ops == () and "holds no run of this function's graph" in note


def test_eager_calls_are_timed_op_by_op():
    events = [Event("python", "EagerLocalExecute: Square", 0, 30),
              Event("python", "EagerLocalExecute: Square", 100, 50)]
    parts, ops, note = breakdown_of(events, "f", "/device:CPU:0", [60, 80], eager=True)
    assert parts.graph_us == 0 and "eager" in parts.note
    assert [(o.op, o.mean_us) for o in ops] == [("Square", 40)]


GUIDE = """import numpy as np
import tensorflow as tf

def simple_function(input_arg):
    # The Grappler guide's constant-folding example with 4 MatMuls instead of 50, each still
    # over 10 MB (1700x1700): below that, the runtime folds the constants itself after Grappler
    # and no MatMul runs at all.
    a = tf.constant(np.random.RandomState(0).randn(1700, 1700), dtype=tf.float32)
    c = a
    for n in range(4):
        c = c @ a
    return tf.reduce_mean(c + input_arg)
"""


@pytest.mark.tf
def test_matmuls_take_the_graph_time_of_the_guides_example_without_folding():
    from inspector.engine import inspection
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import Source

    report = inspection.run(prepare(Source(GUIDE, "guide.py"), calls=["float32[1700,1700]"],
                                    modes=["spec", "numpy"], grappler=["constant_folding=off"], passes=False,
                                    runs=3, warmup=1))
    for result in report.results:
        assert result.error is None, result.error
        parts = result.timing.breakdown
        assert parts is not None and parts.samples >= 3, result.op_times_note
        # The graph's four MatMul nodes, each timed under the kernel that ran: MatMul, or on a
        # CPU with oneDNN kernels (TF_ENABLE_ONEDNN_OPTS=1) the _MklMatMul swapped in after
        # Grappler.
        matmuls = [o for o in result.op_times if o.graph_op == "MatMul"]
        assert len(matmuls) == 4, [(o.node, o.op, o.graph_op) for o in result.op_times]
        assert {o.op for o in matmuls} <= {"MatMul", "_MklMatMul"}
        assert all(o.label == ("MatMul" if o.op == "MatMul" else "MatMul (ran as _MklMatMul)")
                   for o in matmuls)
        matmul = sum(o.mean_us for o in matmuls)
        assert matmul >= 0.9 * parts.graph_us, (matmul, parts.graph_us)
        assert sum(o.mean_us for o in result.op_times) <= parts.graph_us * 1.001
        assert parts.graph_us <= parts.call_us
    numpy = report.result("numpy").timing.breakdown
    assert numpy.conversion_us > 0 and numpy.convert_alone_us > 0
    assert report.result("spec").timing.breakdown.conversion_us == 0
    # Over 10 MB the runtime does not fold them: they ran, so none is marked folded.
    assert not {o.node for o in report.result("spec").op_times} & set(
        report.result("spec").executed.runtime_folded)


SMALL = GUIDE.replace("1700, 1700", "300, 300")


@pytest.mark.tf
def test_the_runtime_folds_the_guides_matmuls_below_10_mb_and_the_report_marks_them(tmp_path):
    """The Grappler guide's example at 300x300 with constant_folding off: Grappler leaves the
    MatMuls, the runtime folds them when it instantiates the graph. TensorFlow's profiler,
    asked directly, sees no MatMul kernel run; the report marks the four as folded by the
    runtime, the executed picture colours them as folds, and the trace export holds the run."""
    from inspector.engine import inspection, loader
    from inspector.engine.profile import read_trace
    from inspector.graphs import protos
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import Source
    from inspector.output import files, tables

    report = inspection.run(prepare(Source(SMALL, "guide.py"), calls=["float32[300,300]"],
                                    modes=["spec"], grappler=["constant_folding=off"],
                                    passes=False, runs=3, warmup=1, include_graphs=True))
    result = report.result("spec")
    assert result.error is None, result.error
    matmuls = {n.name for n in protos.parse(result.graphs["post"]).node if n.op == "MatMul"}
    assert len(matmuls) == 4, "Grappler's constant folding is off: the MatMuls stay"

    import tensorflow as tf

    loaded = loader.load_function(Source(SMALL, "guide.py"), "simple_function", str(tmp_path))
    fn = tf.function(loaded.function, input_signature=[tf.TensorSpec([300, 300], tf.float32)])
    x = tf.ones([300, 300])
    with inspection.grappler_options({"constant_folding": False}):
        fn(x)
        trace = tmp_path / "trace"
        tf.profiler.experimental.start(str(trace))
        for _ in range(3):
            fn(x)
        tf.profiler.experimental.stop()
    kernels = [e.name for e in read_trace(str(trace)) if e.line.startswith("tf_Compute")]
    assert any(name.endswith(":Mean") for name in kernels), kernels  # the graph ran
    assert not any("MatMul" in name for name in kernels), kernels

    assert matmuls <= set(result.executed.runtime_folded)
    assert matmuls <= set(protos.executed_graphs(result).diff.folded)
    rows = tables.runtime_rewrites(report, "spec")
    folded = [r for r in rows if r["kind"] == "folded by the runtime"]
    assert folded and folded[0]["count"] == len(result.executed.runtime_folded)
    # A folded node ran no kernel: with oneDNN on, its MatMul -> _MklMatMul is no swap.
    assert not [r for r in rows if r["kind"] == "kernel swapped" and "MatMul" in r["pattern"]]
    # ... and its line says what became of its nodes.
    line = next(line for line in result.lines if "c @ a" in line.text)
    assert line.changes["runtime_folded"] == 4
    assert "4 folded by the runtime" in tables.changes_text(line.changes)
    assert tables.line_status(line.changes) == "folded"

    written = files.write_tensorboard(report, tmp_path / "logs")
    xplane = tmp_path / "logs" / "plugins" / "profile" / "spec" / "worker.xplane.pb"
    assert xplane in written
    exported = read_trace(str(xplane.parent))
    assert any(e.name.endswith(":Mean") for e in exported), "the profiled calls' kernels"


def test_the_breakdown_and_op_times_are_in_the_json_report():
    from inspector.report import ModeResult, OpTime, Report, TimeBreakdown, Timing

    parts = TimeBreakdown(5, 900.0, 500.0, 40.0, 300.0, 100.0, 25.0)
    timing = Timing(10, 1, 800.0, 700.0, 900.0, 810.0, 20.0, 650.0, 9000.0, (800.0,),
                    breakdown=parts)
    result = ModeResult("numpy", timing=timing,
                        op_times=(OpTime("square", "Square", "/device:CPU:0", 5.0),
                                  OpTime("mm", "_MklMatMul", "/device:CPU:0", 9.0, "MatMul")))
    data = Report(tensorflow="2.21.0", results=(result,)).to_dict()
    mode = data["results"][0]
    assert mode["timing"]["breakdown"]["graph_us"] == 300.0
    assert mode["timing"]["breakdown"]["samples"] == 5
    assert mode["op_times"] == [{"node": "square", "op": "Square", "device": "/device:CPU:0",
                                 "mean_us": 5.0, "graph_op": None},
                                {"node": "mm", "op": "_MklMatMul", "device": "/device:CPU:0",
                                 "mean_us": 9.0, "graph_op": "MatMul"}]
    assert Report.from_dict(data).results[0] == result
