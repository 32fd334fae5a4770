"""A worker process: import TensorFlow, say ready, run exactly one job, exit.

Protocol (JSON lines): the worker writes ``{"event": "alive"}`` once it dies with its parent
and ``{"event": "ready", ...}`` once TensorFlow is imported, on its control pipe (its original
stdout), reads one request line from stdin, writes progress events and finally
``{"event": "done", ...}``. Anything the user's code prints goes to the job's log, never to
the control pipe. Started by local.LocalExecutor; ``python -m inspector.jobs.worker``. The only module
outside ``engine`` that imports TensorFlow (after the process isolated itself).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import gc
import json
import os
import signal
import sys
import threading
import time
from typing import Any, TextIO

from inspector.jobs import turns
from inspector.jobs.protocol import END_TOKEN, Event, send

_CLONE_NEWNET = 0x40000000
_PR_SET_PDEATHSIG = 1
# Niceness added while importing TensorFlow and warming up (see main()).
STARTUP_NICENESS = 10


def _isolate_network() -> bool:
    """Move this process into a new, empty network namespace (needs root or user namespaces)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(_CLONE_NEWNET) == 0
    except OSError:
        return False


def _die_with_parent() -> None:
    parent = os.getppid()
    try:
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass

    def watch() -> None:  # prctl is per spawning thread; this covers every case
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


def _restore_priority(priority: int) -> None:
    """Set every thread (Linux niceness is per thread; TensorFlow's pools inherited the startup
    niceness) back to ``priority``; without the right to, stay low and say so in the log."""
    try:
        for task in os.listdir("/proc/self/task"):
            with contextlib.suppress(ProcessLookupError):
                os.setpriority(os.PRIO_PROCESS, int(task), priority)
    except (PermissionError, FileNotFoundError) as exc:
        print(f"inspector worker: keeps startup niceness: {exc}", file=sys.stderr)


def _lower_priority_while_starting() -> int:
    """Importing TensorFlow takes seconds of CPU; a replacement worker starts just as the page
    draws the previous job's results, so it starts at low priority (restored before it says
    ready). Returns the priority to go back to."""
    base_priority = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, min(base_priority + STARTUP_NICENESS, 19))
    return base_priority


def _start_tensorflow() -> tuple[str, list[str]]:
    """Import TensorFlow (with Grappler's per-pass log and dumps on) and pay its one-time costs; returns
    its version and the logical devices (TensorFlow's runtime starts now, not during a job)."""
    from inspector.engine import tf_log

    tf_log.set_environment()
    import tensorflow as tf

    from inspector.engine import inspection

    devices = [d.name for d in tf.config.list_logical_devices()]
    try:
        if os.environ.get("INSPECTOR_WARM_UP") != "off":
            inspection.warm_up()
    except Exception as exc:  # a job can still run; it just pays the one-time costs itself
        print(f"inspector worker: warm-up failed: {exc!r}", file=sys.stderr)
    # TensorFlow's and Keras's ~300,000 objects out of the collector's sight: every collection
    # during the job walked them (a SavedModel's load took 1.43 s instead of 0.96 s here).
    gc.freeze()
    return tf.__version__, devices


def _close_quietly(control: TextIO) -> None:
    try:
        os.close(control.fileno())
    except OSError:
        pass


def _log_to(path: str | None) -> None:
    """Send the job's stdout and stderr (the user's prints, TensorFlow's C++ log) to its log."""
    if path:
        log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log_fd, 2)
        os.dup2(log_fd, 1)


def _run_job(control: TextIO, job: dict[str, Any], end_token: str) -> None:
    """Run one request, streaming stage and mode events, and send the final report."""
    from inspector.engine import inspection
    from inspector.inputs.request import InspectRequest
    from inspector.report import to_data

    request = InspectRequest.from_dict(job["request"])
    sent: dict[str, Any] = {}  # mode -> the result object its "mode" event carried
    token = {END_TOKEN: end_token}  # every event carries it: a naive forged line does not

    def on_event(stage: str, mode: str | None, payload: Any) -> None:
        if stage == inspection.MODE_DONE and mode is not None:
            sent[mode] = payload
            send(control, Event.MODE, mode=mode, result=to_data(payload, request.include_graphs),
                 **token)
        elif stage == inspection.MODE_MEASURED and mode is not None:
            send(control, Event.MEASURED, mode=mode, result=to_data(payload, False), **token)
        else:
            send(control, Event.STAGE, stage=stage, mode=mode, **token)

    report = inspection.run(request, on_event, turns.turn)
    # A result the executor already has (unchanged since its "mode" event) is named, not
    # sent again: with GraphDefs of a large model that halves what crosses the pipe.
    data = dataclasses.replace(report, results=()).to_dict(request.include_graphs)
    data["results"] = [{"sent": r.mode} if sent.get(r.mode) is r
                       else to_data(r, request.include_graphs) for r in report.results]
    send(control, Event.DONE, report=data, **{END_TOKEN: end_token})


def main() -> None:
    _die_with_parent()
    sandboxed = os.environ.get("INSPECTOR_IN_SANDBOX") == "bwrap"  # its own empty network
    network_isolated = sandboxed or (
        _isolate_network() if os.environ.get("INSPECTOR_NETWORK") != "on" else False)
    base_priority = _lower_priority_while_starting()
    control = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # stray prints from TensorFlow or user code go to the log
    # A process the user's code forks is a copy of this one: without this it would report its
    # own end on the pipe too (a fork bomb's children sent "done" after the worker's).
    os.register_at_fork(after_in_child=lambda: _close_quietly(control))
    send(control, Event.ALIVE)
    tensorflow, devices = _start_tensorflow()
    _restore_priority(base_priority)
    send(control, Event.READY, pid=os.getpid(), tensorflow=tensorflow,
         network_isolated=network_isolated, sandbox="bwrap" if sandboxed else "none",
         devices=devices)
    line = sys.stdin.readline()
    if not line:
        os._exit(0)  # the executor closed without a job
    job = json.loads(line)
    end_token = str(job.pop(END_TOKEN, ""))  # before any of the user's code runs
    del line
    _log_to(job.get("log_path"))
    try:
        _run_job(control, job, end_token)
    except BaseException as exc:  # the engine maps user errors itself; this is its own failure
        from inspector.errors import ErrorInfo

        send(control, Event.FAILED, error=ErrorInfo.from_exception(exc).to_dict(),
             **{END_TOKEN: end_token})
    control.close()
    os._exit(0)  # skip TensorFlow's slow teardown: the process's work is done


if __name__ == "__main__":
    main()
