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


def test_an_inlined_calls_nodes_take_its_line_and_group_by_layer_without_the_call_names():
    """A SavedModel's signature is one call node before Grappler; the runtime inlines it
    (names "<call>/<call>/model/layer/op") before Grappler runs."""
    calls = {"x": source(2), "StatefulPartitionedCall": source(2)}
    inlined = parse_text("".join(f'node {{ name: "{n}" op: "{op}" }}' for n, op in (
        ("x", "_Arg"),
        ("StatefulPartitionedCall/StatefulPartitionedCall/net/conv/Conv2D", "Conv2D"),
        ("StatefulPartitionedCall/StatefulPartitionedCall/net/conv/BiasAdd", "BiasAdd"),
        ("StatefulPartitionedCall/StatefulPartitionedCall/net/dense/MatMul", "MatMul"))))
    post = parse_text('node { name: "x" op: "_Arg" } node { name: '
                      '"StatefulPartitionedCall/StatefulPartitionedCall/net/conv/BiasAdd" '
                      'op: "_FusedConv2D" } node { name: '
                      '"StatefulPartitionedCall/StatefulPartitionedCall/net/dense/MatMul" '
                      'op: "MatMul" }')
    found = lines.inlined_sources(calls, inlined)
    assert set(found) == {n.name for n in inlined.node}
    assert {s.line for s in found.values()} == {2}
    rows = {row.text: row for row in lines.layers(found, inlined, post,
                                                  diff.diff_graphs(inlined, post))}
    assert list(rows) == ["(inputs and variables)", "net/conv", "net/dense"]
    assert (rows["net/conv"].nodes, rows["net/conv"].post_nodes) == (2, 1)
    assert rows["net/conv"].changes["fused"] == 1 and rows["net/dense"].post_nodes == 1


def test_a_fusion_does_not_absorb_the_control_flow_that_fed_it():
    from inspector.graphs.patterns import absorbed

    pre = {n.name: n for n in parse_text("""
    node { name: "loop" op: "StatelessWhile" }
    node { name: "MatMul" op: "MatMul" input: "loop" }
    node { name: "BiasAdd" op: "BiasAdd" input: "MatMul" }
    node { name: "Relu" op: "Relu" input: "BiasAdd" }
    """).node}
    assert absorbed("Relu", pre, {"loop", "MatMul", "BiasAdd"}) == ["MatMul", "BiasAdd"]


FOLDABLE = parse_text("""
node { name: "x" op: "_Arg" }
node { name: "a" op: "Const" }
node { name: "mm" op: "MatMul" input: "a" input: "a" }
node { name: "big" op: "MatMul" input: "mm" input: "a" }
node { name: "tied" op: "Mul" input: "a" input: "^x" }
node { name: "noise" op: "RandomUniform" input: "a" }
node { name: "after_noise" op: "Neg" input: "noise" }
node { name: "use" op: "AddV2" input: "x" input: "big" }
node { name: "out" op: "_Retval" input: "use" }
""")


def test_the_runtime_folded_nodes_are_from_constants_alone_and_ran_no_kernel():
    found = diff.runtime_folded(FOLDABLE, ran={"use", "big"},
                                stateful=frozenset({"RandomUniform"}))
    # "big" ran (over the runtime's size limit), "tied" waits on an argument, "noise" has state
    # and what it feeds is not constant; Const nodes are constants, not folds.
    assert found == ("mm",)
    assert diff.runtime_folded(FOLDABLE, ran=set(), stateful=frozenset()) == (
        "mm", "big", "noise", "after_noise")


def test_the_runtime_rewrites_read_as_patterns_and_unknown_kernels_say_where_they_ran():
    from inspector.output import tables
    from inspector.output.text import format_summary
    from inspector.report import ExecutedGraph, ModeResult, Report

    ran = type(POST)()  # POST as the runtime ran it: oneDNN's kernel, a transfer added
    ran.CopyFrom(POST)
    next(n for n in ran.node if n.name == "Relu").op = "_MklNativeFusedMatMul"
    ran.node.add(name="edge_3_x/_1", op="_Recv")
    executed = ExecutedGraph(4, 3, {}, ("CPU:0",), diff.diff_graphs(POST, ran),
                             runtime_folded=("cond/then/_0/cond/add",))
    result = ModeResult("spec", executed=executed, op_times=(
        OpTime("Relu", "_MklNativeFusedMatMul", "CPU:0", 9.0, "_FusedMatMul"),
        OpTime("edge_3_x/_1", "_Recv", "CPU:0", 1.0),
        OpTime("stray", "Neg", "CPU:0", 0.5)))
    report = Report(tensorflow="2.21.0", results=(result,))
    rows = tables.runtime_rewrites(report, "spec")
    assert [(r["count"], r["kind"]) for r in rows] == [
        (1, "kernel swapped"), (1, "folded by the runtime"), (1, "added after placement")]
    assert rows[0]["pattern"] == "_FusedMatMul ran as _MklNativeFusedMatMul"
    assert [r["op"] for r in tables.top_ops(report, "spec")] == [
        "_FusedMatMul (ran as _MklNativeFusedMatMul)", "_Recv (added by the runtime)",
        "Neg (ran, not in any graph)"]
    summary = format_summary(report)
    assert ("executed: 4 nodes on CPU:0; 1x _FusedMatMul ran as _MklNativeFusedMatMul; "
            "1 folded by the runtime; 1 added after placement") in summary
    assert Report.from_json(report.to_json()).results[0].executed == executed


def test_the_listing_aligns_wide_characters_and_cuts_long_lines_by_columns():
    from inspector.output.text import CODE_COLUMN_CHARS, format_lines
    from inspector.report import ModeResult, Report, SourceLine

    changes = dict.fromkeys(("folded", "fused", "removed", "added", "op_changed", "rewired"), 0)
    rows = (SourceLine("p.py", 3, "    y = x * 2  # 二倍にする", 1, 1, 1, changes),
            SourceLine("p.py", 4, "    z = y + 1", 1, 1, 1, changes),
            SourceLine("p.py", 5, "    s = '" + "字" * 60 + "'", 1, 1, 1, changes))
    listing = format_lines(Report(tensorflow="2.21.0",
                                  results=(ModeResult("spec", lines=rows),))).splitlines()

    def columns(text: str) -> int:  # what a terminal shows: a CJK character takes two
        import unicodedata
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    bars = {columns(row[:row.index(" | ", 8)]) for row in listing[1:]}
    assert len(bars) == 1, listing  # the code column ends at the same place on every row
    assert columns(listing[3].split(" | ")[1].rstrip()) <= CODE_COLUMN_CHARS
    assert listing[3].split(" | ")[1].rstrip().endswith("...")


def test_the_summary_cuts_a_costly_long_line_where_it_says_so():
    from inspector.output.text import format_summary
    from inspector.report import ModeResult, Report, SourceLine

    changes = dict.fromkeys(("folded", "fused", "removed", "added", "op_changed", "rewired"), 0)
    long = "    return tf.nn.relu(tf.nn.bias_add(tf.matmul(x, w), b)) * scale_factor"
    result = ModeResult("spec", lines=(SourceLine("p.py", 8, long, 3, 1, 1, changes, 40.0),))
    summary = format_summary(Report(tensorflow="2.21.0", results=(result,)))
    said = next(line for line in summary.splitlines() if "costliest lines" in line)
    assert "line 8 (40.0 us: return tf.nn.relu(tf.nn.bias_add(tf.m...)" in said
