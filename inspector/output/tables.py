"""The report's tables as rows of plain values, shared by the app, the HTML report and tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from inspector.graphs import diff
from inspector.inputs.grappler import PASS_OPTIONS, pass_in_force, switch_text
from inspector.report import (
    AFTER_GRAPPLER,
    BEFORE_GRAPPLER,
    Attribution,
    OpTime,
    PassChange,
    Report,
    ShapeDependentConstants,
    SourceLine,
)

if TYPE_CHECKING:
    from inspector.store.runs import RunSummary

Row = dict[str, Any]

# What every table shows where a value does not apply (eager has no graph, a failed mode no
# timing).
NOT_APPLICABLE = "n/a"


def shortened(text: str, chars: int) -> str:
    """``text`` in at most ``chars`` characters, an ellipsis where it was cut."""
    return text if len(text) <= chars else text[:chars - 1] + "\u2026"


def cell_text(value: Any) -> str:
    """One value as every table shows it: counts as integers with thousands separators,
    microseconds with one decimal, NOT_APPLICABLE for None, booleans as yes/no."""
    if value is None:
        return NOT_APPLICABLE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def formatted(rows: list[Row]) -> list[dict[str, str]]:
    """Rows with every value as ``cell_text`` (for the app's tables, the CLI and the HTML)."""
    return [{key: cell_text(value) for key, value in row.items()} for row in rows]


def shape_dependent_sentence(sdc: ShapeDependentConstants) -> str:
    """The one sentence that names nodes constant only with fixed shapes."""
    return (f"Constant with fixed shapes ({sdc.fixed_mode}) but not with None dims: before "
            f"Grappler {', '.join(sdc.pre) or 'none'}; after {', '.join(sdc.post) or 'none'}.")


def matrix(report: Report) -> list[Row]:
    """One row per mode: traces, graph sizes, what Grappler did, unknown shapes, latency."""
    rows = []
    for r in report.results:
        t, d, u = r.timing, r.diff, r.unknown_shape_outputs
        version = {"TF": r.tensorflow} if report.versions else {}  # several: which one
        rows.append({"mode": r.mode, **version,
                     "error": str(r.error).splitlines()[0] if r.error else "",
                     # n/a for a mode that stopped before its first call was recorded
                     "traces": r.traces if r.error is None or r.calls else None,
                     "pre nodes": r.pre.nodes if r.pre else None,
                     "post nodes": r.post.nodes if r.post else None,
                     "folded": len(d.folded) if d else None, "fused": len(d.fused) if d else None,
                     "removed": len(d.removed) if d else None,
                     "unknown shapes pre": u["pre"] if u else None,
                     "unknown shapes post": u["post"] if u else None,
                     "first call us": t.first_call_us if t else None,
                     "median us": t.median_us if t else None, "p10 us": t.p10_us if t else None,
                     "p90 us": t.p90_us if t else None})
    return rows


def rewrites(report: Report, mode: str) -> list[Row]:
    """Every node Grappler removed, added, folded, fused or rewired in ``mode``."""
    result = report.result(mode)
    if result is None or result.diff is None:
        return []
    d = result.diff
    rows = ([{"node": n, "what": "removed", "detail": ""} for n in d.removed]
            + [{"node": n, "what": "added", "detail": ""} for n in d.added]
            + [{"node": n, "what": "folded", "detail": "became Const"} for n in d.folded]
            + [{"node": c.name, "what": "op changed", "detail": f"{c.pre_op} -> {c.post_op}"}
               for c in d.op_changed if c.name not in set(d.folded)]
            + [{"node": f.name, "what": "fused", "detail": f"{f.op} [{'+'.join(f.fused_ops)}]"}
               for f in d.fused]
            + [{"node": w.name, "what": "rewired",
                "detail": f"{', '.join(w.pre_inputs)} -> {', '.join(w.post_inputs)}"}
               for w in d.rewired])
    if result.attribution is not None:
        for row in rows:
            row["pass"] = pass_label(result.attribution.get(row["node"]))
    return rows


def mode_comparison(graph_a: Any, graph_b: Any, mode_a: str, mode_b: str) -> list[Row]:
    """How two modes' graphs (both pre or both post Grappler) differ, node by node: nodes only
    one of them has, ops that differ (a Const in one mode only is a shape or value TensorFlow
    knew there), and inputs that differ. Empty when the graphs have the same nodes, ops and
    inputs."""
    d = diff.diff_graphs(graph_a, graph_b)
    ops_a = {n.name: n.op for n in graph_a.node}
    ops_b = {n.name: n.op for n in graph_b.node}
    return ([{"node": n, "difference": f"only in {mode_a}", "detail": ops_a[n]}
             for n in d.removed]
            + [{"node": n, "difference": f"only in {mode_b}", "detail": ops_b[n]}
               for n in d.added]
            + [{"node": c.name, "difference": "op differs",
                "detail": f"{mode_a}: {c.pre_op}, {mode_b}: {c.post_op}"} for c in d.op_changed]
            + [{"node": w.name, "difference": "inputs differ",
                "detail": f"{mode_a}: {', '.join(w.pre_inputs)}; "
                          f"{mode_b}: {', '.join(w.post_inputs)}"}
               for w in d.rewired if w.name not in {c.name for c in d.op_changed}])


def _unknown(shape: str) -> bool:
    return shape == "<unknown>" or "None" in shape


def shapes(report: Report, mode: str, only_unknown: bool = False) -> list[Row]:
    """Every node's static output shapes before and after Grappler, by node name."""
    result = report.result(mode)
    if result is None or not result.shapes:
        return []
    pre = {n.name: n for n in result.shapes["pre"].nodes}
    post = {n.name: n for n in result.shapes["post"].nodes}
    sdc = report.shape_dependent_constants
    shape_dependent = set(sdc.pre + sdc.post) if sdc is not None and sdc.fixed_mode == mode \
        else set()
    rows = []
    for name in [*pre, *(n for n in post if n not in pre)]:
        before, after = pre.get(name), post.get(name)
        outputs = (before.outputs if before else ()) + (after.outputs if after else ())
        if only_unknown and not any(_unknown(s) for s in outputs):
            continue
        rows.append({"node": name, "op pre": before.op if before else "",
                     "op post": after.op if after else "",
                     "shapes pre": " ".join(before.outputs) if before else "",
                     "shapes post": " ".join(after.outputs) if after else "",
                     "constant only with fixed shapes": name in shape_dependent})
    return rows


def retracing(report: Report) -> list[Row]:
    """Each call of each mode: whether it traced, why, the signature, or the error type that
    refused it (the reason carries TensorFlow's message)."""
    return [{"mode": r.mode, "call": number, "spec": c.spec,
             "traced": c.traced, "reason": c.reason, "signature": c.signature or "",
             "refused": c.error.type if c.error else ""}
            for r in report.results for number, c in enumerate(r.calls, 1)]


def passes(report: Report, mode: str) -> list[Row]:
    result = report.result(mode)
    return [{"round": p.iteration, "optimizer": p.optimizer, "nodes after": p.nodes_after,
             "node delta": p.node_delta, "edges after": p.edges_after,
             "edge delta": p.edge_delta, "ms": p.time_ms}
            for p in (result.grappler_passes if result else ())]


def patterns(report: Report, mode: str) -> list[Row]:
    """The mode's rewrite patterns, biggest first: count, summary, one instance's nodes."""
    result = report.result(mode)
    return [{"count": p.count, "kind": p.kind.replace("_", " "), "pattern": p.summary,
             "one instance": ", ".join(p.nodes[0]) if p.nodes else ""}
            for p in (result.patterns if result else ())]


def runtime_rewrites(report: Report, mode: str) -> list[Row]:
    """What the runtime did to the post-Grappler graph, as patterns: each kernel swap ("MatMul
    ran as _MklMatMul"), the nodes it folded at instantiation, the nodes placement added."""
    result = report.result(mode)
    executed = result.executed if result else None
    if executed is None:
        return []
    swaps: dict[tuple[str, str], list[str]] = {}
    folded = set(executed.runtime_folded)
    for change in executed.diff.op_changed:  # a folded node's kernel never ran
        if change.name not in folded:
            swaps.setdefault((change.pre_op, change.post_op), []).append(change.name)
    rows = [{"count": len(names), "kind": "kernel swapped", "pattern": f"{before} ran as {after}",
             "one instance": names[0]}
            for (before, after), names in sorted(swaps.items(), key=lambda kv: -len(kv[1]))]
    for kind, names, said in (
            ("folded by the runtime", executed.runtime_folded,
             "computed from constants alone; no kernel ran in the profiled calls"),
            ("added after placement", executed.diff.added,
             "new in the graph that ran (transfers between devices, the runtime's own nodes)")):
        if names:
            rows.append({"count": len(names), "kind": kind, "pattern": said,
                         "one instance": names[0]})
    return rows


def pass_label(attribution: Attribution | None) -> str:
    """How tables name the pass that made a change: "constant_folding (round 1)"."""
    if attribution is None:
        return ""
    if attribution.optimizer == AFTER_GRAPPLER:
        return "after Grappler (runtime)"
    if attribution.optimizer == BEFORE_GRAPPLER:
        return "before Grappler (runtime: inlining)"
    run = f", run {attribution.run}" if attribution.run > 1 else ""
    return f"{attribution.optimizer} (round {attribution.iteration}{run})"


def pass_changes(report: Report, mode: str) -> list[Row]:
    """Each pass in run order, from TensorFlow's dump of the graph after it: sizes and how many
    nodes it removed, added, re-typed and rewired."""
    result = report.result(mode)
    return [{"step": number, "run": p.run, "round": p.iteration, "pass": p.optimizer,
             "nodes": p.nodes, "edges": p.edges, "removed": len(p.removed),
             "added": len(p.added), "op changed": len(p.op_changed),
             "rewired": len(p.rewired)}
            for number, p in enumerate(result.passes if result else (), 1)]


def pass_options(report: Report, mode: str) -> list[Row]:
    """Every Grappler pass: on by default or not, what was in force (the user's overrides
    included), whether it ran on this function and whether it changed anything."""
    result = report.result(mode)
    ran: dict[str, list[PassChange]] = {}
    for change in result.passes if result else ():
        if change.optimizer != BEFORE_GRAPPLER:
            ran.setdefault(_base_name(change.optimizer), []).append(change)
    known = {name for name, _, _ in PASS_OPTIONS}
    rows = []
    for name, option, default_on in PASS_OPTIONS:
        on, decided = pass_in_force(option, default_on, report.grappler)
        changes = ran.get(name, [])
        # "default" and "in force" say whether the pass runs; the switch names the override
        # ("disable_model_pruning" beside "on" read as a double negative).
        rows.append({"pass": name, "default": _on(default_on), "in force": _on(on),
                     "set by": decided, "ran": len(changes),
                     "changed nodes": sum(_touched(c) for c in changes),
                     "switch": switch_text(option, default_on)})
    for name, changes in ran.items():
        if name not in known:  # e.g. tfg_optimizer: TensorFlow's MLIR pipeline, always on
            rows.append({"pass": name, "default": "on", "in force": "on", "set by": "default",
                         "ran": len(changes), "changed nodes": sum(_touched(c) for c in changes),
                         "switch": switch_text(None, True)})
    return rows


def pass_matrix(report: Report) -> list[Row]:
    """The pass options once, with a column per mode that has passes: how many nodes the pass
    changed there ("-": it did not run)."""
    modes = [r.mode for r in report.results if r.passes]
    if not modes:
        return []
    per_mode = {mode: {row["pass"]: row for row in pass_options(report, mode)} for mode in modes}
    rows = []
    for name, row in per_mode[modes[0]].items():
        merged = {k: row[k] for k in ("pass", "default", "in force", "set by")}
        for mode in modes:
            cell = per_mode[mode].get(name)
            merged[mode] = "-" if not cell or not cell["ran"] else cell["changed nodes"]
        rows.append(merged)
    names = {row["pass"] for row in rows}
    for mode in modes[1:]:  # a pass only another mode ran
        for name, cell in per_mode[mode].items():
            if name not in names:
                names.add(name)
                rows.append({**{k: cell[k] for k in ("pass", "default", "in force", "set by")},
                             **{m: per_mode[m][name]["changed nodes"] if name in per_mode[m]
                                else "-" for m in modes}})
    return rows


def _base_name(optimizer: str) -> str:
    return optimizer.split("{", 1)[0]


def _on(value: bool) -> str:
    return "on" if value else "off"


def _touched(change: PassChange) -> int:
    return len({*change.removed, *change.added, *change.op_changed, *change.rewired})


def breakdown(report: Report) -> list[Row]:
    """Per mode, where one call's time goes (profiled calls, medians, µs). Eager runs op by op:
    it has no graph, so its graph columns say n/a and its time is the call's."""
    rows = []
    for result in report.results:
        parts = result.timing.breakdown if result.timing else None
        if parts is None:
            continue
        graph = result.mode != "eager"
        rows.append({"mode": result.mode, "sampled calls": parts.samples,
                     "call us": parts.call_us,
                     "before graph us": parts.before_graph_us if graph else None,
                     "of which conversion us": parts.conversion_us if graph else None,
                     "graph us": parts.graph_us if graph else None,
                     "after graph us": parts.other_us if graph else None,
                     "convert_to_tensor alone us": parts.convert_alone_us,
                     "note": parts.note or result.op_times_note or ""})
    return rows


def top_ops(report: Report, mode: str, count: int = 10) -> list[Row]:
    """The costliest nodes of the graph that ran, with their share of the graph's time."""
    result = report.result(mode)
    if result is None or not result.op_times:
        return []
    parts = result.timing.breakdown if result.timing else None
    graph_us = parts.graph_us if parts and parts.graph_us else None
    added = set(result.executed.diff.added) if result.executed else set()

    def label(o: OpTime) -> str:  # a node of no graph: the runtime's, or none shows it
        if o.graph_op is not None or result.mode in ("eager", "xla"):
            return o.label
        return f"{o.op} ({'added by the runtime' if o.node in added else 'ran, not in any graph'})"

    return [{"op": label(o), "node": o.node, "device": o.device.replace("/device:", ""),
             "us": o.mean_us,
             "share of graph": f"{100 * o.mean_us / graph_us:.1f}%" if graph_us else NOT_APPLICABLE}
            for o in result.op_times[:count]]


def time_scale_us(report: Report) -> float:
    """The costliest node of any mode: one colour scale for every mode's picture."""
    return max((o.mean_us for r in report.results for o in r.op_times), default=0.0)


def ablation(report: Report, mode: str) -> list[Row]:
    result = report.result(mode)
    base = result.post.nodes if result and result.post else None
    return [{"optimizer off": a.option, "post nodes": a.post_nodes,
             "nodes vs all on": (a.post_nodes - base) if a.post_nodes is not None and base
             else None, "median us": a.median_us, "error": a.error or ""}
            for a in (result.ablation if result else ())]


def run_rows(summaries: list[RunSummary]) -> list[Row]:
    """Saved runs as the History table shows them (the app and ``history list``)."""
    return [{"id": s.id, "when": s.created_at.strftime("%Y-%m-%d %H:%M"), "who": s.owner_name,
             "visibility": s.visibility,
             "function": s.function, "source": s.source_label, "title": s.title or "",
             "modes": " ".join(s.modes),
             "TF": s.tensorflow or "n/a", "device": (s.device or "").replace("/device:", ""),
             "status": s.status,
             "post nodes": " ".join(f"{m}:{n}" for m, n in s.post_nodes.items()),
             "tags": " ".join(s.tags)} for s in summaries]


# A line's change kinds that are coloured or said otherwise than their key.
_STATUS = {"runtime_folded": "folded"}
_WORDS = {"runtime_folded": "folded by the runtime"}


def line_status(changes: dict[str, int]) -> str:
    """What happened to a source line's nodes, as one of the diff view's colours: the one kind
    of change, "mixed" for several, "unchanged" for none (rewiring alone changes no node)."""
    kinds = {_STATUS.get(kind, kind) for kind, n in changes.items() if n and kind != "rewired"}
    return kinds.pop() if len(kinds) == 1 else "mixed" if kinds else "unchanged"


def changes_text(changes: dict[str, int]) -> str:
    """A source line's changes in words ("2 fused, 1 rewired"), or "unchanged"."""
    return ", ".join(f"{n} {_WORDS.get(kind, kind.replace('_', ' '))}"
                     for kind, n in changes.items() if n) or "unchanged"


def source_lines(report: Report, modes: Sequence[str], layers: bool = False) -> list[Row]:
    """The annotated source: a row per line that made nodes in any of ``modes`` (``layers``:
    per layer of the model one line called), with per mode its nodes before Grappler -> after
    -> executed, what changed, and its time per call."""
    by_mode: dict[str, dict[Any, SourceLine]] = {}
    for mode in modes:
        result = report.result(mode)
        rows_of = (result.layers if layers else result.lines) if result else ()
        by_mode[mode] = {(row.text if layers else row.line): row for row in rows_of}
    keys = list(dict.fromkeys(k for rows in by_mode.values() for k in rows))
    rows = []
    for key in keys if layers else sorted(keys):
        first = next(lines[key] for lines in by_mode.values() if key in lines)
        row: Row = {"layer": key} if layers else {"line": key, "code": first.text}
        for mode, lines in by_mode.items():
            line = lines.get(key)
            row.update(_line_cells(mode, line))
        rows.append(row)
    return rows


def _line_cells(mode: str, line: SourceLine | None) -> Row:
    if line is None:
        return {f"{mode}: nodes": "", f"{mode}: changes": "", f"{mode}: us": None}
    executed = "" if line.executed_nodes is None else f" -> {line.executed_nodes}"
    return {f"{mode}: nodes": f"{line.nodes} -> {line.post_nodes}{executed}",
            f"{mode}: changes": changes_text(line.changes),
            f"{mode}: us": line.time_us}
