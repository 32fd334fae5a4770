"""From code to what runs (issue 25): each node's line and the graph that executed, against
TensorFlow asked directly in this process (``op.traceback`` and run metadata's partition
graphs), with oneDNN's kernels on or off (the suite runs both)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.tf

tf = pytest.importorskip("tensorflow")
from tensorflow.python.eager import context  # noqa: E402

from inspector.engine import inspection, loader  # noqa: E402
from inspector.inputs import sources  # noqa: E402
from inspector.inputs.request import prepare  # noqa: E402
from inspector.output.text import format_lines  # noqa: E402

SOURCES = Path(os.environ["INSPECTOR_DATA"]) / "lines-sources"
SOURCES.mkdir(parents=True, exist_ok=True)

CODE = """import tensorflow as tf

def helper(x):
    y = tf.matmul(x, x)
    return tf.nn.relu(tf.nn.bias_add(y, tf.ones([4])))

def f(x):
    a = helper(x)
    b = helper(a)
    if tf.reduce_sum(x) > 0:
        c = b * 2.0
    else:
        c = b - 1.0
    return c + tf.constant(3.0) * tf.constant(4.0)
"""
SOURCE = sources.Source(CODE, "pasted.py")
_report = []


def report():
    if not _report:
        request = prepare(SOURCE, function="f", calls=["float32[4,4]"],
                          modes=["spec", "numpy"], runs=5, warmup=1, include_graphs=True)
        _report.append(inspection.run(request))
    return _report[0]


def oracle(mode_input_signature: bool):
    """TensorFlow asked directly: every traced op's innermost line in the pasted file, and the
    first call's partition graphs."""
    loaded = loader.load_function(SOURCE, "f", str(SOURCES))
    spec = [tf.TensorSpec([4, 4], tf.float32)]
    fn = tf.function(loaded.function, input_signature=spec if mode_input_signature else None)
    x = tf.ones([4, 4]) if mode_input_signature else tf.ones([4, 4]).numpy()
    concrete = fn.get_concrete_function(x)
    lines = {}
    for op in concrete.graph.get_operations():
        # By file name: AutoGraph may reuse the engine's conversion (its frames name its copy).
        mine = [frame.lineno for frame in op.traceback if Path(frame.filename).name == "pasted.py"]
        if mine:
            lines[op.name] = mine[-1]
    context.enable_run_metadata()
    try:
        fn(x)
        metadata = context.export_run_metadata()
    finally:
        context.disable_run_metadata()
    own = max(metadata.function_graphs, key=lambda g: len(g.pre_optimization_graph.node))
    return lines, list(own.partition_graphs)


@pytest.mark.parametrize("mode", ["spec", "numpy"])
def test_every_traced_node_has_the_line_tensorflow_recorded(mode):
    result = report().result(mode)
    assert result is not None and result.error is None, result and result.error
    expected, _ = oracle(mode == "spec")
    top_level = {name: s.line for name, s in result.sources.items() if name in expected}
    assert top_level == expected
    assert {s.file for s in result.sources.values()} == {"pasted.py"}


def test_a_helper_called_twice_points_at_its_lines_through_two_call_chains():
    result = report().result("spec")
    first, second = result.sources["MatMul"], result.sources["MatMul_1"]
    assert first.line == second.line == 4 and first.function == "helper"
    assert [frame[1] for frame in first.stack] == [8, 4]
    assert [frame[1] for frame in second.stack] == [9, 4]


def test_a_cond_branch_node_keeps_its_line_and_the_branch_is_reached_after_lowering():
    result = report().result("spec")
    then_nodes = [s for name, s in result.sources.items() if name.endswith("/cond/mul")]
    else_nodes = [s for name, s in result.sources.items() if name.endswith("/cond/sub")]
    assert [s.line for s in then_nodes] == [11] and [s.line for s in else_nodes] == [13]
    by_line = {line.line: line for line in result.lines}
    assert by_line[11].post_nodes >= 1 and by_line[13].post_nodes >= 1, \
        "the lowered branch's nodes keep their lines after Grappler"


@pytest.mark.parametrize("mode", ["spec", "numpy"])
def test_the_executed_graph_is_the_partition_graphs_tensorflow_recorded(mode):
    result = report().result(mode)
    _, partitions = oracle(mode == "spec")
    nodes = [n for p in partitions for n in p.node]
    assert result.executed is not None
    assert result.executed.nodes == len(nodes)
    ops = {}
    for node in nodes:
        ops[node.op] = ops.get(node.op, 0) + 1
    assert result.executed.ops == ops
    rewrites = {(c.pre_op, c.post_op) for c in result.executed.diff.op_changed}
    if any(op.startswith("_Mkl") for op in ops):  # oneDNN's kernels on (TF_ENABLE_ONEDNN_OPTS)
        assert ("MatMul", "_MklMatMul") in rewrites or \
            any(b.startswith("_Mkl") for _, b in rewrites)
    else:
        assert not any(b.startswith("_Mkl") for _, b in rewrites)


def test_lines_count_what_grappler_did_to_each_lines_nodes():
    result = report().result("spec")
    by_line = {line.line: line for line in result.lines}
    assert sum(line.nodes for line in result.lines) == len(result.sources)
    assert by_line[5].changes["fused"] > 0, "MatMul + BiasAdd + Relu fused on CPU"
    assert by_line[14].changes["folded"] > 0, "3.0 * 4.0 folded"
    assert by_line[8].nodes == 0 if 8 in by_line else True, "a call line makes no node itself"


def test_the_cli_listing_shows_each_line_with_its_counts():
    listing = format_lines(report())
    assert "[spec] line | code | nodes pre -> post -> executed" in listing
    line5 = next(row for row in listing.splitlines()
                 if "tf.nn.relu(tf.nn.bias_add" in row and "fused" in row)
    assert line5.split("|")[0].strip() == "5"


def test_the_html_report_holds_the_annotated_listing():
    from inspector.output.html_report import html_report

    page = html_report(report())
    assert "Your code, line by line" in page
    assert "tf.nn.relu(tf.nn.bias_add(y, tf.ones([4])))" in page
    assert "spec: changes" in page and "numpy: changes" in page
    assert "<td class=code>    return tf.nn.relu(" in page, "code cells keep their indent"
    # The graph that ran, drawn per mode under its own name (its legend says "executed").
    assert page.count("<h3>The graph that executed</h3>") == 2
    assert page.count("executed: ") >= 2


KERAS = """import tensorflow as tf

model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="relu"),
                             tf.keras.layers.Dense(2)])
model(tf.zeros([4, 3]))

def f(x):
    return model(x)
"""


def test_a_keras_model_on_one_line_gets_a_row_per_layer():
    request = prepare(sources.Source(KERAS, "keras.py"), function="f", calls=["float32[4,3]"],
                      modes=["spec"], runs=5, warmup=1)
    result = inspection.run(request).result("spec")
    assert result is not None and result.error is None, result and result.error
    assert [line.line for line in result.lines] == [8]
    # TensorFlow asked directly: the scopes of the traced ops, in the order they were made.
    loaded = loader.load_function(sources.Source(KERAS, "keras.py"), "f", str(SOURCES))
    concrete = tf.function(loaded.function).get_concrete_function(
        tf.TensorSpec([4, 3], tf.float32))
    # (Each load makes a new model, so Keras numbers its layers anew: compare the counts.)
    counts: dict[str, int] = {}
    for op in concrete.graph.get_operations():
        # By file name: AutoGraph reuses the engine's conversion of the same code, whose
        # frames name the engine's own copy of keras.py. Captured variables' placeholders are
        # the function's arguments, not the layer's nodes.
        if "/" in op.name and op.type != "Placeholder" and any(
                Path(f.filename).name == "keras.py" for f in op.traceback):
            scope = "/".join(op.name.split("/")[:2])
            counts[scope] = counts.get(scope, 0) + 1
    assert len(counts) == 2, "two Dense layers"
    assert [layer.nodes for layer in result.layers if "/" in layer.text] == list(counts.values())
    assert all(layer.text.count("/") == 1 for layer in result.layers if "/" in layer.text)
    assert sum(layer.nodes for layer in result.layers) == result.lines[0].nodes
    assert "model, layer by layer" in format_lines(inspection.run(request))


def test_a_model_built_on_the_first_call_is_captured_not_its_initializers():
    """A Keras model built inside the first call runs its variables' initializers there too,
    a bigger function: the captured graphs are the traced function's own (found by its op
    names), so its lines have nodes after Grappler."""
    lazy = KERAS.replace("model(tf.zeros([4, 3]))\n", "")
    request = prepare(sources.Source(lazy, "lazy.py"), function="f", calls=["float32[4,3]"],
                      modes=["spec"], runs=3, warmup=1, include_graphs=True)
    result = inspection.run(request).result("spec")
    assert result is not None and result.error is None, result and result.error
    assert result.pre is not None and result.pre.ops.get("MatMul") == 2, result.pre.ops
    assert not any("Initializer" in name for name in (result.sources or {}))
    (line,) = result.lines
    assert line.post_nodes > 0 and line.nodes == len(result.sources or {})


LOOPED = """import tensorflow as tf

def f(x):
    if tf.reduce_sum(x) > 0:
        x = x * 2.0
    for i in tf.range(3):
        x = x + tf.cast(i, tf.float32)
    y = tf.matmul(x, x)
    return tf.nn.relu(tf.nn.bias_add(y, tf.ones([4])))
"""


def test_a_fusion_after_control_flow_blames_only_its_own_lines_and_loop_bodies_keep_theirs():
    """Found by a new user: a MatMul fed by a lowered cond and loop made those lines "fused",
    and the loop body's line showed no node after Grappler."""
    request = prepare(sources.Source(LOOPED, "looped.py"), function="f",
                      calls=["float32[4,4]"], modes=["spec"], runs=3, warmup=1)
    result = inspection.run(request).result("spec")
    assert result is not None and result.error is None, result and result.error
    by_line = {line.line: line for line in result.lines}
    assert by_line[4].changes["fused"] == 0 and by_line[6].changes["fused"] == 0
    assert by_line[8].changes["fused"] + by_line[9].changes["fused"] >= 2
    assert by_line[7].post_nodes > 0, "the loop body's nodes keep their line after lowering"
    assert result.layers == (), "no Keras model here"
    fusions = [p.summary for p in result.patterns if p.kind == "fused"]
    assert fusions and not any("If" in f or "While" in f for f in fusions), fusions
