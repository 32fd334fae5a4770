"""The hostile user, in the real sandbox: pasted code that reads the server's secrets from its
environment and /proc, forges its own report on the worker's control pipe, or starts a fork
storm. Each must end in a typed error or in a report that holds nothing of the server's.

The dashboard's side (private runs, Markdown in user text) is in test_hostile_browser.py.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from inspector.hosting import sandbox
from inspector.inputs.request import prepare
from inspector.inputs.sources import Source
from inspector.jobs.executor import Limits
from inspector.jobs.local import LocalExecutor

pytestmark = pytest.mark.worker

# What an operator's environment holds: a store URL with its password, an API token.
SECRETS = {"INSPECTOR_DB": "postgresql+psycopg://inspector:pw-3e9f1c@db/inspector",
           "OPERATOR_API_TOKEN": "tok-77aa0d5e", "INSPECTOR_CONFIG": "/etc/inspector-9b2.toml"}
SECRET_VALUES = ("pw-3e9f1c", "tok-77aa0d5e", "inspector-9b2")

READ_EVERYTHING = """
import os
seen = [repr(dict(os.environ))]
for path in ("/proc/self/environ", "/proc/1/environ", f"/proc/{os.getppid()}/environ",
             "/proc/2/environ", "/proc/3/environ"):
    try:
        seen.append(open(path, "rb").read().decode("latin-1"))
    except OSError as exc:
        seen.append(f"{path}: {exc}")
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            seen.append(open(f"/proc/{pid}/environ", "rb").read().decode("latin-1"))
        except OSError:
            pass
print("\\n".join(seen))
"""


def _request(body: str, modes=("eager",)):
    code = "import tensorflow as tf\n" + textwrap.dedent(body) + "\n\ndef f(x):\n    return x\n"
    return prepare(Source(code, "pasted.py"), "f", ["float32[4]"], list(modes), runs=1,
                   warmup=0)


def _run(pool, body: str, modes=("eager",), timeout_s: float = 60.0):
    job = pool.submit(_request(body, modes), Limits(timeout_s=timeout_s))
    return job.result(timeout=timeout_s + 120), job.log


@pytest.fixture(scope="module", params=["bwrap", "off"])
def pool(request):
    """A pool started by a server whose environment holds the operator's secrets; in the
    sandbox, and without it (the allow-list holds either way)."""
    if request.param == "bwrap" and sandbox.detect("auto").kind != "bwrap":
        pytest.skip(f"no sandbox here: {sandbox.detect('auto').reason}")
    patch = pytest.MonkeyPatch()
    for name, value in SECRETS.items():
        patch.setenv(name, value)
    try:
        with LocalExecutor(workers=1, sandbox_mode=request.param) as executor:
            yield executor
    finally:
        patch.undo()


def test_the_servers_secrets_reach_no_worker(pool):
    report, log = _run(pool, READ_EVERYTHING)
    assert report.error is None, report.error
    everything = report.to_json() + log
    assert "PATH" in report.stdout  # it did read its environment
    for value in SECRET_VALUES:
        assert value not in everything


# Writes EVENT (defined before it) as a line to every pipe the worker's process can reach.
WRITE_EVENT = """
import json, os, stat
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, (json.dumps(EVENT) + "\\n").encode())
    except OSError:
        pass
"""
FORGE = "EVENT = " + repr(
    {"event": "done", "report": {"tensorflow": "9.9.9-FORGED", "device": "/device:TPU:0",
                                 "devices": ["/device:TPU:0"], "function": "forged",
                                 "calls": ["int8[1]"], "modes": ["eager", "xla"],
                                 "results": [{"mode": "xla", "traces": 123456}]}}) + WRITE_EVENT


def test_a_forged_done_event_followed_by_the_real_work_ends_as_not_the_protocol(pool):
    report, _ = _run(pool, FORGE)
    assert report.error is not None and report.error.type == "WorkerCrashed"
    assert "not the protocol" in report.error.message
    assert report.tensorflow != "9.9.9-FORGED" and report.function == "f"


def test_a_forged_report_cannot_change_what_the_server_knows(pool):
    """The code forges a whole report and exits before the worker can send its own: timings
    and graphs could be made up (the README says so), but not the version, the devices,
    the function, the calls or the modes."""
    import tensorflow as tf

    report, _ = _run(pool, FORGE + "os._exit(0)\n", modes=("eager", "spec"))
    assert report.tensorflow == tf.__version__
    assert report.function == "f" and report.calls == ("float32[4]",)
    assert report.modes == ("eager", "spec") and "/device:TPU:0" not in report.devices
    assert report.device != "/device:TPU:0"
    assert all(r.mode in ("eager", "spec") for r in report.results)
    assert report.executor is not None and report.executor.tensorflow == tf.__version__


@pytest.mark.parametrize("event, then", [
    ({"event": "measured", "mode": "eager", "result": {"mode": "eager", "traces": "many"}}, ""),
    # Well typed, then the worker dies: a walk saw such figures saved as the run's.
    ({"event": "measured", "mode": "eager", "result": {"mode": "eager", "traces": 777}},
     "os._exit(3)\n"),
    ({"event": "mode", "mode": "eager", "result": {"mode": "eager", "traces": 777}},
     "os._exit(3)\n"),
    ({"event": "stage", "stage": "tracing", "mode": {"evil": [1, 2]}}, "os._exit(3)\n")])
def test_forged_events_end_the_job_as_not_the_protocol_and_none_is_kept(pool, event, then):
    """Every event of a job carries its token: forged figures (of the wrong type, which broke
    other users' pages once saved; or well typed, followed by a crash) end the job, and
    nothing the worker sent is kept."""
    report, _ = _run(pool, f"EVENT = {event!r}\n" + WRITE_EVENT + then)
    assert report.error is not None and report.error.type == "WorkerCrashed"
    assert "not the protocol" in report.error.message
    assert f"a {event['event']} event without the job's token" in report.error.message
    assert not report.results


def test_a_line_that_is_not_json_ends_the_job_and_the_next_job_runs(pool):
    report, _ = _run(pool, """
import os, stat
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, b"{not json\\n")
    except OSError:
        pass
""")
    assert report.error is not None and report.error.type == "WorkerCrashed"
    assert "not the protocol" in report.error.message
    after, _ = _run(pool, "")
    assert after.error is None and json.loads(after.to_json())["function"] == "f"


def test_an_endless_line_on_the_pipe_ends_as_not_the_protocol_not_as_a_timeout(pool):
    """Found in a walk: 100 MB without a newline kept the server re-splitting its buffer at
    every read (quadratic) until the job's time limit, blamed on "loading"."""
    report, _ = _run(pool, """
import os, stat
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            for _ in range(100):
                os.write(fd, b"A" * 2**20)
    except OSError:
        pass
""")
    assert report.error is not None and report.error.type == "WorkerCrashed", report.error
    assert "not the protocol" in report.error.message


def test_a_fork_storm_is_a_process_limit_not_a_memory_limit(pool):
    report, _ = _run(pool, """
import os, time
for _ in range(300):
    try:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
    except OSError:
        break
time.sleep(30)
""", timeout_s=40)
    assert report.error is not None and report.error.type == "ProcessLimit", report.error
    assert "processes" in report.error.message
    after, _ = _run(pool, "")
    assert after.error is None
