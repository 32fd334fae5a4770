"""The CLI's text summary, from reports built here (no TensorFlow, no worker)."""

from __future__ import annotations

from inspector.output.text import format_summary
from inspector.report import GraphDiff, GraphSummary, ModeResult, OpChange, Report, Timing


def _timing(median: float) -> Timing:
    return Timing(runs=3, warmup=1, median_us=median, p10_us=median * 0.9,
                  p90_us=median * 1.1, mean_us=median, stdev_us=1.0, min_us=median * 0.8,
                  first_call_us=median * 5, samples_us=(median,) * 3)


def test_large_figures_keep_their_own_columns():
    # The Grappler guide's constant-folding example with folding off: seconds per call.
    timing = Timing(runs=3, warmup=1, median_us=1_870_978.91, p10_us=1_843_704.51,
                    p90_us=1_879_974.6, mean_us=1.0, stdev_us=1.0, min_us=1.0,
                    first_call_us=9_847_171.71, samples_us=(1.0,))
    result = ModeResult("spec", traces=1, pre=GraphSummary(1_234_567, {}),
                        post=GraphSummary(1_000_000, {}), timing=timing)
    text = format_summary(Report(tensorflow="2.21.0", function="f", results=(result,)))
    row = next(line for line in text.splitlines() if line.startswith("spec "))
    tokens = row.split()
    for figure in ("9,847,171.7", "1,870,978.9", "1,843,704.5", "1,879,974.6", "1,234,567",
                   "1,000,000"):
        assert figure in tokens, (figure, row)


def test_every_kind_of_change_is_listed_and_capped():
    diff = GraphDiff(removed=tuple(f"r{i}" for i in range(20)), added=("ConstantFolding/a",),
                     folded=("c",), fused=(),
                     op_changed=(OpChange("c", "Mul", "Const"),
                                 OpChange("check", "CheckNumerics", "Identity")),
                     rewired=())
    result = ModeResult("spec", traces=1, pre=GraphSummary(30, {}), post=GraphSummary(11, {}),
                        diff=diff, timing=_timing(10.0))
    text = format_summary(Report(tensorflow="2.21.0", function="f", results=(result,)))
    assert "op changed (1): check (CheckNumerics -> Identity)" in text
    assert "folded (1): c" in text and "added (1): ConstantFolding/a" in text
    assert "removed (20): r0, r1" in text and "... and 8 more" in text


def test_modes_without_graphs_say_n_a():
    eager = ModeResult("eager", timing=_timing(7.0))
    text = format_summary(Report(tensorflow="2.21.0", function="f", results=(eager,)))
    row = next(line for line in text.splitlines() if line.startswith("eager "))
    assert "n/a" in row and ".0 " not in row.split("n/a")[0]


def test_a_comparison_shows_each_runs_failure_and_no_figure_it_did_not_make():
    """Compare showed "traces 0 / 0 =" for a mode that failed in both runs, and no error
    (found in a walk); it reads n/a as the matrix does, and each run's error."""
    from inspector.errors import ErrorInfo
    from inspector.output.compare import matrix_rows

    failed = ModeResult("eager", error=ErrorInfo("UserCodeError", "boom\nsecond line"))
    good = ModeResult("eager", traces=0, calls=(), timing=_timing(10.0))
    a = Report(tensorflow="2.21.0", results=(failed,))
    b = Report(tensorflow="2.21.0", results=(failed,))
    rows = {r["figure"]: r for r in matrix_rows(a, b)}
    assert rows["traces"]["A"] is None and rows["traces"]["change"] is None
    assert rows["error"]["A"] == "UserCodeError: boom" and rows["error"]["change"] == "="
    rows = {r["figure"]: r for r in matrix_rows(a, Report(tensorflow="2.21.0", results=(good,)))}
    assert rows["error"]["B"] == "" and rows["error"]["change"] == "differs"
    assert "error" not in {r["figure"] for r in matrix_rows(
        Report(tensorflow="2.21.0", results=(good,)), Report(tensorflow="2.21.0", results=(good,)))}
