"""Pictures that use their canvas: tall graphs wrapped into columns (pure ``layout.wrap``, then
real ``dot``), and PNGs kept legible under the size cap."""

from __future__ import annotations

import re

from bench.canvas import canvas_use
from inspector.graphs import dot_text, layout, render
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


def test_constants_just_above_a_cut_follow_their_consumer_into_the_next_column():
    column = {"x": 0, "a": 0, "b": 0, "c": 1, "k1": 0, "k2": 0, "mul": 0, "matmul": 1,
              "shared": 0}
    edges = [("x", "a"), ("a", "b"), ("b", "c"),  # the chain the cut goes through
             ("k1", "mul"), ("k2", "mul"), ("mul", "matmul"),  # a Mul of two constants
             ("shared", "a"), ("shared", "matmul")]  # feeds both columns: stays
    layout._with_consumers(column, edges)
    assert column == {"x": 0, "a": 0, "b": 0, "c": 1, "k1": 1, "k2": 1, "mul": 1, "matmul": 1,
                      "shared": 0}


def test_the_estimate_ranks_as_dot_does_and_hangs_constant_branches_by_their_consumer():
    sizes = {name: (60.0, 36.0) for name in
             ("x", "conv", "relu", "out", "w", "shape", "reshape", "extra")}
    edges = [("x", "conv", 1), ("conv", "relu", 1), ("relu", "out", 1),
             ("w", "reshape", 1), ("shape", "reshape", 1), ("reshape", "out", 1),
             ("conv", "extra", 3)]  # a minlen of 3: three ranks down
    boxes = layout.estimate(sizes, edges)
    rank = {name: round(-box.y / (36 + layout.RANK_GAP_PT) - 0.5) for name, box in boxes.items()}
    assert [rank[n] for n in ("x", "conv", "relu", "out")] == [0, 1, 2, 3]
    assert rank["reshape"] == 2 and rank["w"] == rank["shape"] == 1  # just above "out"
    assert rank["extra"] == 4
    widths = {y: sum(b.width for b in boxes.values() if b.y == y) for y in {b.y for b in
                                                                             boxes.values()}}
    assert max(widths.values()) == 3 * 60.0  # conv, w and shape side by side in rank 1


def test_a_wide_row_of_parts_is_packed_into_rows():
    assert layout.rows([(300.0, 100.0)] * 3) is None  # 12 inches wide: fine as it is
    packed = layout.rows([(400.0, 100.0)] * 16)  # 90 inches wide, 1.4 tall
    assert packed is not None
    rows = -(-16 // packed.per_row)
    assert 0.5 <= packed.per_row * 400 / (rows * 100) <= 2  # about square


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
    data, scale = render.run_dot(dot_text.to_dot(graph), ("png",), boxes=len(graph.nodes))
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
