"""The History and Compare pages and a saved run's page, through AppTest, on a store filled
here with runs whose graphs are the test fixtures (no worker, no TensorFlow)."""

from __future__ import annotations

import pytest

from inspector.inputs.request import prepare
from inspector.inputs.sources import Source
from inspector.report import GraphSummary, ModeResult, Report
from inspector.store.runs import RunStore
from tests.helpers import ROOT, fixture_graphs, matrix_frame, shown

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


@pytest.fixture
def saved(tmp_path, monkeypatch):
    """Two runs of one function: Grappler's graph, and the same function's unoptimized one."""
    from inspector.ui import services

    monkeypatch.setenv("INSPECTOR_DATA", str(tmp_path))
    services.store.clear()  # the pages' cached store belongs to the previous test's folder
    services.saved_run_cache_clear()
    graphs = fixture_graphs()
    store = RunStore()

    def save(title: str, post, code: str, tags=(), mode="spec", grappler=()) -> str:
        result = ModeResult(mode, traces=1, pre=GraphSummary(len(graphs.pre.node), {}),
                            post=GraphSummary(len(post.node), {}), diff=graphs.diff,
                            graphs={"pre": graphs.pre.SerializeToString(),
                                    "post": post.SerializeToString()})
        report = Report(tensorflow="2.21.0", function="f", device="/device:CPU:0",
                        modes=(mode,), results=(result,))
        request = prepare(Source(code, "pasted.py"), "f", ["float32[4]"], [mode], grappler)
        return store.save(request, {"timeout_s": 60.0, "memory_mb": 4096}, report, title=title,
                          tags=tags)

    code = "import tensorflow as tf\n\ndef f(x):\n    return x * (2.0 + 3.0)\n"
    first = save("optimized", graphs.post, code, tags=["cf"])
    second = save("unoptimized", graphs.pre, code.replace("3.0", "4.0"))
    # The first run's code and graph, in numpy mode only, with constant folding off.
    third = store.save(prepare(Source(code, "pasted.py"), "f", ["float32[4]"], ["numpy"],
                       ["constant_folding=off"]), {"timeout_s": 60.0},
               Report(tensorflow="2.21.0", function="f", modes=("numpy",), results=(
                   ModeResult("numpy", traces=1, pre=GraphSummary(len(graphs.pre.node), {}),
                              post=GraphSummary(len(graphs.post.node), {}), diff=graphs.diff,
                              graphs={"pre": graphs.pre.SerializeToString(),
                                      "post": graphs.post.SerializeToString()}),)),
               title="numpy, no folding")
    store.close()
    yield first, second, third


def page(path: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def test_history_lists_filters_and_searches(saved):
    first, second, third = saved
    at = page("inspector/ui/history_page.py")
    assert not at.exception
    assert list(at.dataframe[0].value["id"]) == [third, second, first]  # newest first
    # The source beside the function: a gallery run reads "classify | gallery:resnet50".
    assert list(at.dataframe[0].value["source"]) == ["pasted.py"] * 3
    at.selectbox(key="h_tag").select("cf").run()
    assert list(at.dataframe[0].value["id"]) == [first]
    at.selectbox(key="h_tag").select("(any)").run()
    at.text_input(key="h_text").input("4.0").run()  # source text search
    assert list(at.dataframe[0].value["id"]) == [second]


def test_compare_shows_the_graph_and_source_differences(saved):
    first, second, _ = saved
    at = page("inspector/ui/compare_page.py", compare=f"{first},{second}")
    assert not at.exception
    figures = at.table[1].value  # after the inputs
    post = figures[figures["figure"] == "post nodes"].iloc[0]
    assert shown(post["change"]) != "="
    text = " ".join(shown(m.value) for m in at.markdown)
    assert "differences" in text
    assert any("+    return x * (2.0 + 4.0)" in c.value for c in at.code)


def test_compare_puts_the_inputs_first_and_compares_runs_with_no_mode_in_common(saved):
    first, _, third = saved
    at = page("inspector/ui/compare_page.py", compare=f"{first},{third}")
    assert not at.exception
    inputs = at.table[0].value.set_index("input")
    # Marked where they differ: the modes and the override; the same function and calls.
    assert set(inputs.index[inputs["differs"] == "≠"]) == {"modes", "Grappler overrides"}
    assert shown(inputs.loc["Grappler overrides", "B"]) == "constant_folding=off"
    assert shown(inputs.loc["device", "A"]) == "TensorFlow's default"
    # No mode in common: both runs' rows, each said to be in one run only.
    matrix = at.table[1].value
    assert set(matrix["mode"]) == {"spec", "numpy"}
    assert {shown(c) for c in matrix["change"]} == {"only in A", "only in B"}
    # The pair the page picks (A's spec, B's numpy) is compared node by node: the same graph.
    assert at.selectbox(key="c_mode_a").value == "spec"
    assert at.selectbox(key="c_mode_b").value == "numpy"
    text = " ".join(shown(m.value) for m in at.markdown)
    assert "A spec | B numpy" in text and "the same graph" in text


def test_a_saved_run_opens_from_its_id_and_an_unknown_id_says_so(saved):
    first, *_ = saved
    at = page("inspector/ui/inspect_page.py", run=first)
    assert not at.exception and matrix_frame(at).loc["spec", "traces"] == "1"
    assert any(f"?run={first}" in c.value for c in at.code)
    at = page("inspector/ui/inspect_page.py", run="nope")
    assert "RunNotFound" in at.error[0].value


def test_the_settings_retention_is_applied_when_the_server_opens_the_store(
        saved, tmp_path, monkeypatch):
    import datetime as dt

    import sqlalchemy as sa

    from inspector.ui import services

    first, second, third = saved
    store = RunStore()
    with store.engine.begin() as connection:  # the first run is 40 days old
        connection.execute(sa.text("UPDATE runs SET created_at = :t WHERE id = :i"),
                           {"t": dt.datetime.now(dt.UTC) - dt.timedelta(days=40), "i": first})
    store.close()
    config = tmp_path / "inspector.toml"
    config.write_text("[retention]\nkeep_days = 30\n")
    monkeypatch.setenv("INSPECTOR_CONFIG", str(config))
    services.policy.clear()
    services.store.clear()
    try:
        at = page("inspector/ui/history_page.py")
        assert not at.exception
        assert list(at.dataframe[0].value["id"]) == [third, second]
    finally:
        services.policy.clear()
        services.store.clear()
