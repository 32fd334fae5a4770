"""Graph pictures: DOT text from a ``views.ViewGraph``, and SVG/PNG/PDF from Graphviz's ``dot``.

``dot`` always runs with a timeout; large pictures use layout settings that stay fast, and a
picture that still times out is drawn again with more scopes collapsed, so nothing hangs.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from inspector.errors import GraphvizMissing, RenderError
from inspector.graphs import layout, protos, views

# What happened to a node -> fill colour. The same node looks the same in every view.
COLOURS = {
    "folded": "#9ecae1",     # became a Const
    "fused": "#c2a5cf",      # a _Fused* kernel
    "removed": "#fcbba1",    # only before Grappler
    "added": "#a1d99b",      # only after Grappler
    "op_changed": "#fdd0a2",  # another op, same name
    "unchanged": "#f0f0f0",
}
FORMATS = ("svg", "png", "pdf")
# Above this many boxes the default layout gets slow (ResNet50's full pre graph: over 60 s).
# Measured on that graph (1832 boxes, 2220 edges): nslimit=1, nslimit1=1, mclimit=0.1 and
# straight edges 11.3 s; cutting the network-simplex and crossing-minimisation passes to a fifth
# of that, as here, 1.9 s. The layout stays ranked top to bottom; edges cross more.
FAST_LAYOUT_ABOVE = 150
FAST_LAYOUT = ("-Gnslimit=0.2", "-Gnslimit1=0.2", "-Gmclimit=0.05", "-Gsplines=line")
# Seconds one dot run may take before the picture is drawn again, more collapsed.
DOT_TIMEOUT_S = 20.0
# Box budgets tried in turn after a timeout.
FALLBACK_BUDGETS = (150, 60)
# Raster resolution: big graphs at print resolution make PNGs of hundreds of megapixels.
PNG_DPI = 72
# Large pictures as PNG are scaled to fit this many inches square (7200 px at 72 dpi): ResNet50's
# full pre graph, before pictures were wrapped into columns, took 11.5 s to rasterise uncapped
# (dot itself shrinks it to cairo's 32767 px limit), 3.8 s capped. SVG and PDF keep their
# natural size.
PNG_MAX_IN = 100
# Characters of a shortened node name kept in a box.
NAME_CHARS = 40
# Labels are 9 pt (9 px in a PNG at 72 dpi). A PNG that the size cap shrinks below this scale
# has labels under 7 px: unreadable at 100% zoom, so it is drawn more collapsed instead.
LEGIBLE_SCALE = 0.8
# Fewer boxes than this cannot make a picture WRAP_ABOVE_IN tall (about 0.9 in per rank at
# most), so they skip the estimate that decides on wrapping.
WRAP_CHECK_ABOVE = 40
# From this many boxes without a drawn edge (e.g. removed constants whose consumers are not
# shown), they are drawn as a block of their own in rows, not as one rank across the picture.
LOOSE_BLOCK_FROM = 4
# A node fed by this many drawn edges has its inputs staggered over several ranks (minlen), so
# they stand in a block above it rather than in one rank across the picture.
FAN_IN_ROWS_FROM = 16
# The legend's size in points (its table of colours and one line of notes).
LEGEND_PT = (330.0, 40.0)
# Connectors standing in for the edges between wrapped columns.
CONNECTOR = 'shape=cds, style="filled", fillcolor="#ffffff", fontsize=8, margin="0.05,0.02"'


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def _short(name: str) -> str:
    parts = name.split("/")
    short = "/".join(parts[-2:]) if len(parts) > 2 else name
    return short if len(short) <= NAME_CHARS else "..." + short[-NAME_CHARS + 3:]


def _label(node: views.ViewNode) -> str:
    if node.op is None:
        changed = f", {node.changed} changed" if node.changed else ""
        label = f"{_short(node.name)}/\\n[{node.members} nodes{changed}]"
        return label + (f"\\nshared constants feed {node.edges_left_out} (not drawn)" if node.edges_left_out else "")
    label = f"{_short(node.name)}\\n{node.op}"
    if node.fused_ops:
        label += f" [{'+'.join(node.fused_ops)}]"
    if node.shapes:
        label += "\\n" + " ".join(node.shapes)[:NAME_CHARS]
    if node.edges_left_out:
        label += f"\\nshared: feeds {node.edges_left_out} (edges not drawn)"
    if node.time_us:
        label += f"\\n{node.time_us:,.0f} us"
    return label


def heat(share: float) -> str:
    """White (no time) to red (the top of the scale), linear."""
    fade = int(255 * (1 - min(max(share, 0.0), 1.0)))
    return f"#ff{fade:02x}{fade:02x}"


def to_dot(graph: views.ViewGraph, wrap: layout.Wrap | layout.Rows | None = None) -> str:
    """DOT text: boxes coloured by what Grappler did, control edges dashed, a legend.

    With ``wrap``, each column is laid out on its own and an edge between columns becomes a
    pair of connectors ("to column 2" under the source, "from column 1: <source>" over the
    target), so no line crosses the picture.
    """
    lines = [f"digraph {_quote(graph.view)} {{",
             '  graph [rankdir=TB, fontname="Helvetica", fontsize=10, nodesep=0.2, ranksep=0.3];',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=9];',
             "  edge [arrowsize=0.5];"]
    if isinstance(wrap, layout.Rows):
        # dot's own array packing: parts in declaration order, top-aligned, per_row a row
        lines.append(f'  packmode="array_it{wrap.per_row}";')
        wrap = None
    column = wrap.column if wrap is not None else {}
    loose = loose_boxes(graph)
    members: dict[int, list[str]] = {}
    for node in graph.nodes:
        if node.id not in loose:
            members.setdefault(column.get(node.id, 0), []).append(_node_line(graph, node))
    # (from, to) -> line: one connector edge per source and column, whatever it stands for
    edge_lines: dict[tuple[str, str], str] = {}
    for edge, minlen in _minlens(graph):
        start, end = column.get(edge.source, 0), column.get(edge.target, 0)
        suffix = _edge_attrs(edge, minlen)
        if start == end:
            edge_lines[(edge.source, edge.target)] = (
                f"  {_quote(edge.source)} -> {_quote(edge.target)}{suffix};")
            continue
        # one pair per source and column it feeds
        leaving, arriving = f"{edge.source} leaving for {end}", f"{edge.source} arriving in {end}"
        members[start].append(f"  {_quote(leaving)} [label={_quote(f'to column {end + 1}')}, "
                              f"{CONNECTOR}];")
        members[end].append(f"  {_quote(arriving)} [label="
                            f"{_quote(f'from column {start + 1}: {_short(edge.source)}')}, "
                            f"{CONNECTOR}];")
        edge_lines.setdefault((edge.source, leaving),
                              f"  {_quote(edge.source)} -> {_quote(leaving)}{suffix};")
        edge_lines[(arriving, edge.target)] = (
            f"  {_quote(arriving)} -> {_quote(edge.target)}{suffix};")
    for index in sorted(members):
        # A cluster keeps a column compact (the fast layout lets a chain drift sideways);
        # dict.fromkeys: a connector standing for several edges is declared once.
        inside = list(dict.fromkeys(members[index]))
        lines += ([f"  subgraph cluster_column{index} {{", "  style=invis;", *inside, "  }"]
                  if wrap is not None else inside)
    lines += edge_lines.values()
    if wrap is not None:
        # Each column is made one piece and Graphviz packs the pieces in one row, in the order
        # they are declared ("array", flags i: input order, t: top-aligned); the loose block
        # and the legend come after the columns.
        lines += [f"  {_quote(upper)} -> {_quote(lower)} [style=invis"
                  f"{'' if ranked else ', constraint=false'}];"
                  for upper, lower, ranked in layout.stacking(
                      wrap, [(e.source, e.target) for e in graph.edges])]
        cells = len(members) + bool(loose) + 1
        lines.append(f'  packmode="array_it{cells}";')
    if loose:
        lines += _loose_block(graph, loose)
    lines.append(_legend(graph))
    lines.append("}")
    return "\n".join(lines)


def loose_boxes(graph: views.ViewGraph) -> set[str]:
    """Boxes no drawn edge touches, when there are enough of them to be drawn as a block."""
    linked = {end for edge in graph.edges for end in (edge.source, edge.target)}
    loose = {node.id for node in graph.nodes if node.id not in linked}
    return loose if len(loose) >= LOOSE_BLOCK_FROM else set()


def _loose_block(graph: views.ViewGraph, loose: set[str]) -> list[str]:
    """The boxes without edges in rows of about half as many as there are rows (boxes are
    about twice as wide as tall with their spacing), held in place by invisible edges."""
    nodes = [node for node in graph.nodes if node.id in loose]
    per_row = math.ceil(math.sqrt(len(nodes) / 2))
    lines = ["  subgraph cluster_loose {",
             f"  label={_quote(f'{len(nodes)} boxes with no edge drawn')}; fontsize=9; "
             'fontcolor="#888888"; style="dashed,rounded"; color="#cccccc";',
             *(_node_line(graph, node) for node in nodes)]
    lines += [f"  {_quote(above.id)} -> {_quote(below.id)} [style=invis];"
              for above, below in zip(nodes, nodes[per_row:], strict=False)]
    # the first row tied together without ranking: the block is one piece when packed
    lines += [f"  {_quote(left.id)} -> {_quote(right.id)} [style=invis, constraint=false];"
              for left, right in zip(nodes[:per_row], nodes[1:per_row], strict=False)]
    return [*lines, "  }"]


def _node_line(graph: views.ViewGraph, node: views.ViewNode) -> str:
    fill = (heat(node.time_us / graph.time_scale_us) if graph.time_scale_us
            and node.time_us is not None else COLOURS[node.status])
    attrs = [f"label={_quote(_label(node))}", f"fillcolor={_quote(fill)}",
             f"tooltip={_quote(node.name)}"]
    if node.op is None:
        attrs.append("shape=box3d")
    if graph.view == "diff" and node.status == "removed":
        attrs.append('style="rounded,filled,dashed", fontcolor="#888888"')
    if node.highlighted:
        attrs.append('color="#d62728", penwidth=3')
    return f"  {_quote(node.id)} [{', '.join(attrs)}];"


def _edge_attrs(edge: views.ViewEdge, minlen: int = 1) -> str:
    attrs = [f"minlen={minlen}"] if minlen > 1 else []
    if edge.control:
        attrs.append("style=dashed")
    if edge.label:
        attrs.append(f"label={_quote(edge.label)}, fontsize=8")
    if edge.removed:
        attrs.append('color="#bbbbbb"')
    if edge.count > 1:
        attrs.append(f"penwidth={min(1 + edge.count / 10, 4):.1f}")
    return f" [{', '.join(attrs)}]" if attrs else ""


def _legend(graph: views.ViewGraph) -> str:
    cells = "".join(f'<td bgcolor="{colour}">{status.replace("_", " ")}</td>'
                    for status, colour in COLOURS.items())
    notes = [f"{graph.view}: {len(graph.nodes)} boxes for {graph.total_nodes} nodes"]
    if graph.hidden_nodes:
        notes.append(f"{graph.hidden_nodes} hidden")
    if graph.collapsed:
        notes.append(f"{len(graph.collapsed)} scopes collapsed")
    if graph.time_scale_us:
        notes.append(f"fill: time, 0 to {graph.time_scale_us:,.0f} us (all modes)")
    return (f'  legend [shape=plaintext, style="", label=<<table border="0" cellspacing="2">'
            f'<tr>{cells}</tr><tr><td colspan="{len(COLOURS)}">{", ".join(notes)}</td></tr>'
            f"</table>>];")


def dot_command() -> str:
    """Path of Graphviz's ``dot``; a typed error naming the package when it is missing."""
    path = shutil.which("dot")
    if path is None:
        raise GraphvizMissing("Graphviz's `dot` program is not installed: install the system "
                              "package `graphviz` (Debian/Ubuntu: `sudo apt-get install "
                              "graphviz`; macOS: `brew install graphviz`), or run `make setup`")
    return path


def run_dot(dot_text: str, formats: tuple[str, ...] = ("svg",),
            timeout_s: float = DOT_TIMEOUT_S,
            boxes: int | None = None) -> tuple[dict[str, bytes], float]:
    """Lay out ``dot_text`` and draw it in each of ``formats`` (one layout for vector formats).

    Returns the files by format, and the scale the PNG was drawn at (1.0 without a PNG or when
    it fits PNG_MAX_IN; below that, the cap shrank the picture).

    Raises ``subprocess.TimeoutExpired`` past ``timeout_s`` (dot is killed), GraphvizMissing
    without dot, RenderError when dot rejects the input.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats must be among {FORMATS}, not {formats!r}")
    large = boxes is None or boxes > FAST_LAYOUT_ABOVE
    options = [f"-Gdpi={PNG_DPI}", *(FAST_LAYOUT if large else ())]
    if large and "png" in formats:  # rasterised at a capped size, in a run of its own
        rest = tuple(f for f in formats if f != "png")
        drawn = _dot(dot_text, rest, options, timeout_s) if rest else {}
        png = _dot(dot_text, ("png", "plain"), [*options, f"-Gsize={PNG_MAX_IN},{PNG_MAX_IN}"],
                   timeout_s)
        # -Tplain starts "graph <scale> <width> <height>": the scale the size cap imposed
        return {**drawn, "png": png["png"]}, float(png["plain"].split()[1])
    return _dot(dot_text, formats, options, timeout_s), 1.0


def arrange(graph: views.ViewGraph) -> layout.Wrap | layout.Rows | None:
    """Columns for a tall picture, rows for a wide one of many parts (see ``layout``), from an
    estimate of dot's layout; None for pictures that are fine as dot lays them out."""
    if len(graph.nodes) <= WRAP_CHECK_ABOVE:
        return None
    loose = loose_boxes(graph)
    sizes = {node.id: _size(node) for node in graph.nodes if node.id not in loose}
    edges = [(edge.source, edge.target, minlen) for edge, minlen in _minlens(graph)]
    boxes = layout.estimate(sizes, edges)
    pairs = [(source, target) for source, target, _ in edges]
    # the parts dot places side by side: connected boxes, the loose block, the legend
    parts = [layout.extent(boxes[name] for name in part) for part in layout.parts(sizes, pairs)]
    if loose:
        per_row = math.ceil(math.sqrt(len(loose) / 2))
        widest = max(_size(node)[0] for node in graph.nodes if node.id in loose)
        parts.append((per_row * (widest + layout.NODE_GAP_PT),
                      math.ceil(len(loose) / per_row) * (38 + layout.RANK_GAP_PT)))
    parts.append(LEGEND_PT)
    return layout.wrap(boxes, pairs) or layout.rows(parts)


def _size(node: views.ViewNode) -> tuple[float, float]:
    """Width and height in points dot gives a box with this label (measured on ResNet50's
    boxes: 5.25 pt per character of 9 pt Helvetica plus margins; 11 pt per line)."""
    lines = _label(node).split("\\n")
    width = max(54.0, 16 + 5.25 * max(len(line) for line in lines))
    return width + (4 if node.op is None else 0), max(36.0, 11.0 * len(lines) + 5)


def _minlens(graph: views.ViewGraph) -> list[tuple[views.ViewEdge, int]]:
    """Each edge with the ranks it spans at least: the data inputs of a node fed by
    FAN_IN_ROWS_FROM or more are staggered over several ranks (a block above the node, not
    one rank across the picture); control edges (a NoOp gathering every stateful op) are not."""
    fan_in = Counter(edge.target for edge in graph.edges if not edge.control)
    staggered: Counter[str] = Counter()
    spans = []
    for edge in graph.edges:
        minlen = 1
        if not edge.control and fan_in[edge.target] >= FAN_IN_ROWS_FROM:
            minlen += staggered[edge.target] % math.ceil(math.sqrt(fan_in[edge.target] / 4))
            staggered[edge.target] += 1
        spans.append((edge, minlen))
    return spans


def _dot(dot_text: str, formats: tuple[str, ...], options: list[str],
         timeout_s: float) -> dict[str, bytes]:
    command = [dot_command(), *options]
    with tempfile.TemporaryDirectory(prefix="inspector-dot-") as tmp:
        paths = {fmt: Path(tmp) / f"picture.{fmt}" for fmt in formats}
        for fmt, path in paths.items():
            command += [f"-T{fmt}", "-o", str(path)]
        done = subprocess.run(command, input=dot_text.encode(), capture_output=True,
                              timeout=timeout_s, check=False)
        if done.returncode != 0:
            raise RenderError(f"dot failed (exit {done.returncode}): "
                              f"{done.stderr.decode(errors='replace').strip()[:500]}")
        return {fmt: path.read_bytes() for fmt, path in paths.items()}


@dataclass(frozen=True)
class Picture:
    """A drawn view."""

    # Format -> the file's bytes (SVG is UTF-8 text).
    data: dict[str, bytes]
    # What was drawn (after any fallback).
    graph: views.ViewGraph
    # Set when the requested options timed out, or the PNG would have been shrunk past
    # legibility, and a more collapsed picture was drawn: says so and what to do instead.
    fallback: str | None = None
    # Columns the picture is wrapped into (1: as dot laid it out).
    columns: int = 1
    # The scale the PNG was drawn at (1.0: full size; below LEGIBLE_SCALE, labels are small).
    png_scale: float = 1.0


def draw(graphs: protos.ModeGraphs, view: str, formats: tuple[str, ...] = ("svg",),
         options: views.ViewOptions = views.DEFAULT_OPTIONS,
         timeout_s: float = DOT_TIMEOUT_S) -> Picture:
    """Build the view and draw it, wrapped into columns when tall; on a dot timeout, collapse
    further and try again. A PNG the size cap would shrink past LEGIBLE_SCALE is drawn again
    with more scopes collapsed (the SVG and PDF keep every box: they have no size cap).

    Raises GraphvizMissing without ``dot``, RenderError when even the most collapsed picture
    times out.
    """
    picture = _draw(graphs, view, formats, options, timeout_s)
    if picture.png_scale >= LEGIBLE_SCALE:
        return picture
    shown = len(picture.graph.nodes)
    # First the overview's settings (scopes collapsed to the box budget, noise hidden as the
    # graph's size says); while still too big, fewer boxes: a wrapped picture's area grows
    # with its boxes, so fit them to the legible area.
    budget = min(options.max_nodes, shown - 1)
    for _ in range(3):
        smaller = _draw(graphs, view, ("png",), dataclasses.replace(
            options, collapse=True, expand=(), max_nodes=budget, hide_noise=None), timeout_s)
        scale = smaller.png_scale
        if scale >= LEGIBLE_SCALE or budget == views.MIN_BOXES:
            break
        budget = max(views.MIN_BOXES, int(len(smaller.graph.nodes)
                                          * (scale / LEGIBLE_SCALE) ** 2 * 0.9))
    drawn = len(smaller.graph.nodes)
    if drawn >= shown or scale < LEGIBLE_SCALE:
        note = (f"The PNG is shrunk to {picture.png_scale:.0%} to fit "
                f"{PNG_MAX_IN} inches: its labels are not "
                "legible at 100% zoom. Draw the overview (scopes collapsed) or only the "
                "changes, or export SVG or PDF (no size cap)")
        return dataclasses.replace(picture, fallback=picture.fallback or note)
    note = (f"All {shown} boxes would make the PNG {picture.png_scale:.0%} of full size, its "
            f"labels unreadable: the PNG shows the overview ({drawn} boxes) instead"
            f"{'' if formats == ('png',) else ' (the SVG and PDF show all of them)'}. "
            "Drawing only the changes keeps every changed node at full size")
    return dataclasses.replace(picture, data={**picture.data, "png": smaller.data["png"]},
                               fallback=note, png_scale=scale)


def _draw(graphs: protos.ModeGraphs, view: str, formats: tuple[str, ...],
          options: views.ViewOptions, timeout_s: float) -> Picture:
    attempts = [options] + [dataclasses.replace(options, collapse=True, expand=(),
                                                max_nodes=budget)
                            for budget in FALLBACK_BUDGETS if budget < options.max_nodes]
    note = None
    for attempt in attempts:
        graph = views.build(graphs, view, attempt)
        try:
            wrap = arrange(graph)
            data, scale = run_dot(to_dot(graph, wrap), formats, timeout_s, len(graph.nodes))
        except subprocess.TimeoutExpired:
            note = (f"dot took more than {timeout_s:g} s for {len(graph.nodes)} boxes; "
                    "drawn again with more scopes collapsed")
            continue
        return Picture(data, graph, note if attempt is not options else None,
                       wrap.count if isinstance(wrap, layout.Wrap) else 1, scale)
    raise RenderError(f"dot did not finish within {timeout_s:g} s even with scopes collapsed "
                      f"to {attempts[-1].max_nodes} boxes")
