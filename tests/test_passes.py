"""The graph after each Grappler pass: dumps read, compared pass by pass, and each change
attributed. Pure tests on small dump texts first; then functions where TensorFlow's own dumps,
read here independently (files in write order, parsed with TensorFlow's protos), say which
pass made a change, and the inspector must say the same."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from inspector.graphs import passes
from inspector.graphs.diff import diff_graphs
from inspector.graphs.protos import parse_text
from inspector.report import PassChange


def node(name: str, op: str, *inputs: str) -> str:
    lines = "".join(f'  input: "{i}"\n' for i in inputs)
    return f'node {{\n  name: "{name}"\n  op: "{op}"\n{lines}  attr {{\n    key: "T"\n' \
           f'    value {{\n      type: DT_FLOAT\n    }}\n  }}\n}}\n'


PRE = node("x", "_Arg") + node("c", "Const") + node("t", "Transpose", "x", "c") + \
    node("u", "Transpose", "t", "c") + node("chk", "CheckNumerics", "u") + \
    node("out", "_Retval", "chk")
# constant_folding: both transposes become Identity; debug_stripper: CheckNumerics -> Identity;
# dependency_optimizer: the Identities and the perm go, out reads x.
AFTER_FOLDING = node("x", "_Arg") + node("c", "Const") + node("t", "Identity", "x", "^c") + \
    node("u", "Identity", "t", "^c") + node("chk", "CheckNumerics", "u") + \
    node("out", "_Retval", "chk")
AFTER_STRIPPER = AFTER_FOLDING.replace('"CheckNumerics"', '"Identity"')
FINAL = node("x", "_Arg") + node("chk", "Identity", "x") + node("out", "_Retval", "chk")
LOG = """I0000 meta_optimizer.cc:791] Optimize GrapplerItem: item.id=__inference_f_9 num_optimizers=13, num nodes = 6
I0000 dump_graph.cc:245] Dumped Graph to /d/before_MetaOptimizer_iteration_0_140733890256832_3.pbtxt
I0000 dump_graph.cc:245] Dumped Graph to /d/after_MetaOptimizer_iteration_0_constant_folding_140733890256832_2.pbtxt
I0000 dump_graph.cc:245] Dumped Graph to /d/after_MetaOptimizer_iteration_0_debug_stripper_140733890256832.pbtxt
I0000 dump_graph.cc:245] Dumped Graph to /d/after_MetaOptimizer_iteration_0_140733890256832_3.pbtxt
I0000 dump_graph.cc:245] Dumped Graph to /d/before_MetaOptimizer_iteration_1_140733890256832_3.pbtxt
I0000 dump_graph.cc:245] Dumped Graph to /d/after_MetaOptimizer_iteration_1_dependency_optimizer_140733890256832_1.pbtxt
I0000 meta_optimizer.cc:791] Optimize GrapplerItem: item.id=__inference_f_9 num_optimizers=1, num nodes = 3
I0000 dump_graph.cc:245] Dumped Graph to /d/after_MetaOptimizer_iteration_0_tfg_optimizer{any(tfg-toposort)}_140733890256832_5.pbtxt
I0000 meta_optimizer.cc:791] Optimize GrapplerItem: item.id=__inference_g_3 num_optimizers=13, num nodes = 2
I0000 dump_graph.cc:245] Dumped Graph to /d/after_MetaOptimizer_iteration_0_model_pruner_140733890256832_4.pbtxt
"""
FILES = {
    "before_MetaOptimizer_iteration_0_140733890256832_3.pbtxt": PRE,
    "after_MetaOptimizer_iteration_0_constant_folding_140733890256832_2.pbtxt": AFTER_FOLDING,
    "after_MetaOptimizer_iteration_0_debug_stripper_140733890256832.pbtxt": AFTER_STRIPPER,
    "after_MetaOptimizer_iteration_0_140733890256832_3.pbtxt": AFTER_STRIPPER,
    "before_MetaOptimizer_iteration_1_140733890256832_3.pbtxt": AFTER_STRIPPER,
    "after_MetaOptimizer_iteration_1_dependency_optimizer_140733890256832_1.pbtxt": FINAL,
    "after_MetaOptimizer_iteration_0_tfg_optimizer{any(tfg-toposort)}_140733890256832_5.pbtxt":
        FINAL,
    "after_MetaOptimizer_iteration_0_model_pruner_140733890256832_4.pbtxt": node("y", "_Arg"),
}


def compared() -> passes.ComparedPasses:
    return passes.compare_passes(passes.dumps_in_log(LOG), "__inference_f_9",
                                 lambda path: FILES[Path(path).name])


def test_dumps_are_tied_to_their_item_run_iteration_and_pass():
    dumps = passes.dumps_in_log(LOG)
    assert [(d.item[-3:], d.run, d.iteration, d.optimizer) for d in dumps] == [
        ("f_9", 1, 1, None), ("f_9", 1, 1, "constant_folding"), ("f_9", 1, 1, "debug_stripper"),
        ("f_9", 1, 1, None), ("f_9", 1, 2, None), ("f_9", 1, 2, "dependency_optimizer"),
        ("f_9", 2, 1, "tfg_optimizer{any(tfg-toposort)}"), ("g_3", 1, 1, "model_pruner")]


def test_each_pass_is_compared_with_the_graph_before_it():
    result = compared()
    assert [(p.run, p.iteration, p.optimizer) for p in result.passes] == [
        (1, 1, "constant_folding"), (1, 1, "debug_stripper"), (1, 2, "dependency_optimizer"),
        (2, 1, "tfg_optimizer{any(tfg-toposort)}")]
    folding, stripper, dependency, tfg = result.passes
    assert folding.op_changed == ("t", "u") and folding.rewired == ("t", "u")
    assert stripper.op_changed == ("chk",) and stripper.nodes == 6 and stripper.edges == 6
    assert dependency.removed == ("c", "t", "u") and dependency.rewired == ("chk",)
    assert (dependency.nodes, dependency.edges) == (3, 2)
    assert not tfg.changed
    # The deltas carry the changed nodes' blocks, which parse as NodeDefs.
    assert [n.op for n in parse_text(result.deltas[1]).node] == ["Identity"]


def test_attribution_is_the_pass_after_which_a_node_is_final():
    result = compared()
    pre, post = parse_text(PRE), parse_text(FINAL)
    found = passes.attribute(diff_graphs(pre, post), result.passes, result.deltas, pre, post)
    # t and u became Identity under constant_folding, but their final state is "gone".
    assert {name: a.optimizer for name, a in found.items()} == {
        "c": "dependency_optimizer", "t": "dependency_optimizer", "u": "dependency_optimizer",
        "chk": "debug_stripper"}
    assert found["t"].iteration == 2 and found["chk"].iteration == 1


def test_a_change_undone_later_is_not_attributed_to_the_first_pass():
    back = AFTER_STRIPPER.replace('"Identity"', '"CheckNumerics"', 1)
    changes = (PassChange(1, "a", 6, 7, (), (), ("t",), ()),
               PassChange(1, "b", 6, 7, (), (), ("t",), ()),
               PassChange(1, "c", 6, 7, (), (), ("t",), ()))
    deltas = (node("t", "Identity", "x", "c"), node("t", "Transpose", "x", "c"),
              node("t", "Identity", "x", "c"))
    pre = parse_text(PRE)
    post = parse_text(back.replace('"CheckNumerics"', '"Identity"', 1))
    found = passes.attribute(diff_graphs(pre, post), changes, deltas, pre, post)
    assert found["t"].optimizer == "c"


def test_the_graph_after_a_pass_is_rebuilt_from_the_pre_graph():
    result = compared()
    after = list(passes.graphs_after_each(parse_text(PRE), result.passes, result.deltas))[1]
    assert {n.name: n.op for n in after.node} == {
        "x": "_Arg", "c": "Const", "t": "Identity", "u": "Identity", "chk": "Identity",
        "out": "_Retval"}
    packed = passes.pack_deltas(result.deltas)
    assert passes.unpack_deltas(packed) == result.deltas


def test_quoted_names_with_escapes_are_read():
    text = node('a\\"b', "Const") + node("c", "Identity", 'a\\"b')
    nodes = passes.nodes_of(text)
    assert nodes['a"b'].op == "Const" and nodes["c"].inputs == ('a"b',)


# --- Against TensorFlow's own dumps ------------------------------------------------------------

FILE = re.compile(r"after_MetaOptimizer_iteration_(\d+)_(.+?)_\d{6,}(?:_\d+)?\.pbtxt$")


def tensorflow_dumps(function, args, options, tmp_path):
    """Call a fresh tf.function once with TensorFlow dumping into a folder of the test's, and
    return its main Grappler run's per-pass graphs: [(iteration from 1, optimizer, GraphDef)],
    in write order (file times), parsed with TensorFlow's own protos."""
    tf = pytest.importorskip("tensorflow")
    from google.protobuf import text_format
    from tensorflow.core.framework import graph_pb2

    from inspector.engine.inspection import grappler_options

    folder = tmp_path / "dumps"
    folder.mkdir()
    saved = os.environ["TF_DUMP_GRAPH_PREFIX"]
    os.environ["TF_DUMP_GRAPH_PREFIX"] = str(folder)
    try:
        with grappler_options(options):
            tf.function(function)(*args)
    finally:
        os.environ["TF_DUMP_GRAPH_PREFIX"] = saved
    files = sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    starts = [i for i, p in enumerate(files) if p.name.startswith("before_MetaOptimizer_"
                                                                  "iteration_0")]
    main_run = files[starts[0]:starts[1] if len(starts) > 1 else None]
    found = []
    for path in main_run:
        match = FILE.match(path.name)
        if match:
            graph = text_format.Parse(path.read_text(), graph_pb2.GraphDef())
            found.append((int(match.group(1)) + 1, match.group(2), graph))
    return found


def first_pass_where(dumps, holds):
    """The first pass after which ``holds(graph)`` is true and stays true to the end."""
    answer = None
    for iteration, optimizer, graph in dumps:
        if holds(graph):
            answer = answer or (iteration, optimizer)
        else:
            answer = None
    return answer


def inspected(code: str, call: str, options=()):
    from inspector.engine import inspection
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import Source

    report = inspection.run(prepare(Source(code, "passes.py"), calls=[call], modes=["spec"],
                                    grappler=list(options), runs=3, warmup=1))
    result = report.result("spec")
    assert result.error is None, result.error
    return result


def ops(graph):
    return {n.name: n.op for n in graph.node}


@pytest.mark.tf
def test_debug_stripper_turns_checknumerics_into_identity(tmp_path):
    tf = pytest.importorskip("tensorflow")
    code = ("import tensorflow as tf\n\ndef f(x):\n"
            "    return tf.debugging.check_numerics(x * 2.0, 'bad') + 1.0\n")
    result = inspected(code, "float32[4]", ["debug_stripper=on"])
    checked = next(c.name for c in result.diff.op_changed if c.pre_op == "CheckNumerics")
    assert result.attribution[checked].optimizer == "debug_stripper"
    dumps = tensorflow_dumps(lambda x: tf.debugging.check_numerics(x * 2.0, "bad") + 1.0,
                             [tf.ones([4])], {"debug_stripper": True}, tmp_path)
    expected = first_pass_where(dumps, lambda g: ops(g).get("CheckNumerics") == "Identity")
    assert (result.attribution[checked].iteration, "debug_stripper") == expected
    stripper = [p for p in result.passes if p.optimizer == "debug_stripper" and p.changed]
    assert stripper[0].op_changed == (checked,) and not stripper[0].removed


GUIDE = """import numpy as np
import tensorflow as tf

def simple_function(input_arg):
    # The Grappler guide's constant-folding example, smaller (200x200, 10 MatMuls) so the
    # folding itself stays quick.
    a = tf.constant(np.random.RandomState(0).randn(200, 200), dtype=tf.float32)
    c = a
    for n in range(10):
        c = c @ a
    return tf.reduce_mean(c + input_arg)
"""


@pytest.mark.tf
def test_the_guides_matmul_chain_is_folded_by_constant_folding(tmp_path):
    tf = pytest.importorskip("tensorflow")
    import numpy as np

    result = inspected(GUIDE, "float32[200,200]")
    matmuls = [n for n in result.attribution if n.startswith("matmul")]
    assert len(matmuls) == 10
    assert {result.attribution[n].optimizer for n in matmuls} == {"constant_folding"}
    values = np.random.RandomState(0).randn(200, 200)

    def chain(input_arg):
        a = tf.constant(values, dtype=tf.float32)  # built in the graph: a Const, as in the guide
        c = a
        for _ in range(10):
            c = c @ a
        return tf.reduce_mean(c + input_arg)

    dumps = tensorflow_dumps(chain, [tf.ones([200, 200])], {}, tmp_path)
    expected = first_pass_where(dumps, lambda g: not any(n.op == "MatMul" for n in g.node))
    assert expected is not None and expected[1] == "constant_folding"
    last = max(result.attribution[n].iteration for n in matmuls)
    assert (last, "constant_folding") == expected


@pytest.mark.tf
def test_a_double_transpose_takes_the_passes_tensorflows_dumps_show(tmp_path):
    tf = pytest.importorskip("tensorflow")
    code = ("import tensorflow as tf\n\ndef f(x):\n"
            "    return tf.transpose(tf.transpose(x)) * 3.0\n")
    result = inspected(code, "float32[3,5]")
    dumps = tensorflow_dumps(lambda x: tf.transpose(tf.transpose(x)) * 3.0, [tf.ones([3, 5])],
                             {}, tmp_path)
    for name in ("transpose", "transpose_1"):
        gone = first_pass_where(dumps, lambda g, name=name: name not in ops(g))
        assert gone is not None
        assert (result.attribution[name].iteration, result.attribution[name].optimizer) == gone
    # More than one pass took part (which ones is what the dumps said above).
    touched = {p.optimizer for p in result.passes
               if {"transpose", "transpose_1", "transpose/perm", "transpose_1/perm"}
               & {*p.removed, *p.op_changed, *p.rewired}}
    assert len(touched) >= 2


@pytest.mark.tf
def test_conv_biasadd_relu_is_fused_by_the_remapper(tmp_path):
    tf = pytest.importorskip("tensorflow")
    code = ("import tensorflow as tf\n\nw = tf.ones([3, 3, 2, 4])\nb = tf.ones([4])\n\n"
            "def f(x):\n    y = tf.nn.conv2d(x, w, 1, 'SAME')\n"
            "    return tf.nn.relu(tf.nn.bias_add(y, b))\n")
    result = inspected(code, "float32[1,8,8,2]")
    assert [f.fused_ops for f in result.diff.fused] == [("BiasAdd", "Relu")]
    fused = result.diff.fused[0].name
    assert result.attribution[fused].optimizer == "remapper"
    w, b = tf.ones([3, 3, 2, 4]), tf.ones([4])
    with tf.device("/device:CPU:0"):
        dumps = tensorflow_dumps(
            lambda x: tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w, 1, "SAME"), b)),
            [tf.ones([1, 8, 8, 2])], {}, tmp_path)
    expected = first_pass_where(dumps, lambda g: any(n.op == "_FusedConv2D" for n in g.node))
    assert (result.attribution[fused].iteration, "remapper") == expected


@pytest.mark.tf
def test_passes_nodes_and_edges_match_grapplers_own_log():
    code = ("import tensorflow as tf\n\ndef f(x):\n"
            "    return tf.transpose(tf.transpose(x)) * (tf.constant(2.0) * 3.0 + 1.0)\n")
    result = inspected(code, "float32[3,5]")
    logged = {(p.iteration, p.optimizer): (p.nodes_after, p.edges_after)
              for p in result.grappler_passes}
    checked = 0
    for change in result.passes:
        if change.run == 1 and (change.iteration, change.optimizer) in logged:
            assert (change.nodes, change.edges) == logged[(change.iteration, change.optimizer)]
            checked += 1
    assert checked >= 5


@pytest.mark.tf
def test_the_dump_folder_is_removed_after_the_capture(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = inspected("import tensorflow as tf\n\ndef f(x):\n    return x * (2.0 + 1.0)\n",
                       "float32[4]")
    assert result.passes
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("grappler-passes-")]
    assert os.environ["TF_DUMP_GRAPH_PREFIX"] == "/dev/null/no-dumps"


def test_what_the_runtime_changed_before_grappler_comes_first():
    """Run metadata's pre graph still calls a nested function; Grappler's first dump has it
    inlined. That difference is the runtime's, not a pass's."""
    calling = node("x", "_Arg") + node("call", "StatefulPartitionedCall", "x") + \
        node("out", "_Retval", "call")
    inlined = node("x", "_Arg") + node("call", "NoOp") + node("call/mul", "Mul", "x") + \
        node("out", "_Retval", "call/mul")
    log = ("Optimize GrapplerItem: item.id=f num_optimizers=13\n"
           "Dumped Graph to /d/before_MetaOptimizer_iteration_0_140733890256832.pbtxt\n"
           "Dumped Graph to /d/after_MetaOptimizer_iteration_0_model_pruner_140733890256832"
           ".pbtxt\n")
    texts = {"before_MetaOptimizer_iteration_0_140733890256832.pbtxt": inlined,
             "after_MetaOptimizer_iteration_0_model_pruner_140733890256832.pbtxt": inlined}
    pre = parse_text(calling)
    result = passes.compare_passes(passes.dumps_in_log(log), "f",
                                   lambda path: texts[Path(path).name], pre)
    first, pruner = result.passes
    assert (first.optimizer, first.iteration, first.run) == ("before_grappler", 0, 0)
    assert first.added == ("call/mul",) and first.op_changed == ("call",)
    assert not pruner.changed
    post = parse_text(inlined)
    found = passes.attribute(diff_graphs(pre, post), result.passes, result.deltas, pre, post)
    assert {a.optimizer for a in found.values()} == {"before_grappler"}
    # Without the pre graph nothing is reported before the first pass.
    alone = passes.compare_passes(passes.dumps_in_log(log), "f",
                                  lambda path: texts[Path(path).name])
    assert [p.optimizer for p in alone.passes] == ["model_pruner"]
