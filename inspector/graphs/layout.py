"""How a picture uses its canvas: a tall graph wrapped into side-by-side columns, a wide one of
many parts packed into rows.

Graphviz ranks a graph top to bottom, so a deep model (ResNet50: ~170 layers in a chain) comes
out as a strip over a hundred inches tall and a few boxes wide; capped to 100 inches it is shrunk
until its labels are dots, and most of the canvas is blank. Here the positions dot would give
(``estimate``: ranks and box sizes, without running Graphviz) are cut into bands of ranks, like
text wrapped into columns, at the levels that cut the fewest edges; ``dot_text`` then writes
each band as a column of its own and replaces the few edges between columns by labelled
connectors. Pure functions: sizes and edges in, columns or rows out."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

# A picture shorter than this (inches at 100%, about 2,900 px at 72 dpi) is left as dot laid it
# out: a reader scrolls a little, and small gallery pictures keep their familiar shape.
WRAP_ABOVE_IN = 40.0
# Most columns tried. ResNet50 with every node comes out best at 3.
MAX_COLUMNS = 12
# Wrapped pictures aim at this width:height (square: a screen or a page shows it whole).
TARGET_ASPECT = 1.0
# A cut may move this far (share of a column's height) from its ideal level to cut fewer edges.
CUT_SLACK = 0.2
# A picture of several parts wider than this (width:height) has its parts packed into rows.
MAX_WIDE_ASPECT = 4.0
# Points between columns (dot's cluster margins add to it).
COLUMN_GAP_PT = 40.0
# Graphviz's spacing as dot_text sets it (nodesep 0.2 in, ranksep 0.3 in), in points.
NODE_GAP_PT = 14.4
RANK_GAP_PT = 21.6


@dataclass(frozen=True)
class Box:
    """A laid-out box: centre and size in points, y growing upwards (dot's convention)."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Wrap:
    """Where each box goes when a picture is wrapped."""

    # Box id -> column, 0 the leftmost; the graph's top ranks are in column 0.
    column: dict[str, int]
    # Columns drawn.
    count: int
    # Estimated size of the wrapped picture in points (before dot lays it out again).
    width_pt: float
    height_pt: float
    # Box id -> where the estimate put it (to stack a column's parts in the same order).
    boxes: dict[str, Box]


@dataclass(frozen=True)
class Rows:
    """A wide picture made of several parts (connected components), packed into rows."""

    # Parts per row, in the order their boxes are declared.
    per_row: int


def rows(parts: list[tuple[float, float]]) -> Rows | None:
    """Rows for a picture of separate parts ((width, height) in points each, in the order dot
    places them side by side), when that one row would be wider than MAX_WIDE_ASPECT and
    WRAP_ABOVE_IN; None otherwise."""
    if len(parts) < 2:
        return None
    width = sum(w for w, _ in parts) + NODE_GAP_PT * (len(parts) - 1)
    height = max(h for _, h in parts)
    if width < WRAP_ABOVE_IN * 72 or width < MAX_WIDE_ASPECT * height:
        return None
    count = max(1, round(math.sqrt(width / height / TARGET_ASPECT)))
    return Rows(math.ceil(len(parts) / count))


def extent(boxes: Iterable[Box]) -> tuple[float, float]:
    """Width and height of a part laid out as ``boxes`` by ``estimate``: its widest rank (dot
    lays a part out on its own) and its ranks' span."""
    widths: dict[float, float] = {}
    top, bottom = -math.inf, math.inf
    for box in boxes:
        widths[box.y] = widths.get(box.y, -NODE_GAP_PT) + box.width + NODE_GAP_PT
        top, bottom = max(top, box.y + box.height / 2), min(bottom, box.y - box.height / 2)
    return max(widths.values(), default=0.0), max(top - bottom, 0.0)


def estimate(sizes: dict[str, tuple[float, float]],
             edges: Iterable[tuple[str, str, int]]) -> dict[str, Box]:
    """Where dot would put each box, closely enough to decide on columns and rows, without
    running it (a first dot layout of ResNet50's every node takes about 5 s): boxes ranked as
    dot ranks them (each below its inputs by the edge's minlen, then as close above its
    consumers as they allow), side by side in a rank.

    Args:
        sizes: box id -> (width, height) in points.
        edges: (source, target, minlen); edges closing a cycle are ignored.
    """
    inputs: dict[str, list[tuple[str, int]]] = {name: [] for name in sizes}
    outputs: dict[str, list[tuple[str, int]]] = {name: [] for name in sizes}
    for source, target, minlen in edges:
        if source in sizes and target in sizes and source != target:
            inputs[target].append((source, minlen))
            outputs[source].append((target, minlen))
    order = _topological(sizes, outputs)
    position = {name: i for i, name in enumerate(order)}
    rank: dict[str, int] = {}
    for name in order:
        rank[name] = max((rank[s] + m for s, m in inputs[name] if position[s] < position[name]),
                         default=0)
    for name in reversed(order):
        # then as late as its consumers allow: dot minimises the edges' total length, which
        # puts a branch that only feeds one node (a batch norm's constants, Reshape, Rsqrt)
        # just above that node, not in the top ranks; a box without consumers stays put
        below = [rank[t] - m for t, m in outputs[name] if position[t] > position[name]]
        if below:
            rank[name] = min(below)
    rows: dict[int, list[str]] = {}
    for name in order:
        rows.setdefault(rank[name], []).append(name)
    boxes, top = {}, 0.0
    for level in sorted(rows):
        tall = max(sizes[name][1] for name in rows[level])
        left = 0.0
        for name in rows[level]:
            width, height = sizes[name]
            boxes[name] = Box(left + width / 2, -top - tall / 2, width, height)
            left += width + NODE_GAP_PT
        top += tall + RANK_GAP_PT
    return boxes


def _topological(names: Iterable[str], outputs: dict[str, list[tuple[str, int]]]) -> list[str]:
    """Boxes in an order where every edge not closing a cycle points forward (depth-first,
    starting from boxes in their given order)."""
    done: set[str] = set()
    finished: list[str] = []
    for start in names:
        if start in done:
            continue
        done.add(start)
        stack = [(start, iter(outputs[start]))]
        while stack:
            name, rest = stack[-1]
            for target, _ in rest:
                if target not in done:
                    done.add(target)
                    stack.append((target, iter(outputs[target])))
                    break
            else:
                stack.pop()
                finished.append(name)
    return finished[::-1]


def _levels(boxes: dict[str, Box]) -> list[float]:
    """Distinct rank levels (y of box centres: the same for every box of a rank), top first."""
    return sorted({box.y for box in boxes.values()}, reverse=True)


def _crossings(boxes: dict[str, Box], edges: list[tuple[str, str]],
               index: dict[float, int], levels: int) -> list[int]:
    """For each gap between level i and i+1, how many edges pass it."""
    passing = [0] * (levels + 1)
    for source, target in edges:
        if source not in boxes or target not in boxes:
            continue
        a, b = index[boxes[source].y], index[boxes[target].y]
        passing[min(a, b)] += 1
        passing[max(a, b)] -= 1
    running, gaps = 0, []
    for i in range(levels - 1):
        running += passing[i]
        gaps.append(running)
    return gaps


def _cuts(levels: list[float], gaps: list[int], count: int) -> list[int]:
    """Gap indices that split the levels into ``count`` bands of about equal height, each moved
    within CUT_SLACK of its ideal place to the gap fewest edges pass."""
    top, bottom = levels[0], levels[-1]
    span = (top - bottom) / count
    cuts: list[int] = []
    for part in range(1, count):
        ideal = top - part * span
        near = [i for i in range(len(gaps))
                if abs((levels[i] + levels[i + 1]) / 2 - ideal) <= CUT_SLACK * span
                and (not cuts or i > cuts[-1])]
        if not near:
            continue
        cuts.append(min(near, key=lambda i: (gaps[i], abs((levels[i] + levels[i + 1]) / 2
                                                         - ideal))))
    return cuts


def _size(boxes: dict[str, Box], column: dict[str, int], count: int) -> tuple[float, float]:
    """Width and height of the wrapped picture: its columns side by side."""
    extents = [extent(box for name, box in boxes.items() if column[name] == part)
               for part in range(count)]
    used = [(width, height) for width, height in extents if width]
    return (sum(width for width, _ in used) + COLUMN_GAP_PT * (len(used) - 1),
            max(height for _, height in used))


def wrap(boxes: dict[str, Box], edges: list[tuple[str, str]]) -> Wrap | None:
    """Columns for a picture laid out as ``boxes``, or None when it is short enough as it is
    (under WRAP_ABOVE_IN) or wrapping would not bring it nearer TARGET_ASPECT."""
    if not boxes:
        return None
    levels = _levels(boxes)
    height = (max(b.y + b.height / 2 for b in boxes.values())
              - min(b.y - b.height / 2 for b in boxes.values()))
    if height < WRAP_ABOVE_IN * 72 or len(levels) < 2:
        return None
    index = {level: i for i, level in enumerate(levels)}
    gaps = _crossings(boxes, edges, index, len(levels))
    best: Wrap | None = None
    for count in range(1, min(MAX_COLUMNS, len(levels)) + 1):
        cuts = _cuts(levels, gaps, count)
        band = [sum(1 for cut in cuts if i > cut) for i in range(len(levels))]
        column = {name: band[index[box.y]] for name, box in boxes.items()}
        width, tall = _size(boxes, column, len(cuts) + 1)
        candidate = Wrap(column, len(cuts) + 1, width, tall, boxes)
        if best is None or _off_target(candidate) < _off_target(best):
            best = candidate
    if best is None or best.count == 1:
        return None
    _with_consumers(best.column, edges)
    return best


def _with_consumers(column: dict[str, int], edges: list[tuple[str, str]]) -> None:
    """A box that hangs from nothing (a constant, or a box fed only by constants, such as a Mul
    of two) and whose consumers all sit in one other column moves there: it is drawn beside
    them instead of ending in a connector at the far end of the column before."""
    inputs: dict[str, set[str]] = {name: set() for name in column}
    consumers: dict[str, set[str]] = {name: set() for name in column}
    for source, target in edges:
        if source in column and target in column and source != target:
            inputs[target].add(source)
            consumers[source].add(target)
    # Two levels only: followed further, a chain whose input is hidden (noise) would hang too
    # and slide into the last column whole.
    sources = {name for name, feeding in inputs.items() if not feeding}
    hanging = sources | {name for name, feeding in inputs.items() if feeding <= sources}
    moved = True
    while moved:  # consumers first: a Const follows the Mul it feeds once the Mul has moved
        moved = False
        for name in hanging:
            where = {column[target] for target in consumers[name]}
            if len(where) == 1 and column[name] not in where:
                column[name] = where.pop()
                moved = True


def _off_target(candidate: Wrap) -> float:
    return abs(math.log(candidate.width_pt / max(candidate.height_pt, 1.0) / TARGET_ASPECT))


def parts(names: Iterable[str], edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The connected parts of a picture: lists of box ids, in the order of ``names``."""
    parent = {name: name for name in names}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for source, target in edges:
        if source in parent and target in parent:
            parent[root(source)] = root(target)
    found: dict[str, list[str]] = {}
    for name in parent:
        found.setdefault(root(name), []).append(name)
    return list(found.values())


def stacking(wrap: Wrap, edges: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """Invisible links that make each column one piece, so Graphviz can pack the columns side
    by side in order: (from, to, ranked). Within a column, the connected parts are taken top
    first; a part that the estimate put wholly below the one before hangs under it
    (ranked: it keeps its place), one beside it is tied without ranking (it stays beside)."""
    inside_columns = [(s, t) for s, t in edges
                      if s in wrap.column and t in wrap.column
                      and wrap.column[s] == wrap.column[t]]
    found = parts(wrap.column, inside_columns)
    links = []
    for index in range(wrap.count):
        inside = [part for part in found if wrap.column[part[0]] == index]
        inside.sort(key=lambda part: -max(wrap.boxes[n].y for n in part))
        for upper, lower in zip(inside, inside[1:], strict=False):
            bottom = min(upper, key=lambda n: wrap.boxes[n].y)
            top = max(lower, key=lambda n: wrap.boxes[n].y)
            below = (wrap.boxes[top].y + wrap.boxes[top].height / 2
                     < wrap.boxes[bottom].y - wrap.boxes[bottom].height / 2)
            links.append((bottom, top, below))
    return links
