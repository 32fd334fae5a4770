"""The command line's text: the report summary and the two-mode comparison.

Tables are the rows ``tables`` builds for the app and the HTML report, laid out by ``tabulate``
(columns sized from their content, so large figures never run together).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from tabulate import tabulate

from inspector.output import tables
from inspector.report import Attribution, GraphDiff, ModeResult, Report, SourceLine

# How many node names one kind of change lists before "... and N more".
MAX_NAMES = 12


def _by_pass(items: Sequence[tuple[str, str]],
             attribution: dict[str, Attribution] | None) -> str:
    """Node texts grouped under the pass that made the change, capped at MAX_NAMES in all."""
    if attribution is None:
        return ", ".join(text for _, text in items[:MAX_NAMES])
    groups: dict[str, list[str]] = {}
    for name, text in items[:MAX_NAMES]:
        groups.setdefault(tables.pass_label(attribution.get(name)) or "?", []).append(text)
    return "; ".join(f"by {label}: {', '.join(texts)}" for label, texts in groups.items())


def _diff_lines(diff: GraphDiff, attribution: dict[str, Attribution] | None = None) -> list[str]:
    """Every kind of change Grappler made, each capped at MAX_NAMES names, each named with the
    pass that made it when the report has the passes."""
    folded = set(diff.folded)
    kinds = [
        ("folded", [(n, n) for n in diff.folded]),
        ("fused", [(f.name, f"{f.name} ({f.op}: {'+'.join(f.fused_ops)})") for f in diff.fused]),
        ("op changed", [(c.name, f"{c.name} ({c.pre_op} -> {c.post_op})")
                        for c in diff.op_changed if c.name not in folded]),
        ("removed", [(n, n) for n in diff.removed]),
        ("added", [(n, n) for n in diff.added]),
        ("rewired", [(w.name, w.name) for w in diff.rewired]),
    ]
    lines = []
    for label, items in kinds:
        if items:
            more = f" ... and {len(items) - MAX_NAMES} more" if len(items) > MAX_NAMES else ""
            lines.append(f"  {label} ({len(items)}): {_by_pass(items, attribution)}{more}")
    return lines


# Patterns the summary lists per mode (the JSON has them all), and the instance count up to
# which their node names are named too.
MAX_PATTERNS = 12
NAMED_UP_TO = 3


def _pattern_lines(result: ModeResult) -> list[str]:
    """The mode's changes as rewrite patterns: count and summary (node names for rare ones)."""
    total = sum(len(nodes) for p in result.patterns for nodes in p.nodes)
    lines = [f"  rewrites: {total} changed nodes in {len(result.patterns)} patterns"]
    for pattern in result.patterns[:MAX_PATTERNS]:
        names = (": " + ", ".join(nodes[0] for nodes in pattern.nodes)
                 if pattern.count <= NAMED_UP_TO else "")
        lines.append(f"    x{pattern.count} {pattern.summary}{names}")
    if len(result.patterns) > MAX_PATTERNS:
        lines.append(f"    ... and {len(result.patterns) - MAX_PATTERNS} more patterns "
                     "(the JSON report has them all)")
    return lines


def _time_lines(report: Report, result: ModeResult) -> list[str]:
    """Where one call's time goes, and the costliest ops (the profiler's sampled calls)."""
    parts = result.timing.breakdown if result.timing else None
    lines = []
    if parts is not None and not parts.graph_us:  # eager: nothing to split
        lines.append(f"  time per call, us (mean of {parts.samples} profiled calls): call "
                     f"{parts.call_us:,.1f} ({parts.note or 'no graph run was traced'})")
    elif parts is not None:
        conversion = (f" (NumPy conversion {parts.conversion_us:,.1f})"
                      if parts.conversion_us else "")
        alone = (f"; tf.convert_to_tensor alone {parts.convert_alone_us:,.1f} us"
                 if parts.convert_alone_us is not None else "")
        lines.append(f"  time per call, us (mean of {parts.samples} profiled calls): "
                     f"before the graph {parts.before_graph_us:,.1f}{conversion} | graph "
                     f"{parts.graph_us:,.1f} | after {parts.other_us:,.1f} | call "
                     f"{parts.call_us:,.1f}{alone}")
        if parts.note:
            lines.append(f"    ({parts.note})")
    if result.op_times:
        graph_us = parts.graph_us if parts and parts.graph_us else None
        shown = [(row["op"] if row["node"] == row["op"] else f"{row['node']} ({row['op']})")
                 + f" {row['us']:,.1f} us"
                 + (f" ({100 * row['us'] / graph_us:.0f}%)" if graph_us else "")
                 for row in tables.top_ops(report, result.mode, 5)]
        lines.append("  costliest ops: " + "; ".join(shown))
    elif result.op_times_note:
        lines.append(f"  per-op times: {result.op_times_note}")
    return lines


def _pass_lines(report: Report) -> list[str]:
    """The passes once: options in force and, per mode, how many nodes each pass changed."""
    rows = tables.pass_matrix(report)
    if not rows:
        return []
    table = tabulate(tables.formatted(rows), headers="keys", tablefmt="simple",
                     disable_numparse=True)
    return ["", "Grappler passes (options in force; nodes each pass changed per mode, "
                "- where it did not run):", *table.splitlines()]


def _call_lines(result: ModeResult) -> list[str]:
    lines = []
    for number, call in enumerate(result.calls, 1):
        flag = ("refused" if call.error is not None else "traced" if call.traced
                else "eager" if result.mode == "eager" else "reused")
        reason = call.reason.removeprefix(f"{flag}: ")  # eager's reason already says it
        lines.append(f"  call {number} {call.spec}: {flag}: {reason}")
    return lines


def _ablation_lines(report: Report, mode: str) -> list[str]:
    rows = tables.ablation(report, mode)
    if not rows:
        return []
    shown = [{**row, "nodes vs all on": None if row["nodes vs all on"] is None
              else f"{row['nodes vs all on']:+d}"} for row in rows]
    table = tabulate(tables.formatted(shown), headers="keys", tablefmt="plain",
                     disable_numparse=True, colalign=("left", "right", "right", "right", "left"))
    return ["  leave-one-out ablation:", *("    " + line for line in table.splitlines())]


def _matrix(report: Report) -> list[str]:
    rows = [{k: v for k, v in row.items() if k != "error"} for row in tables.matrix(report)]
    # Headers wrap (at 9 characters) so the thirteen columns fit a terminal.
    table = tabulate(tables.formatted(rows), headers="keys", tablefmt="simple",
                     disable_numparse=True, maxheadercolwidths=9,
                     colalign=("left", *["right"] * (len(rows[0]) - 1)) if rows else ())
    return table.splitlines()


# How many of a mode's costliest lines the summary names.
COSTLIEST_LINES = 3


def _executed_lines(report: Report, result: ModeResult) -> list[str]:
    """What the runtime did after Grappler, and the costliest source lines."""
    out = []
    executed = result.executed
    if executed is not None:
        said = "; ".join(f"{row['count']}x {row['pattern']}" if row["kind"] == "kernel swapped"
                         else f"{row['count']} {row['kind']}"
                         for row in tables.runtime_rewrites(report, result.mode))
        devices = ", ".join(d.rsplit("/", 1)[-1] for d in executed.devices) or "no device"
        out.append(f"  executed: {executed.nodes} nodes on {devices}; "
                   f"{said or 'as Grappler left it'}")
    timed = sorted((line for line in result.lines if line.time_us),
                   key=lambda line: -(line.time_us or 0))
    if timed:
        out.append("  costliest lines: " + ", ".join(
            f"line {line.line} ({line.time_us:.1f} us: {_shortened(line.text.strip(), 40)})"
            for line in timed[:COSTLIEST_LINES]))
    return out


# The listing's code column keeps a line's start; the JSON has the whole text.
CODE_COLUMN_CHARS = 80


def _columns(char: str) -> int:
    """Terminal columns a character takes: 2 for East Asian wide ones (CJK), 0 for combining
    marks, else 1."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _width(text: str) -> int:
    return sum(_columns(char) for char in text)


def _shortened(text: str, columns: int = CODE_COLUMN_CHARS) -> str:
    """The text cut to ``columns`` terminal columns ("..." where cut), tabs expanded."""
    text = text.expandtabs()
    if _width(text) <= columns:
        return text
    kept, used = [], 0
    for char in text:
        used += _columns(char)
        if used > columns - 3:
            break
        kept.append(char)
    return "".join(kept) + "..."


def _padded(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _listing_cells(line: SourceLine) -> str:
    """A listing row after its label: nodes pre -> post -> executed | changes | time."""
    executed = "-" if line.executed_nodes is None else str(line.executed_nodes)
    took = "-" if line.time_us is None else f"{line.time_us:.1f} us"
    return (f"{line.nodes} -> {line.post_nodes} -> {executed} | "
            f"{tables.changes_text(line.changes)} | {took}")


def format_lines(report: Report) -> str:
    """The annotated source listing (``--lines``): per mode, each line that made nodes with
    its nodes before Grappler -> after -> executed, what changed, and its time per call."""
    out = []
    for result in report.results:
        if not result.lines:
            continue
        out += ["", f"[{result.mode}] line | code | nodes pre -> post -> executed | changes | "
                    "time per call"]
        texts = [_shortened(line.text.rstrip()) for line in result.lines]
        width = max(_width(text) for text in texts)
        out += [f"  {line.line:>4} | {_padded(text, width)} | {_listing_cells(line)}"
                for line, text in zip(result.lines, texts, strict=True)]
        if result.layers:
            out.append(f"  line {result.layers[0].line}'s model, layer by layer:")
            width = max(_width(layer.text) for layer in result.layers)
            out += [f"    {_padded(layer.text, width)} | {_listing_cells(layer)}"
                    for layer in result.layers]
    return "\n".join(out).lstrip("\n") or ("no source lines: no mode traced a graph with "
                                            "nodes made by a line of your code")


def format_header(report: Report) -> str:
    """The summary's first line: the function, its source, TensorFlow, device, where it ran."""
    ran = (f" | ran on {report.executor.kind}: {report.executor.node}" if report.executor
           else "")
    device = f" | device {report.device}" if report.device else ""
    return f"{report.function} from {report.source} | TensorFlow {report.tensorflow}{device}{ran}"


def format_summary(report: Report) -> str:
    """The human-readable summary: a mode matrix, then per-mode details."""
    lines = [format_header(report)]
    if report.error is not None:
        lines.append(f"error: {report.error}")
        return "\n".join(lines)
    lines += ["", *_matrix(report)]
    if report.request_stages:
        total = sum(s.ms for s in report.request_stages)
        lines += ["", f"where the request's {total:,.0f} ms went: " + " | ".join(
            f"{s.stage} {s.ms:,.0f}" for s in report.request_stages if s.ms >= 0.5)]
    if not report.versions:
        return "\n".join(lines + _details(report))
    for version in report.versions:  # each version's details as if it had run alone
        lines += ["", f"===== TensorFlow {version} =====", *_details(report.for_version(version))]
    return "\n".join(lines)


def _details(report: Report) -> list[str]:
    """Per mode: the passes, errors, calls, patterns, timing, executed graph and ablation."""
    lines = _pass_lines(report)
    for modes, error in report.mode_errors():  # once for the modes that failed alike
        lines += ["", f"[{', '.join(modes)}] error: {error}",
                  *(f"    {frame}" for frame in error.frames)]
    for result in report.results:
        if result.error is not None:
            continue
        details = _call_lines(result)
        if result.patterns:
            details += _pattern_lines(result)
        elif result.diff:  # a report made before patterns (or built without graphs)
            details += _diff_lines(result.diff, result.attribution)
        if result.passes_note:
            details.append(f"  passes: {result.passes_note}")
        details += _time_lines(report, result)
        details += _executed_lines(report, result)
        details += _ablation_lines(report, result.mode)
        if result.graph_source == "offline":
            details.append("  graphs: offline Grappler run (jit_compile functions record no "
                           "runtime graphs)")
        lines += ["", f"[{result.mode}]", *details]
    sdc = report.shape_dependent_constants
    if sdc is not None and not report.versions:
        lines += ["", tables.shape_dependent_sentence(sdc)]
    return lines


def format_comparison(report: Report, mode_a: str, mode_b: str) -> str:
    """Two modes' graphs, before and after Grappler, node by node (from the GraphDefs the
    worker sent)."""
    from inspector.graphs import patterns, protos  # the protos load only when comparing

    results = [report.result(mode_a), report.result(mode_b)]
    graphs = [protos.mode_graphs(r) if r is not None else None for r in results]
    if graphs[0] is None or graphs[1] is None:
        failed = [m for m, g in zip((mode_a, mode_b), graphs, strict=True) if g is None]
        return f"{mode_a} vs {mode_b}: not compared, {' and '.join(failed)} has no graphs"
    lines = []
    for side, label in (("pre", "before Grappler"), ("post", "after Grappler")):
        graph_a, graph_b = getattr(graphs[0], side), getattr(graphs[1], side)
        rows = tables.mode_comparison(graph_a, graph_b, mode_a, mode_b)
        sizes = f"{len(graph_a.node)} and {len(graph_b.node)} nodes"
        if not rows:
            lines.append(f"{mode_a} vs {mode_b} {label}: the same graph (same nodes, ops and "
                         f"inputs; {sizes})")
            continue
        lines.append(f"{mode_a} vs {mode_b} {label}: {len(rows)} differences ({sizes})")
        lines += [f"  {row['node']}: {row['difference']}: {row['detail']}" for row in rows]
    if results[0] is not None and results[1] is not None and (
            results[0].patterns or results[1].patterns):
        lines.append(f"{mode_a} vs {mode_b} rewrite patterns:")
        lines += [f"  {row['pattern']}: {row['compared']}" for row in patterns.compare(
            results[0].patterns, results[1].patterns, mode_a, mode_b)]
    return "\n".join(lines)


def _changed_by_pass(result: ModeResult) -> dict[str, int]:
    """Per pass (``optimizer#iteration``), how many nodes it changed."""
    return {f"{p.optimizer}#{p.iteration}" + (f" (run {p.run})" if p.run > 1 else ""):
            len(set(p.removed) | set(p.added) | set(p.op_changed) | set(p.rewired))
            for p in result.passes if p.run > 0}


def _version_lines(mode: str, a: Report, b: Report) -> list[str]:
    """One mode on two versions: the post graphs node by node, patterns only one has, passes
    whose changed-node counts differ, the median ratio with both spreads."""
    from inspector.output import compare  # the protos load only when comparing

    ra, rb = a.result(mode), b.result(mode)
    head = f"[{mode}] TensorFlow {a.tensorflow} vs {b.tensorflow}"
    if ra is None or rb is None or ra.error is not None or rb.error is not None:
        failed = [f"{r.tensorflow}: {str(r.error).splitlines()[0]}" for r in (ra, rb)
                  if r is not None and r.error is not None]
        return [f"{head}: not compared ({'; '.join(failed) or 'a version has no result'})"]
    lines = [head]
    for found in compare.graph_comparisons(a, b, a.tensorflow or "A", b.tensorflow or "B",
                                           [(mode, mode)]):
        sizes = f"{found.nodes_a} and {found.nodes_b} nodes"
        if not found.rows:
            lines.append(f"  after Grappler: the same graph ({sizes})")
        else:
            lines.append(f"  after Grappler: {len(found.rows)} differences ({sizes})")
            lines += [f"    {row['node']}: {row['difference']}: {row['detail']}"
                      for row in found.rows[:MAX_VERSION_ROWS]]
            if len(found.rows) > MAX_VERSION_ROWS:
                lines.append(f"    ... {len(found.rows) - MAX_VERSION_ROWS} more")
    kinds_a = {(p.kind, p.summary.split(" (")[0]) for p in ra.patterns}
    kinds_b = {(p.kind, p.summary.split(" (")[0]) for p in rb.patterns}
    for version, only in ((a.tensorflow, kinds_a - kinds_b), (b.tensorflow, kinds_b - kinds_a)):
        lines += [f"  pattern only on {version}: {kind}: {summary}"
                  for kind, summary in sorted(only)]
    missing = [f"{r.tensorflow}: {r.passes_note}" for r in (ra, rb) if not r.passes]
    passes_a, passes_b = _changed_by_pass(ra), _changed_by_pass(rb)
    moved = [f"{name} {passes_a.get(name, 0)} -> {passes_b.get(name, 0)}"
             for name in dict.fromkeys([*passes_a, *passes_b])
             if passes_a.get(name, 0) != passes_b.get(name, 0)]
    if missing:
        lines.append(f"  passes: not compared ({'; '.join(missing)})")
    elif moved:
        lines.append("  nodes changed per pass: " + ", ".join(moved))
    if ra.timing is not None and rb.timing is not None and ra.timing.median_us > 0:
        ta, tb = ra.timing, rb.timing
        lines.append(f"  median {tb.median_us / ta.median_us:.2f}x: {tb.median_us:,.1f} us "
                     f"(p10-p90 {tb.p10_us:,.1f}-{tb.p90_us:,.1f}) on {b.tensorflow} vs "
                     f"{ta.median_us:,.1f} us ({ta.p10_us:,.1f}-{ta.p90_us:,.1f}) on "
                     f"{a.tensorflow}")
    return lines


# Node differences listed per mode and pair of versions.
MAX_VERSION_ROWS = 20


def format_version_comparison(report: Report) -> str:
    """Each later version against the first, mode by mode (``--compare-versions``)."""
    if len(report.versions) < 2:
        return "versions: not compared (the request ran on one TensorFlow)"
    first = report.for_version(report.versions[0])
    lines: list[str] = []
    for version in report.versions[1:]:
        other = report.for_version(version)
        for mode in report.modes:
            lines += [*(_version_lines(mode, first, other)), ""]
    return "\n".join(lines).rstrip()
