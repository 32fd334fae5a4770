"""Grappler's changes grouped into rewrite patterns: changes that are the same rewrite up to node
names and scopes ("Conv2D + BiasAdd -> _FusedConv2D [BiasAdd]" x53). Pure: GraphDefs and the
diff in, patterns out (no TensorFlow run).

Every changed node belongs to exactly one pattern: a fusion claims the nodes it absorbed, then
folds, op changes, removals, additions and rewirings group what is left, each by the ops that
took part (a removed node by the ops it fed: "Const feeding Reshape (input 1)").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from inspector.graphs.protos import GraphDef, ModeGraphs, NodeDef
from inspector.graphs.views import ViewOptions
from inspector.report import Attribution, GraphDiff, RewritePattern

# How many distinct consumer ops a removed or added node's pattern names before "...".
MAX_CONSUMER_OPS = 3


def _source(text: str) -> tuple[str, int]:
    name = text.lstrip("^")
    node, _, index = name.partition(":")
    return node, int(index) if index.isdigit() else 0


def _consumers(graph: GraphDef) -> dict[str, list[tuple[str, int]]]:
    """node -> [(consumer op, input position)] (control inputs as position -1)."""
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for node in graph.node:
        for position, text in enumerate(node.input):
            source, _ = _source(text)
            found[source].append((node.op, -1 if text.startswith("^") else position))
    return found


# Removed nodes a fusion never takes in: control flow the runtime lowered, calls Grappler
# inlined, and pass-throughs. A fusion's walk back stops at them (a MatMul fed by a lowered
# tf.cond and tf.while_loop absorbed neither).
NOT_FUSABLE = frozenset({"If", "StatelessIf", "While", "StatelessWhile", "Case",
                         "StatelessCase", "PartitionedCall", "StatefulPartitionedCall",
                         "Identity", "IdentityN", "NoOp", "_Arg", "Placeholder"})


def absorbed(name: str, pre: dict[str, NodeDef], removed: set[str]) -> list[str]:
    """The removed, non-constant nodes that fed ``name`` before Grappler, through each other:
    what a fusion took in (Conv2D and BiasAdd for a fused Relu), in data-flow order. The walk
    stops at constants and at NOT_FUSABLE ops."""
    chain: list[str] = []
    stack = [name]
    seen = {name}
    while stack:
        current = pre.get(stack.pop())
        if current is None:
            continue
        for text in current.input:
            if text.startswith("^"):
                continue
            source, _ = _source(text)
            if (source in removed and source not in seen and pre[source].op != "Const"
                    and pre[source].op not in NOT_FUSABLE):
                seen.add(source)
                chain.append(source)
                stack.append(source)
    return list(reversed(chain))


def _ops_text(items: Iterable[tuple[str, int]]) -> str:
    named = sorted({f"{op} (input {position})" if position >= 0 else f"{op} (control)"
                    for op, position in items})
    if not named:
        return "nothing"
    more = f" and {len(named) - MAX_CONSUMER_OPS} more" if len(named) > MAX_CONSUMER_OPS else ""
    return ", ".join(named[:MAX_CONSUMER_OPS]) + more


def find(diff: GraphDiff, pre: GraphDef, post: GraphDef,
         attribution: dict[str, Attribution] | None = None) -> tuple[RewritePattern, ...]:
    """The diff's changes as patterns, biggest first."""
    pre_nodes = {n.name: n for n in pre.node}
    post_nodes = {n.name: n for n in post.node}
    removed = set(diff.removed)
    groups: dict[tuple[str, str], list[tuple[str, ...]]] = defaultdict(list)
    claimed: set[str] = set()

    def add(kind: str, summary: str, nodes: tuple[str, ...]) -> None:
        groups[(kind, summary)].append(nodes)
        claimed.update(nodes)

    for fused in diff.fused:
        taken = absorbed(fused.name, pre_nodes, removed)
        before = [pre_nodes[n].op for n in taken]
        if fused.name in pre_nodes:
            before.append(pre_nodes[fused.name].op)
        add("fused", f"{' + '.join(before) or '?'} -> {fused.op} [{', '.join(fused.fused_ops)}]",
            (fused.name, *taken))
    for name in diff.folded:
        if name not in claimed and name in pre_nodes:
            add("folded", f"{pre_nodes[name].op} folded into a Const", (name,))
    for change in diff.op_changed:
        if change.name not in claimed:
            add("op_changed", f"{change.pre_op} -> {change.post_op}", (change.name,))
    pre_consumers, post_consumers = _consumers(pre), _consumers(post)
    for name in diff.removed:
        if name not in claimed:
            add("removed", f"{pre_nodes[name].op} feeding "
                           f"{_ops_text(pre_consumers.get(name, ()))} removed", (name,))
    for name in diff.added:
        if name not in claimed:
            add("added", f"{post_nodes[name].op} feeding "
                         f"{_ops_text(post_consumers.get(name, ()))} added", (name,))
    for rewire in diff.rewired:
        if rewire.name not in claimed and rewire.name in post_nodes:
            add("rewired", f"{post_nodes[rewire.name].op}'s inputs rewired "
                           f"({len(rewire.pre_inputs)} -> {len(rewire.post_inputs)})",
                (rewire.name,))
    patterns = [RewritePattern(kind, _with_pass(summary, instances, attribution),
                               len(instances), tuple(instances))
                for (kind, summary), instances in groups.items()]
    return tuple(sorted(patterns, key=lambda p: (-p.count, p.kind, p.summary)))


def instance_graphs(graphs: ModeGraphs, nodes: Iterable[str]) -> ModeGraphs:
    """The mode's graphs with a diff of one instance's nodes only: its diff view with
    ``changes_only`` draws that instance and its neighbours (a pattern's picture)."""
    keep = set(nodes)
    changes = graphs.diff
    only = GraphDiff(
        removed=tuple(n for n in changes.removed if n in keep),
        added=tuple(n for n in changes.added if n in keep),
        folded=tuple(n for n in changes.folded if n in keep),
        fused=tuple(f for f in changes.fused if f.name in keep),
        op_changed=tuple(c for c in changes.op_changed if c.name in keep),
        rewired=tuple(r for r in changes.rewired if r.name in keep))
    return replace(graphs, diff=only)


def instance_view(nodes: Iterable[str]) -> ViewOptions:
    """A pattern's picture: one instance and the nodes next to it, every node drawn, noise
    included ("Identity feeding _Retval removed" is about an Identity and a _Retval)."""
    return ViewOptions(hide_noise=False, collapse=False, changes_only=1, focus=tuple(nodes))


def compare(first: Sequence[RewritePattern], second: Sequence[RewritePattern],
            first_mode: str, second_mode: str) -> list[dict[str, object]]:
    """Two modes' patterns side by side ("x53 in both", "only in spec"), by summary."""
    counts_a = {p.summary: p.count for p in first}
    counts_b = {p.summary: p.count for p in second}
    rows = []
    for summary in dict.fromkeys([*counts_a, *counts_b]):
        a, b = counts_a.get(summary, 0), counts_b.get(summary, 0)
        verdict = (f"x{a} in both" if a == b else f"only in {first_mode}" if not b
                   else f"only in {second_mode}" if not a
                   else f"x{a} in {first_mode}, x{b} in {second_mode}")
        rows.append({"pattern": summary, first_mode: a, second_mode: b, "compared": verdict})
    return rows


def _with_pass(summary: str, instances: list[tuple[str, ...]],
               attribution: dict[str, Attribution] | None) -> str:
    """The summary, with the pass when every instance's first node was made by the same one."""
    if not attribution:
        return summary
    passes = {attribution[nodes[0]].optimizer for nodes in instances if nodes[0] in attribution}
    return f"{summary} (by {passes.pop()})" if len(passes) == 1 else summary
