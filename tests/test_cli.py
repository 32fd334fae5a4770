"""The command line through a subprocess, as users and CI scripts call it."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.worker

REQUIRED_RESULT_KEYS = {"mode", "error", "traces", "calls", "pre", "post", "diff",
                        "unknown_shape_outputs", "timing"}


def cli(*args: str, stdin: str | None = None, timeout: float = 300):
    return subprocess.run([sys.executable, "-m", "inspector", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def test_gallery_lists_the_seed_examples_first():
    done = cli("gallery")
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.splitlines() if not line.startswith(" ")]
    assert names[:3] == ["process_data", "process_data_spec", "process_variable_data"]
    assert len(names) >= 11


@pytest.mark.parametrize("args, fragment", [
    (["inspect", "gallery:process_data", "--mode", "fast"], "unknown mode 'fast'"),
    # Before the missing --call the pasted function needs (walk: the mode was named only after).
    (["inspect", "-", "--mode", "fast"], "unknown mode 'fast'"),
    (["inspect", "gallery:process_data", "--call", "float33[4]"], "unknown dtype 'float33'"),
    (["inspect", "gallery:nope"], "no gallery entry 'nope'"),
    (["inspect", "missing.py"], "no such file: missing.py"),
    (["inspect", "gallery:process_data", "--function", "nope"], "'nope' is not defined"),
    (["inspect", "gallery:process_data", "--grappler", "folding=off"], "bad grappler override"),
    (["inspect", "gallery:process_data", "--format", "gif"], "unknown picture format(s) gif"),
    (["inspect", "gallery:process_data", "--format", "png"], "give one of them"),
    (["inspect", "gallery:process_data", "--changes-only", "-1"], "number of hops"),
    (["inspect", "gallery:process_data", "--mode", "numpy", "--compare", "numpy,spec"],
     "needs both modes in the run; add --mode spec"),
    (["inspect", "gallery:process_data", "--compare", "numpy,eager"],
     "two different modes with graphs"),
    (["frobnicate"], "invalid choice"),
    # Limits that make no sense are refused before any work, not taken as something else.
    (["inspect", "gallery:process_data", "--runs", "-3"], "0 or more, not '-3'"),
    (["inspect", "gallery:process_data", "--warmup", "-5"], "0 or more, not '-5'"),
    (["inspect", "gallery:process_data", "--budget", "-1"], "more than 0, not '-1'"),
    (["inspect", "gallery:process_data", "--timeout", "0"], "more than 0, not '0'"),
    (["inspect", "gallery:process_data", "--timeout", "nan"], "more than 0, not 'nan'"),
    (["inspect", "gallery:process_data", "--memory-mb", "0"], "1 or more, not '0'"),
    # Too big for the memory limit: refused before any worker starts, with the size and limit.
    (["inspect", "-", "--call", "float32[100000,100000]"],
     "needs about 77,094 MB (its arguments twice, 76,294 MB, plus 800 MB for TensorFlow), "
     "over the 4096 MB memory limit"),
])
def test_bad_input_is_one_line_exit_2_and_a_json_report(tmp_path, args, fragment):
    report_path = tmp_path / "report.json"
    with_json = [*args, "--json", str(report_path)] if args[0] == "inspect" else args
    stdin = "import tensorflow as tf\n\ndef f(x):\n    return x * 2\n" if "-" in args else None
    done = cli(*with_json, timeout=30, stdin=stdin)
    assert done.returncode == 2, done.stderr
    assert fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    if args[0] == "inspect":
        report = json.loads(report_path.read_text())
        assert fragment in report["error"]["message"]
        assert report["results"] == []


@pytest.mark.parametrize("where, fragment", [
    ("/proc/report.json", "--json /proc/report.json: cannot write there"),
    ("{tmp}", "a folder; give a file name"),
])
def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path, where,
                                                                     fragment):
    """Found by a walk: the whole inspection ran, then a traceback and exit 1."""
    where = where.format(tmp=tmp_path)
    for args in (["inspect", "gallery:process_data", "--json", where],
                 ["history", "list", "--json", where]):
        done = cli(*args, timeout=30)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: UsageError: ") and "Traceback" not in done.stderr
        if args[0] == "inspect":
            assert fragment in done.stderr
    assert list(tmp_path.iterdir()) == []  # the check wrote nothing


def test_the_worker_starts_before_the_request_is_checked_and_goes_with_bad_input(
        monkeypatch):
    """The CLI starts its worker first, so that TensorFlow imports while the source is read
    and the request checked (issue 24); input found bad meanwhile ends it: exit 2, the worker
    and its folder gone."""
    import time

    from inspector.cli import main
    from inspector.jobs import local

    pools, workers = [], []

    def recorded(environment=None):
        pool = one_shot(environment)
        pools.append(pool)
        for _ in range(200):  # until its worker process is there
            if pool._live:
                workers.extend(pool._live)
                break
            time.sleep(0.05)
        return pool

    one_shot = local.one_shot
    monkeypatch.setattr(local, "one_shot", recorded)
    out, err = io.StringIO(), io.StringIO()
    code = main(["inspect", "gallery:process_data", "--call", "float33[4]"], out, err)
    assert code == 2 and "unknown dtype 'float33'" in err.getvalue()
    [pool] = pools
    assert pool._closed.is_set() and not pool._workdir.exists()
    [worker] = workers
    assert worker.process.poll() is not None and not pool._live  # killed, awaited
    assert main(["inspect", "gallery:process_data", "--list"], out, err) == 2
    assert len(pools) == 1


def test_ctrl_c_says_interrupted_exits_130_and_leaves_no_worker(tmp_path):
    """Ctrl-C printed a KeyboardInterrupt traceback."""
    import signal
    import time

    import psutil

    script = tmp_path / "sleeps.py"
    script.write_text("import time\nimport tensorflow as tf\n\ndef f(x):\n"
                      "    time.sleep(300)\n    return x\n")
    running = subprocess.Popen([sys.executable, "-m", "inspector", "inspect", str(script),
                                "--call", "float32[2]", "--mode", "eager", "--timeout", "120"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    children: list[psutil.Process] = []
    for _ in range(300):  # until its worker (bwrap and what runs in it) has started
        children = psutil.Process(running.pid).children(recursive=True)
        if children:
            break
        time.sleep(0.1)
    time.sleep(2)
    children = psutil.Process(running.pid).children(recursive=True)
    assert children
    running.send_signal(signal.SIGINT)
    _, err = running.communicate(timeout=60)
    assert running.returncode == 130 and err == "interrupted\n", err
    _, alive = psutil.wait_procs(children, timeout=10)
    assert not alive


def test_seed_example_three_end_to_end(tmp_path):
    report_path = tmp_path / "r.json"
    done = cli("inspect", "gallery:process_variable_data", "--json", str(report_path),
               "--runs", "50", "--warmup", "5")
    assert done.returncode == 0, done.stderr
    assert "spec-dynamic" in done.stdout
    report = json.loads(report_path.read_text())
    assert report["tensorflow"] == "2.21.0" and report["error"] is None
    modes = [r["mode"] for r in report["results"]]
    assert modes == ["eager", "numpy", "tensor", "spec", "spec-dynamic", "reduce-retracing", "xla"]
    by_mode = {r["mode"]: r for r in report["results"]}
    for result in report["results"]:
        assert REQUIRED_RESULT_KEYS <= set(result)
        assert result["timing"]["runs"] == 50
        assert set(result["timing"]) >= {"median_us", "p10_us", "p90_us", "mean_us", "stdev_us",
                                         "samples_us", "first_call_us"}
    assert by_mode["spec"]["traces"] == 1
    refused = by_mode["spec"]["calls"][1]
    assert refused["error"]["type"] == "TypeError" and not refused["traced"]
    assert by_mode["spec-dynamic"]["calls"][1]["traced"] is False
    assert by_mode["tensor"]["traces"] == 2
    assert by_mode["reduce-retracing"]["signatures"][-1] == "float32[None]"
    assert by_mode["spec-dynamic"]["unknown_shape_outputs"]["pre"] > 0
    assert by_mode["xla"]["hlo"]["optimized_hlo"].startswith("HloModule")
    assert by_mode["spec"]["grappler_passes"], "per-pass table parsed from the worker's log"


def test_pasted_code_on_stdin_with_autograph_and_a_failing_mode():
    code = ("import tensorflow as tf\n\n"
            "def describe(x):\n"
            "    if tf.reduce_sum(x) > 0:\n"          # AutoGraph needs the source for this
            "        return tf.strings.as_string(x)\n"  # XLA cannot compile AsString
            "    return tf.strings.as_string(-x)\n")
    done = cli("inspect", "-", "--mode", "tensor", "--mode", "xla", "--call", "float32[3]",
               "--json", "-", "--runs", "20", stdin=code)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    by_mode = {r["mode"]: r for r in report["results"]}
    assert by_mode["tensor"]["error"] is None
    assert by_mode["tensor"]["pre"]["ops"].get("StatelessIf") or by_mode["tensor"]["pre"]["ops"].get("If")
    assert by_mode["xla"]["error"]["type"] == "UserCodeError"
    assert "unsupported operations" in by_mode["xla"]["error"]["message"]


def test_ablation_table_is_printed_as_the_report_has_it(tmp_path):
    code = ("import tensorflow as tf\n\ndef f(x):\n"
            "    return x * tf.cast(tf.shape(x)[0], tf.float32)\n")
    path = tmp_path / "r.json"
    done = cli("inspect", "-", "--mode", "spec", "--call", "float32[4]", "--ablate",
               "--runs", "20", "--json", str(path), stdin=code)
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(path.read_text())["results"]
    rows = {row["option"]: row for row in result["ablation"]}
    # Constant folding off keeps the shape arithmetic Grappler otherwise folds away.
    assert rows["constant_folding"]["post_nodes"] > result["post"]["nodes"]
    printed = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()
               if line.split() and line.split()[0] in rows}
    assert "leave-one-out ablation" in done.stdout
    for option, row in rows.items():
        post_nodes, change, _median = printed[option]
        assert int(post_nodes) == row["post_nodes"]
        assert int(change) == row["post_nodes"] - result["post"]["nodes"]


def test_compare_prints_what_differs_between_two_modes(tmp_path):
    path = tmp_path / "r.json"
    done = cli("inspect", "gallery:shape_folding", "--mode", "spec-dynamic", "--mode", "spec",
               "--compare", "spec-dynamic,spec", "--runs", "5", "--json", str(path))
    assert done.returncode == 0, done.stderr
    report = json.loads(path.read_text())
    lines = done.stdout.splitlines()
    start = lines.index(next(line for line in lines
                             if line.startswith("spec-dynamic vs spec before Grappler")))
    end = lines.index(next(line for line in lines
                           if line.startswith("spec-dynamic vs spec after Grappler")))
    differing = {line.split(":")[0].strip() for line in lines[start + 1:end]}
    # The engine's own list of nodes constant only with fixed shapes names the same nodes.
    assert differing == set(report["shape_dependent_constants"]["pre"])
    assert all(line.endswith("spec: Const") for line in lines[start + 1:end])


def test_user_error_in_a_file_names_the_line(tmp_path):
    path = tmp_path / "model.py"
    path.write_text("import tensorflow as tf\n\ndef step(x):\n    return tf.reshape(x, [7])\n")
    done = cli("inspect", str(path), "--mode", "spec", "--call", "float32[4]", "--runs", "5")
    assert done.returncode == 1
    assert "UserCodeError (line 4)" in done.stdout
    assert "line 4 in step: return tf.reshape(x, [7])" in done.stdout


def test_an_error_that_ends_the_whole_run_is_printed_once_on_stderr(tmp_path):
    """Found in a walk: the summary on stdout repeated the error stderr gives."""
    path = tmp_path / "broken.py"
    path.write_text("import tensorflow as tf\nraise ValueError('boom')\ndef f(x):\n    return x\n")
    done = cli("inspect", str(path), "--mode", "spec", "--call", "float32[2]", "--runs", "5")
    assert done.returncode == 1
    assert done.stderr.count("UserCodeError (line 2): ValueError: boom") == 1, done.stderr
    assert "boom" not in done.stdout and done.stdout.startswith(f"f from {path} | TensorFlow")


def test_devices_lists_the_cpu_under_its_host_and_tensorflow():
    import socket

    done = cli("devices", timeout=120)
    assert done.returncode == 0
    assert "/device:CPU:0" in done.stdout
    assert done.stdout.splitlines()[0].startswith(f"{socket.gethostname()} | TensorFlow 2.")


def test_passes_writes_the_graph_after_each_pass_and_pictures_of_changing_ones(tmp_path):
    from inspector.graphs.protos import parse_text

    folder = tmp_path / "passes"
    done = cli("inspect", "gallery:fused_dense", "--mode", "spec", "--runs", "5", "--passes",
               str(folder), "--format", "svg", "--json", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    result = report["results"][0]
    changes = result["passes"]
    graphs = sorted(folder.glob("*.pbtxt"))
    assert len(graphs) == len(changes)
    for path, change in zip(graphs, changes, strict=True):
        assert change["optimizer"].split("{")[0] in path.name
        assert len(parse_text(path.read_text()).node) == change["nodes"]
    changed = [c for c in changes if c["removed"] or c["added"] or c["op_changed"]
               or c["rewired"]]
    pictures = sorted(folder.glob("*-diff.svg"))
    assert len(pictures) == len(changed) and any("remapper" in p.name for p in pictures)
    fused = result["diff"]["fused"][0]["name"]
    assert result["attribution"][fused]["optimizer"] == "remapper"
    assert "x1 MatMul + BiasAdd + Relu -> _FusedMatMul [BiasAdd, Relu] (by remapper)" \
        in done.stdout  # the summary's patterns name the pass


def test_exports_every_file_with_predictable_names(tmp_path):
    graphs, tb, html = tmp_path / "graphs", tmp_path / "tb", tmp_path / "report.html"
    done = cli("inspect", "gallery:shape_folding", "--mode", "spec", "--mode", "spec-dynamic",
               "--runs", "5", "--json", str(tmp_path / "r.json"), "--graphs", str(graphs),
               "--format", "svg,png,pdf", "--html", str(html), "--tensorboard", str(tb),
               "--log", str(tmp_path / "worker.log"))
    assert done.returncode == 0, done.stderr
    assert "Graph size after" in (tmp_path / "worker.log").read_text()  # Grappler's pass log
    report = json.loads((tmp_path / "r.json").read_text())
    function = report["function"]
    expected = {f"{function}-{mode}-{view}.{ext}" for mode in ("spec", "spec-dynamic")
                for view, exts in (("pre", "svg png pdf pbtxt pb"), ("post", "svg png pdf pbtxt pb"),
                                   ("diff", "svg png pdf"), ("executed", "svg png pdf pbtxt pb"))
                for ext in exts.split()}
    assert {p.name for p in graphs.iterdir()} == expected

    import xml.etree.ElementTree as ET

    from google.protobuf import text_format
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorflow.core.framework import graph_pb2

    by_mode = {r["mode"]: r for r in report["results"]}
    for mode in ("spec", "spec-dynamic"):
        stem = graphs / f"{function}-{mode}"
        assert ET.parse(f"{stem}-diff.svg").getroot().tag.endswith("svg")
        assert (graphs / f"{function}-{mode}-post.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (graphs / f"{function}-{mode}-pre.pdf").read_bytes()[:5] == b"%PDF-"
        for side in ("pre", "post"):
            binary = graph_pb2.GraphDef.FromString(
                (graphs / f"{function}-{mode}-{side}.pb").read_bytes())
            text = text_format.Parse((graphs / f"{function}-{mode}-{side}.pbtxt").read_text(),
                                     graph_pb2.GraphDef())
            assert len(binary.node) == len(text.node) == by_mode[mode][side]["nodes"]
            events = EventAccumulator(str(tb / mode / side))
            events.Reload()
            assert len(events.Graph().node) == by_mode[mode][side]["nodes"]
        # The graph that executed (issue 25): its file and TensorBoard run hold its nodes.
        executed = graph_pb2.GraphDef.FromString((graphs / f"{stem}-executed.pb").read_bytes())
        assert len(executed.node) == by_mode[mode]["executed"]["nodes"]
        events = EventAccumulator(str(tb / mode / "executed"))
        events.Reload()
        assert len(events.Graph().node) == by_mode[mode]["executed"]["nodes"]
        # The profiled calls' trace, where TensorBoard's profile plugin looks for it: the
        # graph's runs, as many as the report's breakdown says were sampled.
        from inspector.engine.profile import read_trace
        trace = read_trace(str(tb / "plugins" / "profile" / mode))
        runs = [e for e in trace if e.name == "KernelAndDeviceFunc::Run"]
        assert len(runs) == by_mode[mode]["timing"]["breakdown"]["samples"]
    page = html.read_text()
    # Every picture in a viewer: its SVG in the viewer's JSON, with no '<' left raw there.
    assert page.count('class="gv-host') >= 6 and page.count("\\u003csvg") >= 6
    assert "plotly" in page.lower()
    assert "<script src=" not in page  # Plotly inline; the browser test checks no request leaves


def test_missing_graphviz_is_exit_2_naming_the_package(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    done = subprocess.run([sys.executable, "-m", "inspector", "inspect", "gallery:process_data",
                           "--html", str(tmp_path / "r.html")], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={"PATH": str(empty)})
    assert done.returncode == 2
    assert "GraphvizMissing" in done.stderr and "graphviz" in done.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_saved_runs_text_reaches_the_terminal_without_its_control_characters(tmp_path):
    """Another user's error message (a team's store) put a terminal link, a bell and
    backspaces into the terminal that ran `history show` (found in a walk); JSON is unchanged."""
    import os

    from inspector.errors import ErrorInfo
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import Source
    from inspector.report import ModeResult, Report
    from inspector.store.runs import RunStore

    hostile = ("a \x1b]8;;http://127.0.0.1:9/\x07link\x1b]8;;\x07 \x07 bs\x08\x08XX\rover \x9b31m"
               " del\x7f rtl\u202eevil")
    request = prepare(Source("def f(x):\n    return x\n", "p.py"), "f", ["float32[4]"], ["spec"])
    report = Report(tensorflow="2.21.0", function="f", modes=("spec",), results=(
        ModeResult("spec", error=ErrorInfo("UserCodeError", hostile)),))
    store = RunStore(data=tmp_path)
    run_id = store.save(request, {}, report)
    store.close()
    env = {**os.environ, "INSPECTOR_DATA": str(tmp_path)}
    for args in (["history", "show", run_id], ["history", "show", run_id, "--json", "-"]):
        done = subprocess.run([sys.executable, "-m", "inspector", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        printed = done.stdout + done.stderr
        assert "link" in printed and "over" in printed, printed
        assert not set(printed) & {"\x1b", "\x07", "\x08", "\r", "\x9b", "\x7f", "\u202e"}, printed
    shown = json.loads(done.stdout)  # the JSON keeps the message as it was
    assert shown["results"][0]["error"]["message"] == hostile
