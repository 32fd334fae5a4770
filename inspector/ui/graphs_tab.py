"""The Graphs tab: pre | post side by side or the diff view, scopes, noise, search, node panel.

Pictures are drawn here with Graphviz (``render.draw``: timeout, fallback) from the GraphDef
bytes in the report, parsed with TensorBoard's protos: no TensorFlow in this process.
"""

from __future__ import annotations

import functools
import html
from typing import Any

import pandas as pd
import streamlit as st

from inspector.errors import RenderError
from inspector.graphs import lines, protos, render, views
from inspector.output import graph_viewer, tables
from inspector.report import Attribution, ModeResult, Report
from inspector.ui import kept
from inspector.ui.plain import plain, plain_table

DRAW_CHOICES = {"overview (scopes collapsed to fit)": None, "every node": False}
NEAR_CHOICES = {"every node": None, "changes + 2 hops": 2, "changes + 1 hop": 1,
                "changed nodes only": 0, "every node, however many": None}
# The Show choices that draw every node whatever the count ("every node" narrows to the
# changes past views.MAX_BOXES boxes).
UNBOUNDED = frozenset({"every node, however many"})
# Session-state keys of this tab's caches; cleared when a new inspection starts.
CACHES = ("_graphs_cache", "_picture_cache", "_pass_graphs_cache")
# Pictures kept per session (ResNet50 overviews are about 0.5 MB of SVG each).
MAX_CACHED_PICTURES = 24
# Node names offered in the node panel's picker at most (the search box narrows them).
MAX_PICKS = 500


def mode_graphs(report: Report, mode: str) -> protos.ModeGraphs | None:
    """Parsed GraphDefs, kept per report in this session (parsing ResNet50's takes ~0.1 s)."""
    cache = st.session_state.setdefault("_graphs_cache", {})
    key = (id(report), mode)
    if key not in cache:
        result = report.result(mode)
        if len(cache) > 16:
            cache.clear()
        cache[key] = protos.mode_graphs(result) if result is not None else None
    return cache[key]


# The viewer's script in the page calls this with the component's arguments; its events come
# back as trigger values: a picked node, a scope to open, "collapse all".
_BOOT = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  return window.inspectorViewer.mount(parentElement, data, (kind, value) => {
    setTriggerValue(kind, value);
  });
}
"""


@functools.cache
def _component() -> Any:
    """The viewer as a bidirectional Streamlit component (registered once per process)."""
    return st.components.v2.component("graph_viewer", css=graph_viewer.style(),
                                      js=graph_viewer.script() + _BOOT)


def _drawn(report: Report, graphs: protos.ModeGraphs, view: str,
           options: views.ViewOptions) -> render.Picture | RenderError:
    """A picture, kept per session (bounded)."""
    cache = st.session_state.setdefault("_picture_cache", {})
    key = (id(report), graphs.mode, view, options)
    if key not in cache and len(cache) >= MAX_CACHED_PICTURES:
        cache.clear()  # a session trying many settings keeps a bounded number of SVGs
    if key not in cache:
        try:
            cache[key] = render.draw(graphs, view, ("svg",), options)
        except RenderError as exc:
            cache[key] = exc
    return cache[key]


def viewer(report: Report, panes: list[tuple[str, protos.ModeGraphs, str]],
           options: views.ViewOptions, key: str, result: ModeResult | None = None,
           matches: tuple[str, ...] = (), selected: str | None = None,
           collapsible: bool = False, width_px: int = graph_viewer.PAGE_PX) -> None:
    """The pictures (label, graphs, view) in one viewer: pan, zoom, minimap, search, panes in
    sync. A node clicked in it is ``clicked(key)`` in the next run."""
    drawn = []
    for label, graphs, view in panes:
        picture = _drawn(report, graphs, view, options)
        if isinstance(picture, RenderError):
            st.error(f"{picture.type}: {plain(picture.message)}")
            return None
        drawn.append(graph_viewer.Pane(label, picture))
    said = "; ".join(f"{p.label + ': ' if len(drawn) > 1 else ''}{len(p.picture.graph.nodes)} "
                     f"boxes for {p.picture.graph.total_nodes} nodes, "
                     + (f"{p.picture.graph.hidden_nodes} not drawn" if p.picture.graph.cut else
                        f"{p.picture.graph.hidden_nodes} hidden, "
                        f"{len(p.picture.graph.collapsed)} scopes collapsed") for p in drawn)
    st.caption(said + ". Drag to pan, wheel or pinch to zoom; click a box for its details"
               + (", a scope box to open it" if collapsible else "") + ".")
    for pane in drawn:
        if pane.picture.fallback:
            st.warning(pane.picture.fallback)
    narrowed = max((p.picture.graph.narrowed_from or 0) for p in drawn)
    cut = any(p.picture.graph.cut for p in drawn)
    if cut:
        st.info(f"Too big to move through as one picture ({narrowed:,} boxes, with no scopes to "
                "collapse, and the changes and the nodes around them as many): each picture "
                f"shows its first {views.MAX_BOXES:,} boxes in graph order, from the inputs, so "
                "the two sides can end at different nodes. Find node below reaches every node "
                "in Node details; Show: \"every node, however many\" draws them all (slow: "
                "about a minute for 20,000).")
    elif narrowed:
        st.info(f"Too big to move through as one picture ({narrowed:,} boxes even with its "
                f"scopes collapsed): showing the changed nodes and {views.AUTO_HOPS} hops "
                "around them. Show: \"every node, however many\" draws them all (slow).")
    crowded = max(len(p.picture.graph.nodes) for p in drawn)
    if crowded > views.MAX_NODES and not cut and not any(p.picture.graph.collapsed
                                                         for p in drawn):
        st.caption(f"{crowded} boxes, more than the overview's {views.MAX_NODES}: this graph "
                   "has no name scopes to collapse (tf.name_scope or Keras layers make them). "
                   "Show: changes + 1 hop, or Hide noise, draws fewer.")
    data = graph_viewer.viewer_data(
        drawn, attribution=result.attribution if result is not None else None,
        query=options.highlight, matches=matches, selected=selected,
        focus=st.session_state.pop(f"{key}_focus", None), collapsible=collapsible,
        opened=bool(options.expand), view_key=f"{id(report)}/{key}", width_px=width_px)
    try:
        component = _component()
    except RenderError as exc:
        st.error(f"{exc.type}: {plain(exc.message)}")
        return None
    component(key=key, data=data, height="content",
              on_select_change=lambda: _select(key),
              on_expand_change=lambda: _expand(key) if collapsible else None,
              on_collapse_change=lambda: _collapse_all() if collapsible else None)


def _select(key: str) -> None:
    """A box was clicked (a callback: it runs before the rerun draws anything)."""
    picked = (st.session_state.get(key) or {}).get("select")
    if picked:
        st.session_state[f"{key}_clicked"] = str(picked)


def clicked(key: str) -> str | None:
    """The node clicked in the viewer ``key`` since the last run, once."""
    value = st.session_state.pop(f"{key}_clicked", None)
    return str(value) if value else None


def _expand(key: str) -> None:
    """A scope box was clicked: open it, and centre the next picture on it."""
    scope = (st.session_state.get(key) or {}).get("expand")
    if scope:
        opened = list(st.session_state.get("graph_expand", []))
        st.session_state["graph_expand"] = [*opened, scope] if scope not in opened else opened
        st.session_state["graph_draw"] = next(iter(DRAW_CHOICES))  # the overview, that opened
        st.session_state[f"{key}_focus"] = scope


def _collapse_all() -> None:
    st.session_state["graph_expand"] = []
    st.session_state["graph_draw"] = next(iter(DRAW_CHOICES))


def _node_panel(graphs: protos.ModeGraphs, name: str,
                attribution: dict[str, Attribution] | None,
                times: dict[str, float] | None = None,
                executed: protos.ModeGraphs | None = None) -> None:
    """One node before and after Grappler, and as it executed: op, device, inputs, static
    shapes, attributes, and the pass that changed it."""
    status = views.node_status(graphs.diff).get(name, "unchanged")
    by = tables.pass_label((attribution or {}).get(name))
    took = (times or {}).get(name)
    ran = views.node_status(executed.diff).get(name) if executed is not None else None
    st.markdown(f"**{html.escape(name)}**: {status.replace('_', ' ')}"
                + (f", by **{html.escape(by)}**" if by else "")
                + (f"; **{took:,.1f} us** per call (profiled)" if took is not None else "")
                + ("; then **folded by the runtime** (from constants alone, no kernel ran)"
                   if ran == "folded" else ""))
    sides = {}
    stages = [("before Grappler", graphs.pre, graphs.pre_shapes),
              ("after Grappler", graphs.post, graphs.post_shapes)]
    if executed is not None:
        stages.append(("executed", executed.post, None))
    for side, graph, table in stages:
        node = next((n for n in graph.node if n.name == name), None)
        if node is None:
            sides[side] = {"op": "(not in this graph)"}
            continue
        shapes = next((n.outputs for n in table.nodes if n.name == name), ()) if table else ()
        sides[side] = {"op": node.op, "device": node.device or "(unplaced)",
                       "inputs": ", ".join(node.input) or "(none)",
                       **({"static shapes": " ".join(shapes) or "(none)"}
                          if table is not None else {}),
                       **{f"attr {key}": protos.attr_text(value)
                          for key, value in sorted(node.attr.items())}}
    st.table(plain_table(pd.DataFrame(sides).fillna("")))


def _view_options(graphs: protos.ModeGraphs, draw: str, near: str,
                  times: tuple[tuple[str, float], ...] = (), scale: float = 0.0,
                  no_times: str | None = None,
                  line_nodes: dict[int, set[str]] | None = None) -> views.ViewOptions:
    """The second row of controls: search, noise, edge shapes, scopes to expand.
    ``line_nodes``: per source line, its nodes ("line N" searches for them)."""
    line_nodes = line_nodes or {}
    total = max(len(graphs.pre.node), len(graphs.post.node))
    row = st.columns([3, 2, 2, 5])
    scopes = views.all_scopes(graphs)
    for key in ("graph_search", "graph_edge_shapes", "graph_by_time"):
        kept.restore(key)
    kept.restore("graph_expand", scopes)
    search = row[0].text_input("Find node (name, op, or \"line N\")", key="graph_search",
                               help="every match is outlined; the arrows above the picture "
                                    "step through them. \"line 5\": the nodes line 5 of your "
                                    "code made (the Source tab sets it)")
    hide_noise = row[1].checkbox("Hide noise", value=total > views.MAX_NODES, key="graph_noise",
                                 help="_Arg/_Retval, ReadVariableOp, Identity, NoOp: edges "
                                      "are kept through them")
    edge_shapes = row[2].checkbox("Shapes on edges", key="graph_edge_shapes")
    by_time = row[2].checkbox("Colour by time", key="graph_by_time", disabled=not times,
                              help="after-Grappler picture: each node's time per call from "
                                   "the profiler, one scale for every mode" if times else
                              f"no per-node times for this mode: {plain(no_times or 'not profiled')}")
    expand = row[3].multiselect("Expand scopes", scopes, key="graph_expand",
                                help="open these scopes even when the overview collapses")
    kept.remember("graph_search", "graph_edge_shapes", "graph_by_time", "graph_expand")
    line = lines.line_of_query(search)
    options = views.ViewOptions(hide_noise=hide_noise, collapse=DRAW_CHOICES[draw],
                                expand=tuple(expand), changes_only=NEAR_CHOICES[near],
                                narrow_past=None if near in UNBOUNDED else views.MAX_BOXES,
                                edge_shapes=edge_shapes, highlight="" if line else search,
                                highlight_names=frozenset(line_nodes.get(line, ()))
                                if line else frozenset(),
                                times=times if by_time else (),
                                time_scale_us=scale if by_time else 0.0)
    return options


def _node_picker(graphs: protos.ModeGraphs, options: views.ViewOptions,
                 result: ModeResult | None, times: dict[str, float] | None = None,
                 executed: protos.ModeGraphs | None = None, clicked: str | None = None
                 ) -> None:
    """A node list narrowed by the search (or a line's nodes), and the chosen node's panel
    (``clicked``: the node clicked in the picture, chosen whatever the search)."""
    search = options.highlight
    names = list(dict.fromkeys([n.name for n in graphs.pre.node]
                               + [n.name for n in graphs.post.node]))
    ops = {n.name: n.op for g in (graphs.pre, graphs.post) for n in g.node}
    if options.highlight_names:
        found = [n for n in names if n in options.highlight_names]
        search = st.session_state.get("graph_search", "")
    else:
        found = ([n for n in names if views.matches(search, n, ops[n])] if search.strip()
                 else names)
    if not found:
        st.caption(f"No node name or op contains {plain(repr(search))}.")
        found = names
    if clicked in names and clicked not in found[:MAX_PICKS]:
        found = [clicked, *found]
    listed = (f"the first {MAX_PICKS} of " if len(found) > MAX_PICKS else "") + str(len(found))
    label = (f"Node details: {listed} of {len(names)} graph nodes (pre and post) match; the "
             "picture counts boxes, and a closed scope is one" if len(found) < len(names)
             else f"Node details: {listed} graph nodes (pre and post)")
    picked: Any = st.selectbox(label, found[:MAX_PICKS], key="graph_node")
    if picked:
        _node_panel(graphs, picked, result.attribution if result else None, times or {},
                    executed)
        _node_line(graphs, picked, result)


def _show_source() -> None:
    st.session_state["result_tab"] = "Source"


def _node_line(graphs: protos.ModeGraphs, name: str, result: ModeResult | None) -> None:
    """The line of the user's code that made the node, with a way back to the Source tab."""
    if result is None or not result.sources:
        return
    node = next((n for n in graphs.post.node if n.name == name), None)
    source = result.sources.get(name) or (lines.post_source(
        name, result.sources, graphs.pre,
        tuple(node.experimental_debug_info.original_node_names)) if node is not None else None)
    if source is None:
        added = name in graphs.diff.added
        by = tables.pass_label((result.attribution or {}).get(name)) if added else ""
        st.caption(f"Made by no line of your code: added by {by}." if by else
                   "Made by no line of your code: Grappler added it." if added else
                   "Made by no line of your code: TensorFlow made it (an argument, a result, "
                   "a captured value).")
        return
    text = next((line.text for line in result.lines if line.line == source.line), "")
    chain = " -> ".join(f"line {line}" for _, line, _ in source.stack)
    left, right = st.columns([5, 1])
    def code(text: str) -> str:  # a code span shows its text as is: no escapes inside
        return "`" + text.replace("`", "'") + "`"

    left.markdown(f"Made by **line {source.line}** (in {code(source.function)}): "
                  f"{code(text.strip())}" + (f"; called through {chain}"
                                             if len(source.stack) > 1 else ""))
    right.button("Open in Source", key="graph_to_source", on_click=_show_source)


def _top_row(report: Report, modes: list[str]) -> tuple[Any, str, Any, Any]:
    """The first row of controls: mode, view, how much to draw, what to show; kept while
    another tab is open."""
    top = st.columns([2, 2, 3, 3])
    kept.restore("graph_mode", modes)
    mode: Any = top[0].selectbox("Mode", modes, key="graph_mode")
    result = report.result(mode)
    executed = protos.executed_graphs(result) if result is not None else None
    view_choices = ["pre | post", "diff", "executed"] if executed else ["pre | post", "diff"]
    kept.restore("graph_view", view_choices)
    view = top[1].radio("View", view_choices, horizontal=True, key="graph_view",
                        help="executed: the graph the runtime ran, after placement and its "
                             "own rewrites (e.g. oneDNN's _Mkl kernels), coloured by what "
                             "changed since Grappler")
    kept.restore("graph_draw", DRAW_CHOICES)
    draw: Any = top[2].selectbox("Draw", list(DRAW_CHOICES), key="graph_draw")
    kept.restore("graph_near", NEAR_CHOICES)
    near: Any = top[3].selectbox("Show", list(NEAR_CHOICES), key="graph_near")
    kept.remember("graph_mode", "graph_view", "graph_draw", "graph_near")
    return mode, str(view), draw, near


def show(report: Report) -> None:
    modes = [r.mode for r in report.results if r.graphs]
    if not modes:
        st.info("No graphs: eager mode has none, failed modes stopped before capture, and "
                "modes of a job that stopped after their figures were not analysed.")
        return
    mode, view, draw, near = _top_row(report, modes)
    result = report.result(mode)
    executed = protos.executed_graphs(result) if result is not None else None
    graphs = mode_graphs(report, mode)
    if graphs is None:
        st.info("This mode has no graphs.")
        return
    times = tuple((o.node, o.mean_us) for o in result.op_times) if result else ()
    line_nodes = {}
    if result is not None and result.sources:
        asked = lines.line_of_query(st.session_state.get("graph_search", ""))
        if asked is not None:
            line_nodes[asked] = lines.nodes_of_line(result.sources, graphs.pre, graphs.post,
                                                    asked)
    options = _view_options(graphs, draw, near, times, tables.time_scale_us(report),
                            result.op_times_note if result else None, line_nodes)
    if not times and result is not None and result.op_times_note:
        st.caption(f"Colour by time is off for {mode}: {plain(result.op_times_note)}.")
    if view == "executed" and executed is not None:
        ran = result.executed if result is not None else None
        changed = len(ran.diff.op_changed) + len(ran.diff.added) if ran else 0
        folded = len(ran.runtime_folded) if ran else 0
        st.markdown(f"**The graph that executed** ({len(executed.post.node)} nodes; "
                    f"{changed} changed by the runtime after Grappler"
                    + (f"; {folded} folded by it" if folded else "") + "). Grappler's output "
                    "is placed on devices, split into one partition per device, and the "
                    "runtime swaps in its own kernels; it folds constant subgraphs when it "
                    "instantiates the graph, after this record: nodes computed from constants "
                    "alone that ran no kernel in the profiled calls are coloured as folded.")
        panes = [("executed", executed, "post")]
    elif view == "diff":
        panes = [("diff", graphs, "diff")]
    else:
        panes = [(f"Before Grappler ({len(graphs.pre.node)} nodes)", graphs, "pre"),
                 (f"After Grappler ({len(graphs.post.node)} nodes)", graphs, "post")]
    key = f"viewer_{view}"
    picked = clicked(key)
    known = {n.name for g in (graphs.pre, graphs.post) for n in g.node}
    if picked in known:  # a node the runtime added (executed view) has no panel
        st.session_state["graph_node"] = picked
    viewer(report, panes, options, key, result, matches=tuple(options.highlight_names),
           selected=st.session_state.get("graph_node"), collapsible=True)
    _node_picker(graphs, options, result, dict(times), executed, picked)
