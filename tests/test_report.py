"""The report's JSON form round-trips, and graphs stay out of it unless asked."""

import json

from inspector.errors import ErrorInfo
from inspector.report import CallRecord, ModeResult, NodeShapes, Report, ShapeTable


def test_round_trip_with_and_without_graphs():
    result = ModeResult("spec", traces=1,
                        calls=(CallRecord("float32[4]", True, "first", "float32[4]"),
                               CallRecord("float32[5]", False, "refused", None,
                                          ErrorInfo("TypeError", "cannot cast"))),
                        shapes={"pre": ShapeTable((NodeShapes("x", "_Arg", ("(4,)",)),), 0)},
                        graphs={"pre": b"\x00\x01"})
    report = Report("2.21.0", results=(result,))
    assert Report.from_json(report.to_json(include_graphs=True)) == report
    assert Report.from_json(report.to_json(include_graphs=True)).results[0].graphs == {
        "pre": b"\x00\x01"}
    plain = report.to_dict()
    assert "graphs" not in plain["results"][0]
    assert plain["results"][0]["calls"][1]["error"]["type"] == "TypeError"


def test_the_pass_table_speaks_of_passes_not_of_inverted_options():
    """"disable_model_pruning — default on" read as a double negative (issue 22)."""
    from inspector.output import tables

    report = Report(tensorflow="2.21.0", grappler={"disable_model_pruning": "True"},
                    modes=("spec",), results=(ModeResult("spec"),))
    rows = {row["pass"]: row for row in tables.pass_options(report, "spec")}
    pruner = rows["model_pruner"]
    assert (pruner["default"], pruner["in force"]) == ("on", "off")
    assert pruner["set by"] == "you: disable_model_pruning=True"
    assert pruner["switch"] == "disable_model_pruning=on turns it off"
    assert rows["constant_folding"]["switch"] == "constant_folding=off turns it off"
    assert rows["debug_stripper"]["switch"] == "debug_stripper=on turns it on"
    assert "option" not in pruner


def test_reports_made_by_older_versions_still_read():
    """JSON reports written by earlier versions of the CLI (tests/data/report-<date>.json, made
    by that day's code on seed example 1): today's Report reads each, and what it adds since
    comes back as its default."""
    import json
    from pathlib import Path

    from inspector.output import tables, text

    paths = sorted((Path(__file__).parent / "data").glob("report-*.json"))
    assert len(paths) >= 3
    for path in paths:
        data = json.loads(path.read_text())
        report = Report.from_dict(data)
        assert report.function == "process_data" and report.tensorflow, path.name
        assert [r.mode for r in report.results] == [r["mode"] for r in data["results"]]
        spec = report.result("spec")
        assert spec is not None and spec.post is not None and spec.post.nodes > 0, path.name
        assert spec.timing is not None and spec.timing.median_us > 0
        # Every table and the text summary are made from it without error.
        assert tables.matrix(report) and text.format_summary(report)
        assert all(o.graph_op is None for o in spec.op_times) or path.name >= "report-2026-12-02"
        assert Report.from_dict(report.to_dict()) == report, path.name


def test_errors_that_differ_only_past_their_first_line_are_said_once():
    """Keras prints each mode's argument its own way below the same first line."""
    def failed(mode: str, shape: str) -> ModeResult:
        return ModeResult(mode, error=ErrorInfo(
            "UserCodeError", f"ValueError: Exception encountered (while tracing)\n  inputs={shape}",
            5, ("line 5 in classify: return model(x)",)))

    report = Report(tensorflow="2.21.0", results=(failed("numpy", "(4,)"),
                                                  failed("spec", "(None,)"), ModeResult("tensor")))
    ((modes, error),) = report.mode_errors()
    assert modes == ("numpy", "spec") and error.message.endswith("(4,)")
    from inspector.output import tables

    assert [row["error"] for row in tables.matrix(report)][:2] == [
        "UserCodeError (line 5): ValueError: Exception encountered (while tracing)"] * 2


def test_what_a_worker_sends_is_read_strictly_by_type():
    """A worker runs the user's code, which can write to its control pipe: a figure of another
    type than the report's (a forged "many" traces, a string median) is WorkerCrashed naming it,
    where a saved run would break other users' pages later. A real report reads the same."""
    import pytest

    from inspector.errors import WorkerCrashed
    from inspector.report import Timing, mode_result_from_worker, report_from_worker

    timing = Timing(runs=3, warmup=1, median_us=2.5, p10_us=2, p90_us=3.0, mean_us=2.5,
                    stdev_us=0.1, min_us=2.0, first_call_us=900.0, samples_us=(2.0, 2.5, 3))
    result = ModeResult("spec", traces=1, timing=timing,
                        calls=(CallRecord("float32[4]", True, "first", "float32[4]"),),
                        shapes={"pre": ShapeTable((NodeShapes("x", "_Arg", ("(4,)",)),), 0)})
    data = Report("2.21.0", results=(result,)).to_dict()
    assert mode_result_from_worker(data["results"][0]) == result
    assert report_from_worker({**data, "results": []}).tensorflow == "2.21.0"
    for path, bad, said in ((("traces",), "many", "str 'many' where int belongs"),
                            (("traces",), True, "bool 'True' where int belongs"),
                            (("timing", "median_us"), "abc", "where float belongs"),
                            (("timing", "samples_us"), "zz", "where tuple"),
                            (("calls",), [{"spec": 1}], "where str belongs"),
                            (("shapes",), ["pre"], "list where dict"),
                            (("mode",), None, "null where str belongs")):
        forged = json.loads(json.dumps(data["results"][0]))
        place = forged
        for key in path[:-1]:
            place = place[key]
        place[path[-1]] = bad
        with pytest.raises(WorkerCrashed, match=said):
            mode_result_from_worker(forged)
    # The store's own reads stay lenient: runs saved by older versions keep opening.
    assert Report.from_dict({**data, "results": [{"mode": "spec", "traces": None}]})
