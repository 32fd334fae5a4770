"""Two saved runs side by side: matrix figures with their changes, post-Grappler graphs node by
node per mode, and the source diff. Shared by ``history compare`` and the app's Compare page."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from inspector.graphs import protos
from inspector.output import tables
from inspector.output.tables import Row
from inspector.report import ModeResult, Report

# Matrix figures compared, as (label, how to read it from a mode's result).
_COUNTS = (
    ("traces", lambda r: r.traces),
    ("post nodes", lambda r: r.post.nodes if r.post else None),
    ("folded", lambda r: len(r.diff.folded) if r.diff else None),
    ("fused", lambda r: len(r.diff.fused) if r.diff else None),
    ("removed", lambda r: len(r.diff.removed) if r.diff else None),
    ("unknown shapes post", lambda r: r.unknown_shape_outputs["post"]
     if r.unknown_shape_outputs else None),
)


@dataclass(frozen=True)
class GraphComparison:
    """One mode's post-Grappler graphs in two runs."""

    mode: str
    # Node-by-node differences (tables.mode_comparison rows); empty: the same graph.
    rows: tuple[Row, ...]
    nodes_a: int
    nodes_b: int


def common_modes(a: Report, b: Report) -> list[str]:
    return [r.mode for r in a.results if b.result(r.mode) is not None]


def matrix_rows(a: Report, b: Report, label_a: str = "A", label_b: str = "B") -> list[Row]:
    """Per mode in both runs, each figure in A and B and how it changed (a count's difference,
    the median's ratio B/A)."""
    rows: list[Row] = []
    for mode in common_modes(a, b):
        ra, rb = a.result(mode), b.result(mode)
        assert ra is not None and rb is not None
        for label, read in _COUNTS:
            va, vb = read(ra), read(rb)
            change = None if va is None or vb is None else ("=" if va == vb else f"{vb - va:+d}")
            rows.append({"mode": mode, "figure": label, label_a: va, label_b: vb,
                         "change": change})
        ma, mb = (_median(ra), _median(rb))
        rows.append({"mode": mode, "figure": "median us", label_a: ma, label_b: mb,
                     "change": f"x{mb / ma:.2f}" if ma and mb else None})
    return rows


def _median(result: ModeResult) -> float | None:
    return result.timing.median_us if result.timing else None


def graph_comparisons(a: Report, b: Report, label_a: str = "A",
                      label_b: str = "B") -> list[GraphComparison]:
    """Per mode with graphs in both runs, the post-Grappler graphs compared node by node."""
    found = []
    for mode in common_modes(a, b):
        ra, rb = a.result(mode), b.result(mode)
        ga = protos.mode_graphs(ra) if ra is not None else None
        gb = protos.mode_graphs(rb) if rb is not None else None
        if ga is None or gb is None:
            continue
        rows = tables.mode_comparison(ga.post, gb.post, label_a, label_b)
        found.append(GraphComparison(mode, tuple(rows), len(ga.post.node), len(gb.post.node)))
    return found


def source_diff(text_a: str, text_b: str, label_a: str = "A", label_b: str = "B") -> str:
    """A unified diff of the two sources; empty when the code is the same."""
    return "".join(difflib.unified_diff(text_a.splitlines(True), text_b.splitlines(True),
                                        fromfile=label_a, tofile=label_b))
