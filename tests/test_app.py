"""The Streamlit app through AppTest: a gallery run, a syntax error, a permalink, and no TF."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT, matrix_frame, shown

pytestmark = pytest.mark.worker

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


def app(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def inspect(at: AppTest, timeout: float = 120) -> AppTest:
    """Click Inspect, then rerun as the page's polling fragment would until the job ends."""
    at.button(key="run").click().run()
    deadline = time.monotonic() + timeout
    while "job" in at.session_state and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    return at


def test_gallery_run_shows_the_engines_numbers_and_tf_stays_out(executor):
    at = app()
    at.pills(key="modes").set_value(["eager", "numpy", "spec", "spec-dynamic"]).run()
    at.number_input(key="runs").set_value(20).run()
    inspect(at)
    assert not at.exception
    # The same inspection through the engine's own entry point, outside the app.
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source

    expected = executor.submit(prepare(read_source("gallery:process_data"),
                                       modes=["numpy", "spec", "spec-dynamic"], runs=5)).result()
    assert expected.error is None
    frame = matrix_frame(at)
    # Counts show as integers (not "4.0"), the same text every table uses.
    for result in expected.results:
        row = frame.loc[result.mode]
        assert row["pre nodes"] == str(result.pre.nodes)
        assert row["post nodes"] == str(result.post.nodes)
        assert row["traces"] == str(result.traces)
        assert row["folded"] == str(len(result.diff.folded))
        assert row["removed"] == str(len(result.diff.removed))
        assert row["unknown shapes pre"] == str(result.unknown_shape_outputs["pre"])
    # Eager has no graph: its graph columns say n/a, like every table.
    assert frame.loc["eager", "pre nodes"] == "n/a" and frame.loc["eager", "traces"] == "0"
    assert at.query_params["entry"] in ("process_data", ["process_data"])
    # Where the request's time went, under the run.
    (waterfall,) = [e for e in at.expander if e.label.startswith("Where this request's")]
    assert waterfall.label.endswith(" ms went")
    # The Shapes tab says what its highlight means for the mode shown: the fixed-shape mode's
    # table has the highlighted constants, spec-dynamic's points there.
    sdc = at.session_state["report"].shape_dependent_constants
    assert sdc is not None and sdc.fixed_mode == "spec"
    at.session_state["result_tab"] = "Shapes"
    at.run()
    for mode, said in (("spec", "Highlighted: nodes that are constants in spec"),
                       ("spec-dynamic", "highlighted in spec's table")):
        at.selectbox(key="shapes_mode").set_value(mode).run()
        assert any(said in c.value for c in at.caption), mode


def test_the_ui_process_never_imports_tensorflow():
    """In a fresh process (this test session imports TF elsewhere): load the app, run once."""
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=120).run()\n"
        "at.pills(key='modes').set_value(['spec']).run()\n"
        "at.number_input(key='runs').set_value(5).run()\n"
        "at.button(key='run').click().run()\n"
        "while 'job' in at.session_state:\n"
        "    at.run()\n"
        "assert at.session_state['report'].results[0].post.nodes > 0\n"
        "print('tensorflow' in sys.modules, 'inspector.engine' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["False", "False"]


def test_pasted_code_with_a_syntax_error_names_the_line():
    at = app()
    at.selectbox(key="entry").set_value("(paste your own code)").run()
    at.text_area(key="code").set_value("def f(x):\n    return x +\n").run()
    inspect(at)
    assert any("SourceError (line 2)" in shown(e.value) for e in at.error)
    assert any("error-code" in h.proto.body and "return x +" in h.proto.body
               for h in at.get("html")), "the failing line is shown highlighted"


def test_the_inspect_click_holds_the_imports_before_the_pages_run(monkeypatch):
    """Issue 24: the click itself, not only its job, holds the workers importing TensorFlow
    (the page's run before the submit was 50-100 ms slower beside an import); a refused
    request asks too, and its hold lapses by itself (test_imports)."""
    from inspector.jobs.local import LocalExecutor

    asked = []
    monkeypatch.setattr(LocalExecutor, "expect_job", lambda self: asked.append(self))
    at = app()
    at.selectbox(key="entry").set_value("(paste your own code)").run()
    at.text_area(key="code").set_value("def f(x):\n    return x +\n").run()
    assert not asked, "editing is not a click"
    inspect(at)
    assert len(asked) == 1


def test_user_error_while_tracing_highlights_the_line_and_cancel_works():
    at = app()
    at.selectbox(key="entry").set_value("(paste your own code)").run()
    at.text_area(key="code").set_value(
        "import tensorflow as tf\n\ndef f(x):\n    y = tf.reshape(x, [7])\n    return y\n").run()
    at.pills(key="modes").set_value(["spec"]).run()
    inspect(at)
    assert any("UserCodeError (line 4)" in shown(e.value) for e in at.error)
    assert any("tf.reshape(x, [7])" in h.proto.body for h in at.get("html"))
    # A long job, cancelled: the page says so and the next inspection runs.
    at.selectbox(key="entry").set_value("resnet50").run()
    at.button(key="run").click().run()
    assert "job" in at.session_state
    # Inspect again while it runs: not possible, the page shows the button disabled (a click
    # on it from an older page is dropped by Streamlit: the run it triggers draws it disabled).
    assert at.button(key="run").disabled, "Inspect looks clickable while its job runs"
    at.button(key="cancel").click().run()
    deadline = time.monotonic() + 60
    while "job" in at.session_state and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    # Cancelled: for the whole job, or (a warm spare started it at once) for the mode it was in.
    report = at.session_state["report"]
    assert "Cancelled" in [e.type for e in (report.error, *(r.error for r in report.results)) if e]
    at.selectbox(key="entry").set_value("process_data").run()
    at.pills(key="modes").set_value(["spec"]).run()
    inspect(at)
    assert at.session_state["report"].results[0].post.nodes > 0


def test_an_error_every_mode_raises_is_shown_once_whole_with_its_traceback():
    at = app()
    at.selectbox(key="entry").set_value("(paste your own code)").run()
    at.text_area(key="code").set_value(
        "import tensorflow as tf\n"
        "model = tf.keras.Sequential([tf.keras.Input((8, 8, 3)), tf.keras.layers.Conv2D(2, 3)])\n"
        "\ndef classify(images):\n    return model(images, training=False)\n").run()
    at.pills(key="modes").set_value(["numpy", "spec", "tensor"]).run()
    inspect(at)
    (error,) = at.error
    text = shown(error.value)
    assert text.startswith("modes numpy, tensor, spec: UserCodeError (line 5): ValueError")
    assert "Expected shape (None, 8, 8, 3), but input has incompatible shape (4,)" in text
    assert [e.label for e in at.expander].count("Traceback") == 1
    assert any("Traceback (most recent call last)" in c.value for c in at.code)


def test_limits_set_in_advanced_reach_the_worker():
    at = app()
    at.selectbox(key="entry").set_value("(paste your own code)").run()
    at.text_area(key="code").set_value("def f(x):\n    while True:\n        pass\n").run()
    at.pills(key="modes").set_value(["tensor"]).run()
    at.number_input(key="time_limit").set_value(3).run()
    started = time.monotonic()
    inspect(at)
    assert time.monotonic() - started < 30
    assert any("Timeout" in e.value and "longer than 3 s" in shown(e.value) for e in at.error)
    # The failed run's header names no "None" for the device it never reported.
    assert not [c.value for c in at.caption if "None" in c.value]


def test_the_passes_tab_draws_the_picked_mode_and_exports_come_in_groups():
    at = app(entry="process_data_spec", mode=["numpy", "spec"], runs="5")
    inspect(at)
    at.session_state["result_tab"] = "Grappler passes"
    at.run()
    assert not at.exception
    assert at.selectbox(key="passes_mode").value == "numpy"
    def pass_charts():  # the request's waterfall under the run is a chart too
        return [c for c in at.get("plotly_chart") if "node change per Grappler pass" in
                c.proto.spec]

    charts = pass_charts()
    assert len(charts) == 1, "one chart: the picked mode's, not every mode's"
    assert "numpy: node change per Grappler pass" in charts[0].proto.spec
    at.selectbox(key="passes_mode").set_value("spec").run()
    (chart,) = pass_charts()
    assert "spec: node change per Grappler pass" in chart.proto.spec
    at.session_state["result_tab"] = "Export"
    at.run()
    captions = [c.value for c in at.caption]
    assert captions.count("Reports") == 1
    assert captions.count("Pictures") == captions.count("GraphDefs") == 2  # one per mode
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[:3] == ["JSON report", "HTML report", "TensorBoard logs (zip)"]
    assert labels[3:20] == ["pre .svg", "pre .png", "pre .pdf", "post .svg", "post .png",
                            "post .pdf", "diff .svg", "diff .png", "diff .pdf",
                            "executed .svg", "executed .png", "executed .pdf",
                            "pre .pbtxt", "pre .pb", "post .pbtxt", "post .pb",
                            "executed .pbtxt"]


def test_compare_two_modes_in_the_rewrites_tab():
    # Seed example 2 asks which nodes differ between the numpy and spec modes.
    at = app(entry="process_data_spec", mode=["numpy", "spec"])
    inspect(at)
    at.session_state["result_tab"] = "Rewrites"
    at.run()
    assert any(s.value.startswith("The same graph before Grappler") for s in at.success)
    at.radio(key="compare_side").set_value("after Grappler").run()
    assert any(s.value.startswith("The same graph after Grappler") for s in at.success)
    # With None dims, tf.shape and tf.size stay ops; with fixed shapes tracing made them
    # constants: the engine's own shape-dependent list names the same nodes.
    at = app(entry="shape_folding", mode=["spec-dynamic", "spec"])
    inspect(at)
    at.session_state["result_tab"] = "Rewrites"
    at.run()
    at.selectbox(key="compare_a").set_value("spec-dynamic").run()
    frames = [d.value for d in at.dataframe]
    frame = next(f for f in frames if "difference" in f.columns)  # nodes, mode against mode
    differs = set(frame[frame["difference"] == "op differs"]["node"])
    report = at.session_state["report"]
    assert differs == set(report.shape_dependent_constants.pre)
    assert all("spec: Const" in d for d in frame[frame["difference"] == "op differs"]["detail"])
    # The two modes' rewrite patterns side by side, as the report has them.
    patterns = next(f for f in frames if "compared" in f.columns)
    spec = {p.summary: p.count for p in report.result("spec").patterns}
    assert dict(zip(patterns["pattern"], patterns["spec"], strict=True)) == {
        summary: spec.get(summary, 0) for summary in patterns["pattern"]}
    assert set(spec) <= set(patterns["pattern"])


def test_permalink_restores_settings():
    at = app(entry="process_variable_data", mode=["spec", "xla"], call=["float32[7]"])
    assert at.selectbox(key="entry").value == "process_variable_data"
    assert at.pills(key="modes").value == ["spec", "xla"]
    assert at.text_area(key="calls").value == "float32[7]"
    # A link made where a GPU exists says so here, instead of quietly running on the CPU.
    at = app(entry="process_data", device="/device:GPU:7")
    assert at.selectbox(key="device").value == "TensorFlow's default"
    assert any("/device:GPU:7" in shown(w.value) and "no worker here has" in w.value
               for w in at.warning)


def test_a_copied_link_fills_every_field_and_the_inspect_click_writes_it_back():
    """Settings -> URL -> settings -> URL, Advanced settings included (issue 22)."""
    query = {"entry": "process_data", "mode": ["spec"], "call": ["float32[8]"],
             "device": "/device:CPU:0", "runs": "3", "grappler": ["constant_folding=off"],
             "ablate": "1", "passes": "0", "time_limit": "45", "memory_mb": "2048"}
    at = app(**query)
    assert at.selectbox(key="entry").value == "process_data"
    assert at.pills(key="modes").value == ["spec"]
    assert at.text_area(key="calls").value == "float32[8]"
    assert at.selectbox(key="device").value == "/device:CPU:0"
    assert at.number_input(key="runs").value == 3
    assert at.text_input(key="grappler").value == "constant_folding=off"
    assert at.checkbox(key="ablate").value is True
    assert at.checkbox(key="passes").value is False
    assert at.number_input(key="time_limit").value == 45
    assert at.number_input(key="memory_mb").value == 2048
    inspect(at)
    assert not at.exception
    report = at.session_state["report"]
    assert report.error is None and list(report.grappler) == ["constant_folding"]
    assert report.results[0].ablation, "the ablation ran"
    written = {k: at.query_params.get_all(k) if hasattr(at.query_params, "get_all")
               else at.query_params[k] for k in at.query_params}
    assert {k: v if isinstance(v, list) else [v] for k, v in written.items()} == {
        k: v if isinstance(v, list) else [v] for k, v in query.items()}


def test_picking_another_entry_loads_its_calls_and_edits_last_while_it_stays():
    from inspector.inputs import gallery

    at = app()
    at.text_area(key="calls").set_value("float32[9]").run()
    at.number_input(key="runs").set_value(5).run()
    assert at.text_area(key="calls").value == "float32[9]", "an edit stays with its entry"
    for name in ("resnet50", "python_scalar", "process_variable_data"):
        at.selectbox(key="entry").set_value(name).run()
        assert at.text_area(key="calls").value == "\n".join(gallery.get(name).calls), name
    assert at.number_input(key="runs").value == 5, "other settings are the user's own"
    # From an entry's link too: its URL's calls give way to the next entry's.
    at = app(entry="process_data", call=["float32[3]"])
    at.selectbox(key="entry").set_value("python_scalar").run()
    assert at.text_area(key="calls").value == "\n".join(gallery.get("python_scalar").calls)


def frame_with(at: AppTest, column: str):
    """The page's one dataframe that has ``column``."""
    (frame,) = [d.value for d in at.dataframe if column in d.value.columns]
    return frame


LOOP = ("import tensorflow as tf\n\ndef f(x):\n"
        "    return tf.while_loop(lambda i, y: i < 100, lambda i, y: (i + 1, tf.tanh(y)), "
        "[0, x])[1]\n")


def test_the_timing_tab_says_what_applies_formats_its_figures_and_why_ops_are_missing():
    at = app()
    at.selectbox(key="entry").set_value("(paste your own code)").run()
    at.text_area(key="code").set_value(LOOP).run()
    at.pills(key="modes").set_value(["eager", "spec"]).run()
    at.number_input(key="runs").set_value(5).run()
    inspect(at)
    at.session_state["result_tab"] = "Timing"
    at.run()
    assert not at.exception
    rows = frame_with(at, "graph us").set_index("mode")
    # Eager runs op by op: no graph, so no graph time and no time "after" it.
    assert (rows.loc["eager", ["before graph us", "graph us", "after graph us"]] == "n/a").all()
    assert rows.loc["spec", "graph us"] != "n/a" and "note" not in rows.columns
    notes = [shown(c.value) for c in at.caption]
    assert any(n.startswith("eager: no graph") for n in notes), notes
    spec = at.session_state["report"].result("spec")
    # Either the loop's kernels were profiled, or the page says exactly why not.
    assert spec.op_times or any(n.startswith("spec: ") and "rates cheap" in n
                                and "control flow: " in n for n in notes)
    if spec.op_times:
        for value in frame_with(at, "share of graph")["us"]:
            assert re.fullmatch(r"[\d,]+\.\d", value), value
    else:
        at.session_state["result_tab"] = "Graphs"
        at.run()
        assert any("Colour by time is off for spec" in shown(c.value) for c in at.caption)
    # The seed's graph ops are profiled: their times read like every other table's.
    at.selectbox(key="entry").set_value("process_data").run()
    at.pills(key="modes").set_value(["spec"]).run()
    inspect(at)
    at.session_state["result_tab"] = "Timing"
    at.run()
    for value in frame_with(at, "share of graph")["us"]:
        assert re.fullmatch(r"[\d,]+\.\d", value), value


def test_pasted_code_with_several_functions_offers_a_choice():
    at = app()
    at.selectbox(key="entry").set_value("(paste your own code)").run()
    at.text_area(key="code").set_value(
        "import tensorflow as tf\n\ndef helper(x):\n    return x * 2\n\n"
        "def step(x):\n    return helper(x) + 1\n").run()
    assert at.selectbox(key="function").options == ["helper", "step"]
    assert at.selectbox(key="function").value == "step"


def test_an_operators_file_is_offered_when_pasted_code_is_not(tmp_path, monkeypatch):
    from inspector.ui import services

    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "ops.py").write_text("import tensorflow as tf\n\ndef helper(x):\n    return x\n\n"
                                   "def scale(x):\n    return helper(x) * (2.0 + 1.0)\n")
    (folder / "notes.txt").write_text("not offered")
    config = tmp_path / "inspector.toml"
    config.write_text(f'[inputs]\npasted_code = false\nfiles = "{folder}"\n')
    monkeypatch.setenv("INSPECTOR_CONFIG", str(config))
    services.policy.clear()
    try:
        at = app()
        options = at.selectbox(key="entry").options
        assert "file:ops.py" in options and "(paste your own code)" not in options
        assert not any("notes" in option for option in options)
        at.selectbox(key="entry").set_value("file:ops.py").run()
        assert at.selectbox(key="function").value == "scale"
        at.pills(key="modes").set_value(["spec"]).run()
        at.number_input(key="runs").set_value(5).run()
        inspect(at)
        assert not at.exception
        report = at.session_state["report"]
        assert report.error is None, report.error
        assert (report.source, report.function) == ("file:ops.py", "scale")
        assert report.results[0].post.nodes < report.results[0].pre.nodes  # 2.0 + 1.0 folded
        # A link cannot name a file outside the folder: it falls back to the gallery.
        assert app(entry="file:../inspector.toml").selectbox(key="entry").value != \
            "file:../inspector.toml"
    finally:
        services.policy.clear()


# Line 6 is constants alone: with Grappler's constant folding off, the runtime folds it when it
# instantiates the graph (whatever oneDNN does).
DENSE = ("import tensorflow as tf\n\ndef f(x):\n    y = tf.matmul(x, x)\n"
         "    r = tf.nn.relu(tf.nn.bias_add(y, tf.ones([4])))\n"
         "    k = tf.reduce_sum(tf.matmul(tf.ones([30, 30]), tf.ones([30, 30])))\n"
         "    return r * k\n")


def test_the_source_tab_lists_each_line_per_mode_and_a_line_search_finds_its_nodes():
    """Issue 25: per line of the pasted code, each mode side by side (nodes before -> after
    -> executed, changes, time); "line 5" in the Graphs tab's search picks that line's nodes
    and the node panel names the line."""
    at = app()
    at.selectbox(key="entry").set_value("(paste your own code)").run()
    at.text_area(key="code").set_value(DENSE).run()
    at.text_area(key="calls").set_value("float32[4,4]").run()
    at.pills(key="modes").set_value(["numpy", "spec"]).run()
    at.number_input(key="runs").set_value(5).run()
    at.text_input(key="grappler").set_value("constant_folding=off").run()
    inspect(at)
    at.session_state["result_tab"] = "Source"
    at.run()
    assert not at.exception
    rows = frame_with(at, "code").set_index("line")
    assert list(rows.index) == [4, 5, 6, 7]
    assert "spec: nodes" in rows.columns and "numpy: nodes" in rows.columns
    assert "fused" in rows.loc[5, "spec: changes"]
    assert rows.loc[4, "spec: nodes"].startswith("1 -> ")
    at.session_state["graph_search"] = "line 5"
    at.session_state["graph_mode"] = "spec"
    at.session_state["result_tab"] = "Graphs"
    at.run()
    assert not at.exception
    options = set(at.selectbox(key="graph_node").options)
    spec = at.session_state["report"].result("spec")
    assert {"Relu", "BiasAdd"} <= options and "MatMul" not in options  # MatMul is line 4's
    assert all(spec.sources[n].line == 5 for n in options if n in spec.sources)
    assert any(m.value.startswith("Made by **line 5**") for m in at.markdown)
    at.radio(key="graph_view").set_value("executed").run()
    assert not at.exception
    # A look at another tab (only the open one runs) keeps the Graphs tab's choices.
    at.session_state["result_tab"] = "Matrix"
    at.run()
    at.session_state["result_tab"] = "Graphs"
    at.run()
    assert at.radio(key="graph_view").value == "executed"
    assert at.selectbox(key="graph_mode").value == "spec"
    assert at.text_input(key="graph_search").value == "line 5"
    said = next(m.value for m in at.markdown if m.value.startswith("**The graph that executed"))
    assert f"({spec.executed.nodes} nodes;" in said
    folded = spec.executed.runtime_folded
    assert "MatMul_1" in folded, "line 6's MatMul of constants ran no kernel"
    assert f"; {len(folded)} folded by it)" in said
    at.selectbox(key="graph_node").set_value("Relu").run()
    panel = at.table[-1].value
    assert list(panel.columns) == ["before Grappler", "after Grappler", "executed"]
    assert shown(panel.loc["op", "after Grappler"]) == "_FusedMatMul"
    assert shown(panel.loc["op", "executed"]) in ("_FusedMatMul", "_MklNativeFusedMatMul")
    at.session_state["graph_search"] = "x"
    at.run()
    at.selectbox(key="graph_node").set_value("x").run()
    assert any(c.value.startswith("Made by no line of your code: TensorFlow made it")
               for c in at.caption)
    at.session_state["graph_search"] = "line 6"
    at.run()
    at.selectbox(key="graph_node").set_value("MatMul_1").run()
    assert any("then **folded by the runtime**" in m.value for m in at.markdown)
    at.session_state["result_tab"] = "Rewrites"
    at.session_state["rewrites_mode"] = "spec"
    at.run()
    runtime = next(f.value for f in at.dataframe if "kind" in f.value.columns
                   and "folded by the runtime" in set(f.value["kind"]))
    assert runtime.set_index("kind").loc["folded by the runtime", "count"] == len(folded)
    at.session_state["result_tab"] = "Export"
    at.run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"executed .svg", "executed .png", "executed .pdf", "executed .pbtxt",
            "executed .pb"} <= set(labels)


def test_a_run_the_store_cannot_save_still_shows_its_report_and_says_it_is_not_saved(
        monkeypatch):
    """The page draws the report while the run is saved beside it; a save that fails (a full
    disk) is said in the run's header instead of "saved"."""
    from inspector.errors import StoreError
    from inspector.store.runs import RunStore

    def refuse(self, run_id, report, status=None, log=""):
        raise StoreError(f"saving run {run_id} failed: OSError: No space left on device")

    monkeypatch.setattr(RunStore, "finish", refuse)
    at = app(mode="spec", runs="5")
    inspect(at)
    assert not at.exception
    assert matrix_frame(at).loc["spec", "traces"] == "1"
    (header,) = [m.value for m in at.markdown if m.value.startswith("**Run")]
    assert "not saved: StoreError" in header and "No space left on device" in header


def test_a_finished_run_is_saved_after_the_page_drew_its_report(monkeypatch):
    """The save's encoding holds the GIL: it waits until the page has drawn the report (it
    made ResNet50's drawing 10x slower beside it), and the run is still saved."""
    from inspector.store.runs import RunStore
    from inspector.ui import report_view

    times: dict[str, float] = {}
    show, finish = report_view.show, RunStore.finish

    def drawing(*args, **kwargs):
        show(*args, **kwargs)
        times.setdefault("drawn", time.monotonic())

    def saving(self, *args, **kwargs):
        times.setdefault("save", time.monotonic())
        return finish(self, *args, **kwargs)

    monkeypatch.setattr(report_view, "show", drawing)
    monkeypatch.setattr(RunStore, "finish", saving)
    at = inspect(app(mode="spec", runs="5"))
    at.run()  # the header's status after the save
    assert not at.exception
    assert times["save"] >= times["drawn"]
    (header,) = [m.value for m in at.markdown if m.value.startswith("**Run")]
    assert header.endswith("saved"), header


def test_the_matrix_shows_while_the_profile_and_analysis_run():
    """Issue 24: the first visible answer does not wait for the profiled calls (each sleeps
    0.5 s here, after the first call, 10 warm-up and 1 timed call) or the other tabs'
    analyses; the whole report's matrix says the same."""
    at = app()
    at.selectbox(key="entry").set_value("(paste your own code)").run()
    at.text_area(key="code").set_value(
        "import time\nimport tensorflow as tf\n\nCALLS = [0]\n\n\ndef _count():\n"
        "    CALLS[0] += 1\n    if CALLS[0] > 12:\n        time.sleep(0.5)\n    return 0.0\n"
        "\n\ndef f(x):\n    return x * 2.0 + tf.py_function(_count, [], tf.float32)\n").run()
    at.pills(key="modes").set_value(["spec"]).run()
    at.number_input(key="runs").set_value(1).run()
    at.button(key="run").click().run()
    deadline = time.monotonic() + 60
    while ("job" in at.session_state and matrix_frame(at) is None
           and time.monotonic() < deadline):
        time.sleep(0.1)
        at.run()
    early = matrix_frame(at)
    assert "job" in at.session_state and early is not None, "no matrix before the job ended"
    assert any("the profile and analysis follow" in shown(m.value) for m in at.markdown)
    assert not [t for t in at.tabs if t.label == "Source"]  # they come with the report
    inspect_until_done = time.monotonic() + 60
    while "job" in at.session_state and time.monotonic() < inspect_until_done:
        time.sleep(0.2)
        at.run()
    report = at.session_state["report"]
    assert report.results[0].timing.breakdown is not None and report.results[0].lines
    assert matrix_frame(at).equals(early)
