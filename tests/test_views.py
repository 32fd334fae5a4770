"""What a picture shows: noise, changes only, collapsed scopes, shared constants (no TF run)."""

from __future__ import annotations

from inspector.graphs import views
from inspector.graphs.diff import diff_graphs
from inspector.graphs.protos import ModeGraphs, parse_text
from inspector.graphs.views import ViewOptions, build
from tests.helpers import fixture_graphs

# Two blocks of three nodes under scopes; Grappler fused block1's conv and removed block2's bias.
SCOPED_PRE = """
node { name: "x" op: "_Arg" }
node { name: "block1/conv/w" op: "Const" }
node { name: "block1/conv/Conv2D" op: "Conv2D" input: "x" input: "block1/conv/w" }
node { name: "block1/relu" op: "Relu" input: "block1/conv/Conv2D" }
node { name: "block2/conv/w" op: "Const" }
node { name: "block2/conv/Conv2D" op: "Conv2D" input: "block1/relu" input: "block2/conv/w" }
node { name: "block2/bias" op: "Identity" input: "block2/conv/Conv2D" }
node { name: "out" op: "_Retval" input: "block2/bias" }
"""
SCOPED_POST = """
node { name: "x" op: "_Arg" }
node { name: "block1/conv/w" op: "Const" }
node { name: "block1/conv/Conv2D" op: "_FusedConv2D" input: "x" input: "block1/conv/w"
       attr { key: "fused_ops" value { list { s: "Relu" } } } }
node { name: "block1/relu" op: "Relu" input: "block1/conv/Conv2D" }
node { name: "block2/conv/w" op: "Const" }
node { name: "block2/conv/Conv2D" op: "Conv2D" input: "block1/relu" input: "block2/conv/w" }
node { name: "out" op: "_Retval" input: "block2/conv/Conv2D" }
"""


def scoped() -> ModeGraphs:
    pre, post = parse_text(SCOPED_PRE), parse_text(SCOPED_POST)
    return ModeGraphs("spec", pre, post, diff_graphs(pre, post))


def edges(graph) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in graph.edges}


def test_small_graph_is_drawn_whole():
    graph = build(scoped(), "pre")
    assert [n.id for n in graph.nodes] == [n.name for n in scoped().pre.node]
    assert graph.hidden_nodes == 0 and graph.collapsed == ()
    assert ("block1/conv/Conv2D", "block1/relu") in edges(graph)


def test_hidden_noise_keeps_the_flow():
    graph = build(scoped(), "pre", ViewOptions(hide_noise=True))
    assert {n.op for n in graph.nodes} & {"_Arg", "_Retval", "Identity"} == set()
    assert graph.hidden_nodes == 3
    # block2/bias (Identity) is hidden; nothing is left that consumed it, so no dangling edge.
    assert all(e.source in {n.id for n in graph.nodes} for e in graph.edges)


def test_collapsed_scopes_count_members_and_changes(monkeypatch):
    monkeypatch.setattr(views, "MIN_BOXES", 0)
    graph = build(scoped(), "post", ViewOptions(collapse=True, max_nodes=5))
    by_id = {n.id: n for n in graph.nodes}
    # 3 boxes at the top; opening block1 and block2 makes 5; opening a conv scope would be 6.
    assert set(graph.collapsed) == {"block1/conv", "block2/conv"}
    assert by_id["block1/conv/"].members == 2 and by_id["block1/conv/"].changed == 1
    assert by_id["block1/conv/"].status == "fused"
    assert by_id["block2/conv/"].changed == 0 and by_id["block2/conv/"].status == "unchanged"
    assert ("block1/conv/", "block1/relu") in edges(graph)
    assert ("block1/relu", "block2/conv/") in edges(graph)


def test_budget_collapses_and_expand_opens_a_scope():
    many = "\n".join(f'node {{ name: "s{i}/a" op: "Const" }} node {{ name: "s{i}/b" op: "Neg" '
                     f'input: "s{i}/a" }}' for i in range(20))
    pre = parse_text(many)
    graphs = ModeGraphs("spec", pre, pre, diff_graphs(pre, pre))
    overview = build(graphs, "pre", ViewOptions(max_nodes=25))
    assert len(overview.nodes) <= 25 and len(overview.collapsed) >= 15
    opened = build(graphs, "pre", ViewOptions(max_nodes=25, expand=("s7",)))
    assert {"s7/a", "s7/b"} <= {n.id for n in opened.nodes}
    assert "s7" not in opened.collapsed


def test_changes_only_keeps_neighbours_within_k_hops():
    graphs = fixture_graphs()
    only = {n.id for n in build(graphs, "post", ViewOptions(changes_only=0)).nodes}
    assert only == {"scale", "ConstantFolding/y-folded"}
    near = {n.id for n in build(graphs, "post", ViewOptions(changes_only=1)).nodes}
    assert near == {"scale", "ConstantFolding/y-folded", "y"}


def test_diff_view_is_the_union_with_removed_nodes():
    graph = build(fixture_graphs(), "diff")
    status = {n.id: n.status for n in graph.nodes}
    assert status["a"] == status["b"] == status["Identity"] == "removed"
    assert status["scale"] == "folded" and status["ConstantFolding/y-folded"] == "added"
    removed_edges = {(e.source, e.target) for e in graph.edges if e.removed}
    # scale is drawn as the Const Grappler made; what fed it before stays, greyed.
    assert removed_edges == {("a", "scale"), ("b", "scale"), ("Identity", "output_RetVal")}
    assert ("y", "output_RetVal") in {(e.source, e.target) for e in graph.edges if not e.removed}


def test_shared_constant_edges_are_counted_not_drawn():
    consumers = "\n".join(f'node {{ name: "n{i}" op: "Reshape" input: "shape" }}'
                          for i in range(10))
    pre = parse_text('node { name: "shape" op: "Const" }\n' + consumers)
    graph = build(ModeGraphs("spec", pre, pre, diff_graphs(pre, pre)), "pre")
    assert graph.edges == ()
    assert next(n for n in graph.nodes if n.id == "shape").edges_left_out == 10


def test_tiny_pictures_open_past_the_budget():
    graph = build(scoped(), "pre", ViewOptions(collapse=True, max_nodes=1))
    assert graph.collapsed == () and len(graph.nodes) == len(scoped().pre.node)


def test_highlight_marks_matches_and_their_scopes(monkeypatch):
    graph = build(scoped(), "pre", ViewOptions(highlight="relu"))
    assert [n.id for n in graph.nodes if n.highlighted] == ["block1/relu"]
    monkeypatch.setattr(views, "MIN_BOXES", 0)
    collapsed = build(scoped(), "pre", ViewOptions(collapse=True, max_nodes=6, highlight="conv2d"))
    assert {n.id for n in collapsed.nodes if n.highlighted} == {"block1/conv/", "block2/conv/"}


def test_a_patterns_picture_shows_every_node_of_its_instance_noise_included():
    """Seed 1's "Identity feeding _Retval removed" drew only Square (issue 22): its Identity
    and _Retval were hidden as noise."""
    from inspector.graphs import patterns

    graphs = fixture_graphs()
    found = patterns.find(graphs.diff, graphs.pre, graphs.post)
    assert any(n in ("Identity", "output_RetVal") for p in found for n in p.nodes[0])
    for pattern in found:
        drawn = {n.id for n in build(graphs, "diff", patterns.instance_view(pattern.nodes[0])
                                     ).nodes}
        assert set(pattern.nodes[0]) <= drawn, (pattern.summary, drawn)
        if "feeding _Retval" in pattern.summary:
            assert "output_RetVal" in drawn, "the _Retval the pattern names"


def test_a_pass_that_only_removed_noise_still_draws_it_before_and_after():
    """The pass stepper on ResNet50's arithmetic_optimizer showed "0 boxes for 1521 nodes"."""
    pre = parse_text('node { name: "x" op: "_Arg" }\n'
                     'node { name: "id" op: "Identity" input: "x" }\n'
                     'node { name: "sq" op: "Square" input: "id" }\n'
                     'node { name: "out" op: "_Retval" input: "sq" }\n')
    post = parse_text('node { name: "x" op: "_Arg" }\n'
                      'node { name: "sq" op: "Square" input: "x" }\n'
                      'node { name: "out" op: "_Retval" input: "sq" }\n')
    graphs = ModeGraphs("pass", pre, post, diff_graphs(pre, post))
    options = ViewOptions(hide_noise=True, changes_only=2)
    assert "id" in {n.id for n in build(graphs, "pre", options).nodes}
    assert "id" in {n.id for n in build(graphs, "diff", options).nodes}
    # After it, the removed node is gone: the picture starts from what it touched.
    assert {n.id for n in build(graphs, "post", options).nodes} >= {"sq"}
    # A pass that only added nodes: its before picture shows where they go.
    added = ModeGraphs("pass", post, pre, diff_graphs(post, pre))
    assert {n.id for n in build(added, "pre", options).nodes} >= {"sq"}


def test_a_collapsed_scope_is_coloured_by_most_of_it_or_mixed(monkeypatch):
    """A scope with one removed node among several was drawn red and dashed, as removed."""
    from inspector.graphs import dot_text

    monkeypatch.setattr(views, "MIN_BOXES", 0)
    body = "".join(f'node {{ name: "s/n{i}" op: "Relu" input: "{"s/n" + str(i - 1) if i else "x"}" }}\n'
                   for i in range(4))
    pre = parse_text('node { name: "x" op: "_Arg" }\n' + body
                     + 'node { name: "s/gone" op: "Neg" input: "s/n3" }\n'
                     'node { name: "out" op: "_Retval" input: "s/n3" }\n')
    post = parse_text('node { name: "x" op: "_Arg" }\n' + body
                      + 'node { name: "out" op: "_Retval" input: "s/n3" }\n')
    graphs = ModeGraphs("m", pre, post, diff_graphs(pre, post))
    graph = build(graphs, "diff", ViewOptions(collapse=True, max_nodes=3))
    scope = next(n for n in graph.nodes if n.id == "s/")
    assert (scope.members, scope.changed, scope.status) == (5, 1, "mixed")
    dot = dot_text.to_dot(graph)
    line = next(line for line in dot.splitlines() if line.strip().startswith('"s/"'))
    assert "5 nodes, 1 changed: 1 removed" in line and "dashed" not in line
    assert views.scope_status(__import__("collections").Counter(removed=3, unchanged=2), 5) \
        == "removed"


def test_a_chain_of_thousands_of_hidden_nodes_is_bridged_without_recursion():
    """A Python loop of 3000 identities between two ops (the walk's 1500-line function hit
    Python's recursion limit here, in the app and the CLI)."""
    from inspector.graphs import diff, views
    from inspector.graphs.protos import ModeGraphs, parse_text

    names = [f"Identity_{i}" for i in range(3000)]
    text = 'node { name: "x" op: "Square" }\n'
    previous = "x"
    for name in names:
        text += f'node {{ name: "{name}" op: "Identity" input: "{previous}" }}\n'
        previous = name
    text += f'node {{ name: "out" op: "Neg" input: "{previous}" }}\n'
    graph = parse_text(text)
    picture = views.build(ModeGraphs("spec", graph, graph, diff.diff_graphs(graph, graph)),
                          "post", views.ViewOptions(hide_noise=True, collapse=False))
    assert {(e.source, e.target) for e in picture.edges} == {("x", "out")}


def _chain(count: int, scoped_every: int = 0, drop: int | None = None) -> str:
    """``count`` Relu nodes in a chain (in scopes of ``scoped_every`` when given), without
    node ``drop`` (its consumer then reads the one before it)."""
    text = []
    for i in range(count):
        if i == drop:
            continue
        name = f"s{i // scoped_every}/n{i}" if scoped_every else f"n{i}"
        before = i - 2 if i - 1 == drop else i - 1
        source = (f"s{before // scoped_every}/n{before}" if scoped_every else f"n{before}")
        text.append(f'node {{ name: "{name}" op: "Relu" '
                    + (f'input: "{source}" ' if before >= 0 else "") + "}")
    return "".join(text)


def test_a_huge_graph_without_scopes_is_narrowed_to_its_changes_and_says_so():
    pre, post = parse_text(_chain(3000)), parse_text(_chain(3000, drop=1500))
    graphs = ModeGraphs("spec", pre, post, diff_graphs(pre, post))
    picture = build(graphs, "diff")
    assert picture.narrowed_from == 3000  # every node a box: nothing to collapse
    # The removed node, what it fed and what fed it, within two hops.
    assert {n.name for n in picture.nodes} == {f"n{i}" for i in range(1498, 1503)}
    whole = build(graphs, "diff", ViewOptions(narrow_past=None))
    assert whole.narrowed_from is None and len(whole.nodes) == 3000
    asked = build(graphs, "diff", ViewOptions(changes_only=1))  # the user's own choice stands
    assert asked.narrowed_from is None and len(asked.nodes) == 3


def test_a_huge_graph_with_scopes_stays_the_collapsed_overview():
    pre = parse_text(_chain(3000, scoped_every=100))
    post = parse_text(_chain(3000, scoped_every=100, drop=1500))
    picture = build(ModeGraphs("spec", pre, post, diff_graphs(pre, post)), "diff")
    assert picture.narrowed_from is None and len(picture.nodes) <= views.MAX_NODES
    assert len(picture.collapsed) >= 20  # most scopes one box each, a few opened within budget


def test_a_huge_graph_changed_all_over_draws_its_first_boxes_and_says_so():
    """Grappler changed every other node of a 3,000-node chain with no scopes: the changes and
    two hops around them are the whole graph, so the first MAX_BOXES boxes in graph order are
    drawn (74 s in chromium for 20,000 before; the bench's unscoped row)."""
    from inspector.graphs import dot_text

    pre = parse_text(_chain(3000))
    post = parse_text("".join(
        f'node {{ name: "n{i}" op: "{"Relu" if i % 2 else "Relu6"}" '
        + (f'input: "n{i - 1}" ' if i else "") + "}" for i in range(3000)))
    graphs = ModeGraphs("spec", pre, post, diff_graphs(pre, post))
    for view in ("pre", "post", "diff"):
        picture = build(graphs, view)
        assert picture.cut and picture.narrowed_from == 3000, view
        assert [n.name for n in picture.nodes] == [f"n{i}" for i in range(views.MAX_BOXES)]
        assert f"the first {views.MAX_BOXES:,} of 3,000 boxes" in dot_text.to_dot(picture)
    whole = build(graphs, "post", ViewOptions(narrow_past=None))
    assert not whole.cut and len(whole.nodes) == 3000
    unchanged = ModeGraphs("spec", pre, pre, diff_graphs(pre, pre))  # no change to narrow to
    assert build(unchanged, "post").cut
