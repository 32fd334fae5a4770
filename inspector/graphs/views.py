"""What a graph picture shows: noise hidden, changes only, name scopes collapsed to fit.

Pure functions over GraphDef protos (TensorFlow's or TensorBoard's copy) and the engine's diff;
the result is a small typed graph that ``render`` turns into DOT. Nothing here runs TensorFlow.
"""

from __future__ import annotations

import heapq
import typing
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from inspector.errors import UsageError
from inspector.graphs.protos import GraphDef, ModeGraphs, NodeDef
from inspector.report import GraphDiff

# Nodes a reader rarely needs: argument/result plumbing, variable reads, pass-throughs.
NOISE_OPS = frozenset({"_Arg", "_Retval", "ReadVariableOp", "Identity", "NoOp", "Placeholder"})
# Past this many boxes a picture stops being readable and dot slows down: scopes get collapsed.
MAX_NODES = 400
# Boxes past which even the overview is too many to move through (a large graph without name
# scopes to collapse: 6,000 boxes took 14-16 s to open and 150 ms a frame in the viewer). Past
# it, a graph with changes is drawn as its changed nodes and AUTO_HOPS around them.
MAX_BOXES = 1500
AUTO_HOPS = 2
# A picture of fewer boxes says nothing: scopes open past the budget until there are this many.
MIN_BOXES = 12
# A constant feeding this many nodes or more (Grappler shares identical constants across
# layers) would tie every part of a picture together: its edges are left out and counted.
SHARED_FANOUT = 8
# A node's fate, in the order a reader cares about (a scope takes its members' first one).
STATUSES = ("fused", "folded", "op_changed", "added", "removed", "unchanged")
# A collapsed scope whose changes have no fate shared by at least half its members.
MIXED = "mixed"
# The three pictures of a mode: before Grappler, after it, and the union with changes marked.
View = Literal["pre", "post", "diff"]
VIEWS: tuple[View, ...] = typing.get_args(View)


@dataclass(frozen=True)
class ViewOptions:
    """How to draw a graph; the same options give pre and post pictures that line up."""

    # Hide NOISE_OPS (edges are bridged through them). None: hide when the graph is large.
    hide_noise: bool | None = None
    # Collapse name scopes into summary boxes. None: only when more than ``max_nodes`` show.
    collapse: bool | None = None
    # Scopes ("block1/conv") to draw opened even when collapsing.
    expand: tuple[str, ...] = ()
    # Budget of boxes when collapsing: scopes open, largest first, while the picture fits.
    max_nodes: int = MAX_NODES
    # Show only changed nodes and their neighbours within this many hops (None: everything).
    changes_only: int | None = None
    # With changes_only None: past this many boxes, show the changes and AUTO_HOPS around them
    # instead (None: draw every box, however many).
    narrow_past: int | None = MAX_BOXES
    # With changes_only: start from these nodes instead of every changed one (a pattern's
    # instance, rewired nodes included).
    focus: tuple[str, ...] = ()
    # Label data edges with the static shape flowing along them.
    edge_shapes: bool = False
    # Outline nodes whose name or op contains this text (case-insensitive).
    highlight: str = ""
    # Outline these nodes too, by exact name (a source line's nodes).
    highlight_names: frozenset[str] = frozenset()
    # Post view: colour boxes by time per call, (node, µs) pairs from the profiler, on a scale
    # of 0 to time_scale_us (the same for every mode, so colours compare across modes).
    times: tuple[tuple[str, float], ...] = ()
    time_scale_us: float = 0.0


DEFAULT_OPTIONS = ViewOptions()


@dataclass(frozen=True)
class ViewNode:
    """One box: a graph node, or a collapsed scope standing for many."""

    # Node name, or the scope path plus "/" for a collapsed scope.
    id: str
    # Node name or scope path as shown.
    name: str
    # The node's op; None for a collapsed scope.
    op: str | None
    # What Grappler did to it (a STATUSES value); a scope: see scope_status.
    status: str
    # Static output shapes, as TensorFlow prints them.
    shapes: tuple[str, ...] = ()
    # For fused kernels, the ops fused in (e.g. ("BiasAdd", "Relu")).
    fused_ops: tuple[str, ...] = ()
    # Graph nodes inside (1 for a plain node) and how many of them Grappler changed.
    members: int = 1
    changed: int = 0
    # Matches ViewOptions.highlight (itself or a member).
    highlighted: bool = False
    # Out-edges of shared constants (see SHARED_FANOUT) left out of the picture.
    edges_left_out: int = 0
    # Time per call (a scope: its members' total), when colouring by time; None otherwise.
    time_us: float | None = None
    # A collapsed scope's changed members per fate ("removed", 1), in STATUSES order.
    fates: tuple[tuple[str, int], ...] = ()


def scope_status(fates: Counter[str], members: int) -> str:
    """A collapsed scope's colour: the change that happened to at least half of it, else
    "unchanged" when nothing changed, else MIXED (one removed node among eight used to draw
    the whole scope red and dashed, as removed)."""
    telling = [s for s in STATUSES[:-1] if fates[s] and 2 * fates[s] >= members]
    if telling:
        return max(telling, key=lambda s: fates[s])
    return "unchanged" if fates["unchanged"] == members else MIXED


@dataclass(frozen=True)
class ViewEdge:
    source: str
    target: str
    # Only control dependencies connect the two boxes.
    control: bool
    # Static shape of the tensor (one data edge between plain nodes), when asked for.
    label: str = ""
    # Graph edges merged into this one (edges between collapsed scopes add up).
    count: int = 1
    # Diff view: the edge exists only before Grappler (e.g. into a node it folded).
    removed: bool = False


@dataclass(frozen=True)
class ViewGraph:
    """A picture's content, ready for DOT."""

    view: str
    nodes: tuple[ViewNode, ...]
    edges: tuple[ViewEdge, ...]
    # Nodes in the graph before anything was hidden.
    total_nodes: int
    # Nodes hidden as noise or as far from any change.
    hidden_nodes: int
    # Scopes drawn as one box each.
    collapsed: tuple[str, ...] = field(default=())
    # The top of the colour scale when boxes are coloured by time (0: coloured by status).
    time_scale_us: float = 0.0
    # When the picture was narrowed to the changes because it had too many boxes: how many it
    # would have had (None: not narrowed).
    narrowed_from: int | None = None
    # Whether even that was too many, so only the first boxes in graph order are drawn.
    cut: bool = False


def matches(query: str, name: str, op: str) -> bool:
    """Whether a node is found by a search: the text in its name or op, case-insensitive."""
    query = query.lower().strip()
    return bool(query) and (query in name.lower() or query in op.lower())


def node_status(diff: GraphDiff) -> dict[str, str]:
    """Node name -> what Grappler did to it; names not present are unchanged."""
    status = {name: "removed" for name in diff.removed}
    status.update({name: "added" for name in diff.added})
    status.update({c.name: "op_changed" for c in diff.op_changed})
    status.update({name: "folded" for name in diff.folded})
    status.update({f.name: "fused" for f in diff.fused})
    return status


def _source_name(text: str) -> tuple[str, int, bool]:
    """An input string ("^a", "a:1", "a") as (node name, output index, is control)."""
    control = text.startswith("^")
    name, _, index = text.lstrip("^").partition(":")
    return name, int(index) if index.isdigit() else 0, control


def _near_changes(nodes: dict[str, NodeDef], changed: set[str], hops: int,
                  before: Iterable[NodeDef] = ()) -> set[str]:
    """Changed nodes and their neighbours within ``hops``; ``before`` (the diff view's pre
    graph) adds the edges Grappler cut, so a removed node is shown beside the node it fed."""
    neighbours: dict[str, set[str]] = defaultdict(set)
    for name, node in [*nodes.items(), *((n.name, n) for n in before if n.name in nodes)]:
        for text in node.input:
            source = _source_name(text)[0]
            if source in nodes:
                neighbours[name].add(source)
                neighbours[source].add(name)
    keep, frontier = set(changed), set(changed)
    for _ in range(hops):
        frontier = {n for f in frontier for n in neighbours[f]} - keep
        keep |= frontier
    return keep


def _choose_collapsed(names: list[str], options: ViewOptions) -> set[str]:
    """Scopes to draw as single boxes: open them level by level (the largest first within a
    level) while the picture stays in budget, so an overview shows every part at the same depth.

    Scopes in ``options.expand`` (and the scopes around them) open whatever the budget.
    """
    members: Counter[str] = Counter(scope for name in names for scope in scopes(name))
    children: dict[str, set[str]] = defaultdict(set)  # scope ("" = root) -> boxes directly inside
    for name in names:
        chain = ["", *scopes(name)]
        for parent, child in zip(chain, [*chain[1:], name], strict=True):
            children[parent].add(child if child == name else child + "/")
    forced = {scope for wanted in options.expand for scope in scopes(wanted.strip("/") + "/x")}
    collapsed = set(members)
    visible = len(children[""])

    def rank(scope: str) -> tuple[bool, int, int, str]:
        return scope not in forced, scope.count("/"), -members[scope], scope

    waiting = [rank(c[:-1]) for c in children[""] if c.endswith("/")]
    heapq.heapify(waiting)
    while waiting:
        scope = heapq.heappop(waiting)[-1]
        grows = len(children[scope]) - 1
        if scope not in forced and visible + grows > options.max_nodes and visible >= MIN_BOXES:
            continue
        collapsed.discard(scope)
        visible += grows
        for child in children[scope]:
            if child.endswith("/"):
                heapq.heappush(waiting, rank(child[:-1]))
    return {scope for scope in collapsed if members[scope] > 1}


def scopes(name: str) -> list[str]:
    """Enclosing scope paths of a node name, outermost first: "a/b/c" -> ["a", "a/b"]."""
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def all_scopes(graphs: ModeGraphs) -> list[str]:
    """Every scope path in the mode's pre and post graphs, sorted (for "expand" pickers)."""
    return sorted({scope for graph in (graphs.pre, graphs.post) for node in graph.node
                   for scope in scopes(node.name)})


@dataclass
class _Scene:
    """The nodes one picture draws from, and which box stands for each."""

    # Every node of the view by name (post's version for nodes in both, in the diff view).
    nodes: dict[str, NodeDef]
    shape_of: dict[str, tuple[str, ...]]
    status: dict[str, str]
    # Shown nodes in graph order (noise and far-from-change nodes left out).
    names: list[str]
    collapsed: set[str]
    # Boxes the picture would have had before it was narrowed to the changes (None: not).
    narrowed_from: int | None = None
    # Whether only the first boxes in graph order are drawn (changes everywhere, or none).
    cut: bool = False

    def box_of(self, name: str) -> str:
        for scope in scopes(name):
            if scope in self.collapsed:
                return scope + "/"
        return name


def _scene(graphs: ModeGraphs, view: str, options: ViewOptions) -> _Scene:
    """Step 1: the view's nodes and shapes, what is shown, and which scopes collapse."""
    first, table = (graphs.post, graphs.post_shapes) if view == "post" else (
        graphs.pre, graphs.pre_shapes)
    status = node_status(graphs.diff)
    nodes = {n.name: n for n in first.node}
    shape_of = {n.name: n.outputs for n in table.nodes} if table else {}
    if view == "diff":
        nodes.update({n.name: n for n in graphs.post.node})
        if graphs.post_shapes is not None:
            shape_of.update({n.name: n.outputs for n in graphs.post_shapes.nodes})
    hide_noise = options.hide_noise if options.hide_noise is not None else len(nodes) > MAX_NODES
    shown = {name for name, n in nodes.items() if not (hide_noise and n.op in NOISE_OPS)}
    if options.changes_only is not None:
        changed = _changed_here(graphs, view, nodes, status, options.focus)
        # The changed nodes themselves always show, noise or not: a pass that only removed
        # Identity nodes, or a pattern about Identity and _Retval, drew no box at all.
        shown = (shown & _near_changes(nodes, changed, options.changes_only,
                                       graphs.pre.node if view == "diff" else ())) | changed
    names = [name for name in nodes if name in shown]
    collapse = options.collapse if options.collapse is not None else len(names) > options.max_nodes
    collapsed = _choose_collapsed(names, options) if collapse else set()
    boxes = _box_count(names, collapsed)
    scene = _Scene(nodes, shape_of, status, names, collapsed)
    if options.narrow_past is None or boxes <= options.narrow_past:
        return scene
    if options.changes_only is None and status:
        scene = _scene(graphs, view, replace(options, changes_only=AUTO_HOPS, narrow_past=None))
        if _box_count(scene.names, scene.collapsed) <= options.narrow_past:
            return replace(scene, narrowed_from=boxes)
    # Still too many (changes all over a graph with nothing to collapse, or no change at all):
    # the first boxes in graph order, from the inputs; "every node, however many" draws all.
    return replace(scene, names=_first_boxes(scene.names, scene.collapsed, options.narrow_past),
                   narrowed_from=boxes, cut=True)


def _first_boxes(names: list[str], collapsed: set[str], limit: int) -> list[str]:
    """The names, in order, whose boxes are the first ``limit``."""
    kept: list[str] = []
    boxes: set[str] = set()
    for name in names:
        outer = next((scope for scope in scopes(name) if scope in collapsed), None)
        box = outer + "/" if outer is not None else name
        if box not in boxes:
            if len(boxes) == limit:
                break
            boxes.add(box)
        kept.append(name)
    return kept


def _box_count(names: list[str], collapsed: set[str]) -> int:
    """Boxes the picture would draw: one per shown node outside a collapsed scope, one per
    outermost collapsed scope."""
    boxes = set()
    for name in names:
        outer = next((scope for scope in scopes(name) if scope in collapsed), None)
        boxes.add(outer + "/" if outer is not None else name)
    return len(boxes)


def _changed_here(graphs: ModeGraphs, view: str, nodes: dict[str, NodeDef],
                  status: dict[str, str], focus: tuple[str, ...]) -> set[str]:
    """The nodes a changes-only picture starts from, in this view's graph: the focus (a
    pattern's instance) or every changed node. Where none of them is in this graph: the
    rewired nodes (a pass that only moved inputs), else the nodes here that feed the changed
    ones or take their outputs in the other graph (the before picture of a pass that only
    added nodes). Never nothing while something changed."""
    wanted = set(focus) if focus else set(status)
    here = wanted & nodes.keys()
    if here:
        return here
    rewired = {r.name for r in graphs.diff.rewired} & nodes.keys()
    if rewired and not focus:
        return rewired
    other = graphs.post if view == "pre" else graphs.pre
    beside = set()
    for node in other.node:
        sources = {_source_name(text)[0] for text in node.input}
        if node.name in wanted:
            beside |= sources & nodes.keys()
        elif sources & wanted and node.name in nodes:
            beside.add(node.name)
    return beside


def _bridged_inputs(scene: _Scene) -> dict[str, list[tuple[str, int, bool]]]:
    """Step 2: each shown node's sources, bridged through hidden ones so hidden plumbing keeps
    the flow: (source, output index, control)."""
    nodes, shown = scene.nodes, set(scene.names)
    bridged: dict[str, list[tuple[str, int, bool]]] = {}

    def direct(name: str) -> list[tuple[str, int, bool]]:
        """A node's sources: shown ones as they are, hidden ones by what they bridge to (a
        hidden source still being resolved, in a loop, is left out)."""
        found = []
        for text in nodes[name].input:
            source, index, control = _source_name(text)
            if source not in nodes:
                continue
            if source in shown:
                found.append((source, index, control))
            elif source in bridged:
                found += [(s, i, control or c) for s, i, c in bridged[source]]
        return found

    def resolve(start: str) -> None:
        """Bridge a hidden node and the hidden ones behind it, deepest first, without
        recursion: a chain of thousands of hidden nodes is one long path."""
        stack, on_path = [(start, False)], set()
        while stack:
            name, inputs_done = stack.pop()
            if name in bridged:
                continue
            if inputs_done:
                bridged[name] = direct(name)
                on_path.discard(name)
                continue
            if name in on_path:
                continue
            on_path.add(name)
            stack.append((name, True))
            for text in nodes[name].input:
                source = _source_name(text)[0]
                if source in nodes and source not in shown and source not in bridged \
                        and source not in on_path:
                    stack.append((source, False))

    for name in scene.names:
        for text in nodes[name].input:
            source = _source_name(text)[0]
            if source in nodes and source not in shown and source not in bridged:
                resolve(source)
    # A loop through hidden nodes back to the node itself draws no edge onto itself.
    return {name: [s for s in direct(name) if s[0] != name] for name in scene.names}


def _boxes(scene: _Scene, diff: GraphDiff, consumers: Counter[str], shared: set[str],
           query: str, times: dict[str, float] | None = None,
           named: frozenset[str] = frozenset()) -> dict[str, ViewNode]:
    """Step 3: one box per shown node, or per collapsed scope with its members' fates (and,
    colouring by time, their time)."""
    boxes: dict[str, ViewNode] = {}
    groups: dict[str, list[str]] = defaultdict(list)
    fused = {f.name: f.fused_ops for f in diff.fused}
    nodes, status = scene.nodes, scene.status
    for name in scene.names:
        box = scene.box_of(name)
        if box != name:
            groups[box].append(name)
            continue
        node = nodes[name]
        boxes[name] = ViewNode(name, name, node.op, status.get(name, "unchanged"),
                               tuple(scene.shape_of.get(name, ())), tuple(fused.get(name, ())),
                               highlighted=matches(query, name, node.op) or name in named,
                               edges_left_out=consumers[name] if name in shared else 0,
                               time_us=times.get(name, 0.0) if times is not None else None)
    for box, inside in groups.items():
        fates = Counter(status.get(n, "unchanged") for n in inside)
        boxes[box] = ViewNode(box, box[:-1], None, scope_status(fates, len(inside)),
                              fates=tuple((s, fates[s]) for s in STATUSES[:-1] if fates[s]),
                              members=len(inside), changed=len(inside) - fates["unchanged"],
                              highlighted=any(matches(query, n, nodes[n].op) or n in named
                                              for n in inside),
                              edges_left_out=sum(consumers[n] for n in inside if n in shared),
                              time_us=sum(times.get(n, 0.0) for n in inside)
                              if times is not None else None)
    return boxes


def _edges(scene: _Scene, inputs: dict[str, list[tuple[str, int, bool]]], shared: set[str],
           edge_shapes: bool) -> dict[tuple[str, str], ViewEdge]:
    """Step 4: edges between boxes (merged where scopes collapse; shared constants left out)."""
    edges: dict[tuple[str, str], ViewEdge] = {}
    for name in scene.names:
        target = scene.box_of(name)
        for source, index, control in inputs[name]:
            start = scene.box_of(source)
            if start == target or source in shared:
                continue
            label = ""
            if edge_shapes and not control and start == source and target == name:
                outputs = scene.shape_of.get(source, ())
                label = outputs[index] if index < len(outputs) else ""
            earlier = edges.get((start, target))
            if earlier is None:
                edges[(start, target)] = ViewEdge(start, target, control, label)
            else:
                edges[(start, target)] = ViewEdge(start, target, earlier.control and control,
                                                  earlier.label, earlier.count + 1)
    return edges


def _add_cut_edges(scene: _Scene, pre: GraphDef, edges: dict[tuple[str, str], ViewEdge]) -> None:
    """Step 5, diff view: nodes in both are drawn as after Grappler; add the inputs it cut."""
    before = {n.name: n for n in pre.node}
    shown = set(scene.names)
    for name in scene.names:
        if name not in before or before[name] is scene.nodes[name]:
            continue
        for text in before[name].input:
            source, _, control = _source_name(text)
            start, target = scene.box_of(source), scene.box_of(name)
            if source in shown and start != target and (start, target) not in edges:
                edges[(start, target)] = ViewEdge(start, target, control, removed=True)


def build(graphs: ModeGraphs, view: str, options: ViewOptions = DEFAULT_OPTIONS) -> ViewGraph:
    """The picture of ``view``: "pre", "post", or "diff" (the union, post's version of nodes in
    both, removed nodes kept)."""
    if view not in VIEWS:
        raise UsageError(f"view must be one of {VIEWS}, not {view!r}")
    scene = _scene(graphs, view, options)
    inputs = _bridged_inputs(scene)
    consumers: Counter[str] = Counter(
        source for name in scene.names for source in {s for s, _, _ in inputs[name]})
    shared = {name for name, count in consumers.items()
              if count >= SHARED_FANOUT and scene.nodes[name].op == "Const"}
    times = dict(options.times) if options.times and view == "post" else None
    boxes = _boxes(scene, graphs.diff, consumers, shared, options.highlight, times,
                   options.highlight_names)
    edges = _edges(scene, inputs, shared, options.edge_shapes)
    if view == "diff":
        _add_cut_edges(scene, graphs.pre, edges)
    total = len(scene.nodes)
    label = graphs.post_label if view == "post" else view
    return ViewGraph(label, tuple(boxes.values()), tuple(edges.values()), total,
                     total - len(scene.names),
                     tuple(sorted(s for s in scene.collapsed if s + "/" in boxes)),
                     options.time_scale_us if times is not None else 0.0,
                     scene.narrowed_from, scene.cut)
