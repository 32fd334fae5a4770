"""The Streamlit app through AppTest: a gallery run, a syntax error, a permalink, and no TF."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.worker

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


def app(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def test_gallery_run_shows_the_engines_numbers_and_tf_stays_out():
    at = app()
    at.multiselect(key="modes").set_value(["numpy", "spec", "spec-dynamic"]).run()
    at.number_input(key="runs").set_value(20).run()
    at.button(key="run").click().run()
    assert not at.exception
    report = at.session_state["report"]
    assert report.error is None
    frame = at.table[0].value
    for result in report.results:
        row = frame.loc[result.mode]
        assert row["pre nodes"] == result.pre.nodes and row["post nodes"] == result.post.nodes
        assert row["traces"] == result.traces
    assert at.query_params["entry"] in ("process_data", ["process_data"])


def test_the_ui_process_never_imports_tensorflow():
    """In a fresh process (this test session imports TF elsewhere): load the app, run once."""
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file('app.py', default_timeout=120).run()\n"
        "at.multiselect(key='modes').set_value(['spec']).run()\n"
        "at.number_input(key='runs').set_value(5).run()\n"
        "at.button(key='run').click().run()\n"
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
    at.button(key="run").click().run()
    assert any("SourceError (line 2)" in e.value for e in at.error)


def test_permalink_restores_settings():
    at = app(entry="process_variable_data", mode=["spec", "xla"], call=["float32[7]"])
    assert at.selectbox(key="entry").value == "process_variable_data"
    assert at.multiselect(key="modes").value == ["spec", "xla"]
    assert at.text_area(key="calls").value == "float32[7]"
