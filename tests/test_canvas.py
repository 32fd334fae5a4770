"""Pictures that use their canvas: tall graphs wrapped into columns (pure ``layout.wrap``, then
real ``dot``), and PNGs kept legible under the size cap."""

from __future__ import annotations

import re

from bench.canvas import canvas_use
from inspector.graphs import layout, render
from inspector.graphs.diff import diff_graphs
from inspector.graphs.protos import ModeGraphs, parse_text
from inspector.graphs.views import ViewOptions, build


def chain_boxes(levels: int, step: float = 60.0) -> dict[str, layout.Box]:
    """A chain of one box per rank, as dot lays it out: one box wide, ``levels`` ranks tall."""
    return {f"n{i}": layout.Box(100.0, (levels - i) * step, 100.0, 36.0) for i in range(levels)}


def test_a_short_picture_is_left_as_dot_draws_it():
    assert layout.wrap(chain_boxes(20), []) is None  # 20 ranks: about 17 inches


def test_a_tall_chain_is_cut_into_about_square_columns_in_order():
    boxes = chain_boxes(400)  # about 333 inches tall, 1.4 wide
    edges = [(f"n{i}", f"n{i + 1}") for i in range(399)]
    wrap = layout.wrap(boxes, edges)
    assert wrap is not None and wrap.count > 4
    assert 0.5 < wrap.width_pt / wrap.height_pt < 2
    columns = [wrap.column[f"n{i}"] for i in range(400)]
    assert columns == sorted(columns) and columns[0] == 0 and columns[-1] == wrap.count - 1


def test_cuts_fall_where_fewest_edges_pass():
    boxes = chain_boxes(400)
    edges = [(f"n{i}", f"n{i + 1}") for i in range(399)]
    # skip connections over every rank except the gaps after n99, n199, n299
    edges += [(f"n{i}", f"n{i + 2}") for i in range(398) if i % 100 not in (98, 99)]
    wrap = layout.wrap(boxes, edges)
    assert wrap is not None
    firsts = [i for i in range(1, 400) if wrap.column[f"n{i}"] != wrap.column[f"n{i - 1}"]]
    assert set(firsts) & {100, 200, 300}
    passing = {i: sum(1 for s, t in edges if int(s[1:]) < i <= int(t[1:])) for i in firsts}
    assert all(count == 1 or i not in (100, 200, 300) for i, count in passing.items())


def tall_graphs(blocks: int = 120) -> ModeGraphs:
    """A deep model in miniature: ``blocks`` scopes of Const -> Mul -> Relu in a chain; after
    "Grappler" each Mul has become a fused op."""
    def graph(mul_op: str) -> str:
        nodes, previous = ['node { name: "x" op: "Placeholder" }'], "x"
        for i in range(blocks):
            scope = f"block{i}"
            nodes += [f'node {{ name: "{scope}/w" op: "Const" }}',
                      f'node {{ name: "{scope}/mul" op: "{mul_op}" input: "{previous}" '
                      f'input: "{scope}/w" }}',
                      f'node {{ name: "{scope}/relu" op: "Relu" input: "{scope}/mul" }}']
            previous = f"{scope}/relu"
        return "\n".join(nodes)

    pre, post = parse_text(graph("Mul")), parse_text(graph("_FusedMul"))
    return ModeGraphs("spec", pre, post, diff_graphs(pre, post))


def test_a_tall_graph_is_drawn_in_columns_with_every_edge_kept():
    graphs = tall_graphs()
    options = ViewOptions(collapse=False)
    graph = build(graphs, "pre", options)
    picture = render.draw(graphs, "pre", ("svg", "png"), options)
    assert picture.columns > 1 and picture.png_scale == 1.0 and picture.fallback is None
    svg = picture.data["svg"].decode()
    assert svg.count("to column ") == picture.columns - 1
    drawn = set(re.findall(r"<title>([^<]*)</title>", svg))
    assert {node.id for node in graph.nodes} <= drawn

    def x_of(name: str) -> float:  # where the box's label starts
        return float(re.search(rf"<title>{name}</title>.*?<text [^>]*x=\"([\d.-]+)\"", svg,
                               re.S).group(1))

    # columns left to right in the graph's order: the first block left of the last
    assert x_of("block0/mul") < x_of("block60/mul") < x_of("block119/mul")
    width, height, aspect, inked = canvas_use(picture.data["png"])
    data, scale = render.run_dot(render.to_dot(graph), ("png",), boxes=len(graph.nodes))
    assert scale < render.LEGIBLE_SCALE  # one column: over 100 inches tall, shrunk to fit
    assert aspect <= 4 and inked > canvas_use(data["png"])[3]


def test_a_png_too_big_to_read_is_drawn_collapsed_and_says_so(monkeypatch):
    monkeypatch.setattr(render, "PNG_MAX_IN", 15)
    graphs = tall_graphs()
    picture = render.draw(graphs, "pre", ("svg", "png"), ViewOptions(collapse=False))
    assert picture.fallback is not None and "labels unreadable" in picture.fallback
    assert picture.png_scale >= render.LEGIBLE_SCALE
    whole = picture.data["svg"].decode()
    assert "block7/mul" in whole  # the SVG keeps every box ...
    assert len(picture.graph.nodes) == 361
    shown = int(re.search(r"the overview \((\d+) boxes\)", picture.fallback).group(1))
    assert shown < 361  # ... the PNG is an overview, at full size


def test_an_export_says_which_png_was_drawn_collapsed(monkeypatch, tmp_path):
    from inspector.output import files
    from inspector.report import ModeResult, Report

    monkeypatch.setattr(render, "PNG_MAX_IN", 15)
    graphs = tall_graphs()
    result = ModeResult("spec", diff=graphs.diff, graphs={
        "pre": graphs.pre.SerializeToString(), "post": graphs.post.SerializeToString()})
    notes: list[str] = []
    written = files.write_graphs(Report("2.21.0", function="deep", results=(result,)), tmp_path,
                                 ("svg", "png"), ViewOptions(collapse=False), notes.append)
    assert {p.name for p in written} >= {"deep-spec-pre.png", "deep-spec-diff.svg"}
    assert sorted(note.split(":")[0] for note in notes) == [
        "deep-spec-diff.*", "deep-spec-post.*", "deep-spec-pre.*"]
    assert all("(the SVG and PDF show all of them)" in note for note in notes)
