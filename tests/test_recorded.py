"""The fast lane: the product's judgement (pass log, pass comparison and attribution, diff,
patterns, profile breakdown, pictures, tables, text) on TensorFlow's own output recorded by
scripts/record_fixtures.py (tests/data/recorded: its MANIFEST says which TensorFlow and CPU).
No TensorFlow and no worker: each check re-derives from the raw recording what the engine
derived when it was recorded (the entry's report.json), and must agree with it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from inspector.engine import passlog
from inspector.engine.profile import Event, breakdown_of
from inspector.graphs import diff, dot_text, passes, patterns, protos, views
from inspector.output import html_report, tables, text
from inspector.report import Report

RECORDED = Path(__file__).parent / "data" / "recorded"
MANIFEST = json.loads((RECORDED / "MANIFEST.json").read_text())
CASES = [(entry, mode) for entry in MANIFEST["entries"] for mode in MANIFEST["modes"]]


@cache
def report(entry: str) -> Report:
    return Report.from_json((RECORDED / entry / "report.json").read_text())


@cache
def recording(entry: str, mode: str) -> dict:
    return json.loads((RECORDED / entry / f"{mode}.json").read_text())


def graphs(entry: str, mode: str) -> protos.ModeGraphs:
    data = recording(entry, mode)
    pre, post = protos.parse_text(data["pre"]), protos.parse_text(data["post"])
    return protos.ModeGraphs(mode, pre, post, diff.diff_graphs(pre, post))


def compared(entry: str, mode: str) -> passes.ComparedPasses:
    """The pass comparison the capture makes, on the recorded log and dumps."""
    data = recording(entry, mode)
    dumps = [d for d in passes.dumps_in_log(data["log"]) if d.path.startswith("{DUMPS}/")]
    return passes.compare_passes(dumps, data["item"],
                                 lambda path: data["texts"][data["dumps"][Path(path).name]],
                                 protos.parse_text(data["pre"]))


def test_the_recordings_say_what_made_them():
    assert MANIFEST["tensorflow"] and MANIFEST["command"].startswith("python scripts/")
    assert len(MANIFEST["entries"]) >= 10 and "cpu_flags" in MANIFEST


@pytest.mark.parametrize(("entry", "mode"), CASES)
def test_the_pass_log_reads_as_the_engine_read_it(entry, mode):
    data, result = recording(entry, mode), report(entry).result(mode)
    parsed = passlog.parse_passes(data["log"], data["item"])
    assert parsed == result.grappler_passes
    assert parsed, "every recorded function went through Grappler's passes"


@pytest.mark.parametrize(("entry", "mode"), CASES)
def test_passes_diff_and_attribution_come_back_from_the_dumps(entry, mode):
    result = report(entry).result(mode)
    mode_graphs = graphs(entry, mode)
    assert mode_graphs.diff == result.diff
    found = compared(entry, mode)
    assert found.passes == result.passes
    attribution = passes.attribute(mode_graphs.diff, found.passes, found.deltas,
                                   mode_graphs.pre, mode_graphs.post)
    assert attribution == result.attribution
    named = {n for kind in ("removed", "added", "folded") for n in getattr(result.diff, kind)}
    assert named <= set(attribution), "every changed node is attributed to a pass"


@pytest.mark.parametrize(("entry", "mode"), CASES)
def test_patterns_cover_every_changed_node_once(entry, mode):
    result = report(entry).result(mode)
    mode_graphs = graphs(entry, mode)
    found = patterns.find(mode_graphs.diff, mode_graphs.pre, mode_graphs.post,
                          result.attribution)
    assert found == result.patterns
    covered = [n for p in found for nodes in p.nodes for n in nodes]
    assert len(covered) == len(set(covered))


@pytest.mark.parametrize(("entry", "mode"), CASES)
def test_the_profile_breakdown_comes_back_from_the_events(entry, mode):
    data, result = recording(entry, mode), report(entry).result(mode)
    events = [Event(*e) for e in data["events"]]
    parts, ops, note = breakdown_of(events, data["function"], report(entry).device or "",
                                    data["walls"])
    recorded = result.timing.breakdown
    assert parts is not None and recorded is not None, note
    assert (parts.samples, parts.call_us, parts.graph_us) == (
        recorded.samples, recorded.call_us, recorded.graph_us)
    assert [(o.node, o.op, o.mean_us) for o in ops] == [
        (o.node, o.op, o.mean_us) for o in result.op_times]
    assert sum(o.mean_us for o in ops) <= parts.graph_us * 1.001 <= parts.call_us * 1.001


@pytest.mark.parametrize(("entry", "mode"), CASES)
def test_every_view_draws_each_node_once(entry, mode):
    mode_graphs = graphs(entry, mode)
    for view in views.VIEWS:
        drawn = views.build(mode_graphs, view, views.ViewOptions(hide_noise=False,
                                                                collapse=False))
        ids = [n.id for n in drawn.nodes]
        assert len(ids) == len(set(ids))
        source = mode_graphs.post if view == "post" else mode_graphs.pre
        assert {n.name for n in source.node} <= set(ids)
        dot = dot_text.to_dot(drawn)
        assert dot.startswith(f'digraph "{view}"') and dot.rstrip().endswith("}")


@pytest.mark.parametrize("entry", MANIFEST["entries"])
def test_tables_text_and_html_are_made_from_each_report(entry):
    made = report(entry)
    rows = tables.matrix(made)
    assert [row["mode"] for row in rows] == list(MANIFEST["modes"])
    for mode in MANIFEST["modes"]:
        assert tables.pass_options(made, mode)
        result = made.result(mode)
        assert result is not None and result.diff is not None
        # One row per change the diff holds, each named by a pass when passes were recorded.
        rows_by_kind: dict[str, int] = {}
        for row in tables.rewrites(made, mode):
            rows_by_kind[row["what"]] = rows_by_kind.get(row["what"], 0) + 1
            assert row["node"] and (result.attribution is None or row["pass"])
        d = result.diff
        assert rows_by_kind.get("removed", 0) == len(d.removed)
        assert rows_by_kind.get("fused", 0) == len(d.fused)
        assert rows_by_kind.get("rewired", 0) == len(d.rewired)
    summary = text.format_summary(made)
    assert all(f"[{mode}]" in summary or mode in summary for mode in MANIFEST["modes"])
    page = html_report.html_report(made)
    assert page.startswith("<!DOCTYPE html>") or page.startswith("<html")
