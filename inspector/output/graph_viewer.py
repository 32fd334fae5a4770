"""The graph viewer's parts for the app and the HTML report: its script, its style, and the
data one viewer draws (the pictures and what each box is).

The pan and zoom library, svg-pan-zoom, is an npm package pinned in ``viewer_assets/``
(``package.json`` and its lock file) and installed there by ``make setup``; the viewer's own
code is ``viewer_assets/viewer.js``. Nothing is fetched when a page opens: the app serves the
script with the component, the HTML report holds it inline.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.errors import RenderError
from inspector.graphs import render
from inspector.output import tables
from inspector.report import Attribution

ASSETS = Path(__file__).with_name("viewer_assets")
LIBRARY = ASSETS / "node_modules" / "svg-pan-zoom" / "dist" / "svg-pan-zoom.min.js"
# A pane's stage height in CSS px: at most (a large graph is moved through), at least.
PANE_PX = 640
MIN_PANE_PX = 220
# The width a page gives its panes, in CSS px (the app's wide layout; the HTML report's body).
PAGE_PX = 1150
# CSS px per point (Graphviz draws in points).
PT = 4 / 3
# A picture that fits its pane at this share of the legible scale is shown whole (viewer.js).
FIT_ENOUGH = 0.75


@dataclass(frozen=True)
class Pane:
    """One picture of a viewer, with its title."""

    label: str
    picture: render.Picture


@functools.cache
def script() -> str:
    """svg-pan-zoom, then the viewer (``window.inspectorViewer``). RenderError when the library
    is not installed (``make setup`` installs it)."""
    if not LIBRARY.is_file():
        raise RenderError("the graph viewer's pan and zoom library (svg-pan-zoom) is not "
                          f"installed at {LIBRARY}: run `make setup`")
    return LIBRARY.read_text("utf-8") + "\n" + (ASSETS / "viewer.js").read_text("utf-8")


@functools.cache
def style() -> str:
    return (ASSETS / "viewer.css").read_text("utf-8")


def _svg(picture: render.Picture) -> str:
    text = picture.data["svg"].decode("utf-8")
    return text[text.find("<svg"):]


def viewer_data(panes: list[Pane], *, attribution: dict[str, Attribution] | None = None,
                query: str = "", matches: tuple[str, ...] = (), selected: str | None = None,
                focus: str | None = None, search_box: bool = False, collapsible: bool = False,
                opened: bool = False, view_key: str = "", width_px: int = PAGE_PX
                ) -> dict[str, Any]:
    """What one viewer draws: each pane's SVG, and per box its name, op, change, pass, shapes,
    members and time (hover text, search and the first view's "part that changed most").
    ``attribution``: the mode's pass per changed node (said as tables say it); ``collapsible``: a
    click on a scope box asks to open it, ``opened``: some are (a "Collapse all" button);
    ``width_px``: the width the panes share (their height follows from it)."""
    passes = {name: tables.pass_label(a) for name, a in (attribution or {}).items()}
    nodes: dict[str, dict[str, Any]] = {}
    # Per pane, the boxes whose details differ from the first pane's (a node fused after
    # Grappler is another op there): hover and search in that pane read these first.
    own: list[dict[str, dict[str, Any]]] = []
    for pane in panes:
        differing: dict[str, dict[str, Any]] = {}
        for node in pane.picture.graph.nodes:
            # A node Grappler only rewired keeps its colour but says what happened to it.
            status = ("inputs rewired" if node.status == "unchanged" and passes.get(node.name)
                      else node.status)
            info = {"name": node.name, "op": node.op, "status": status,
                    "pass": passes.get(node.name, ""), "shapes": list(node.shapes),
                    "fused": list(node.fused_ops),
                    "members": node.members, "changed": node.changed, "time": node.time_us}
            if nodes.setdefault(node.id, info) != info:
                differing[node.id] = info
        own.append(differing)
    return {"panes": [{"label": p.label, "svg": _svg(p.picture), "nodes": differing,
                       "cut": (len(p.picture.graph.nodes) if p.picture.graph.cut else 0)}
                      for p, differing in zip(panes, own, strict=True)],
            "nodes": nodes, "height": pane_height(panes, width_px),
            "legible": render.LEGIBLE_SCALE,
            "query": query, "matches": [m for m in matches if m in nodes],
            "selected": selected if selected in nodes else None,
            "focus": _focus(focus, nodes), "searchBox": search_box,
            "collapsible": collapsible, "opened": opened, "viewKey": view_key}


def pane_height(panes: list[Pane], width_px: int = PAGE_PX) -> int:
    """A stage as tall as the tallest picture fitted to its pane's width at a legible size or
    more (never blown up past actual size), between MIN_PANE_PX and PANE_PX; a picture that is
    not legible at its pane's width gets the full height, to be moved through."""
    width = width_px / max(1, len(panes))
    tallest = 0.0
    for pane in panes:
        size = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', _svg(pane.picture))
        if size is None:
            return PANE_PX
        natural_w, natural_h = float(size.group(1)) * PT, float(size.group(2)) * PT
        scale = min(1.0, width / natural_w)
        if scale < render.LEGIBLE_SCALE * FIT_ENOUGH:
            return PANE_PX
        tallest = max(tallest, natural_h * max(scale, render.LEGIBLE_SCALE))
    return int(min(PANE_PX, max(MIN_PANE_PX, tallest + 24)))


def _focus(focus: str | None, nodes: dict[str, dict[str, Any]]) -> str | None:
    """The box to centre first: the node itself, or for an opened scope its first member."""
    if not focus:
        return None
    if focus in nodes:
        return focus
    return next((box for box, info in nodes.items()
                 if str(info["name"]).startswith(focus + "/")), None)


def html_head() -> str:
    """The style and script every viewer of an HTML page shares (once per page)."""
    return f"<style>{style()}</style><script>{script()}</script>"


def html_viewer(data: dict[str, Any], kind: str = "") -> str:
    """One viewer in an HTML page: its data as JSON (mounted by ``html_mount``) and a line
    where a clicked node's details go. ``kind``: a class naming what it shows ("pass")."""
    # No "<" inside the script element at all: neither "</script>" nor "<!--" can end it.
    payload = json.dumps(data).replace("<", "\\u003c")
    return (f'<div class="gv-host {kind}"><script type="application/json">{payload}</script>'
            '<pre class="gv-details" aria-live="polite">Click a node for its details; drag '
            'to pan, wheel to zoom.</pre></div>')


def html_mount() -> str:
    """The script that mounts every viewer of the page (at its end)."""
    return "<script>window.inspectorViewer.mountAll(document);</script>"
