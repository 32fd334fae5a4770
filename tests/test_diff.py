"""The pre/post diff on small GraphDef fixtures (no TensorFlow function runs)."""

from inspector.graphs.diff import diff_graphs, summarize
from tests.helpers import load_pbtxt


def test_folding_fixture():
    pre, post = load_pbtxt("folding_pre.pbtxt"), load_pbtxt("folding_post.pbtxt")
    result = diff_graphs(pre, post)
    assert result.removed == ("a", "b", "Identity")
    assert result.added == ("ConstantFolding/y-folded",)
    assert result.folded == ("scale",)
    assert [(c.name, c.pre_op, c.post_op) for c in result.op_changed] == [("scale", "Mul", "Const")]
    rewired = {r.name: (r.pre_inputs, r.post_inputs) for r in result.rewired}
    assert rewired == {"scale": (("a", "b"), ()), "output_RetVal": (("Identity",), ("y",))}
    assert result.fused == ()


def test_fused_ops_are_read_from_the_attr():
    pre, post = load_pbtxt("folding_pre.pbtxt"), load_pbtxt("fused_post.pbtxt")
    (fused,) = diff_graphs(pre, post).fused
    assert (fused.name, fused.op, fused.fused_ops) == ("Relu", "_FusedMatMul", ("BiasAdd", "Relu"))


def test_summary_counts_ops():
    summary = summarize(load_pbtxt("folding_pre.pbtxt"))
    assert summary.nodes == 7
    assert summary.ops == {"_Arg": 1, "Const": 2, "Mul": 2, "Identity": 1, "_Retval": 1}


def test_mode_comparison_rows_name_each_difference_once():
    from inspector.output.tables import mode_comparison

    pre, post = load_pbtxt("folding_pre.pbtxt"), load_pbtxt("folding_post.pbtxt")
    assert mode_comparison(pre, pre, "numpy", "spec") == []
    rows = {(r["node"], r["difference"]): r["detail"]
            for r in mode_comparison(pre, post, "a", "b")}
    assert rows == {
        ("a", "only in a"): "Const", ("b", "only in a"): "Const",
        ("Identity", "only in a"): "Identity",
        ("ConstantFolding/y-folded", "only in b"): "Const",
        ("scale", "op differs"): "a: Mul, b: Const",  # not also listed as rewired
        ("output_RetVal", "inputs differ"): "a: Identity; b: y"}
