"""The graph viewer on a touch screen (issue 26): one finger pans, two fingers pinch to zoom
about their midpoint, in chromium with real touch events, on an HTML page built as the report
builds it. No TensorFlow: the picture is a generated GraphDef drawn by Graphviz."""

from __future__ import annotations

import pytest

from inspector.graphs import diff, render, views
from inspector.graphs.protos import ModeGraphs, parse_text
from inspector.output import graph_viewer

pytestmark = pytest.mark.browser


def _page_html() -> str:
    """Two panes (before | after) of a chain too long to be legible whole."""
    text = "".join(f'node {{ name: "n{i}" op: "Relu" '
                   + (f'input: "n{i - 1}" ' if i else "") + "}" for i in range(80))
    graph = parse_text(text)
    graphs = ModeGraphs("spec", graph, graph, diff.diff_graphs(graph, graph))
    options = views.ViewOptions(collapse=False)
    panes = [graph_viewer.Pane(side, render.draw(graphs, side, options=options))
             for side in ("pre", "post")]
    return (f"<html><head>{graph_viewer.html_head()}</head><body>"
            f"{graph_viewer.html_viewer(graph_viewer.viewer_data(panes))}"
            f"{graph_viewer.html_mount()}</body></html>")


def _transform(page, index: int) -> tuple[float, float, float]:
    """A pane's zoom and pan, from its viewport's transform matrix."""
    matrix = page.locator(".svg-pan-zoom_viewport").nth(index).get_attribute("transform")
    numbers = [float(n) for n in matrix.split("(", 1)[1].rstrip(")").split(",")]
    return numbers[0], numbers[4], numbers[5]


def _touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    cdp.send("Input.dispatchTouchEvent", {
        "type": kind, "touchPoints": [{"x": x, "y": y, "id": i} for i, (x, y) in
                                      enumerate(points)]})


def test_one_finger_pans_and_two_fingers_pinch(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_content(_page_html())
    page.locator(".gv-viewer[data-ready]").wait_for(timeout=30_000)
    cdp = context.new_cdp_session(page)
    stage = page.locator(".gv-stage").first.bounding_box()
    x, y = stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2

    zoom, left, top = _transform(page, 0)
    _touch(cdp, "touchStart", [(x, y)])
    for step in range(1, 6):
        _touch(cdp, "touchMove", [(x + 12 * step, y + 20 * step)])
    _touch(cdp, "touchEnd", [])
    page.wait_for_timeout(300)
    zoom_after, left_after, top_after = _transform(page, 0)
    assert zoom_after == pytest.approx(zoom)
    assert (left_after - left, top_after - top) == pytest.approx((60, 100), abs=2), \
        "one finger pans by as far as it moved"

    other = _transform(page, 1)
    _touch(cdp, "touchStart", [(x - 20, y), (x + 20, y)])
    for step in range(1, 6):
        _touch(cdp, "touchMove", [(x - 20 - 8 * step, y), (x + 20 + 8 * step, y)])
    _touch(cdp, "touchEnd", [])
    page.wait_for_timeout(300)
    pinched = _transform(page, 0)[0]
    assert pinched / zoom_after == pytest.approx(120 / 40, rel=0.05), \
        "fingers three times as far apart zoom three times"
    assert _transform(page, 1) != other, "the other pane follows (sync)"
    assert not errors, errors
    context.close()
