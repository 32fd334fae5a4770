"""The report's JSON form round-trips, and graphs stay out of it unless asked."""

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
