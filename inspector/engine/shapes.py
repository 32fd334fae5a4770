"""Static shapes of every node output, by importing a GraphDef into a fresh graph."""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

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


class TracedOp(NamedTuple):
    """One op of the traced graph: its type and each output's (dtype name, static shape)."""

    type: str
    outputs: list[tuple[str, Any]]


def traced_shapes(concrete_function: Any) -> dict[str, TracedOp]:
    """Op name -> its type and each output's dtype and static shape, as tracing knew them.

    The pre-Grappler GraphDef is this graph, so its node names match. A re-import knows less
    where shapes come through functions called inside it: a nested tf.function's call op
    re-infers through a body whose variable reads have no handle shapes.
    """
    return {op.name: TracedOp(op.type, [(o.dtype.name, o.shape) for o in op.outputs])
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
                traced: dict[str, TracedOp] | None = None) -> ShapeTable:
    """Import ``graph_def`` into an empty ``tf.Graph`` and read each output's static shape.

    Runtime graphs carry shapes only on ``_Arg``; importing re-runs shape inference.
    ``variable_shapes`` (from ``variable_read_shapes``) lets variable reads infer too.
    ``traced`` (from ``traced_shapes``; only for the pre-Grappler graph, whose names are the
    traced ones) completes each output with what tracing knew. Handle outputs (resources,
    variants) are shown by dtype and not counted as unknown.

    When ``traced`` has every node but the runtime's own ``_Arg`` and ``_Retval`` under the same
    op type, the table is read from it without the re-import (ResNet50's: 0.15 s): a re-import
    infers nothing tracing did not (tests/test_engine.py holds the two equal).
    """
    table = _traced_table(graph_def, traced) if traced else None
    return table if table is not None else reimported_table(graph_def, variable_shapes, traced)


def reimported_table(graph_def: Any, variable_shapes: dict[str, Any] | None = None,
                     traced: dict[str, TracedOp] | None = None) -> ShapeTable:
    """``shape_table`` by the re-import alone (what it falls back on)."""
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
    rows = [_row(op.name, ops.get(op.name, op.type),
                 [(output.dtype.name, output.shape) for output in op.outputs],
                 (traced or {}).get(op.name)) for op in graph.get_operations()]
    return _table(rows)


def _traced_table(graph_def: Any, traced: dict[str, TracedOp]) -> ShapeTable | None:
    """The table from what tracing knew, or None when a node is not the traced op of its name
    (a graph tracing did not build, such as an inlined function's body)."""
    rows = []
    for node in graph_def.node:
        op = traced.get(node.name)
        if node.op in ("_Arg", "_Retval"):  # the runtime's own: completed as a re-import is
            rows.append(_row(node.name, node.op, _runtime_outputs(node), op))
        elif op is None or op.type != node.op:
            return None
        else:
            rows.append(_row(node.name, node.op, op.outputs, None))
    return _table(rows)


def _row(name: str, op_type: str, outputs: list[tuple[str, Any]], known: TracedOp | None
         ) -> tuple[NodeShapes, int]:
    """One node's shapes, each completed with what tracing knew of it (``known``), and how
    many are not fully defined. Handle outputs show their dtype."""
    shapes = []
    unknown = 0
    for index, (dtype, shape) in enumerate(outputs):
        if dtype in HANDLE_DTYPES:
            shapes.append(dtype)
            continue
        if known is not None and index < len(known.outputs):
            traced = known.outputs[index][1]
            if not shape.is_fully_defined() and shape.is_compatible_with(traced):
                shape = shape.merge_with(traced)
        unknown += not shape.is_fully_defined()
        shapes.append(_format(shape))
    return NodeShapes(name, op_type, tuple(shapes)), unknown


def _table(rows: list[tuple[NodeShapes, int]]) -> ShapeTable:
    return ShapeTable(tuple(node for node, _ in rows), sum(unknown for _, unknown in rows))


def _runtime_outputs(node: Any) -> list[tuple[str, Any]]:
    """A runtime argument's one output as its ``_output_shapes`` gives it (what shape
    inference of ``_Arg`` reads), or a return value's none."""
    import tensorflow as tf

    if node.op == "_Retval":
        return []
    given = node.attr["_output_shapes"].list.shape if "_output_shapes" in node.attr else []
    return [(tf.dtypes.as_dtype(node.attr["T"].type).name,
             tf.TensorShape(given[0]) if given else tf.TensorShape(None))]


def _format(shape: Any) -> str:
    if shape.rank is None:
        return "<unknown>"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape.as_list()) + \
        ("," if shape.rank == 1 else "") + ")"
