"""``check`` as CI calls it: bounds that hold (exit 0), that fail (exit 1, named, JUnit XML that
parses), and files that are wrong (exit 2, naming the line). The figures bounded are what
TensorFlow itself reports, run directly in a separate process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.worker

# TensorFlow asked directly: fused_dense's post-Grappler graph under an input_signature, with
# Grappler's remapper on and off: its node count and its fused ops.
_ORACLE = """
import json, sys
import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context
from inspector.inputs import gallery
namespace = {}
exec(gallery.get("fused_dense").source, namespace)
found = {}
for remapping in (True, False):
    tf.config.optimizer.set_experimental_options({"remapping": remapping})
    fn = tf.function(namespace["dense_relu"], input_signature=[tf.TensorSpec([8, 32], tf.float32)])
    context.enable_run_metadata()
    fn(np.ones([8, 32], np.float32))
    graphs = context.export_run_metadata().function_graphs
    context.disable_run_metadata()
    post = max((g for g in graphs), key=lambda g: len(g.pre_optimization_graph.node)
               ).post_optimization_graph
    found[str(remapping)] = {"nodes": len(post.node),
                             "fused": sorted(n.op for n in post.node if n.op.startswith("_Fused"))}
print(json.dumps(found))
"""


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def tensorflow_says() -> dict:
    done = subprocess.run([sys.executable, "-c", _ORACLE], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _file(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_bounds_that_hold_fail_and_are_compared_with_the_baseline(tmp_path, tensorflow_says):
    on, off = tensorflow_says["True"], tensorflow_says["False"]
    assert on["fused"] and not off["fused"]  # the entry shows the fusion, as it says
    fused_op = on["fused"][0]
    holding = _file(tmp_path, "holds.toml", f"""
        [[expect]]
        name = "dense fusion"
        source = "gallery:fused_dense"
        modes = ["spec"]
        runs = 3
        post_nodes = "== {on['nodes']}"
        post_ops = ["{fused_op} >= 1"]
        patterns = ["fused >= 1"]
        traces = "== 1"
        """)
    baseline = tmp_path / "baseline.json"
    done = cli("check", holding, "--json", str(baseline))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"post_nodes = {on['nodes']}, expected == {on['nodes']}" in done.stdout
    assert "4 of 4 bounds hold" in done.stdout
    assert json.loads(baseline.read_text())["passed"] is True

    # The same file with the remapper off: the fusion is gone, as TensorFlow says it is.
    failing = _file(tmp_path, "fails.toml", f"""
        [[expect]]
        name = "dense fusion"
        source = "gallery:fused_dense"
        modes = ["spec"]
        runs = 3
        grappler = ["remapping=off"]
        post_nodes = "== {off['nodes']}"
        post_ops = ["{fused_op} >= 1"]
        """)
    junit = tmp_path / "junit.xml"
    done = cli("check", failing, "--junit", str(junit), "--baseline", str(baseline))
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"ok   #1 dense fusion [spec]: post_nodes = {off['nodes']}" in done.stdout
    assert (f"FAIL #1 dense fusion [spec]: post_ops: {fused_op} = 0, expected >= 1"
            in done.stdout)
    # Against the baseline: the figure then, the ops that moved, the graphs node by node.
    assert f"  baseline: post_ops: {fused_op} = 1\n" in done.stdout
    moved = next(line for line in done.stdout.splitlines() if "ops after Grappler:" in line)
    assert f"{fused_op} 1 -> 0" in moved
    assert f"({on['nodes']} -> {off['nodes']} nodes)" in done.stdout
    assert "1 of 2 bounds hold; 1 failed" in done.stdout
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuites" and suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [case.get("name") for case in failed] == [f"[spec] post_ops: {fused_op} >= 1"]


@pytest.mark.parametrize("text, fragment", [
    ("[[expect]]\nsource = \"gallery:fused_dense\"\npost_nodes = \"<= 6\"\nfolds = \">= 2\"\n",
     "bad.toml:4: [[expect]] #1 folds: unknown key 'folds'"),
    ("[[expect]]\nsource = \"gallery:fused_dense\"\n\npost_nodes = \"at most 6\"\n",
     "bad.toml:4: [[expect]] #1 post_nodes: expected a comparison and a number"),
    ("[[expect]]\nsource = \"gallery:fused_dense\"\npatterns = [\"folded\"]\n",
     "bad.toml:3: [[expect]] #1 patterns: patterns entry 'folded' is not"),
    ("[[expect]]\nsource = \"gallery:fused_dense\"\n", "nothing to check"),
    ("[[expect]]\npost_nodes = \"<= 6\"\n", "bad.toml:1: [[expect]] #1: no source"),
    ("[[expect]]\nsource = \"gallery:nope\"\npost_nodes = \"<= 6\"\n",
     "bad.toml:2: [[expect]] #1: no gallery entry 'nope'"),
    ("[[expect]]\nsource = \"gallery:fused_dense\"\nmodes = []\npost_nodes = \"<= 6\"\n",
     "bad.toml:3: [[expect]] #1 modes: modes is empty"),
    ("[[expect]]\nsource = \"gallery:fused_dense\"\ncalls = [\"float33[2]\"]\n"
     "post_nodes = \"<= 6\"\n", "bad.toml:3: [[expect]] #1: call 1 ('float33[2]'): unknown dtype"),
    ("[[expect]\nsource = 1\n", "bad.toml: not valid TOML"),
    ("[expect]\nsource = \"x\"\n", "no [[expect]] table"),
])
def test_a_wrong_file_is_exit_2_naming_the_line(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    (tmp_path / "check.json").write_text('{"passed": true}')  # an older run's: replaced
    done = cli("check", str(path), "--junit", str(tmp_path / "junit.xml"), "--json",
               str(tmp_path / "check.json"), timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert fragment in done.stderr
    # Nothing ran, and what CI reads says so: a JUnit error and a JSON report of the error.
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("errors") == "1" and suite.get("failures") == "0"
    assert fragment in next(suite.iter("error")).get("message")
    written = json.loads((tmp_path / "check.json").read_text())
    assert written["passed"] is False and fragment in written["error"]["message"]


def test_median_vs_a_saved_run_is_the_ratio_of_the_two_medians(tmp_path):
    env_data = {"INSPECTOR_DATA": str(tmp_path / "data")}
    saved = _run_with(env_data, "inspect", "gallery:fused_dense", "--mode", "spec", "--runs",
                      "20", "--save", "--json", str(tmp_path / "saved.json"))
    assert saved.returncode == 0, saved.stderr
    run_id = json.loads((tmp_path / "saved.json").read_text())["run_id"]
    path = _file(tmp_path, "vs.toml", f"""
        [[expect]]
        source = "gallery:fused_dense"
        modes = ["spec"]
        runs = 20
        median_vs = {{ run = "{run_id}", ratio = "< 1000" }}
        """)
    done = _run_with(env_data, "check", path, "--json", str(tmp_path / "check.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    then = json.loads((tmp_path / "saved.json").read_text())["results"][0]["timing"]["median_us"]
    checked = json.loads((tmp_path / "check.json").read_text())
    now = checked["reports"][0]["report"]["results"][0]["timing"]["median_us"]
    assert checked["outcomes"][0]["measured"] == pytest.approx(now / then)
    assert checked["outcomes"][0]["check"] == f"median_vs {run_id}"
    # Against another function's run: allowed (old against new), but the line says so.
    other = _file(tmp_path, "other.toml", f"""
        [[expect]]
        source = "gallery:constant_arithmetic"
        modes = ["spec"]
        runs = 5
        median_vs = {{ run = "{run_id}", ratio = "< 1000" }}
        """)
    done = _run_with(env_data, "check", other)
    function = json.loads((tmp_path / "saved.json").read_text())["function"]
    assert done.returncode == 0 and f"(a run of {function})" in done.stdout, done.stdout

    unknown = _file(tmp_path, "unknown.toml", """
        [[expect]]
        source = "gallery:fused_dense"
        median_vs = { run = "nosuchrun00", ratio = "<= 1.1" }
        """)
    done = _run_with(env_data, "check", unknown)
    assert done.returncode == 2 and "nosuchrun00" in done.stderr, done.stdout + done.stderr


def _run_with(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={**os.environ, **env})


def test_every_mode_with_a_graph_by_default_and_a_misspelt_op_is_said(tmp_path):
    path = _file(tmp_path, "typo.toml", """
        [[expect]]
        name = "label with a terminal escape \\u001b[31m"
        source = "gallery:constant_arithmetic"
        runs = 3
        post_ops = ["MatMull == 0"]
        """)
    junit = tmp_path / "junit.xml"
    done = cli("check", path, "--junit", str(junit))
    assert done.returncode == 0, done.stdout + done.stderr
    modes_seen = set(re.findall(r"\[([a-z-]+)\]: post_ops", done.stdout))
    assert "\x1b" not in done.stdout  # the label's escape is shown, not obeyed
    assert modes_seen == {"numpy", "tensor", "spec", "spec-dynamic", "reduce-retracing", "xla"}
    assert "no MatMull in this mode's graph before or after Grappler" in done.stdout
    assert ET.parse(junit).getroot().get("tests") == "6"  # the escape did not break the XML


def test_a_baseline_that_is_not_a_check_output_is_bad_input(tmp_path):
    path = _file(tmp_path, "holds.toml", """
        [[expect]]
        source = "gallery:constant_arithmetic"
        post_nodes = "<= 100"
        """)
    for text in ("[1, 2]", '{"passed": true}', "not json"):
        (tmp_path / "base.json").write_text(text)
        done = cli("check", path, "--baseline", str(tmp_path / "base.json"), timeout=60)
        assert done.returncode == 2, (text, done.stderr)
        assert "not a check --json output" in done.stderr
    done = cli("check", path, "--junit", str(tmp_path / "no" / "such" / "folder.xml"),
               timeout=60)
    assert done.returncode == 2 and "cannot write there" in done.stderr
