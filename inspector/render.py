"""DOT text for pre-, post-Grappler and diff views of a GraphDef, coloured by what Grappler did.

Pure functions over GraphDef protos and the engine's diff; the worker calls them so the web
server never parses a GraphDef (that would import TensorFlow).
"""

from __future__ import annotations

from typing import Any

from inspector.report import GraphDiff, ShapeTable

# What happened to a node -> fill colour. The same node looks the same in every view.
COLOURS = {
    "folded": "#9ecae1",     # became a Const
    "fused": "#c2a5cf",      # a _Fused* kernel
    "removed": "#fcbba1",    # only before Grappler
    "added": "#a1d99b",      # only after Grappler
    "op_changed": "#fdd0a2",  # another op, same name
    "unchanged": "#f0f0f0",
}
# Nodes a reader rarely needs; hidden on request.
NOISE_OPS = frozenset({"_Arg", "_Retval", "ReadVariableOp", "Identity", "NoOp", "Placeholder"})
# Above this many nodes, a picture is unreadable and dot slow: callers should collapse scopes.
MAX_NODES = 400


def node_status(diff: GraphDiff) -> dict[str, str]:
    status = {name: "removed" for name in diff.removed}
    status.update({name: "added" for name in diff.added})
    status.update({c.name: "op_changed" for c in diff.op_changed})
    status.update({name: "folded" for name in diff.folded})
    status.update({f.name: "fused" for f in diff.fused})
    return status


def _short(name: str) -> str:
    parts = name.split("/")
    return "/".join(parts[-2:]) if len(parts) > 2 else name


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def to_dot(graph_def: Any, diff: GraphDiff, view: str, shapes: ShapeTable | None = None,
           other: Any = None, hide_noise: bool = False) -> str:
    """DOT for ``view`` "pre" or "post" of ``graph_def``; "diff" draws the union of
    ``graph_def`` (pre) and ``other`` (post) with removed nodes ghosted."""
    status = node_status(diff)
    nodes = {n.name: n for n in graph_def.node}
    if view == "diff" and other is not None:
        nodes = {**nodes, **{n.name: n for n in other.node}}
    if hide_noise:
        nodes = {k: v for k, v in nodes.items() if v.op not in NOISE_OPS}
    shape_of = {n.name: n.outputs for n in shapes.nodes} if shapes else {}
    fused_ops = {f.name: "+".join(f.fused_ops) for f in diff.fused}
    lines = [f"digraph {_quote(view)} {{",
             '  graph [rankdir=TB, fontname="Helvetica", fontsize=10, nodesep=0.2, ranksep=0.3];',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=9];',
             "  edge [arrowsize=0.5];"]
    for name, node in nodes.items():
        state = status.get(name, "unchanged")
        label = f"{_short(name)}\\n{node.op}"
        if name in fused_ops:
            label += f" [{fused_ops[name]}]"
        if shape_of.get(name):
            label += "\\n" + " ".join(shape_of[name])[:40]
        style = ' style="rounded,filled,dashed", fontcolor="#888888"' if (
            view == "diff" and state == "removed") else ""
        lines.append(f"  {_quote(name)} [label={_quote(label)}, fillcolor={_quote(COLOURS[state])},"
                     f" tooltip={_quote(name)}{style}];")
    for name, node in nodes.items():
        for source in node.input:
            control = source.startswith("^")
            source = source.lstrip("^").split(":")[0]
            if source in nodes:
                dashed = " [style=dashed]" if control else ""
                lines.append(f"  {_quote(source)} -> {_quote(name)}{dashed};")
    legend = " | ".join(f"{k.replace('_', ' ')}" for k in COLOURS)
    lines.append(f'  legend [shape=plaintext, style="", label={_quote("colours: " + legend)}];')
    lines.append("}")
    return "\n".join(lines)


def views(pre: Any, post: Any, diff: GraphDiff, pre_shapes: ShapeTable | None,
          post_shapes: ShapeTable | None) -> dict[str, str]:
    """The three views, with noise hidden on graphs too large to read whole."""
    hide = max(len(pre.node), len(post.node)) > MAX_NODES
    return {"pre": to_dot(pre, diff, "pre", pre_shapes, hide_noise=hide),
            "post": to_dot(post, diff, "post", post_shapes, hide_noise=hide),
            "diff": to_dot(pre, diff, "diff", post_shapes, other=post, hide_noise=hide)}
