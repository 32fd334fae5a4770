"""Grappler's per-pass log lines, parsed for one item."""

from inspector.engine.passlog import parse_passes

LOG = """\
I0000 00:00:1.1 4035 meta_optimizer.cc:1059] Starting optimization for grappler item: __inference_other_3
I0000 00:00:1.2 4035 meta_optimizer.cc:973] constant_folding: Graph size after: 3 nodes (-1), 2 edges (-1), time = 0.1ms.
I0000 00:00:1.3 4035 meta_optimizer.cc:1059] Starting optimization for grappler item: __inference_f_29
I0000 00:00:1.4 4035 meta_optimizer.cc:973] model_pruner: Graph size after: 27 nodes (-10), 32 edges (-13), time = 0.155ms.
I0000 00:00:1.5 4035 meta_optimizer.cc:973] constant_folding: Graph size after: 19 nodes (-8), 23 edges (-9), time = 0.42ms.
I0000 00:00:1.6 4035 meta_optimizer.cc:973] model_pruner: Graph size after: 19 nodes (0), 23 edges (0), time = 0.019ms.
I0000 00:00:1.7 4035 meta_optimizer.cc:973] constant_folding: Graph size after: 19 nodes (0), 23 edges (0), time = 0.076ms.
I0000 00:00:1.8 4035 meta_optimizer.cc:1092] Optimized main graph.
I0000 00:00:1.9 4035 meta_optimizer.cc:973] constant_folding: Graph size after: 1 nodes (0), 0 edges (0), time = 0.01ms.
"""


def test_passes_of_one_item_in_rounds():
    passes = parse_passes(LOG, "__inference_f_29")
    assert [(p.iteration, p.optimizer, p.nodes_after, p.node_delta) for p in passes] == [
        (1, "model_pruner", 27, -10), (1, "constant_folding", 19, -8),
        (2, "model_pruner", 19, 0), (2, "constant_folding", 19, 0)]
    assert passes[1].edges_after == 23 and passes[1].edge_delta == -9
    assert passes[1].time_ms == 0.42


def test_unknown_item_has_no_passes():
    assert parse_passes(LOG, "__inference_g_1") == ()


def test_passes_chart_has_one_bar_per_pass_with_short_labels():
    from inspector.output.charts import grappler_passes
    from inspector.report import ModeResult, Report

    tfg = ("tfg_optimizer{any(tfg-consolidate-attrs,tfg-toposort,"
           "tfg-shape-inference{graph-version=0})}")
    first = "I0000 00:00:1.4 4035 meta_optimizer.cc:973] model_pruner"
    line = (f"I0000 00:00:1.45 4035 meta_optimizer.cc:973] {tfg}: Graph size after: 27 nodes "
            "(0), 32 edges (0), time = 0.2ms.")
    log = LOG.replace(first, line + "\n" + first, 1)  # TFG's pass runs first in each round
    passes = parse_passes(log, "__inference_f_29")
    report = Report(tensorflow="2.21.0", results=(ModeResult("spec", grappler_passes=passes),))
    figure = grappler_passes(report, "spec")
    (bars,) = figure.data
    assert list(figure.layout.yaxis.ticktext) == [
        "1: tfg_optimizer", "1: model_pruner", "1: constant_folding", "2: model_pruner",
        "2: constant_folding"]
    assert list(bars.x) == [0, -10, -8, 0, 0]
    assert bars.customdata[0][0] == tfg  # the whole pass name on hover
