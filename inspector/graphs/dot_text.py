"""DOT text for a picture: boxes coloured by what Grappler did, and how a large picture is
arranged on its canvas (columns, rows, a block of loose boxes; see ``layout``).

Pure functions from a ``views.ViewGraph`` to text; ``render`` runs Graphviz on it.
"""

from __future__ import annotations

import math
from collections import Counter

from inspector.graphs import layout, views

# What happened to a node -> fill colour. The same node looks the same in every view.
COLOURS = {
    "folded": "#9ecae1",     # became a Const
    "fused": "#c2a5cf",      # a _Fused* kernel
    "removed": "#fcbba1",    # only before Grappler
    "added": "#a1d99b",      # only after Grappler
    "op_changed": "#fdd0a2",  # another op, same name
    "unchanged": "#f0f0f0",
    "mixed": "#f7f4c8",      # a collapsed scope with changes of several kinds (its label counts them)
}
# Characters of a shortened node name kept in a box.
NAME_CHARS = 40
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
        kinds = ", ".join(f"{count} {fate.replace('_', ' ')}" for fate, count in node.fates)
        changed = f", {node.changed} changed: {kinds}" if node.changed else ""
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
    columns = wrap if isinstance(wrap, layout.Wrap) else None
    column = columns.column if columns is not None else {}
    loose = loose_boxes(graph)
    members: dict[int, list[str]] = {}
    for node in graph.nodes:
        if node.id not in loose:
            members.setdefault(column.get(node.id, 0), []).append(_node_line(graph, node))
    edge_lines = _edge_lines(graph, column, members)
    lines += _column_blocks(members, columns is not None)
    lines += edge_lines.values()
    if columns is not None:
        lines += _column_packing(graph, columns, len(members) + bool(loose) + 1)
    if loose:
        lines += _loose_block(graph, loose)
    lines.append(_legend(graph))
    lines.append("}")
    return "\n".join(lines)


def _edge_lines(graph: views.ViewGraph, column: dict[str, int],
                members: dict[int, list[str]]) -> dict[tuple[str, str], str]:
    """Each drawn edge's line, (from, to) -> line; an edge between columns becomes a pair of
    connectors, declared in ``members`` (one pair per source and column it feeds)."""
    edge_lines: dict[tuple[str, str], str] = {}
    for edge, minlen in _minlens(graph):
        start, end = column.get(edge.source, 0), column.get(edge.target, 0)
        suffix = _edge_attrs(edge, minlen)
        if start == end:
            edge_lines[(edge.source, edge.target)] = (
                f"  {_quote(edge.source)} -> {_quote(edge.target)}{suffix};")
            continue
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
    return edge_lines


def _column_blocks(members: dict[int, list[str]], clustered: bool) -> list[str]:
    """The boxes of each column, in a cluster when wrapping: a cluster keeps a column compact
    (the fast layout lets a chain drift sideways); a connector standing for several edges is
    declared once."""
    lines: list[str] = []
    for index in sorted(members):
        inside = list(dict.fromkeys(members[index]))
        lines += ([f"  subgraph cluster_column{index} {{", "  style=invis;", *inside, "  }"]
                  if clustered else inside)
    return lines


def _column_packing(graph: views.ViewGraph, columns: layout.Wrap, cells: int) -> list[str]:
    """Each column made one piece, and Graphviz packing the pieces in one row in the order they
    are declared ("array", flags i: input order, t: top-aligned); the loose block and the
    legend come after the columns."""
    return [*(f"  {_quote(upper)} -> {_quote(lower)} [style=invis"
              f"{'' if ranked else ', constraint=false'}];"
              for upper, lower, ranked in layout.stacking(
                  columns, [(e.source, e.target) for e in graph.edges])),
            f'  packmode="array_it{cells}";']


def loose_boxes(graph: views.ViewGraph) -> set[str]:
    """Boxes no drawn edge touches, when there are enough of them to be drawn as a block."""
    linked = {end for edge in graph.edges for end in (edge.source, edge.target)}
    loose = {node.id for node in graph.nodes if node.id not in linked}
    return loose if len(loose) >= LOOSE_BLOCK_FROM else set()


def _loose_block(graph: views.ViewGraph, loose: set[str]) -> list[str]:
    """The boxes without edges as a block of rows (``_loose_grid``), held in place by
    invisible edges."""
    nodes = [node for node in graph.nodes if node.id in loose]
    per_row, _ = _loose_grid(len(nodes))
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


def _loose_grid(count: int) -> tuple[int, int]:
    """Boxes per row and rows of the loose block: about twice as many rows as boxes in a row
    (a box and its spacing are about twice as wide as tall), so the block is about square."""
    per_row = math.ceil(math.sqrt(count / 2))
    return per_row, math.ceil(count / per_row)


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
    shown = {node.status for node in graph.nodes}
    legend = {s: c for s, c in COLOURS.items() if s != views.MIXED or s in shown}
    cells = "".join(f'<td bgcolor="{colour}">{status.replace("_", " ")}</td>'
                    for status, colour in legend.items())
    notes = [f"{graph.view}: {len(graph.nodes)} boxes for {graph.total_nodes} nodes"]
    if graph.hidden_nodes:
        notes.append(f"{graph.hidden_nodes} hidden")
    if graph.collapsed:
        notes.append(f"{len(graph.collapsed)} scopes collapsed")
    if graph.time_scale_us:
        notes.append(f"fill: time, 0 to {graph.time_scale_us:,.0f} us (all modes)")
    if graph.cut:
        notes.append(f"the first {len(graph.nodes):,} of {graph.narrowed_from:,} boxes in graph "
                     "order: too many to draw")
    elif graph.narrowed_from:
        notes.append(f"narrowed to the changes and {views.AUTO_HOPS} hops: "
                     f"{graph.narrowed_from:,} boxes were too many")
    return (f'  legend [shape=plaintext, style="", label=<<table border="0" cellspacing="2">'
            f'<tr>{cells}</tr><tr><td colspan="{len(legend)}">{", ".join(notes)}</td></tr>'
            f"</table>>];")


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
        per_row, rows = _loose_grid(len(loose))
        loose_sizes = [_size(node) for node in graph.nodes if node.id in loose]
        widest, tallest = max(w for w, _ in loose_sizes), max(h for _, h in loose_sizes)
        parts.append((per_row * (widest + layout.NODE_GAP_PT),
                      rows * (tallest + layout.RANK_GAP_PT)))
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
