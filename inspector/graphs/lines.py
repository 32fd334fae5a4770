"""From the user's lines to what became of their nodes: per line, the nodes it made before
Grappler, after it and in the graph that executed, the changes they went through, and their
profiled time. Pure: GraphDefs, the diff and the nodes' sources in, lines out (no TensorFlow).

A post-Grappler node takes its line from the node of the same name (Grappler keeps names; a
fusion keeps its last node's), from the branch node it was lowered from ("cond/then/_0/x" is
"x" of the If node's then-branch function, "while/body/_9/x" of the While's body), or from
``experimental_debug_info``'s original names. Other post nodes were added by Grappler and
belong to no line.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence

from inspector.graphs.patterns import absorbed
from inspector.graphs.protos import GraphDef, NodeDef
from inspector.report import GraphDiff, NodeSource, OpTime, SourceLine

# What Grappler did to a line's nodes, then what the runtime folded when it instantiated the
# graph (executed.runtime_folded).
CHANGES = ("folded", "fused", "removed", "added", "op_changed", "rewired", "runtime_folded")
# A node of a cond branch or a loop's body or condition after TensorFlow lowered the If or
# While into the executor's Switch/Merge frames ("cond/then/_0/x", "while/body/_9/x").
_LOWERED = re.compile(r"^(?P<owner>.+?)/(?P<branch>then|else|body|cond)/_\d+/(?P<inner>.+)$")
_BRANCH_ATTR = {"then": "then_branch", "else": "else_branch", "body": "body", "cond": "cond"}


def post_source(name: str, sources: dict[str, NodeSource], pre: GraphDef,
                original_names: Sequence[str] = ()) -> NodeSource | None:
    """The line a post-Grappler (or executed) node came from, or None (added by Grappler)."""
    return _post_source(name, sources, {n.name: n for n in pre.node}, original_names)


def _post_source(name: str, sources: dict[str, NodeSource], pre_nodes: dict[str, NodeDef],
                 original_names: Sequence[str] = ()) -> NodeSource | None:
    if name in sources:
        return sources[name]
    lowered = _LOWERED.match(name)
    if lowered:
        owner = pre_nodes.get(lowered["owner"])
        attr = _BRANCH_ATTR[lowered["branch"]]
        if owner is not None and attr in owner.attr:
            found = sources.get(f"{owner.attr[attr].func.name}/{lowered['inner']}")
            if found is not None:
                return found
    return next((sources[n] for n in original_names if n in sources), None)


def _sources_of(graph: GraphDef, sources: dict[str, NodeSource], pre: GraphDef
                ) -> dict[str, NodeSource]:
    found = {}
    pre_nodes = {n.name: n for n in pre.node}  # once: a lowered node looks up its If or While
    for node in graph.node:
        source = _post_source(node.name, sources, pre_nodes,
                              tuple(node.experimental_debug_info.original_node_names))
        if source is not None:
            found[node.name] = source
    return found


# A row's key: file, line, and the row's label (the line's text, or a layer's name).
Group = tuple[str, int, str]
Grouper = Callable[[str, NodeSource], Group]


def source_lines(sources: dict[str, NodeSource], text: str, pre: GraphDef, post: GraphDef,
                 diff: GraphDiff, op_times: Sequence[OpTime] = (),
                 executed: GraphDef | None = None, runtime_folded: Collection[str] = ()
                 ) -> tuple[SourceLine, ...]:
    """Every line that made nodes, in line order (``runtime_folded``: post-Grappler nodes the
    runtime folded, counted as such on their lines)."""
    lines = text.splitlines()

    def by_line(_name: str, source: NodeSource) -> Group:
        line = source.line
        return source.file, line, lines[line - 1].rstrip() if 0 < line <= len(lines) else ""

    return _rows(by_line, sources, pre, post, diff, op_times, executed, runtime_folded)


# The call nodes a function call's inlined nodes are named under ("StatefulPartitionedCall/
# StatefulPartitionedCall/model/layer/op" for a SavedModel's signature): not part of a layer.
_CALLS = re.compile(r"^(?:(?:Stateful)?PartitionedCall(?:_\d+)?/)+")


def inlined_sources(sources: dict[str, NodeSource], inlined: GraphDef
                    ) -> dict[str, NodeSource]:
    """The sources of a graph whose function calls the runtime inlined (passes.grappler_input):
    an inlined node ("<call>/<node>") takes its call node's line."""
    found = {}
    for node in inlined.node:
        name = node.name
        while name not in sources and "/" in name:
            name = name.rsplit("/", 1)[0]
        if name in sources:
            found[node.name] = sources[name]
    return found


def layers(sources: dict[str, NodeSource], pre: GraphDef, post: GraphDef, diff: GraphDiff,
           op_times: Sequence[OpTime] = (), executed: GraphDef | None = None,
           runtime_folded: Collection[str] = ()) -> tuple[SourceLine, ...]:
    """A Keras model called on one line: a row per layer (its nodes are named
    "model/layer/op": the row is "model/layer"; the model's other nodes, such as the
    variables' handles, in one row), in the order the model made them. Empty unless every node
    comes from one line and most are one model's, in at least two layers (a plain one-line
    function has scopes such as "mul/y", not layers). The call nodes an inlined function's
    nodes are named under are left out of the names (a SavedModel's layers)."""
    if len({(s.file, s.line) for s in sources.values()}) != 1:
        return ()
    deep = [parts for name in sources
            if len(parts := _CALLS.sub("", name).split("/")) >= 3]
    if not deep:
        return ()
    model, count = Counter(parts[0] for parts in deep).most_common(1)[0]
    if len({parts[1] for parts in deep if parts[0] == model}) < 2 or count * 2 < len(sources):
        return ()

    def by_layer(name: str, source: NodeSource) -> Group:
        parts = _CALLS.sub("", name).split("/")
        inside = len(parts) >= 3 and parts[0] == model
        return source.file, source.line, ("/".join(parts[:2]) if inside
                                          else "(inputs and variables)")

    order = {by_layer(n.name, sources[n.name])[2]: i for i, n in
             reversed(list(enumerate(pre.node))) if n.name in sources}
    rows = _rows(by_layer, sources, pre, post, diff, op_times, executed, runtime_folded)
    return tuple(sorted(rows, key=lambda row: order.get(row.text, len(order))))


def _rows(group: Grouper, sources: dict[str, NodeSource], pre: GraphDef, post: GraphDef,
          diff: GraphDiff, op_times: Sequence[OpTime], executed: GraphDef | None,
          runtime_folded: Collection[str] = ()) -> tuple[SourceLine, ...]:
    """Per group of nodes, its counts before, after and executed, changes and time."""
    nodes: dict[Group, int] = defaultdict(int)
    for name, source in sources.items():
        nodes[group(name, source)] += 1
    post_sources = _sources_of(post, sources, pre)
    post_nodes: dict[Group, int] = defaultdict(int)
    for name, source in post_sources.items():
        post_nodes[group(name, source)] += 1
    executed_nodes: dict[Group, int] = defaultdict(int)
    if executed is not None:
        for name, source in _sources_of(executed, sources, pre).items():
            executed_nodes[group(name, source)] += 1
    times: dict[Group, float] = defaultdict(float)
    for op in op_times:
        if op.node in post_sources:
            times[group(op.node, post_sources[op.node])] += op.mean_us
    changes = _changes(group, sources, post_sources, pre, diff)
    for name in runtime_folded:
        if name in post_sources:
            changes[group(name, post_sources[name])]["runtime_folded"] += 1
    return tuple(
        SourceLine(key[0], key[1], key[2], nodes[key], post_nodes[key],
                   executed_nodes[key] if executed is not None else None,
                   {kind: changes[key][kind] for kind in CHANGES}, times.get(key))
        for key in sorted(set(nodes) | set(post_nodes)))


def _changes(group: Grouper, sources: dict[str, NodeSource],
             post_sources: dict[str, NodeSource], pre: GraphDef, diff: GraphDiff
             ) -> dict[Group, dict[str, int]]:
    """Per group, how many of its nodes each change touched (a node absorbed into a fusion
    counts as fused, not removed; a cond branch's node inlined by lowering is not a change)."""
    found: dict[Group, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CHANGES, 0))
    pre_nodes = {n.name: n for n in pre.node}
    removed = set(diff.removed)
    into_fusions = {name for fused in diff.fused
                    for name in absorbed(fused.name, pre_nodes, removed)}

    def count(kind: str, name: str, where: dict[str, NodeSource]) -> None:
        if name in where:
            found[group(name, where[name])][kind] += 1

    for name in diff.removed:
        count("fused" if name in into_fusions else "removed", name, sources)
    for fused in diff.fused:
        count("fused", fused.name, post_sources)
    for name in diff.added:
        if not _LOWERED.match(name):  # a branch's own node, inlined: moved, not added
            count("added", name, post_sources)
    for name in diff.folded:
        count("folded", name, sources)
    folded = set(diff.folded)
    for change in diff.op_changed:
        if change.name not in folded and not change.post_op.startswith("_Fused"):
            count("op_changed", change.name, sources)
    for rewire in diff.rewired:
        count("rewired", rewire.name, sources)
    return found


# A search for a source line's nodes ("line 5"), as the Source tab sets it.
LINE_QUERY = re.compile(r"^\s*line\s+(\d+)\s*$", re.I)


def line_of_query(query: str) -> int | None:
    """The line a search such as "line 5" asks for, else None."""
    found = LINE_QUERY.match(query)
    return int(found[1]) if found else None


def nodes_of_line(sources: dict[str, NodeSource], pre: GraphDef, post: GraphDef,
                  line: int) -> set[str]:
    """The names of the nodes a line made, before and after Grappler."""
    names = {n.name for n in pre.node if n.name in sources and sources[n.name].line == line}
    names |= {name for name, source in _sources_of(post, sources, pre).items()
              if source.line == line}
    return names
