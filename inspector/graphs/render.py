"""Graph pictures: DOT text from a ``views.ViewGraph``, and SVG/PNG/PDF from Graphviz's ``dot``.

``dot`` always runs with a timeout; large pictures use layout settings that stay fast, and a
picture that still times out is drawn again with more scopes collapsed, so nothing hangs.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from inspector.errors import GraphvizMissing, RenderError
from inspector.graphs import protos, views

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
# Large pictures as PNG are scaled to fit 100 x 100 inches (7200 px at 72 dpi): ResNet50's full
# pre graph took 11.5 s to rasterise uncapped (dot itself shrinks it to cairo's 32767 px limit),
# 3.8 s capped. SVG and PDF keep their natural size.
PNG_MAX_SIZE = "-Gsize=100,100"
# Characters of a shortened node name kept in a box.
NAME_CHARS = 40


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


def to_dot(graph: views.ViewGraph) -> str:
    """DOT text: boxes coloured by what Grappler did, control edges dashed, a legend."""
    lines = [f"digraph {_quote(graph.view)} {{",
             '  graph [rankdir=TB, fontname="Helvetica", fontsize=10, nodesep=0.2, ranksep=0.3];',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=9];',
             "  edge [arrowsize=0.5];"]
    for node in graph.nodes:
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
        lines.append(f"  {_quote(node.id)} [{', '.join(attrs)}];")
    for edge in graph.edges:
        attrs = []
        if edge.control:
            attrs.append("style=dashed")
        if edge.label:
            attrs.append(f"label={_quote(edge.label)}, fontsize=8")
        if edge.removed:
            attrs.append('color="#bbbbbb"')
        if edge.count > 1:
            attrs.append(f"penwidth={min(1 + edge.count / 10, 4):.1f}")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {_quote(edge.source)} -> {_quote(edge.target)}{suffix};")
    lines.append(_legend(graph))
    lines.append("}")
    return "\n".join(lines)


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
            timeout_s: float = DOT_TIMEOUT_S, boxes: int | None = None) -> dict[str, bytes]:
    """Lay out ``dot_text`` and draw it in each of ``formats`` (one layout for vector formats).

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
        return {**drawn, **_dot(dot_text, ("png",), [*options, PNG_MAX_SIZE], timeout_s)}
    return _dot(dot_text, formats, options, timeout_s)


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
    # Set when the requested options timed out and a more collapsed picture was drawn.
    fallback: str | None = None


def draw(graphs: protos.ModeGraphs, view: str, formats: tuple[str, ...] = ("svg",),
         options: views.ViewOptions = views.DEFAULT_OPTIONS,
         timeout_s: float = DOT_TIMEOUT_S) -> Picture:
    """Build the view and draw it; on a dot timeout, collapse further and try again.

    Raises GraphvizMissing without ``dot``, RenderError when even the most collapsed picture
    times out.
    """
    attempts = [options] + [dataclasses.replace(options, collapse=True, expand=(),
                                                max_nodes=budget)
                            for budget in FALLBACK_BUDGETS if budget < options.max_nodes]
    note = None
    for attempt in attempts:
        graph = views.build(graphs, view, attempt)
        try:
            data = run_dot(to_dot(graph), formats, timeout_s, len(graph.nodes))
        except subprocess.TimeoutExpired:
            note = (f"dot took more than {timeout_s:g} s for {len(graph.nodes)} boxes; "
                    "drawn again with more scopes collapsed")
            continue
        return Picture(data, graph, note if attempt is not options else None)
    raise RenderError(f"dot did not finish within {timeout_s:g} s even with scopes collapsed "
                      f"to {attempts[-1].max_nodes} boxes")
