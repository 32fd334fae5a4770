"""Pure analyses of GraphDefs: summaries and the pre/post-Grappler diff (no TensorFlow run)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from inspector.graphs.protos import GraphDef, NodeDef
from inspector.report import (
    ExecutedGraph,
    FunctionGraph,
    FusedNode,
    GraphDiff,
    GraphSummary,
    OpChange,
    Rewire,
)


def summarize(graph_def: GraphDef) -> GraphSummary:
    """Node and op counts of a GraphDef's main graph and of each library function."""
    functions = tuple(
        FunctionGraph(f.signature.name, len(f.node_def), dict(Counter(n.op for n in f.node_def)))
        for f in graph_def.library.function)
    return GraphSummary(len(graph_def.node), dict(Counter(n.op for n in graph_def.node)),
                        functions)


def _fused_ops(node: NodeDef) -> tuple[str, ...]:
    if "fused_ops" not in node.attr:
        return ()
    return tuple(op.decode() if isinstance(op, bytes) else op
                 for op in node.attr["fused_ops"].list.s)


def diff_graphs(pre: GraphDef, post: GraphDef) -> GraphDiff:
    """Compare two GraphDefs by node name: what Grappler removed, added, folded, fused, rewired."""
    pre_nodes = {n.name: n for n in pre.node}
    post_nodes = {n.name: n for n in post.node}
    both = [name for name in pre_nodes if name in post_nodes]
    op_changed = tuple(OpChange(name, pre_nodes[name].op, post_nodes[name].op)
                       for name in both if pre_nodes[name].op != post_nodes[name].op)
    return GraphDiff(
        removed=tuple(name for name in pre_nodes if name not in post_nodes),
        added=tuple(name for name in post_nodes if name not in pre_nodes),
        folded=tuple(c.name for c in op_changed if c.post_op == "Const"),
        fused=tuple(FusedNode(n.name, n.op, _fused_ops(n)) for n in post.node
                    if n.op.startswith("_Fused")),
        op_changed=op_changed,
        rewired=tuple(Rewire(name, tuple(pre_nodes[name].input), tuple(post_nodes[name].input))
                      for name in both
                      if list(pre_nodes[name].input) != list(post_nodes[name].input)),
    )


def constant_nodes(graph_def: GraphDef) -> set[str]:
    return {n.name for n in graph_def.node if n.op == "Const"}


# Ops the runtime's constant folding never folds, whatever their inputs: arguments, results,
# control flow and the transfers between partitions (common_runtime/constant_folding.cc).
_NEVER_FOLDED = frozenset({"_Arg", "_Retval", "Placeholder", "Switch", "Merge", "Enter", "Exit",
                           "NextIteration", "LoopCond", "ControlTrigger", "_Send", "_Recv",
                           "_HostSend", "_HostRecv"})


def runtime_folded(post: GraphDef, ran: set[str], stateful: frozenset[str]) -> tuple[str, ...]:
    """Post-Grappler nodes the runtime folded when it instantiated the graph: every input
    (data and control) comes from constants alone, the op has no state (``stateful``: the ops
    that do, from TensorFlow's registry) and no kernel ran for it in the profiled calls
    (``ran``: the nodes the profiler saw). In graph order; Const nodes are not counted."""
    inputs = {n.name: [i.lstrip("^").split(":")[0] for i in n.input] for n in post.node}
    consumers: dict[str, list[str]] = {}
    for name, sources in inputs.items():
        for source in sources:
            consumers.setdefault(source, []).append(name)
    # Not from constants: what can never fold, then everything it reaches.
    varying = [n.name for n in post.node if n.op in _NEVER_FOLDED or n.op in stateful
               or any(source not in inputs for source in inputs[n.name])]
    seen = set(varying)
    while varying:
        for consumer in consumers.get(varying.pop(), ()):
            if consumer not in seen:
                seen.add(consumer)
                varying.append(consumer)
    return tuple(n.name for n in post.node
                 if n.op != "Const" and n.name not in ran and n.name not in seen)


def merge_partitions(partitions: Sequence[GraphDef]) -> GraphDef:
    """One GraphDef holding every partition's nodes (names are unique across partitions: the
    runtime names the _Send/_Recv pairs it adds between them)."""
    merged = type(partitions[0])()
    for partition in partitions:
        merged.node.extend(partition.node)
    return merged


def executed_graph(post: GraphDef, partitions: Sequence[GraphDef],
                   merged: GraphDef | None = None) -> ExecutedGraph | None:
    """The graph that executed, in numbers, and what the runtime changed after Grappler
    (``merged``: the partitions already merged, when the caller has them)."""
    if not partitions:
        return None
    merged = merged if merged is not None else merge_partitions(partitions)
    devices = sorted({Counter(n.device for n in p.node if n.device).most_common(1)[0][0]
                      for p in partitions if any(n.device for n in p.node)})
    return ExecutedGraph(len(merged.node), sum(len(n.input) for n in merged.node),
                         dict(Counter(n.op for n in merged.node)), tuple(devices),
                         diff_graphs(post, merged))
