"""Several TensorFlow versions side by side (issue 28): the same request on the server's own
TensorFlow and on a second one that ``make test`` installs once into a cached folder
(INSPECTOR_TEST_VERSIONS); each version's figures are what that TensorFlow reports when it is
asked directly, in its own environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT, shown

pytestmark = pytest.mark.worker

# The second version the suite installs (Makefile: SECOND_TF).
SECOND = os.environ.get("INSPECTOR_TEST_SECOND_TF", "2.15")
FOLDER = os.environ.get("INSPECTOR_TEST_VERSIONS")

# A gallery entry's post-Grappler graph per mode (node count and ops), asked of the TensorFlow
# that runs this: python -c ORACLE ENTRY MODE...
_ORACLE = """
import json
import sys
from collections import Counter
import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context
from inspector.inputs import gallery
from inspector.inputs.calls import parse_calls
entry = gallery.get(sys.argv[1])
namespace = {}
exec(entry.source, namespace)
arg = parse_calls(entry.calls)[0].args[0]
import keras
found = {"tensorflow": tf.__version__, "keras": keras.__version__}
for mode in sys.argv[2:]:
    signature = [tf.TensorSpec(arg.shape, arg.dtype)] if mode == "spec" else None
    fn = tf.function(namespace[entry.function], input_signature=signature)
    x = np.ones(arg.shape, arg.dtype)
    context.enable_run_metadata()
    fn(x if mode == "numpy" else tf.constant(x))
    graphs = context.export_run_metadata().function_graphs
    context.disable_run_metadata()
    post = max(graphs, key=lambda g: len(g.pre_optimization_graph.node)).post_optimization_graph
    found[mode] = {"nodes": len(post.node), "ops": dict(Counter(n.op for n in post.node))}
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def env():
    if not FOLDER:
        pytest.skip("INSPECTOR_TEST_VERSIONS is unset: make test installs the second "
                    "TensorFlow and sets it")
    return {**os.environ, "INSPECTOR_VERSIONS": FOLDER}


def cli(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def _asked_directly(python: str, entry: str = "fused_dense",
                    modes: tuple[str, ...] = ("numpy", "spec")) -> dict:
    done = subprocess.run([python, "-c", _ORACLE, entry, *modes], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_same_request_on_two_versions_reports_what_each_says(env, tmp_path):
    listed = cli(env, "versions", "list")
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert "default" in rows[0]
    second = next(row for row in rows[1:] if row.startswith(SECOND + "."))
    second_version, second_path = second.split()[0], second.split()[-1]

    out = tmp_path / "report.json"
    done = cli(env, "inspect", "gallery:fused_dense", "--mode", "numpy", "--mode", "spec",
               "--runs", "5", "--tf", "default", "--tf", SECOND, "--json", str(out),
               "--compare-versions", "--html", str(tmp_path / "report.html"))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    own = _asked_directly(sys.executable)
    theirs = _asked_directly(f"{second_path}/bin/python")
    assert theirs["tensorflow"] == second_version
    assert report["versions"] == [own["tensorflow"], second_version]
    assert report["tensorflow"] == own["tensorflow"]
    assert [(r["tensorflow"], r["mode"]) for r in report["results"]] == [
        (own["tensorflow"], "numpy"), (own["tensorflow"], "spec"),
        (second_version, "numpy"), (second_version, "spec")]
    for result in report["results"]:
        asked = own if result["tensorflow"] == own["tensorflow"] else theirs
        assert result["post"]["nodes"] == asked[result["mode"]]["nodes"], result["tensorflow"]
    # The matrix names each row's version; the comparison names both versions per mode.
    assert f"===== TensorFlow {second_version} =====" in done.stdout
    assert f"[spec] TensorFlow {own['tensorflow']} vs {second_version}" in done.stdout
    assert "median " in done.stdout
    page = (tmp_path / "report.html").read_text()
    assert "<h2>Versions</h2>" in page
    assert f"<h1>TensorFlow {second_version}</h1>" in page
    assert f"[spec] TensorFlow {own['tensorflow']} vs {second_version}" in page


def _second_python(env) -> tuple[str, str]:
    rows = cli(env, "versions", "list").stdout.splitlines()
    row = next(r for r in rows[1:] if r.startswith(SECOND + "."))
    return row.split()[0], f"{row.split()[-1]}/bin/python"


def test_the_gallery_entry_that_differs_between_versions_shows_each_ones_fusions(env, tmp_path):
    """conv_batchnorm was found by trying: Keras 2 (TensorFlow 2.15) and Keras 3 build batch
    norm differently, and Grappler fuses what it is given. Each version's post graph is what
    that TensorFlow reports directly, and the comparison says the graphs differ."""
    second_version, python = _second_python(env)
    done = cli(env, "inspect", "gallery:conv_batchnorm", "--mode", "spec", "--runs", "5",
               "--tf", "default", "--tf", SECOND, "--compare-versions", "--json",
               str(tmp_path / "report.json"))
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    own, theirs = (_asked_directly(p, "conv_batchnorm", ("spec",))
                   for p in (sys.executable, python))
    for result in report["results"]:
        asked = own if result["tensorflow"] == own["tensorflow"] else theirs
        assert result["post"]["ops"] == asked["spec"]["ops"], result["tensorflow"]
        fused = {f["op"] for f in result["diff"]["fused"]}
        assert fused == {op for op in asked["spec"]["ops"] if op.startswith("_Fused")}
    if own["keras"][0] != theirs["keras"][0]:  # Keras 3 against 2 (make test installs 2.15)
        assert own["spec"]["ops"] != theirs["spec"]["ops"]
        assert f"[spec] TensorFlow {own['tensorflow']} vs {second_version}" in done.stdout
        assert "after Grappler: the same graph" not in done.stdout


def test_a_version_that_is_not_installed_is_exit_2_saying_how_to_add_it(env):
    done = cli(env, "inspect", "gallery:fused_dense", "--tf", "2.16")
    assert done.returncode == 2
    assert "versions add 2.16" in done.stderr
    done = cli(env, "versions", "add", "2.9")
    assert done.returncode == 2 and "2.15 to 2.21" in done.stderr
    own = cli(env, "versions", "list").stdout.split()[0]
    for args, said in [(("versions", "add", own.rsplit(".", 1)[0]), "nothing to add"),
                       (("versions", "add", "2.021"), "expected a TensorFlow version"),
                       (("versions", "remove", "default"), "cannot be removed"),
                       (("inspect", "gallery:fused_dense", "--tf", "banana"),
                        "expected a version such as 2.20"),
                       (("inspect", "gallery:fused_dense", "--tf", SECOND, "--tf", SECOND),
                        "is named twice")]:
        done = cli(env, *args)
        assert done.returncode == 2 and said in done.stderr, (args, done.stderr)


def test_the_app_runs_the_chosen_versions_in_turn_and_compares_them(env, monkeypatch):
    from tests.test_app import app, inspect

    monkeypatch.setenv("INSPECTOR_VERSIONS", FOLDER)
    at = app(entry="fused_dense", mode="spec", runs="5")
    picker = at.multiselect(key="tf_versions")
    own, second = picker.options[0], next(v for v in picker.options if v.startswith(SECOND))
    assert picker.value == [own]  # the server's own TensorFlow unless asked
    picker.set_value([own, second]).run()
    inspect(at)
    assert not at.exception
    report = at.session_state["report"]
    assert report.error is None and report.versions == (own, second)
    assert [(r.tensorflow, r.mode) for r in report.results] == [(own, "spec"), (second, "spec")]
    assert any(f"TensorFlow {own}, {second}" in shown(c.value) for c in at.caption)
    at.session_state["result_tab"] = "Versions"
    at.run()
    said = "\n".join(c.value for c in at.code)
    assert f"[spec] TensorFlow {own} vs {second}" in said and "after Grappler:" in said
    # The version's pool times its calls in turn with the server's own pool.
    from inspector.ui import services

    assert services.version_pool(second).turn_lock == services.executor().turn_lock
    # The link keeps the choice, and opens with it.
    assert at.query_params["tf"] == [own, second]
    linked = app(entry="fused_dense", mode="spec", runs="5", tf=[second, "2.99.0"])
    assert linked.multiselect(key="tf_versions").value == [second]  # installed ones only
    # Re-run of the saved run runs on both versions again.
    saved = app(run=report.run_id)
    saved.button(key="rerun_saved").click().run()
    assert saved.multiselect(key="tf_versions").value == [own, second]
    deadline = time.monotonic() + 120
    while "job" in saved.session_state and time.monotonic() < deadline:
        time.sleep(0.2)
        saved.run()
    again = saved.session_state["report"]
    assert again.error is None and again.versions == (own, second)
    assert again.run_id != report.run_id


def test_a_keras_3_file_on_keras_2_says_which_tensorflow_can_load_it(env):
    """Found in a walk: a .keras file saved by Keras 3, on TensorFlow 2.15 (Keras 2), was 'a
    corrupt file, or custom objects' with 1.8 KB of config."""
    if not SECOND.startswith("2.15"):
        pytest.skip("the second TensorFlow ships Keras 3")
    done = cli(env, "inspect", "gallery:model_keras", "--tf", SECOND, "--mode", "spec",
               "--runs", "3")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "was saved by Keras 3" in done.stderr and "TensorFlow 2.16 or newer" in done.stderr
    assert "Full object config" not in done.stderr


def test_a_removed_or_re_added_version_gets_its_pool_closed(tmp_path, monkeypatch):
    """A removed version's warm worker ran on (~500 MB) and, once it was added again, its
    first job failed to import Keras's modules from the deleted files (found in a walk): a
    version's pool is kept per install, closed when that install is gone or replaced."""
    from inspector.jobs import versions
    from inspector.ui import services

    class Pool:
        closed = False

        def close(self):
            self.closed = True

    monkeypatch.setenv(versions.VERSIONS_ENV, str(tmp_path))
    folder = tmp_path / "tf-2.15.1"

    def install() -> versions.Environment:
        folder.mkdir(exist_ok=True)
        (folder / versions.READY_FILE).write_text(json.dumps({"tensorflow": "2.15.1"}))
        return versions.Environment("2.15.1", folder)

    pools = services._VersionPools()
    first = pools.get(install(), Pool)
    assert pools.get(versions.Environment("2.15.1", folder), Pool) is first  # the same install
    pools.prune(versions.fingerprint())
    assert not first.closed
    time.sleep(0.01)
    second = pools.get(install(), Pool)  # removed and added again: a new ready file
    assert second is not first and first.closed and not second.closed
    (folder / versions.READY_FILE).unlink()  # versions remove
    pools.prune(versions.fingerprint())
    assert second.closed
