"""``check``'s verdicts: each expectation's bounds against the report of its run, per mode, as
lines, JUnit XML and JSON; what changed against a baseline's report when a bound fails."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from inspector.errors import UsageError
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
    # Why nothing was measured (the mode failed, the mode has no graph), or what to look at.
    note: str | None = None
    # The TensorFlow version of the run (its worker's).
    tensorflow: str | None = None
    # The run or the mode failed: nothing was measured (JUnit's <error>, not <failure>).
    errored: bool = False
    # Whether the line names the version (check --tf).
    show_version: bool = False

    def line(self) -> str:
        verdict = "ok  " if self.passed else "FAIL"
        where = ", ".join(filter(None, [self.mode, f"TF {self.tensorflow}"
                                        if self.show_version and self.tensorflow else None]))
        where = f" [{where}]" if where else ""
        got = f"{_shown(self.measured)}" if self.measured is not None else "nothing"
        note = f" ({self.note})" if self.note else ""
        # Control characters (a terminal escape in a label) are shown as \ufffd, not obeyed.
        return _xml_text(f"{verdict} #{self.expectation} {self.label}{where}: {self.check} = "
                         f"{got}, expected {self.bound}{note}")


def _shown(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.3g}"


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


# The kinds a pattern has (graphs.patterns).
PATTERN_KINDS = ("fused", "folded", "op_changed", "removed", "added", "rewired")


def _counted(result: ModeResult, key: str, what: str) -> tuple[float | None, str | None]:
    """The count, and a note when the name matches nothing at all (a typo would otherwise
    pass every "== 0" bound unseen)."""
    if result.pre is None or result.post is None:
        return None, f"mode {result.mode} has no graph"
    if key == "patterns":
        found = [p for p in result.patterns if p.kind == what or what in p.summary]
        note = None if found or what in PATTERN_KINDS else (
            f"no pattern kind ({', '.join(PATTERN_KINDS)}) or summary here matches "
            f"{what!r}: is it spelt right?")
        return float(sum(p.count for p in found)), note
    summary = result.pre if key == "pre_ops" else result.post
    known = what in result.pre.ops or what in result.post.ops
    note = None if known else (f"no {what} in this mode's graph before or after Grappler: "
                               "is the op's name right?")
    return float(summary.ops.get(what, 0)), note


def evaluate(expectation: Expectation, report: Report, saved: Report | None = None,
             show_version: bool = False) -> list[Outcome]:
    """Every bound of ``expectation`` in every mode of ``report`` (``saved``: the report of
    median_vs's run, when the expectation has one)."""
    checks: list[tuple[str, Bound, Any]] = [
        (key, bound, lambda r, key=key: _metric(r, key))
        for key, bound in expectation.bounds.items()]
    for key, items in expectation.counted.items():
        checks += [(f"{key}: {item.what}", item.bound,
                    lambda r, key=key, what=item.what: _counted(r, key, what)) for item in items]
    if expectation.ratio is not None:
        # Another function's run may be the point (an old implementation against a new one),
        # but never silently (walk: a mistyped run id passed against an unrelated function).
        other = (f" (a run of {saved.function})"
                 if saved is not None and saved.function != report.function else "")
        checks.append((f"median_vs {expectation.baseline_run}{other}", expectation.ratio,
                       lambda r: _ratio(r, saved)))

    def outcome(mode: str | None, check: str, bound: Bound, measured: float | None,
                note: str | None, errored: bool = False) -> Outcome:
        if measured is not None and not check.startswith("median") and measured.is_integer():
            measured = int(measured)  # a count
        return Outcome(expectation.number, expectation.label, mode, check, str(bound), measured,
                       measured is not None and bound.holds(measured), note,
                       report.tensorflow, errored, show_version)

    if report.error is not None:
        first_line = str(report.error).splitlines()[0]
        return [outcome(None, check, bound, None, f"the run failed: {first_line}", True)
                for check, bound, _ in checks]
    found = []
    for result in report.results:
        for check, bound, measure in checks:
            if result.error is not None:
                first_line = str(result.error).splitlines()[0]
                found.append(outcome(result.mode, check, bound, None,
                                     f"the mode failed: {first_line}", True))
            else:
                found.append(outcome(result.mode, check, bound, *measure(result)))
    return found


def _ratio(result: ModeResult, saved: Report | None) -> tuple[float | None, str | None]:
    """This median over the saved run's, of the same mode and TensorFlow version (a saved run
    of one version is compared whatever its version, and the note says which)."""
    if saved is None:
        return None, "no saved run"
    theirs = saved.result(result.mode, result.tensorflow) if saved.versions else \
        saved.result(result.mode)
    if theirs is None or theirs.timing is None:
        return None, (f"the saved run has no timing for mode {result.mode}"
                      + (f" on TF {result.tensorflow}" if saved.versions else ""))
    if result.timing is None:
        return None, "the mode was not timed"
    other = theirs.tensorflow or saved.tensorflow
    note = (f"the saved run ran on TF {other}" if other and result.tensorflow
            and other != result.tensorflow else None)
    return result.timing.median_us / theirs.timing.median_us, note


def junit_xml(outcomes: Sequence[Outcome], suite: str) -> str:
    """JUnit XML (one testcase per outcome) for CI systems' test reports."""
    failures = [o for o in outcomes if not o.passed and not o.errored]
    errors = [o for o in outcomes if o.errored]
    root = ET.Element("testsuites", name="tf-graph-inspector check", tests=str(len(outcomes)),
                      failures=str(len(failures)), errors=str(len(errors)))
    cases = ET.SubElement(root, "testsuite", name=_xml_text(suite), tests=str(len(outcomes)),
                          failures=str(len(failures)), errors=str(len(errors)))
    for o in outcomes:
        where = ", ".join(filter(None, [o.mode or "run",
                                        f"TF {o.tensorflow}" if o.show_version else None]))
        case = ET.SubElement(cases, "testcase", classname=_xml_text(f"#{o.expectation} {o.label}"),
                             name=_xml_text(f"[{where}] {o.check} {o.bound}"))
        if not o.passed:
            kind = "error" if o.errored else "failure"
            element = ET.SubElement(case, kind, message=_xml_text(o.line()),
                                    type="RunFailed" if o.errored else "ExpectationFailed")
            element.text = _xml_text(o.line())
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def error_junit(error: str, suite: str) -> str:
    """JUnit XML for a file that could not be checked at all: one test case in error."""
    root = ET.Element("testsuites", name="tf-graph-inspector check", tests="1", failures="0",
                      errors="1")
    cases = ET.SubElement(root, "testsuite", name=_xml_text(suite), tests="1", failures="0",
                          errors="1")
    case = ET.SubElement(cases, "testcase", classname="check", name="read the expectations")
    ET.SubElement(case, "error", message=_xml_text(error), type="BadInput").text = \
        _xml_text(error)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# Characters XML 1.0 cannot hold (controls but tab and newline): a label or an error message
# with a terminal escape made the file unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def to_json(outcomes: Sequence[Outcome], reports: Sequence[tuple[Expectation, Report]]
            ) -> dict[str, Any]:
    """``--json``: the verdicts and every run's full report (graphs included: a later
    ``--baseline`` compares them node by node)."""
    return {"passed": all(o.passed for o in outcomes),
            "outcomes": [{k: v for k, v in asdict(o).items() if k != "show_version"}
                         for o in outcomes],
            "reports": [{"expectation": e.number, "label": e.label, "source": r.source,
                         "function": r.function, "tensorflow": r.tensorflow,
                         "report": r.to_dict(include_graphs=True)} for e, r in reports]}


# What a baseline's report is matched on: the table's number, its source and function, and
# the TensorFlow version (a label can repeat, and a file can change under it).
BaselineKey = tuple[int, "str | None", "str | None", "str | None"]


def key_of(number: int, report: Report) -> BaselineKey:
    return (number, report.source, report.function, report.tensorflow)


def baseline_reports(data: Any) -> dict[BaselineKey, Report]:
    """A ``check --json`` output's reports by table, source, function and version; UsageError
    for anything else (an inspect report, a list)."""
    if not isinstance(data, dict) or not {"outcomes", "reports"} <= set(data) \
            or not isinstance(data["reports"], list):
        raise UsageError("it has no 'outcomes' and 'reports' (an inspect report, or another "
                         "file?)")
    found = {}
    for entry in data["reports"]:
        report = Report.from_dict(entry["report"])
        found[key_of(int(entry["expectation"]), report)] = report
    return found


def changes_since(failed: Outcome, now: Report, before: Report | None) -> list[str]:
    """What changed in the failed outcome's mode since the baseline's report: the figure, the
    op counts after Grappler, and the post graphs node by node."""
    if before is None:
        return [f"  (the baseline has no report for #{failed.expectation} with this source, "
                f"function and TensorFlow {failed.tensorflow})"]
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
