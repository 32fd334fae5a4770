"""``check``'s verdicts: each expectation's bounds against the report of its run, per mode, as
lines, JUnit XML and JSON; what changed against a baseline's report when a bound fails."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from inspector.inputs.expectations import Bound, Expectation
from inspector.report import ModeResult, Report

# Differences listed per mode when a failure is compared with the baseline.
MAX_BASELINE_ROWS = 12


@dataclass(frozen=True)
class Outcome:
    """One bound of one expectation in one mode: what was measured and whether it holds."""

    expectation: int
    label: str
    # None when the whole run failed before any mode.
    mode: str | None
    # "post_nodes", "patterns: folded", "post_ops: _FusedMatMul", "median_vs RUN".
    check: str
    bound: str
    measured: float | None
    passed: bool
    # Why nothing was measured (the mode failed, the mode has no graph).
    note: str | None = None

    def line(self) -> str:
        verdict = "ok  " if self.passed else "FAIL"
        where = f" [{self.mode}]" if self.mode else ""
        got = f"{_shown(self.measured)}" if self.measured is not None else "nothing"
        note = f" ({self.note})" if self.note else ""
        return (f"{verdict} #{self.expectation} {self.label}{where}: {self.check} = {got}, "
                f"expected {self.bound}{note}")


def _shown(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def _metric(result: ModeResult, key: str) -> tuple[float | None, str | None]:
    """A figure of the mode's result, or None and why it has none."""
    graphs = {"pre_nodes": lambda r: r.pre.nodes, "post_nodes": lambda r: r.post.nodes,
              "unknown_shapes": lambda r: r.unknown_shape_outputs["post"]}
    if key == "traces":
        return float(result.traces), None
    if key == "median_us":
        if result.timing is None:
            return None, "the mode was not timed"
        return result.timing.median_us, None
    if result.pre is None or result.post is None or result.diff is None:
        return None, f"mode {result.mode} has no graph"
    if key in graphs:
        return float(graphs[key](result)), None
    return float(len(getattr(result.diff, key))), None


def _counted(result: ModeResult, key: str, what: str) -> tuple[float | None, str | None]:
    if result.pre is None or result.post is None:
        return None, f"mode {result.mode} has no graph"
    if key == "patterns":
        return float(sum(p.count for p in result.patterns
                         if p.kind == what or what in p.summary)), None
    summary = result.pre if key == "pre_ops" else result.post
    return float(summary.ops.get(what, 0)), None


def evaluate(expectation: Expectation, report: Report,
             saved: Report | None = None) -> list[Outcome]:
    """Every bound of ``expectation`` in every mode of ``report`` (``saved``: the report of
    median_vs's run, when the expectation has one)."""
    checks: list[tuple[str, Bound, Any]] = [
        (key, bound, lambda r, key=key: _metric(r, key))
        for key, bound in expectation.bounds.items()]
    for key, items in expectation.counted.items():
        checks += [(f"{key}: {item.what}", item.bound,
                    lambda r, key=key, what=item.what: _counted(r, key, what)) for item in items]
    if expectation.ratio is not None:
        checks.append((f"median_vs {expectation.baseline_run}", expectation.ratio,
                       lambda r: _ratio(r, saved)))

    def outcome(mode: str | None, check: str, bound: Bound, measured: float | None,
                note: str | None) -> Outcome:
        return Outcome(expectation.number, expectation.label, mode, check, str(bound), measured,
                       measured is not None and bound.holds(measured), note)

    if report.error is not None:
        return [outcome(None, check, bound, None, f"the run failed: {report.error}")
                for check, bound, _ in checks]
    found = []
    for result in report.results:
        for check, bound, measure in checks:
            if result.error is not None:
                found.append(outcome(result.mode, check, bound, None,
                                     f"the mode failed: {result.error}"))
            else:
                found.append(outcome(result.mode, check, bound, *measure(result)))
    return found


def _ratio(result: ModeResult, saved: Report | None) -> tuple[float | None, str | None]:
    theirs = saved.result(result.mode) if saved is not None else None
    if theirs is None or theirs.timing is None:
        return None, f"the saved run has no timing for mode {result.mode}"
    if result.timing is None:
        return None, "the mode was not timed"
    return result.timing.median_us / theirs.timing.median_us, None


def junit_xml(outcomes: Sequence[Outcome], suite: str) -> str:
    """JUnit XML (one testcase per outcome) for CI systems' test reports."""
    failures = [o for o in outcomes if not o.passed]
    root = ET.Element("testsuites", name="tf-graph-inspector check", tests=str(len(outcomes)),
                      failures=str(len(failures)))
    cases = ET.SubElement(root, "testsuite", name=suite, tests=str(len(outcomes)),
                          failures=str(len(failures)), errors="0")
    for o in outcomes:
        case = ET.SubElement(cases, "testcase", classname=f"#{o.expectation} {o.label}",
                             name=f"[{o.mode or 'run'}] {o.check} {o.bound}")
        if not o.passed:
            failure = ET.SubElement(case, "failure", message=o.line(), type="ExpectationFailed")
            failure.text = o.line()
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def to_json(outcomes: Sequence[Outcome], reports: Sequence[tuple[Expectation, Report]]
            ) -> dict[str, Any]:
    """``--json``: the verdicts and every run's full report (graphs included: a later
    ``--baseline`` compares them node by node)."""
    return {"passed": all(o.passed for o in outcomes),
            "outcomes": [asdict(o) for o in outcomes],
            "reports": [{"expectation": e.number, "label": e.label,
                         "report": r.to_dict(include_graphs=True)} for e, r in reports]}


def baseline_reports(data: dict[str, Any]) -> dict[str, Report]:
    """A ``--json`` output's reports by expectation label."""
    return {entry["label"]: Report.from_dict(entry["report"])
            for entry in data.get("reports", [])}


def changes_since(failed: Outcome, now: Report, before: Report | None) -> list[str]:
    """What changed in the failed outcome's mode since the baseline's report: the figure, the
    op counts after Grappler, and the post graphs node by node."""
    if before is None:
        return ["  (the baseline has no report for this expectation)"]
    mode = failed.mode
    then = before.result(mode) if mode else None
    current = now.result(mode) if mode else None
    if mode is None or then is None or current is None:
        return [f"  (the baseline has no mode {mode})"]
    lines = []
    old = _old_figure(failed, then)
    if old is not None:
        lines.append(f"  baseline: {failed.check} = {_shown(old)}")
    if then.post is not None and current.post is not None:
        ops = sorted(set(then.post.ops) | set(current.post.ops))
        moved = [f"{op} {then.post.ops.get(op, 0)} -> {current.post.ops.get(op, 0)}"
                 for op in ops if then.post.ops.get(op, 0) != current.post.ops.get(op, 0)]
        if moved:
            lines.append("  ops after Grappler: " + ", ".join(moved))
    from inspector.output import compare  # TensorBoard's protos load only when comparing

    for found in compare.graph_comparisons(before, now, "baseline", "now", [(mode, mode)]):
        if not found.rows:
            lines.append(f"  post graph: the same ({found.nodes_a} nodes)")
            continue
        lines.append(f"  post graph: {len(found.rows)} differences ({found.nodes_a} -> "
                     f"{found.nodes_b} nodes)")
        lines += [f"    {row['node']}: {row['difference']}: {row['detail']}"
                  for row in found.rows[:MAX_BASELINE_ROWS]]
        if len(found.rows) > MAX_BASELINE_ROWS:
            lines.append(f"    ... {len(found.rows) - MAX_BASELINE_ROWS} more")
    return lines


def _old_figure(failed: Outcome, then: ModeResult) -> float | None:
    key, _, what = failed.check.partition(": ")
    if key.startswith("median_vs"):
        return None
    if what:
        return _counted(then, key, what)[0]
    return _metric(then, key)[0]
