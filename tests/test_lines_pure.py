"""Source lines from graphs and sources alone (no TensorFlow): a fused chain counts as fused,
a lowered cond branch's nodes keep their lines, added nodes without a source belong to no
line, and "line N" searches find a line's nodes before and after Grappler."""

from __future__ import annotations

from inspector.graphs import diff, lines
from inspector.graphs.protos import parse_text
from inspector.report import NodeSource, OpTime

PRE = parse_text("""
node { name: "x" op: "_Arg" }
node { name: "w" op: "Const" }
node { name: "MatMul" op: "MatMul" input: "x" input: "w" }
node { name: "Relu" op: "Relu" input: "MatMul" }
node { name: "c" op: "Const" }
node { name: "d" op: "Const" }
node { name: "mul" op: "Mul" input: "c" input: "d" }
node { name: "cond" op: "StatelessIf" input: "mul"
       attr { key: "then_branch" value { func { name: "cond_true_7" } } }
       attr { key: "else_branch" value { func { name: "cond_false_8" } } } }
""")
POST = parse_text("""
node { name: "x" op: "_Arg" }
node { name: "w" op: "Const" }
node { name: "Relu" op: "_FusedMatMul" input: "x" input: "w" }
node { name: "mul" op: "Const" }
node { name: "cond/then/_0/cond/add" op: "AddV2" }
node { name: "ConstantFolding/zeros" op: "Const" }
""")


def source(line: int) -> NodeSource:
    return NodeSource("pasted.py", line, "f", (("pasted.py", line, "f"),))


SOURCES = {"w": source(3), "MatMul": source(3), "Relu": source(4), "c": source(5),
           "d": source(5), "mul": source(5), "cond": source(6),
           "cond_true_7/cond/add": source(7)}
TEXT = "def f(x):\n  pass\n  y = x @ w\n  r = relu(y)\n  m = 3. * 4.\n  if m:\n    z = r + 1\n"


def test_lines_say_what_happened_to_each_lines_nodes():
    changes = diff.diff_graphs(PRE, POST)
    found = {line.line: line for line in lines.source_lines(
        SOURCES, TEXT, PRE, POST, changes, (OpTime("Relu", "_FusedMatMul", "CPU:0", 7.5),))}
    assert found[3].nodes == 2 and found[3].post_nodes == 1 and found[3].changes["fused"] == 1
    assert found[4].changes["fused"] == 1 and found[4].time_us == 7.5
    assert found[5].changes["folded"] == 1 and found[5].changes["removed"] == 2
    assert found[7].post_nodes == 1 and found[7].changes["added"] == 0, \
        "a lowered branch's node is its own, moved, not added"
    assert found[7].text == "    z = r + 1" and found[3].time_us is None
    assert found[3].executed_nodes is None, "no executed graph given"
    assert sum(line.changes["added"] for line in found.values()) == 0, \
        "Grappler's own constant belongs to no line"


def test_a_line_search_finds_its_nodes_before_and_after():
    assert lines.line_of_query(" Line 7 ") == 7 and lines.line_of_query("line") is None
    assert lines.nodes_of_line(SOURCES, PRE, POST, 3) == {"w", "MatMul"}
    assert lines.nodes_of_line(SOURCES, PRE, POST, 7) == {"cond/then/_0/cond/add"}


def test_the_executed_graph_names_the_runtimes_rewrites():
    executed = parse_text("""
    node { name: "x" op: "_Arg" device: "/job:localhost/replica:0/task:0/device:CPU:0" }
    node { name: "Relu" op: "_MklNativeFusedMatMul" input: "x"
           device: "/job:localhost/replica:0/task:0/device:CPU:0" }
    """)
    summary = diff.executed_graph(POST, [executed])
    assert summary is not None and summary.nodes == 2 and summary.edges == 1
    assert summary.devices == ("/job:localhost/replica:0/task:0/device:CPU:0",)
    assert [(c.name, c.pre_op, c.post_op) for c in summary.diff.op_changed] == [
        ("Relu", "_FusedMatMul", "_MklNativeFusedMatMul")]
    assert diff.executed_graph(POST, []) is None


def test_a_plain_one_line_function_has_no_layers():
    one_line = {name: source(5) for name in ("x", "mul/y", "mul", "add/y", "add")}
    graph = parse_text("".join(f'node {{ name: "{n}" op: "Const" }}' for n in one_line))
    assert lines.layers(one_line, graph, graph, diff.diff_graphs(graph, graph)) == ()


def test_a_fusion_does_not_absorb_the_control_flow_that_fed_it():
    from inspector.graphs.patterns import absorbed

    pre = {n.name: n for n in parse_text("""
    node { name: "loop" op: "StatelessWhile" }
    node { name: "MatMul" op: "MatMul" input: "loop" }
    node { name: "BiasAdd" op: "BiasAdd" input: "MatMul" }
    node { name: "Relu" op: "Relu" input: "BiasAdd" }
    """).node}
    assert absorbed("Relu", pre, {"loop", "MatMul", "BiasAdd"}) == ["MatMul", "BiasAdd"]
