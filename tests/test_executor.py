"""Isolated workers: every way user code can fail gets its typed error, nothing is left running,
and the next job is unaffected. Each job here starts a real worker process."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import itertools
import re
import threading
import time

import psutil
import pytest

from inspector.errors import CallSpecError, FunctionNotFound, SourceError
from inspector.inputs.request import InspectRequest, prepare
from inspector.inputs.sources import Source
from inspector.jobs.executor import Limits

pytestmark = pytest.mark.worker

GOOD = "import tensorflow as tf\n\ndef f(x):\n    return tf.square(x) + 1.0\n"


def request_for(code: str, function: str = "f", calls=("float32[4]",), modes=("tensor",)):
    """A request as a caller that skipped prepare() would send it: the worker must cope."""
    return InspectRequest(Source(code, "snippet.py"), function, tuple(calls), tuple(modes),
                          runs=3, warmup=1)


# Errors for which the executor kills the worker's process group.
KILLED = {"Timeout", "MemoryLimit", "WorkerCrashed", "Cancelled", "ReportTooLarge"}


def run_job(executor, request, **limits):
    job = executor.submit(request, Limits(**limits) if limits else None)
    report = job.result(timeout=120)
    pid = job.worker_info.get("pid")
    if pid is None:
        return report
    errors = [e.type for e in (report.error, *(r.error for r in report.results)) if e]
    if not set(errors) & KILLED:  # the worker finished and exits by itself; the report comes
        with contextlib.suppress(psutil.Error):  # before it is reaped
            psutil.Process(pid).wait(timeout=10)
    # A killed job is released only once its worker and process group are gone.
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    return report


def mode_error(report):
    assert report.error is None, report.error
    (result,) = report.results
    assert result.error is not None
    return result.error


def assert_good_job_works(executor):
    report = run_job(executor, request_for(GOOD))
    assert report.error is None and report.results[0].error is None
    assert report.results[0].post.nodes > 0


@pytest.mark.parametrize("code, function, calls, error, fragment", [
    ("def f(x):\n    return x +\n", None, ["float32[4]"], SourceError, "line 2"),
    (GOOD, "g", ["float32[4]"], FunctionNotFound, "'g' is not defined; top-level functions: f"),
    (GOOD + "scale = 3\n", "scale", ["float32[4]"], FunctionNotFound, "is assigned"),
    (GOOD, "f", ["float42[4]"], CallSpecError, "unknown dtype 'float42'"),
    ("def f(x, y):\n    return x\n", "f", ["float32[4]"], CallSpecError,
     "has 1 argument(s) but the function takes 2"),
])
def test_input_errors_are_caught_before_any_worker(code, function, calls, error, fragment):
    with pytest.raises(error) as caught:
        prepare(Source(code, "snippet.py"), function, calls)
    assert fragment in caught.value.message


def test_worker_reports_source_errors_it_meets(executor):
    report = run_job(executor, request_for("def f(x):\n    return x +\n"))
    assert report.error.type == "SourceError" and report.error.line == 2
    report = run_job(executor, request_for("import no_such_module_xyz\n\ndef f(x):\n    return x\n"))
    assert report.error.type == "SourceError" and report.error.line == 1
    assert "no_such_module_xyz" in report.error.message
    report = run_job(executor, request_for(GOOD + "scale = 3\n", function="scale"))
    assert report.error.type == "FunctionNotFound" and "not a function" in report.error.message
    assert_good_job_works(executor)


def test_exception_while_tracing_keeps_only_user_frames(executor):
    code = ("import tensorflow as tf\n\ndef helper(x):\n    raise ValueError('bad shape')\n\n"
            "def f(x):\n    return helper(x)\n")
    error = mode_error(run_job(executor, request_for(code)))
    assert error.type == "UserCodeError"
    assert "ValueError" in error.message and "bad shape" in error.message
    assert error.line == 4
    assert [frame.split(":")[0] for frame in error.frames] == ["line 7 in f", "line 4 in helper"]


def test_a_keras_error_keeps_its_whole_message_and_is_said_once_for_every_mode(executor):
    """Keras puts the cause in the middle of a many-line message (issue 22: only its last line,
    "• kwargs=<class 'inspect._empty'>", was kept)."""
    code = ("import tensorflow as tf\n"
            "model = tf.keras.Sequential([tf.keras.Input((8, 8, 3)), tf.keras.layers.Conv2D(2, 3)])\n"
            "\ndef classify(images):\n    return model(images, training=False)\n")
    report = run_job(executor, request_for(code, "classify", modes=("numpy", "spec")))
    ((modes, error),) = report.mode_errors()
    assert modes == ("numpy", "spec")
    assert error.type == "UserCodeError" and error.line == 5
    first, *rest = error.message.splitlines()
    assert first.startswith("ValueError: ") and first.endswith("(while tracing and running "
                                                               "the function)")
    assert "Expected shape (None, 8, 8, 3), but input has incompatible shape (4,)" in error.message
    assert "kwargs=<class 'inspect._empty'>" in rest[-1]
    assert "\x1b[" not in error.message, "Keras's terminal colours are dropped"
    # The whole traceback, Keras's frames included, for the UI's Traceback expander.
    assert "Traceback (most recent call last)" in error.traceback
    assert "keras" in error.traceback and "line 5" in error.traceback
    # Where the server keeps its packages and the job's files is not shown to the team.
    assert '"<site-packages>/keras/' in error.traceback and "site-packages/" not in \
        error.traceback.replace("<site-packages>/", "")
    assert '"<your code>/snippet.py", line 5' in error.traceback and "/tmp/" not in error.traceback


def test_tensorflow_assertion_failing_while_running(executor):
    code = ("import tensorflow as tf\n\ndef f(x):\n"
            "    tf.debugging.assert_negative(x, message='x must be negative')\n"
            "    return x\n")
    error = mode_error(run_job(executor, request_for(code)))
    assert error.type == "UserCodeError"
    assert "InvalidArgumentError" in error.message and "x must be negative" in error.message


@pytest.mark.parametrize("code", [
    "def f(x):\n    while True:\n        pass\n",
    ("import tensorflow as tf\n\ndef f(x):\n"
     "    return tf.while_loop(lambda i: i >= 0, lambda i: i + 1, [tf.constant(0)])\n"),
], ids=["python-loop-while-tracing", "tf-while-loop-while-running"])
def test_endless_loops_time_out(executor, code):
    started = time.monotonic()
    report = run_job(executor, request_for(code), timeout_s=6)
    error = mode_error(report)
    assert error.type == "Timeout" and "(it was tracing mode tensor)" in error.message
    assert time.monotonic() - started < 60
    assert_good_job_works(executor)


def test_memory_cap(executor):
    code = ("import numpy as np\n\ndef f(x):\n"
            "    hoard = [np.ones(50_000_000) for _ in range(200)]\n    return x\n")
    report = run_job(executor, request_for(code), memory_mb=2500)
    error = mode_error(report)
    assert error.type == "MemoryLimit" and "2500 MB" in error.message
    assert_good_job_works(executor)


@pytest.mark.parametrize("code, fragment", [
    ("import os\n\ndef f(x):\n    os._exit(3)\n", "exit code 3"),
    ("import ctypes\n\ndef f(x):\n    return ctypes.string_at(0)\n", "SIGSEGV"),
], ids=["os-exit", "segfault"])
def test_crashes(executor, code, fragment):
    error = mode_error(run_job(executor, request_for(code)))
    assert error.type == "WorkerCrashed" and fragment in error.message
    assert_good_job_works(executor)


def test_finished_modes_survive_a_later_crash(executor):
    code = ("import os\nimport tensorflow as tf\n\ndef f(x):\n"
            "    if isinstance(x, tf.Tensor) and not tf.executing_eagerly():\n"
            "        if x.shape.rank == 1 and x.shape[0] is None:\n            os._exit(4)\n"
            "    return x * 2.0\n")
    report = run_job(executor, request_for(code, modes=("tensor", "spec-dynamic", "xla")))
    by_mode = {r.mode: r for r in report.results}
    # Measured before the crash (every mode's figures come before any profile): its matrix
    # figures stand, and it says why its profile and analysis are missing.
    tensor = by_mode["tensor"]
    assert tensor.error is None and tensor.post is not None and tensor.timing is not None
    assert tensor.unfinished.startswith("the job stopped after the matrix's figures")
    assert tensor.op_times_note == tensor.passes_note == "not made: " + tensor.unfinished
    assert "WorkerCrashed" in tensor.unfinished
    assert by_mode["spec-dynamic"].error.type == "WorkerCrashed"
    assert by_mode["xla"].error.message.startswith("not run")


def test_final_report_reuses_mode_events_and_keeps_later_changes(executor):
    # Ablation rewrites a mode's result after its "mode" event: that result must arrive whole;
    # the others are named, not sent again (with GraphDefs the pipe carries them once).
    request = dataclasses.replace(request_for(GOOD, modes=("eager", "tensor")),
                                  ablate=True, include_graphs=True)
    job = executor.submit(request)
    report = job.result(timeout=120)
    eager, tensor = report.results
    assert eager is job._mode_results["eager"]
    assert tensor is not job._mode_results["tensor"]
    assert job._mode_results["tensor"].ablation == ()
    assert {row.option for row in tensor.ablation} >= {"constant_folding", "remapping"}
    assert tensor.graphs["post"] == job._mode_results["tensor"].graphs["post"]


def test_eight_jobs_from_four_threads_two_crashing(executor):
    jobs = {}
    for n in range(8):
        code = ("import os\n\ndef f(x):\n    os._exit(5)\n" if n in (2, 5) else GOOD)
        jobs[n] = request_for(code, calls=(f"float32[{n + 1}]",))
    reports: dict[int, object] = {}

    def submit(numbers):
        for n in numbers:
            reports[n] = executor.submit(jobs[n]).result(timeout=300)

    threads = [threading.Thread(target=submit, args=([i, i + 4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for n, report in reports.items():
        (result,) = report.results
        if n in (2, 5):
            assert result.error.type == "WorkerCrashed"
        else:
            assert result.error is None
            assert result.calls[0].spec == f"float32[{n + 1}]"
            assert result.calls[0].signature == f"float32[{n + 1}]"
    assert len(reports) == 8


def test_concurrent_jobs_take_turns_for_their_timed_calls(executor):
    # The fixture's two workers run these at once; their timed loops must not overlap, or each
    # job's figures would include the other's load. Each worker logs the interval it held.
    executor.wait_warm()
    request = dataclasses.replace(request_for(GOOD, modes=("tensor", "spec", "numpy")),
                                  runs=400, warmup=5)
    jobs = [executor.submit(request) for _ in range(2)]
    intervals = []
    for job in jobs:
        report = job.result(timeout=120)
        assert report.error is None and all(r.error is None for r in report.results)
        held = re.findall(r"inspector: timed (.+?) from ([\d.]+) to ([\d.]+)", job.log)
        # Every mode's timed calls, then (after the matrix's figures went out) each one's
        # profiled calls, in turns of their own.
        assert [mode for mode, _, _ in held] == ["tensor", "spec", "numpy", "tensor profiled",
                                                 "spec profiled", "numpy profiled"]
        intervals += [(float(start), float(end)) for _, start, end in held]
    intervals.sort()
    for (_, end), (next_start, _) in itertools.pairwise(intervals):
        assert end <= next_start, "two jobs made timed calls at the same time"


def test_cancel_and_network_isolation(executor):
    job = executor.submit(request_for("def f(x):\n    while True:\n        pass\n"))
    while job.progress.stage in ("queued", "starting"):
        time.sleep(0.05)
    job.cancel()
    assert mode_error(job.result(timeout=30)).type == "Cancelled"
    code = ("import socket\n\ndef f(x):\n    socket.create_connection(('127.0.0.1', 9), 1)\n"
            "    return x\n")
    error = mode_error(run_job(executor, request_for(code)))
    # In the worker's own network namespace the host is unreachable: loopback is down, or (in
    # bubblewrap, which brings up a loopback of its own) nothing listens on it.
    assert "Network is unreachable" in error.message or "Connection refused" in error.message


def test_a_second_user_is_served_while_the_first_has_five_jobs_queued():
    """Two workers, one job at once per user: Alice submits six, Bob one after them. Bob's
    job starts on the free worker at once; in FIFO order it would wait for all of Alice's."""
    from inspector.jobs.local import LocalExecutor

    slow = request_for("import time\n\ndef f(x):\n    time.sleep(1.5)\n    return x\n",
                       modes=("eager",))
    with LocalExecutor(workers=2, jobs_per_user=1) as pool:
        assert pool.wait_warm(180)
        alice = [pool.submit(slow, user="alice") for _ in range(6)]
        time.sleep(0.5)
        assert sum(job.progress.stage == "queued" for job in alice) == 5
        assert alice[-1].queued_ahead == 4
        bob = pool.submit(request_for(GOOD, modes=("eager",)), user="bob")
        assert bob.queued_ahead in (0, None)  # next in turn, or already started
        assert bob.wait(120) and bob.result().error is None
        # Alice's second job has not finished (her first barely has): Bob did not wait for her.
        assert not alice[2].wait(0) and not alice[-1].wait(0)
        # Cancel works while queued: at once, without a worker.
        alice[-1].cancel()
        assert alice[-1].wait(1)
        assert alice[-1].result().error.type == "Cancelled"
        assert all(job.wait(180) for job in alice[:-1])
        assert all(job.result().error is None for job in alice[:-1])


LEAKER = """import json, os
import tensorflow as tf

json.leaked = "by the first job"
os.environ["LEAKED"] = "by the first job"
open("/tmp/leaked", "w").write("by the first job")
tf.config.optimizer.set_experimental_options({"constant_folding": False})
tf.keras.utils.get_custom_objects()["leaked"] = lambda x: x

def f(x):
    return tf.square(x)
"""
LOOKER = """import json, os
import tensorflow as tf

print("seen:", {
    "module global": hasattr(json, "leaked"),
    "environment": "LEAKED" in os.environ,
    "file in /tmp": os.path.exists("/tmp/leaked"),
    "tf.config": tf.config.optimizer.get_experimental_options().get("constant_folding") is False,
    "registered object": "leaked" in tf.keras.utils.get_custom_objects(),
})

def f(x):
    return tf.square(x)
"""


def test_a_spare_takes_the_next_job_and_sees_nothing_of_the_previous_one():
    """Issue 24: with a spare, the job after a job runs on a worker that was warm before the
    first ended (no TensorFlow import in between), and it cannot see what the first job left:
    module globals, the environment, files in /tmp, tf.config and registered objects."""
    from inspector.hosting import sandbox
    from inspector.jobs.local import LocalExecutor

    with LocalExecutor(workers=1, spares=1) as pool:
        assert pool.wait_warm(timeout=120)
        warm = {w.process.pid for w in pool._live}
        assert len(warm) == 2, "the worker and its spare"
        first = pool.submit(request_for(LEAKER))
        assert first.result(timeout=120).results[0].error is None
        second = pool.submit(request_for(LOOKER))
        report = second.result(timeout=120)
        assert report.results[0].error is None, report.results[0].error
        pids = first.worker_info["pid"], second.worker_info["pid"]
        assert pids[0] != pids[1] and set(pids) <= warm, "both ran on workers warm at the start"
        seen = ast.literal_eval(report.stdout.split("seen:", 1)[1].strip())  # as printed
        if not sandbox.detect().active:  # /tmp is the machine's own without bubblewrap
            seen.pop("file in /tmp")
        assert not any(seen.values()), seen


def _assert_one_at_a_time(jobs: list) -> None:
    """Watch the jobs until they end: never two running at once, and each succeeded."""
    deadline = time.monotonic() + 60
    overlap = False
    while not all(j.wait(0) for j in jobs) and time.monotonic() < deadline:
        running = [j for j in jobs if j.progress.stage not in ("queued", "done", "failed")]
        overlap = overlap or len(running) > 1
        time.sleep(0.05)
    assert all(j.result(timeout=60).results[0].error is None for j in jobs)
    assert not overlap


def test_at_most_k_jobs_run_at_once_with_spares():
    """Spares are warm, not extra capacity: two jobs on one worker and one spare run in turn."""
    from inspector.jobs.local import LocalExecutor

    slow = ("import time\nimport tensorflow as tf\n\ndef f(x):\n"
            "    time.sleep(1.5)\n    return x\n")
    with LocalExecutor(workers=1, spares=1) as pool:
        assert pool.wait_warm(timeout=120)
        jobs = [pool.submit(request_for(slow, modes=("eager",))) for _ in range(2)]
        _assert_one_at_a_time(jobs)


def test_the_replacement_stands_still_while_the_spare_runs_the_next_job():
    """Issue 24: a job right after a job runs on the spare while the first worker's
    replacement imports TensorFlow; that import stands still (its whole process group
    stopped) while the job runs, and goes on after: the replacement becomes warm."""
    from inspector.jobs.local import LocalExecutor

    slow = ("import time\nimport tensorflow as tf\n\ndef f(x):\n"
            "    time.sleep(1.5)\n    return x\n")
    with LocalExecutor(workers=1, spares=1) as pool:
        assert pool.wait_warm(timeout=120)
        warm = {w.process.pid for w in pool._live}
        assert pool.submit(request_for(GOOD)).result(timeout=120).results[0].error is None
        job = pool.submit(request_for(slow, modes=("eager",)))
        deadline = time.monotonic() + 30
        while job.progress.stage in ("queued", "waiting for a worker", "starting") \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        (replacement,) = [w.process.pid for w in pool._live if w.process.pid not in warm]
        root = psutil.Process(replacement)
        states = {p.status() for p in (root, *root.children(recursive=True))}
        assert states == {psutil.STATUS_STOPPED}, states
        assert job.result(timeout=60).results[0].error is None
        assert pool.wait_warm(timeout=120), "continued once the job ended"


def test_a_second_pool_given_the_permits_runs_within_the_first_ones_worker_count():
    """Issue 28: a version's pool (here the same TensorFlow, as the mechanism is the same)
    shares the server pool's permits: one job at a time across both with K=1, and the idle
    second pool holds no permit (the first pool's job runs while it waits)."""
    from inspector.jobs.local import LocalExecutor

    slow = ("import time\nimport tensorflow as tf\n\ndef f(x):\n"
            "    time.sleep(1.5)\n    return x\n")
    with LocalExecutor(workers=1) as first, \
            LocalExecutor(workers=1, permits=first.permits, turns_with=first.turn_lock) as second:
        assert first.wait_warm(timeout=120) and second.wait_warm(timeout=120)
        alone = first.submit(request_for(slow, modes=("eager",)))
        assert alone.result(timeout=60).results[0].error is None
        jobs = [pool.submit(request_for(slow, modes=("eager",))) for pool in (first, second)]
        _assert_one_at_a_time(jobs)


def test_each_report_says_where_its_wall_time_went(executor):
    """Issue 24's waterfall: the request's stages in order, as the server saw them; together
    no longer than the caller waited."""
    started = time.monotonic()
    job = executor.submit(request_for(GOOD, modes=("numpy", "spec")))
    report = job.result(timeout=120)
    waited_ms = (time.monotonic() - started) * 1e3
    names = [s.stage for s in report.request_stages]
    assert names[:4] == ["queued", "waiting for a worker", "starting", "loading"]
    # Every mode's figures for the matrix first, then each mode's profile and analysis.
    order = [f"{stage} {mode}" for mode in ("numpy", "spec")
             for stage in ("tracing", "timing", "comparing")]
    order += [f"{stage} {mode}" for mode in ("numpy", "spec") for stage in ("profiling",
                                                                           "analysing")]
    assert [n for n in names if n in order] == order
    assert names.index("sending spec's figures") < names.index("profiling numpy")
    assert names[-2:] == ["sending the report", "decoding"]
    assert all(s.ms >= 0 for s in report.request_stages)
    assert sum(s.ms for s in report.request_stages) <= waited_ms + 1
    data = report.to_dict()
    assert data["request_stages"][0] == {"stage": "queued", "ms": report.request_stages[0].ms}


# Sleeps in each call after its fifth (request_for's first call, 1 warm-up and 3 timed calls):
# the profiled calls take 2 s, while the matrix's figures are already measured.
SLOW_PROFILE = ("import time\nimport tensorflow as tf\n\nCALLS = [0]\n\n\n"
                "def _count():\n    CALLS[0] += 1\n    if CALLS[0] > 5:\n"
                "        time.sleep(0.4)\n    return 0.0\n\n\n"
                "def f(x):\n    return x * 2.0 + tf.py_function(_count, [], tf.float32)\n")


def test_the_matrix_figures_come_before_the_profile_and_the_analysis(executor):
    """Issue 24: the first visible answer (the matrix) does not wait for the profiled calls
    or the analyses behind the other tabs; its figures are the final report's."""
    from inspector.output import tables

    job = executor.submit(request_for(SLOW_PROFILE, modes=("spec",)))
    early = None
    deadline = time.monotonic() + 60
    while early is None and not job.wait(0.02) and time.monotonic() < deadline:
        early = job.measured()
    assert early is not None, "the matrix's figures came only with the whole report"
    assert job.progress.stage in ("profiling", "analysing") and not job.wait(0)
    report = job.result(timeout=60)
    assert job.measured() is None  # a finished job has its report
    (measured,), (final,) = early.results, report.results
    assert final.error is None and final.timing.breakdown is not None and final.lines
    assert tables.matrix(early) == tables.matrix(report)  # what the page draws, both times
    assert (measured.shapes, measured.diff, measured.calls) == (final.shapes, final.diff,
                                                                final.calls)
    # Not yet: the profile, the lines, the graphs.
    assert measured.timing.breakdown is None and not measured.lines and not measured.op_times
    assert measured.graphs is None


def test_a_job_stopped_while_profiling_keeps_the_modes_figures_and_says_why(executor):
    """The mode the job stopped in (a time limit during its profiled calls, 3 s each) keeps
    the figures the page showed, with the error and why its profile and analysis are
    missing; the waterfall says where the time went up to the stop."""
    code = SLOW_PROFILE.replace("time.sleep(0.4)", "time.sleep(3)")
    report = executor.submit(request_for(code, modes=("spec",)),
                             Limits(timeout_s=6)).result(timeout=90)
    (spec,) = report.results
    assert spec.error.type == "Timeout" and "profiling mode spec" in spec.error.message
    assert spec.traces == 1 and spec.post is not None and spec.timing.runs == 3
    assert spec.unfinished.startswith("the job stopped after the matrix's figures")
    assert "Timeout" in spec.unfinished and not spec.lines and spec.timing.breakdown is None
    assert [s.stage for s in report.request_stages][-1] == "profiling spec"


def test_a_one_shot_pool_starts_no_worker_after_its_job():
    """The CLI's pool (``run_one``) serves one job and closes: a replacement worker started
    after the job would only be killed again (it cost the CLI a bwrap start on its way out)."""
    from inspector.jobs.local import LocalExecutor

    with LocalExecutor(workers=1, env={"INSPECTOR_WARM_UP": "off"}, replace=False) as pool:
        job = pool.submit(request_for(GOOD))
        assert job.result(timeout=120).results[0].error is None
        deadline = time.monotonic() + 5
        while pool._slots[0].is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pool._slots[0].is_alive()  # the slot ended with its job
        assert not pool._live  # and started no worker after it


def test_the_waterfall_places_a_workers_stages_by_its_own_clock():
    """Events the server reads in one batch arrive together; the stages between them took
    the time the worker's clock says (each event carries it). A forged time (the pipe is
    open to the user's code) cannot make a stage negative or the stages longer than the job."""
    from inspector.errors import WorkerCrashed
    from inspector.jobs import protocol
    from inspector.jobs.job import Job

    def batch(*times: float) -> Job:
        job = Job(request_for(GOOD, modes=("spec",)), Limits())
        started = time.monotonic()
        job.start({"tensorflow": "x", "ready_at": started})
        time.sleep(0.05)  # sent 10 ms apart, read at once
        for (stage, mode), at in zip((("loading", None), ("tracing", "spec"),
                                      ("timing", "spec"), ("comparing", "spec")), times,
                                     strict=True):
            job.enter_stage(stage, mode, started + at)
        return job

    ms = {s.stage: s.ms for s in batch(0.001, 0.011, 0.021, 0.031).request_stages()}
    assert [ms["loading"], ms["tracing spec"], ms["timing spec"]] == pytest.approx(
        [10, 10, 10], abs=1)
    before = time.monotonic()
    forged = batch(0.001, 1e9, -1e9, 0.031).request_stages()
    assert all(s.ms >= 0 for s in forged)
    assert sum(s.ms for s in forged) <= (time.monotonic() - before) * 1e3
    for bad in ("soon", True, float("nan"), float("inf"), [1]):
        with pytest.raises(WorkerCrashed, match="not the protocol"):
            protocol.sent_at({"event": "stage", "at": bad})
    assert protocol.sent_at({"event": "stage"}) is None


def test_a_worker_may_name_only_its_own_stages_and_the_requests_modes():
    """What the worker's events may say (its pipe is open to the user's code, and a forger
    may have dug out the token): a stage only the server enters, a mode not asked for, a
    result holding another mode than its event's, a second result for a mode."""
    from inspector.errors import WorkerCrashed
    from inspector.jobs.job import Job
    from inspector.report import ModeResult

    job = Job(request_for(GOOD, modes=("numpy", "spec")), Limits())
    job.enter_stage("tracing", "numpy")
    for stage, mode in (("done", None), ("queued", None), ("tracing", "xla"),
                        ("tracing", {"evil": [1]})):
        with pytest.raises(WorkerCrashed):
            job.enter_stage(stage, mode)
    with pytest.raises(WorkerCrashed, match="which the request did not ask for"):
        job.add_measured("xla", ModeResult("xla"))
    with pytest.raises(WorkerCrashed, match="holding mode 'xla'"):
        job.add_measured("spec", ModeResult("xla"))
    job.add_measured("spec", ModeResult("spec"))
    with pytest.raises(WorkerCrashed, match="a second figures for mode spec"):
        job.add_measured("spec", ModeResult("spec"))
    job.add_mode("spec", ModeResult("spec"))
    with pytest.raises(WorkerCrashed, match="a second result for mode spec"):
        job.add_mode("spec", ModeResult("spec"))
