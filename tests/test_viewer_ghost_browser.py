"""A node only one side has, in the viewer's panes kept in sync (issue 26): the other pane
rings where it would be and names it, and the name stays inside the pane even when the ring
is near its right edge. No TensorFlow: generated GraphDefs drawn by Graphviz."""

from __future__ import annotations

import pytest

from inspector.graphs import diff, render, views
from inspector.graphs.protos import ModeGraphs, parse_text
from inspector.output import graph_viewer

pytestmark = pytest.mark.browser

GONE = "a_rather_long_scope_name/and_an_inner_scope/the_removed_op_with_a_long_name"


def _page_html() -> str:
    """Before: a chain and one more node off its middle; after: the chain alone."""
    chain = "".join(f'node {{ name: "n{i}" op: "Relu" ' + (f'input: "n{i - 1}" ' if i else "")
                    + "}" for i in range(30))
    pre = parse_text(chain + f'node {{ name: "{GONE}" op: "Square" input: "n15" }}')
    post = parse_text(chain)
    graphs = ModeGraphs("spec", pre, post, diff.diff_graphs(pre, post))
    options = views.ViewOptions(collapse=False)
    panes = [graph_viewer.Pane(side, render.draw(graphs, side, options=options))
             for side in ("pre", "post")]
    data = graph_viewer.viewer_data(panes, search_box=True)
    return (f"<html><head>{graph_viewer.html_head()}</head><body>"
            f"{graph_viewer.html_viewer(data)}{graph_viewer.html_mount()}</body></html>")


def test_the_missing_nodes_ring_and_name_stay_inside_the_other_pane(browser):
    page = browser.new_page(viewport={"width": 760, "height": 700})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_content(_page_html())
    page.locator(".gv-viewer[data-ready]").wait_for(timeout=30_000)
    page.locator("input.gv-search").fill("the_removed_op")
    page.locator("input.gv-search").press("Enter")
    ghost = page.locator(".gv-ghost").nth(1)  # in the after pane
    ghost.wait_for(state="visible", timeout=10_000)
    assert page.locator(".gv-ghost").nth(0).is_hidden()
    assert page.locator(".gv-ghost-label").nth(0).inner_text() == GONE
    stage = page.locator(".gv-stage").nth(1).bounding_box()
    ring, label = ghost.bounding_box(), page.locator(".gv-ghost-label").nth(0).bounding_box()
    # The ring sits where the node is in the before pane (the panes share the zoom and the
    # chain's place), and the name is drawn whole inside the pane.
    assert stage["x"] <= ring["x"] and ring["x"] + ring["width"] <= stage["x"] + stage["width"]
    assert label["x"] >= stage["x"] - 1 and label["x"] + label["width"] <= stage["x"] + \
        stage["width"] + 1, (label, stage)
    assert not errors, errors
    page.close()
