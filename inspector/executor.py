"""Run inspections in isolated, pre-started worker processes with time, memory and size limits.

``Executor`` is what the CLI and the app call; ``LocalExecutor`` keeps K workers that already
imported TensorFlow. Each worker runs one job in its own process group and exits; a replacement
starts at once. Requests and results cross as JSON, so another backend (e.g. remote GPU workers)
can implement the same two small interfaces.
"""

from __future__ import annotations

import json
import os
import queue
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import psutil

from inspector.errors import (
    Cancelled,
    ErrorInfo,
    InspectorError,
    MemoryLimit,
    ReportTooLarge,
    Timeout,
    WorkerCrashed,
)
from inspector.report import ModeResult, Report, mode_result_from_dict
from inspector.request import InspectRequest
from inspector.turns import TURN_LOCK_ENV

# How often the supervisor checks time, memory and cancellation.
POLL_S = 0.05


@dataclass(frozen=True)
class Limits:
    """Per-job limits; a breach kills the worker's process group."""

    # Wall-clock seconds from the job's start in a worker (queueing not counted).
    timeout_s: float = 60.0
    # Resident memory of the worker's whole process tree.
    memory_mb: int = 4096
    # Bytes the worker may send back (reports with GraphDefs of large models are a few MB).
    max_report_mb: int = 256


@dataclass(frozen=True)
class Progress:
    """What a job is doing now, for progress displays."""

    # "queued", "starting", "loading", "tracing", "optimizing", "waiting" (for another job's
    # timed calls to end), "timing", "analysing", "ablating", "done", or "failed".
    stage: str
    mode: str | None = None
    # Modes finished so far.
    modes_done: tuple[str, ...] = ()


class JobHandle(Protocol):
    def wait(self, timeout: float | None = None) -> bool: ...
    def result(self, timeout: float | None = None) -> Report: ...
    def cancel(self) -> None: ...
    @property
    def progress(self) -> Progress: ...


class Executor(Protocol):
    def submit(self, request: InspectRequest, limits: Limits | None = None) -> JobHandle: ...
    def devices(self) -> tuple[str, ...]: ...
    def close(self) -> None: ...


class LocalJob:
    """A job queued on or running in a LocalExecutor."""

    def __init__(self, request: InspectRequest, limits: Limits):
        self.request = request
        self.limits = limits
        self._done = threading.Event()
        self._cancelled = threading.Event()
        self._progress = Progress("queued")
        self._mode_results: dict[str, ModeResult] = {}
        self._report: Report | None = None
        self.log = ""  # the worker's stderr for this job (TensorFlow's C++ log included)
        self.worker_info: dict[str, Any] = {}
        self._running = False

    @property
    def progress(self) -> Progress:
        return self._progress

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def result(self, timeout: float | None = None) -> Report:
        if not self._done.wait(timeout):
            raise TimeoutError("the job has not finished")
        assert self._report is not None
        return self._report

    def cancel(self) -> None:
        self._cancelled.set()

    def _finish(self, report: Report, stage: str = "done") -> None:
        self._report = report
        self._progress = replace(self._progress, stage=stage)
        if not self._running:  # a running job is released once its worker is gone
            self._done.set()

    def _fail(self, error: InspectorError, tensorflow: str | None = None) -> None:
        """Keep finished modes; the running one and those not reached get the error."""
        info = ErrorInfo.from_exception(error)
        request = self.request
        if not self._mode_results and self._progress.mode is None:
            self._finish(_header_report(request, tensorflow, info), "failed")
            return
        results = []
        for mode in request.modes:
            if mode in self._mode_results:
                results.append(self._mode_results[mode])
            elif mode == self._progress.mode:
                results.append(ModeResult(mode, error=info))
            else:
                results.append(ModeResult(mode, error=ErrorInfo(
                    info.type, f"not run: the job stopped in mode {self._progress.mode}: "
                               f"{info.message}")))
        self._finish(replace(_header_report(request, tensorflow, None), results=tuple(results)),
                     "failed")


def _header_report(request: InspectRequest, tensorflow: str | None,
                   error: ErrorInfo | None) -> Report:
    source = request.source
    return Report(tensorflow=tensorflow, error=error,
                  source=f"gallery:{source.gallery_name}" if source.gallery_name else source.filename,
                  function=request.function, calls=request.calls, modes=request.modes,
                  grappler={k: str(v) for k, v in request.grappler.items()})


def _assemble(data: dict[str, Any], received: dict[str, ModeResult]) -> Report:
    """The worker's final report; results it names with ``{"sent": mode}`` are the ones its
    "mode" events already delivered."""
    results = tuple(received[item["sent"]] if "sent" in item else mode_result_from_dict(item)
                    for item in data.get("results", ()))
    return replace(Report.from_dict({**data, "results": []}), results=results)


class _Worker:
    """One started worker process, its control pipe and its job log."""

    def __init__(self, python: str, env: dict[str, str], workdir: Path):
        self.workdir = Path(tempfile.mkdtemp(prefix="job-", dir=workdir))
        self.log_path = self.workdir / "worker.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [python, "-m", "inspector.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._log, env=env, cwd=str(Path(__file__).resolve().parent.parent),
            start_new_session=True)  # its own process group, killed as one
        self.ready: dict[str, Any] | None = None
        self._buffer = b""
        self.bytes_read = 0  # everything read from the control pipe, for the report size cap

    def read_events(self, timeout: float) -> list[dict[str, Any]] | None:
        """Events that arrived within ``timeout``; None once the pipe is closed."""
        assert self.process.stdout is not None
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.process.stdout, selectors.EVENT_READ)
                if not selector.select(timeout):
                    return []
        except (OSError, ValueError):
            return None
        try:
            chunk = os.read(self.process.stdout.fileno(), 1 << 20)
        except (OSError, ValueError):  # closed by close() from another thread
            return None
        if not chunk:
            return None
        self.bytes_read += len(chunk)
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def memory_mb(self) -> float:
        try:
            root = psutil.Process(self.process.pid)
            tree = [root, *root.children(recursive=True)]
            return sum(p.memory_info().rss for p in tree) / 2**20
        except psutil.Error:
            return 0.0

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        self._log.close()

    def read_log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


class LocalExecutor:
    """K pre-started worker processes on this machine, one job each, FIFO when all are busy."""

    def __init__(self, workers: int = 1, limits: Limits = Limits(),
                 python: str = sys.executable, env: dict[str, str] | None = None):
        self.limits = limits
        self._python = python
        self._workdir = Path(tempfile.mkdtemp(prefix="inspector-"))
        # The pool's workers take turns for their timed calls (turns.turn).
        self._env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1",
                     TURN_LOCK_ENV: str(self._workdir / "timing.lock")}
        self._jobs: queue.Queue[LocalJob | None] = queue.Queue()
        self._closed = threading.Event()
        self._live: set[_Worker] = set()
        self._idle_ready = 0  # workers that are ready and waiting for a job
        self._devices: tuple[str, ...] = ()  # as the last ready worker listed them
        self._ready_devices = threading.Event()
        self._lock = threading.Lock()
        self._slots = [threading.Thread(target=self._slot, daemon=True, name=f"worker-slot-{i}")
                       for i in range(max(1, workers))]
        for slot in self._slots:
            slot.start()

    # -- public API -------------------------------------------------------------------------
    def submit(self, request: InspectRequest, limits: Limits | None = None) -> LocalJob:
        if self._closed.is_set():
            raise RuntimeError("the executor is closed")
        job = LocalJob(request, limits or self.limits)
        self._jobs.put(job)
        return job

    def devices(self, timeout: float = 120.0) -> tuple[str, ...]:
        """The logical devices a worker's TensorFlow sees (reported when it became ready).

        Raises WorkerCrashed when no worker starts within ``timeout``.
        """
        if not self._ready_devices.wait(timeout):
            raise WorkerCrashed(f"no worker started within {timeout:g} s to list the devices")
        return self._devices

    def wait_warm(self, timeout: float = 120.0) -> bool:
        """Block until every slot has a worker that imported TensorFlow and waits for a job."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._idle_ready >= len(self._slots):
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        """Stop every worker; queued jobs are cancelled."""
        self._closed.set()
        for _ in self._slots:
            self._jobs.put(None)
        with self._lock:
            live = list(self._live)
        for worker in live:
            worker.kill()
        for slot in self._slots:
            slot.join(timeout=5)
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job._fail(Cancelled("the executor was closed before the job started"))

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- slots --------------------------------------------------------------------------------
    def _start_worker(self) -> _Worker:
        worker = _Worker(self._python, self._env, self._workdir)
        with self._lock:
            self._live.add(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._live.discard(worker)

    def _slot(self) -> None:
        while not self._closed.is_set():
            worker = self._start_worker()
            startup_error = self._await_ready(worker)
            with self._lock:
                self._idle_ready += startup_error is None
            job = self._jobs.get()
            with self._lock:
                self._idle_ready -= startup_error is None
            if job is None or self._closed.is_set():
                self._retire(worker)
                if job is not None:
                    job._fail(Cancelled("the executor was closed"))
                return
            if job._cancelled.is_set():
                job._fail(Cancelled("cancelled before it started"))
                self._retire(worker)
                continue
            if startup_error is not None:
                job.log = worker.read_log()
                job._fail(startup_error)
                self._retire(worker)
                time.sleep(1.0)  # a worker that cannot start will not start a moment later
                continue
            job._running = True
            try:
                self._run(worker, job)
            except Exception as exc:  # a supervisor bug must not leave the caller waiting
                job._fail(WorkerCrashed(f"supervising the worker failed: {exc}"))
            finally:
                job.log = worker.read_log()
                self._retire(worker)
                job._running = False
                job._done.set()

    def _await_ready(self, worker: _Worker) -> InspectorError | None:
        """Wait for the worker's TensorFlow import; None when it is ready."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not self._closed.is_set():
            events = worker.read_events(0.2)
            if events is None:
                return self._crash_error(worker, "while starting")
            for event in events:
                if event.get("event") == "ready":
                    worker.ready = event
                    self._devices = tuple(event.get("devices", ()))
                    self._ready_devices.set()
                    return None
        return WorkerCrashed("the worker did not start within 120 s")

    def _crash_error(self, worker: _Worker, when: str) -> WorkerCrashed:
        code = worker.process.wait()
        how = _signal_name(code) if code < 0 else f"exit code {code}"
        # The last log lines say what happened; CUDA's start-up complaints on a CPU-only
        # machine say nothing.
        tail = [t for t in worker.read_log().strip().splitlines() if "cuda" not in t.lower()][-3:]
        last = f"; last log lines: {' | '.join(tail)}" if tail else ""
        return WorkerCrashed(f"the worker died {when} ({how}){last}")

    def _run(self, worker: _Worker, job: LocalJob) -> None:
        ready = worker.ready or {}
        job.worker_info = ready
        tensorflow = ready.get("tensorflow")
        message = {"log_path": str(worker.workdir / "job.log"), "request": job.request.to_dict()}
        assert worker.process.stdin is not None
        worker.process.stdin.write((json.dumps(message) + "\n").encode())
        worker.process.stdin.close()
        worker.log_path = worker.workdir / "job.log"
        job._progress = Progress("starting")
        limits = job.limits
        started = time.monotonic()
        checked = 0.0  # when the process tree's memory was last read (about 1 ms a read)
        while True:
            events = worker.read_events(POLL_S)
            if events is None:
                job._fail(self._crash_error(worker, "during the job"), tensorflow)
                return
            for event in events:
                kind = event.get("event")
                if kind == "stage":
                    job._progress = Progress(event["stage"], event.get("mode"),
                                             job._progress.modes_done)
                elif kind == "mode":
                    job._mode_results[event["mode"]] = mode_result_from_dict(event["result"])
                    job._progress = replace(job._progress, modes_done=(
                        *job._progress.modes_done, event["mode"]))
                elif kind == "done":
                    # The worker's last act is to exit; the kernel takes 20-40 ms to free a
                    # TensorFlow process, so the caller gets the report before it is reaped.
                    # Failures below are released only once their worker is gone.
                    job.log = worker.read_log()
                    job._running = False
                    job._finish(_assemble(event["report"], job._mode_results))
                    return
                elif kind == "failed":
                    job._fail(ErrorInfo.from_dict(event["error"]).to_exception(), tensorflow)
                    return
            elapsed = time.monotonic() - started
            if job._cancelled.is_set():
                job._fail(Cancelled("the job was cancelled"), tensorflow)
                return
            if elapsed > limits.timeout_s:
                now = job._progress
                doing = f" (it was {now.stage}{' mode ' + now.mode if now.mode else ''})"
                fewer = "make fewer timed calls (--runs, --warmup), " if now.stage == "timing" else ""
                job._fail(Timeout(f"the job ran longer than {limits.timeout_s:g} s{doing}; "
                                  f"{fewer}simplify the function or raise the limit (--timeout; in the "
                                  "app: Advanced)"),
                          tensorflow)
                return
            if worker.bytes_read > limits.max_report_mb * 2**20:
                job._fail(ReportTooLarge(f"the worker sent more than {limits.max_report_mb} MB"),
                          tensorflow)
                return
            if time.monotonic() - checked < POLL_S:  # not again for every burst of events
                continue
            checked = time.monotonic()
            used = worker.memory_mb()
            if used > limits.memory_mb:
                job._fail(MemoryLimit(f"the worker used {used:.0f} MB, over the {limits.memory_mb} "
                                      "MB limit; use smaller inputs or raise it (--memory-mb; in "
                                      "the app: Advanced)"),
                          tensorflow)
                return


def run_one(request: InspectRequest, limits: Limits = Limits(),
            on_progress: Callable[[Progress], None] | None = None) -> tuple[Report, str]:
    """Start a worker, run one request, stop: for one-shot callers like the CLI.

    Returns the report and the worker's log.
    """
    # The job is waiting already: a warm-up would only delay it.
    with LocalExecutor(workers=1, limits=limits, env={"INSPECTOR_WARM_UP": "off"}) as executor:
        job = executor.submit(request)
        last = None
        while not job.wait(0.1):
            if on_progress is not None and job.progress != last:
                last = job.progress
                on_progress(last)
        return job.result(), job.log
