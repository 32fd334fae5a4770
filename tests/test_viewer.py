"""The graph viewer's data and page parts (issue 26), without a browser: what each box tells
the hover and the search, where the first view goes, how tall a pane is, and that node names
cannot break out of the page's JSON. The browser tests drive the viewer itself."""

from __future__ import annotations

import json
import re

from inspector.graphs import diff, render, views
from inspector.graphs.protos import ModeGraphs, parse_text
from inspector.output import graph_viewer
from inspector.report import Attribution
from tests.helpers import ROOT, fixture_graphs


def test_every_box_says_its_name_op_change_and_pass():
    graphs = fixture_graphs()
    picture = render.draw(graphs, "diff")
    data = graph_viewer.viewer_data([graph_viewer.Pane("diff", picture)],
                                    attribution={"scale": Attribution(1, "constant_folding", 1)},
                                    query="scale", matches=("scale", "not-a-box"))
    assert set(data["nodes"]) == {node.id for node in picture.graph.nodes}
    scale = data["nodes"]["scale"]
    assert (scale["op"], scale["status"], scale["pass"]) == ("Const", "folded",
                                                             "constant_folding (round 1)")
    assert data["matches"] == ["scale"], "only boxes the picture has"
    assert data["panes"][0]["svg"].startswith("<svg")
    assert data["legible"] == render.LEGIBLE_SCALE


def test_an_opened_scope_is_focused_on_its_first_member():
    pre = parse_text("".join(f'node {{ name: "block/{i}" op: "Relu" }}' for i in range(3)))
    graphs = ModeGraphs("spec", pre, pre, diff.diff_graphs(pre, pre))
    picture = render.draw(graphs, "post", options=views.ViewOptions(collapse=False))
    data = graph_viewer.viewer_data([graph_viewer.Pane("", picture)], focus="block")
    assert data["focus"] == "block/0"
    assert graph_viewer.viewer_data([graph_viewer.Pane("", picture)], focus="gone")["focus"] \
        is None


def test_a_pane_is_as_tall_as_its_picture_within_bounds():
    small = render.draw(fixture_graphs(), "post")
    assert graph_viewer.MIN_PANE_PX <= graph_viewer.pane_height(
        [graph_viewer.Pane("", small)]) < graph_viewer.PANE_PX
    chain = parse_text("".join(
        f'node {{ name: "n{i}" op: "Relu" ' + (f'input: "n{i - 1}"' if i else "") + " }"
        for i in range(60)))
    tall = render.draw(ModeGraphs("spec", chain, chain, diff.diff_graphs(chain, chain)), "post")
    assert graph_viewer.pane_height([graph_viewer.Pane("", tall)]) == graph_viewer.PANE_PX


def test_a_node_name_cannot_close_the_pages_script():
    hostile = "</script><script>alert(1)</script>"
    graph = parse_text(f'node {{ name: "{hostile}" op: "Relu" }}')
    picture = render.draw(ModeGraphs("spec", graph, graph, diff.diff_graphs(graph, graph)),
                          "post")
    page = graph_viewer.html_viewer(graph_viewer.viewer_data([graph_viewer.Pane("", picture)]))
    payload = re.search(r'<script type="application/json">(.*?)</script>', page, re.S)
    assert payload is not None and "<script>alert" not in page
    assert page.count("</script>") == 1
    assert hostile in json.loads(payload.group(1))["nodes"]


def test_the_viewer_script_is_the_pinned_library_and_ours():
    lock = json.loads((graph_viewer.ASSETS / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/svg-pan-zoom"]["version"]
    script = graph_viewer.script()
    assert script.startswith(f"// svg-pan-zoom v{pinned}")
    assert "window.inspectorViewer" in script


def test_no_deprecated_streamlit_components_are_left():
    """st.components.v1.html is removed after 2026-06-01 (issue 26): the pictures go through
    the viewer, a components.v2 component."""
    used = [str(path.relative_to(ROOT)) for path in (ROOT / "inspector").rglob("*.py")
            if "components.v1" in path.read_text("utf-8")]
    assert used == []


def test_each_pane_describes_its_own_box_and_a_cut_pane_says_so():
    """A node fused after Grappler is another op in the after pane (hover and search read the
    pane's own details: the before pane's won for both, found in a walk); a node a pass only
    rewired says so; a picture cut to its first boxes carries the count its ring and search
    name."""
    pre = parse_text('node { name: "x" op: "_Arg" } node { name: "m" op: "MatMul" input: "x" }'
                     ' node { name: "r" op: "Relu" input: "m" }'
                     ' node { name: "out" op: "_Retval" input: "r" }')
    post = parse_text('node { name: "x" op: "_Arg" } node { name: "r" op: "_FusedMatMul" '
                      'input: "x" attr { key: "fused_ops" value { list { s: "Relu" } } } }'
                      ' node { name: "out" op: "_Retval" input: "r" }')
    graphs = ModeGraphs("spec", pre, post, diff.diff_graphs(pre, post))
    panes = [graph_viewer.Pane(view, render.draw(graphs, view)) for view in ("pre", "post")]
    data = graph_viewer.viewer_data(panes, attribution={
        "r": Attribution(1, "remapper", 1), "out": Attribution(1, "dependency_optimizer", 1)})
    assert data["nodes"]["r"]["op"] == "Relu"
    assert data["panes"][1]["nodes"]["r"]["op"] == "_FusedMatMul"
    assert "r" not in data["panes"][0]["nodes"] and "x" not in data["panes"][1]["nodes"]
    assert data["nodes"]["out"]["status"] == "inputs rewired"  # not "unchanged, by ..."
    assert [p["cut"] for p in data["panes"]] == [0, 0]
    chain = parse_text("".join(
        f'node {{ name: "n{i}" op: "Relu" ' + (f'input: "n{i - 1}"' if i else "") + " }"
        for i in range(views.MAX_BOXES + 10)))
    unchanged = ModeGraphs("spec", chain, chain, diff.diff_graphs(chain, chain))
    cut = graph_viewer.viewer_data([graph_viewer.Pane("", render.draw(unchanged, "post"))])
    assert cut["panes"][0]["cut"] == views.MAX_BOXES
