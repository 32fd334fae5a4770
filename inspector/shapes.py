"""Static shapes of every node output, by importing a GraphDef into a fresh graph."""

from __future__ import annotations

from typing import Any

from inspector.report import NodeShapes, ShapeTable


def shape_table(graph_def: Any) -> ShapeTable:
    """Import ``graph_def`` into an empty ``tf.Graph`` and read each output's static shape.

    Runtime graphs carry shapes only on ``_Arg``; importing re-runs shape inference.
    """
    import tensorflow as tf

    graph = tf.Graph()
    try:
        with graph.as_default():
            tf.graph_util.import_graph_def(graph_def, name="")
    except Exception as exc:  # a graph TF cannot re-import still gets its other results
        return ShapeTable((), 0, f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    nodes = []
    unknown = 0
    for op in graph.get_operations():
        shapes = []
        for output in op.outputs:
            shape = output.shape
            if not shape.is_fully_defined():
                unknown += 1
            shapes.append(_format(shape))
        nodes.append(NodeShapes(op.name, op.type, tuple(shapes)))
    return ShapeTable(tuple(nodes), unknown)


def _format(shape: Any) -> str:
    if shape.rank is None:
        return "<unknown>"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape.as_list()) + \
        ("," if shape.rank == 1 else "") + ")"
