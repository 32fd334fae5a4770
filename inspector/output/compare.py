"""Two saved runs side by side: matrix figures with their changes, post-Grappler graphs node by
node per mode, and the source diff. Shared by ``history compare`` and the app's Compare page."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from inspector.graphs import protos
from inspector.inputs.grappler import format_overrides
from inspector.output import tables
from inspector.output.tables import Row
from inspector.report import ModeResult, Report

# What differs is marked with this in the inputs table.
DIFFERS = "≠"

# Matrix figures compared, as (label, how to read it from a mode's result).
_COUNTS = (
    # n/a for a mode that stopped before its first call was recorded, as in the matrix
    ("traces", lambda r: r.traces if r.error is None or r.calls else None),
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
    # B's mode when the pair crosses modes (A's numpy against B's spec), else None.
    mode_b: str | None = None

    @property
    def label(self) -> str:
        return self.mode if self.mode_b in (None, self.mode) else f"A {self.mode} | B {self.mode_b}"


def run_inputs(request: dict, report: Report | None, executor: str | None = None
               ) -> dict[str, str]:
    """What decided a saved run's results, as text: the request (``InspectRequest.to_dict``),
    and from its report the TensorFlow that ran it and where."""
    overrides = request.get("grappler") or {}
    ran = report.executor if report is not None else None
    model = (request.get("source") or {}).get("model")
    return {
        "function": f"{request.get('function')} ({_source_label(request)})",
        **({"model": _model_label(model)} if model else {}),
        "calls": " | ".join(request.get("calls") or ()) or "none",
        "modes": ", ".join(request.get("modes") or ()),
        "device": request.get("device") or "TensorFlow's default",
        "Grappler overrides": " ".join(format_overrides(overrides))
        or "none (TensorFlow's defaults)",
        "timed runs per mode": str(request.get("runs") or "as many as fit in the budget"),
        "ablation": "yes" if request.get("ablate") else "no",
        "graphs after each pass": "yes" if request.get("passes", True) else "no",
        "TensorFlow": (report.tensorflow if report is not None and report.tensorflow
                       else "not recorded"),
        "executor": (f"{ran.kind}: {ran.node}" if ran is not None
                     else executor or "not recorded"),
    }


def _model_label(model: dict) -> str:
    """A model input as its file, content and what of it was called: two versions of a model
    file differ here even when their names are the same."""
    called = (f"function {model['endpoint']}" if model.get("endpoint") else
              f"signature {model.get('signature')}" if model.get("kind") == "saved_model"
              else "Keras, model(x, training=False)")
    return f"{model.get('name')} (sha256 {str(model.get('sha256'))[:12]}; {called})"


def _source_label(request: dict) -> str:
    source = request.get("source") or {}
    if source.get("gallery_name"):
        return f"gallery:{source['gallery_name']}"
    if source.get("provided_name"):
        return f"file:{source['provided_name']}"
    return str(source.get("filename") or "pasted code")


def input_rows(a: dict[str, str], b: dict[str, str], label_a: str = "A",
               label_b: str = "B") -> list[Row]:
    """The two runs' inputs side by side, each row marked where they differ."""
    return [{"input": key, label_a: a.get(key, ""), label_b: b.get(key, ""),
             "differs": DIFFERS if a.get(key) != b.get(key) else ""}
            for key in dict.fromkeys([*a, *b])]


def common_modes(a: Report, b: Report) -> list[str]:
    return [r.mode for r in a.results if b.result(r.mode) is not None]


def matrix_rows(a: Report, b: Report, label_a: str = "A", label_b: str = "B") -> list[Row]:
    """Per mode of either run, each figure in A and B and how it changed (a count's
    difference, the median's ratio B/A); a mode only one run has keeps its figures, with
    "only in A" (or B) as the change."""
    rows: list[Row] = []
    modes = list(dict.fromkeys([*(r.mode for r in a.results), *(r.mode for r in b.results)]))
    for mode in modes:
        ra, rb = a.result(mode), b.result(mode)
        only = (f"only in {label_a}" if rb is None else f"only in {label_b}" if ra is None
                else None)
        for label, read in _COUNTS:
            va = read(ra) if ra is not None else None
            vb = read(rb) if rb is not None else None
            change = only or (None if va is None or vb is None
                              else "=" if va == vb else f"{vb - va:+d}")
            rows.append({"mode": mode, "figure": label, label_a: va, label_b: vb,
                         "change": change})
        ma = _median(ra) if ra is not None else None
        mb = _median(rb) if rb is not None else None
        rows.append({"mode": mode, "figure": "median us", label_a: ma, label_b: mb,
                     "change": only or (f"x{mb / ma:.2f}" if ma and mb else None)})
        ea, eb = _error_line(ra), _error_line(rb)
        if ea or eb:  # a failure in either run shows (its figures read n/a: found in a walk)
            rows.append({"mode": mode, "figure": "error", label_a: ea, label_b: eb,
                         "change": only or ("=" if ea == eb else "differs")})
    return rows


# How much of a failed mode's error a comparison shows: its first line, cut short.
ERROR_CHARS = 120


def _error_line(result: ModeResult | None) -> str:
    if result is None or result.error is None:
        return ""
    line = str(result.error).splitlines()[0] if str(result.error) else result.error.type
    return tables.shortened(line, ERROR_CHARS)


def _median(result: ModeResult) -> float | None:
    return result.timing.median_us if result.timing else None


def graph_comparisons(a: Report, b: Report, label_a: str = "A", label_b: str = "B",
                      pairs: list[tuple[str, str]] | None = None) -> list[GraphComparison]:
    """The post-Grappler graphs compared node by node, per pair of modes (A's, B's) with graphs
    in both runs; by default each mode the two runs share."""
    found = []
    for mode_a, mode_b in pairs if pairs is not None else [(m, m) for m in common_modes(a, b)]:
        ra, rb = a.result(mode_a), b.result(mode_b)
        ga = protos.mode_graphs(ra) if ra is not None else None
        gb = protos.mode_graphs(rb) if rb is not None else None
        if ga is None or gb is None:
            continue
        rows = tables.mode_comparison(ga.post, gb.post, label_a, label_b)
        found.append(GraphComparison(mode_a, tuple(rows), len(ga.post.node), len(gb.post.node),
                                     None if mode_b == mode_a else mode_b))
    return found


def source_diff(text_a: str, text_b: str, label_a: str = "A", label_b: str = "B") -> str:
    """A unified diff of the two sources; empty when the code is the same."""
    return "".join(difflib.unified_diff(text_a.splitlines(True), text_b.splitlines(True),
                                        fromfile=label_a, tofile=label_b))
