"""Rewrite patterns: Grappler's changes grouped up to names and scopes, from small GraphDefs
written here (no TensorFlow)."""

from __future__ import annotations

from inspector.graphs.diff import diff_graphs
from inspector.graphs.patterns import find
from inspector.graphs.protos import parse_text
from inspector.report import Attribution, ModeResult, Report, RewritePattern
from tests.helpers import changed_names


def node(name: str, op: str, *inputs: str, fused: tuple[str, ...] = ()) -> str:
    lines = "".join(f'  input: "{i}"\n' for i in inputs)
    attr = "".join(f'      s: "{f}"\n' for f in fused)
    fused_attr = (f'  attr {{\n    key: "fused_ops"\n    value {{\n      list {{\n{attr}'
                  f'      }}\n    }}\n  }}\n') if fused else ""
    return f'node {{\n  name: "{name}"\n  op: "{op}"\n{lines}{fused_attr}}}\n'


def block(scope: str, fused: bool) -> str:
    """A conv block before (fused=False) or after the remapper, and a Reshape whose constant
    shape Grappler replaced with a shared one."""
    if fused:
        return (node(f"{scope}/Relu", "_FusedConv2D", "x", f"{scope}/w", f"{scope}/b",
                     fused=("BiasAdd", "Relu"))
                + node(f"{scope}/w", "Const") + node(f"{scope}/b", "Const")
                + node(f"{scope}/Reshape", "Reshape", f"{scope}/Relu", "shared/shape"))
    return (node(f"{scope}/Conv2D", "Conv2D", "x", f"{scope}/w")
            + node(f"{scope}/BiasAdd", "BiasAdd", f"{scope}/Conv2D", f"{scope}/b")
            + node(f"{scope}/Relu", "Relu", f"{scope}/BiasAdd")
            + node(f"{scope}/w", "Const") + node(f"{scope}/b", "Const")
            + node(f"{scope}/Reshape/shape", "Const")
            + node(f"{scope}/Reshape", "Reshape", f"{scope}/Relu", f"{scope}/Reshape/shape"))


def graphs(blocks: int):
    scopes = [f"block{i}" for i in range(blocks)]
    pre = parse_text(node("x", "_Arg") + "".join(block(s, False) for s in scopes))
    post = parse_text(node("x", "_Arg") + node("shared/shape", "Const")
                      + "".join(block(s, True) for s in scopes))
    return pre, post


def test_the_same_rewrite_in_every_block_is_one_pattern_and_every_change_is_in_one():
    pre, post = graphs(3)
    changes = diff_graphs(pre, post)
    attribution = {f"block{i}/Relu": Attribution(1, "remapper") for i in range(3)}
    found = find(changes, pre, post, attribution)
    by_kind = {p.kind: p for p in found}
    fused = by_kind["fused"]
    assert fused.count == 3
    assert fused.summary == ("Conv2D + BiasAdd + Relu -> _FusedConv2D [BiasAdd, Relu] "
                             "(by remapper)")
    assert fused.nodes[0] == ("block0/Relu", "block0/Conv2D", "block0/BiasAdd")
    assert by_kind["removed"].summary == "Const feeding Reshape (input 1) removed"
    assert by_kind["removed"].count == 3
    assert by_kind["added"].summary == "Const feeding Reshape (input 1) added"
    assert by_kind["rewired"].summary == "Reshape's inputs rewired (2 -> 2)"
    named = changed_names(changes)
    covered = [name for p in found for nodes in p.nodes for name in nodes]
    assert sorted(covered) == sorted(named)  # each changed node exactly once
    assert [p.count for p in found] == sorted((p.count for p in found), reverse=True)


def test_more_blocks_change_the_counts_not_the_patterns():
    few, many = (find(diff_graphs(*graphs(n)), *graphs(n)) for n in (2, 7))
    assert [p.summary for p in few] == [p.summary for p in many]
    assert [p.count for p in many if p.kind == "fused"] == [7]


def test_patterns_are_in_the_json_report():
    pattern = RewritePattern("fused", "Conv2D + BiasAdd -> _FusedConv2D [BiasAdd]", 1,
                             (("a/BiasAdd", "a/Conv2D"),))
    data = Report(tensorflow="2.21.0",
                  results=(ModeResult("spec", patterns=(pattern,)),)).to_dict()
    assert data["results"][0]["patterns"] == [{
        "kind": "fused", "summary": "Conv2D + BiasAdd -> _FusedConv2D [BiasAdd]", "count": 1,
        "nodes": [["a/BiasAdd", "a/Conv2D"]]}]
    assert Report.from_dict(data).results[0].patterns == (pattern,)
