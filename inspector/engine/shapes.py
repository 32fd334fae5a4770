"""Static shapes of every node output, by importing a GraphDef into a fresh graph."""

from __future__ import annotations

import copy
from typing import Any

from inspector.report import NodeShapes, ShapeTable

# Outputs that are handles, not data: their static shape says nothing about the tensors.
HANDLE_DTYPES = ("resource", "variant")


def variable_read_shapes(concrete_function: Any) -> dict[str, Any]:
    """ReadVariableOp name -> the variable's static shape, as the traced function knows it.

    Runtime GraphDefs carry no handle shapes for resource arguments, so a re-import cannot
    infer what a variable read returns; the traced graph can.
    """
    return {op.name: op.outputs[0].shape for op in concrete_function.graph.get_operations()
            if op.type == "ReadVariableOp" and op.outputs[0].shape.is_fully_defined()}


def traced_shapes(concrete_function: Any) -> dict[str, list[Any]]:
    """Op name -> the static shape of each output, as tracing knew it.

    The pre-Grappler GraphDef is this graph, so its node names match. A re-import knows less
    where shapes come through functions called inside it: a nested tf.function's call op
    re-infers through a body whose variable reads have no handle shapes.
    """
    return {op.name: [output.shape for output in op.outputs]
            for op in concrete_function.graph.get_operations()}


def _with_known_reads(graph_def: Any, reads: dict[str, Any]) -> Any:
    """A copy of ``graph_def`` for shape inference only: each variable read with a known shape
    becomes a Placeholder of that shape (same name, so the rest of the graph is unchanged)."""
    patched = copy.deepcopy(graph_def)
    for node in patched.node:
        shape = reads.get(node.name)
        if node.op == "ReadVariableOp" and shape is not None:
            dtype = node.attr["dtype"].type
            node.op = "Placeholder"
            del node.input[:]
            node.attr.clear()
            node.attr["dtype"].type = dtype
            node.attr["shape"].shape.CopyFrom(shape.as_proto())
    return patched


def shape_table(graph_def: Any, variable_shapes: dict[str, Any] | None = None,
                traced: dict[str, list[Any]] | None = None) -> ShapeTable:
    """Import ``graph_def`` into an empty ``tf.Graph`` and read each output's static shape.

    Runtime graphs carry shapes only on ``_Arg``; importing re-runs shape inference.
    ``variable_shapes`` (from ``variable_read_shapes``) lets variable reads infer too.
    ``traced`` (from ``traced_shapes``; only for the pre-Grappler graph, whose names are the
    traced ones) completes each output with what tracing knew. Handle outputs (resources,
    variants) are shown by dtype and not counted as unknown.
    """
    import tensorflow as tf

    ops = {node.name: node.op for node in graph_def.node}
    graph = tf.Graph()
    try:
        with graph.as_default():
            tf.graph_util.import_graph_def(
                _with_known_reads(graph_def, variable_shapes) if variable_shapes else graph_def,
                name="")
    except Exception as exc:  # a graph TF cannot re-import still gets its other results
        return ShapeTable((), 0, f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    nodes = []
    unknown = 0
    for op in graph.get_operations():
        shapes = []
        known = (traced or {}).get(op.name, [])
        for index, output in enumerate(op.outputs):
            if output.dtype.name in HANDLE_DTYPES:
                shapes.append(output.dtype.name)
                continue
            shape = output.shape
            if not shape.is_fully_defined() and index < len(known) \
                    and shape.is_compatible_with(known[index]):
                shape = shape.merge_with(known[index])
            if not shape.is_fully_defined():
                unknown += 1
            shapes.append(_format(shape))
        nodes.append(NodeShapes(op.name, ops.get(op.name, op.type), tuple(shapes)))
    return ShapeTable(tuple(nodes), unknown)


def _format(shape: Any) -> str:
    if shape.rank is None:
        return "<unknown>"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape.as_list()) + \
        ("," if shape.rank == 1 else "") + ")"
