"""GraphDef bytes to protos and text without TensorFlow (TensorBoard ships the same protos).

The web server must not import TensorFlow, yet it draws, searches and exports the graphs the
workers send back as serialized bytes; TensorBoard's copy of ``graph_pb2`` reads them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from google.protobuf import text_format
from tensorboard.compat.proto import graph_pb2, types_pb2

from inspector.report import GraphDiff, ModeResult, Report, ShapeTable

# A GraphDef message: TensorFlow's class in the worker, TensorBoard's copy elsewhere (the same
# fields); protobuf classes carry no useful static type, so these name what a parameter holds.
GraphDef = Any
NodeDef = Any


@dataclass(frozen=True)
class ModeGraphs:
    """One mode's graphs before and after Grappler, with what the engine found in them."""

    mode: str
    # GraphDef protos (TensorFlow's class or TensorBoard's copy).
    pre: GraphDef
    post: GraphDef
    diff: GraphDiff
    pre_shapes: ShapeTable | None = None
    post_shapes: ShapeTable | None = None
    # What the "post" side is called in its picture ("executed" for the graph that ran).
    post_label: str = "post"


def parse(data: bytes) -> GraphDef:
    """A ``GraphDef`` from its binary serialization (what ``SerializeToString`` wrote)."""
    graph_def = graph_pb2.GraphDef()
    graph_def.ParseFromString(data)
    return graph_def


def parse_text(text: str) -> GraphDef:
    """A ``GraphDef`` from protobuf text (``.pbtxt``)."""
    return text_format.Parse(text, graph_pb2.GraphDef())


def to_text(graph_def: GraphDef) -> str:
    """Protobuf text, as TensorFlow's ``tf.io.write_graph(as_text=True)`` writes it."""
    return text_format.MessageToString(graph_def)


def attr_text(value: Any) -> str:
    """One ``AttrValue`` as a short human-readable string (tensors summarised, not dumped)."""
    kind = value.WhichOneof("value")
    if kind == "tensor":
        tensor = value.tensor
        dims = [d.size for d in tensor.tensor_shape.dim]
        return f"tensor {types_pb2.DataType.Name(tensor.dtype)} {dims}"
    if kind == "shape":
        return str([d.size for d in value.shape.dim]) if not value.shape.unknown_rank else "?"
    if kind == "list":
        return text_format.MessageToString(value.list, as_one_line=True)[:200]
    if kind == "func":
        return f"function {value.func.name}"
    if kind == "type":
        return types_pb2.DataType.Name(value.type)
    if kind == "s":
        return value.s.decode("utf-8", errors="replace")[:200]
    if kind in ("i", "f", "b"):
        return str(getattr(value, kind))
    text = text_format.MessageToString(value, as_one_line=True)
    return text[:200]


def mode_graphs(result: ModeResult) -> ModeGraphs | None:
    """A mode's graphs from the bytes its worker sent (None when it has none: eager, a failed
    mode, or a report made without ``include_graphs``)."""
    if not result.graphs or result.diff is None:
        return None
    shapes = result.shapes or {}
    return ModeGraphs(result.mode, parse(result.graphs["pre"]), parse(result.graphs["post"]),
                      result.diff, shapes.get("pre"), shapes.get("post"))


def executed_graphs(result: ModeResult) -> ModeGraphs | None:
    """The graph that executed against the post-Grappler graph, as a ModeGraphs whose "post"
    side is the executed graph (its "post" view colours what the runtime changed), or None
    when the report has no executed graph."""
    if not result.graphs or "executed" not in result.graphs or result.executed is None:
        return None
    executed = result.executed
    # The runtime's folds happened after the record: coloured as folds, the nodes still shown.
    changes = dataclasses.replace(executed.diff,
                                  folded=executed.diff.folded + executed.runtime_folded)
    return ModeGraphs(f"{result.mode} executed", parse(result.graphs["post"]),
                      parse(result.graphs["executed"]), changes, post_label="executed")


def report_graphs(report: Report) -> dict[str, ModeGraphs]:
    """Every mode's graphs that the report carries, by mode."""
    found = {}
    for result in report.results:
        graphs = mode_graphs(result)
        if graphs is not None:
            found[graphs.mode] = graphs
    return found
