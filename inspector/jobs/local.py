"""The local pool: K pre-started worker processes on this machine, one job each, FIFO.

Each worker imported TensorFlow before a job arrives, runs one job in its own process group
under time, memory and report-size limits, and exits; a replacement starts at once.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from inspector.errors import (
    Cancelled,
    ErrorInfo,
    ExecutorError,
    InspectorError,
    MemoryLimit,
    ProcessLimit,
    ReportTooLarge,
    Timeout,
    WorkerCrashed,
)
from inspector.hosting import sandbox
from inspector.inputs.request import InspectRequest
from inspector.jobs import protocol
from inspector.jobs.environment import worker_environment
from inspector.jobs.executor import (
    DEFAULT_LIMITS,
    Executor,
    JobHandle,
    Limits,
    Progress,
    Stage,
    check_fits,
)
from inspector.jobs.imports import PAUSE_LIMIT_S, ImportPauses
from inspector.jobs.job import Job, QueuedPool
from inspector.jobs.process import WorkerProcess, place_model
from inspector.jobs.protocol import Event
from inspector.jobs.turns import TURN_LOCK_ENV
from inspector.jobs.versions import Environment
from inspector.report import Report, mode_result_from_worker

# How often the supervisor checks time, memory and cancellation.
POLL_S = 0.05
# How long a worker may take to import TensorFlow and warm up.
START_TIMEOUT_S = 120.0
# Memory a spare worker needs free before it starts (a worker holds about 1 GB once it has
# imported TensorFlow and warmed up); below it the spare waits, and jobs wait for imports.
SPARE_NEEDS_MB = 1500
# Processes one job's tree may hold (TensorFlow's own pools are threads: a worker is one
# process). Past this it is a fork storm, not a memory problem: RSS counts a forked child's
# shared pages once per copy, so the memory watch alone would say MemoryLimit.
MAX_PROCESSES = 64
# A worker's tree before the user's code forks: bwrap, its init, the worker.
SINGLE_WORKER_PROCESSES = 3
# Each pool's folder in the temp directory (its job folders and the timing lock), and the file
# in it that names the process owning it: a folder whose owner is gone (a killed server) is
# removed when the next pool starts.
WORKDIR_PREFIX = "inspector-"
OWNER_FILE = "owner"


def sweep_left_folders(temp: Path | None = None) -> list[Path]:
    """Remove pool folders of this host whose owning process is gone; returns them."""
    removed = []
    for folder in Path(temp or tempfile.gettempdir()).glob(WORKDIR_PREFIX + "*"):
        try:
            host, pid = (folder / OWNER_FILE).read_text().split()
        except (OSError, ValueError):
            continue  # not a pool's folder, or not ours to judge
        if host == socket.gethostname() and not psutil.pid_exists(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _pool_folder(turns_with: Path | None) -> tuple[Path, Path]:
    """A new pool's folder (its owner named in it, after removing dead pools' folders) and the
    timing lock its workers take turns with: ``turns_with``, or a new one in the folder."""
    sweep_left_folders()
    folder = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
    os.chmod(folder, 0o711)  # sandboxed workers (other uids) reach their job folders
    (folder / OWNER_FILE).write_text(f"{socket.gethostname()} {os.getpid()}\n")
    lock = turns_with or folder / "timing.lock"
    if turns_with is None:
        lock.touch(mode=0o666)
        os.chmod(lock, 0o666)
    return folder, lock


class LocalExecutor(QueuedPool):
    """K pre-started worker processes on this machine, one job each, FIFO when all are busy."""

    def __init__(self, workers: int = 1, limits: Limits = DEFAULT_LIMITS,
                 python: str = sys.executable, env: dict[str, str] | None = None, *,
                 jobs_per_user: int | None = None, sandbox_mode: str | None = None,
                 hidden: tuple[Path, ...] = (), spares: int = 0,
                 environment: Environment | None = None, turns_with: Path | None = None,
                 permits: threading.BoundedSemaphore | None = None,
                 pauses: ImportPauses | None = None, replace: bool = True):
        """K workers. ``jobs_per_user``: how many jobs one user may have running at once
        (default: all workers); users are served in turn. ``sandbox_mode``: "bwrap", "auto"
        (default, from $INSPECTOR_SANDBOX) or "off"; ``hidden``: paths the sandbox must cover
        even where a read-only bind would show them (the data folder, the settings file).
        ``spares``: warm workers kept beside the K: at most K jobs run at once, but a worker
        that ends its job is replaced while a spare takes the next one, so a job that comes
        right after another does not wait for TensorFlow's import (each spare ~1 GB; one
        starts only while SPARE_NEEDS_MB are free). ``environment``: another TensorFlow's
        (versions.add) for every worker of this pool, instead of this process's ``python``.
        ``turns_with``: another pool's ``turn_lock``: this pool's timed calls take turns with
        that pool's too (a version's pool beside the server's, so neither times the other's
        load). ``permits``: another pool's ``permits``: this pool's jobs count against that
        pool's worker count (a version's pool runs within the server's K jobs at once);
        ``pauses``: another pool's ``pauses``: this pool's starting workers stand still while
        that pool's jobs run, and that pool's while this one's do (imports.py).
        ``replace`` False: no new worker after a job (one-shot callers close the pool then).

        Raises SandboxUnavailable when "bwrap" is asked for and cannot be set up.
        """
        super().__init__(jobs_per_user or max(1, workers))
        self.limits = limits
        self._python = environment.python if environment is not None else python
        # Another TensorFlow's environment, shown read-only in the sandbox.
        self._readable = (environment.path,) if environment and not environment.default else ()
        if environment is not None:
            env = {**(env or {}), **environment.worker_env()}
        self.sandbox = sandbox.detect(sandbox_mode)
        self._hidden = tuple(hidden)
        self._workdir, self._lock_file = _pool_folder(turns_with)
        # The pool's workers take turns for their timed calls (turns.turn).
        self._env = worker_environment(os.environ,
                                       {**(env or {}), TURN_LOCK_ENV: str(self._lock_file)})
        self._closed = threading.Event()
        self._live: set[WorkerProcess] = set()
        self._idle_ready = 0  # workers that are ready and waiting for a job
        self._devices: tuple[str, ...] = ()  # as the last ready worker listed them
        # The workers' TensorFlow version, once one is ready.
        self.tensorflow: str | None = None
        self._ready_devices = threading.Event()
        self._lock = threading.Lock()
        # At most ``workers`` jobs run at once, whatever the spares.
        self.workers, self.spares, self._replace = max(1, workers), max(0, spares), replace
        self._running = permits or threading.BoundedSemaphore(self.workers)
        self._pauses = pauses or ImportPauses()
        # A server stopped by a signal exits through atexit: its folder and workers go too.
        atexit.register(self.close)
        self._slots = [threading.Thread(target=self._slot, daemon=True, name=f"worker-slot-{i}")
                       for i in range(self.workers + self.spares)]
        for slot in self._slots:
            slot.start()

    # -- public API -------------------------------------------------------------------------
    @property
    def permits(self) -> threading.BoundedSemaphore:
        """One per job that may run at once (the worker count), shared with pools given it."""
        return self._running

    @property
    def pauses(self) -> ImportPauses:
        """The starting workers that stand still while a job runs, shared with pools given it."""
        return self._pauses

    @property
    def turn_lock(self) -> Path:
        """The file this pool's workers lock while they make timed calls."""
        return self._lock_file

    def submit(self, request: InspectRequest, limits: Limits | None = None,
               user: str = "local") -> Job:
        """Queue a request for ``user``. Raises CallSpecError when its arguments cannot fit
        the limits."""
        if self._closed.is_set():
            raise ExecutorError("the executor is closed: start another to submit jobs")
        job = Job(request, limits or self.limits, user, self)
        check_fits(request, job.limits)
        self._queue.put(user, job)
        return job

    def expect_job(self) -> None:
        """A click that submits a job next: the starting workers stand still from now
        (imports.py), unless no warm worker waits here (the job needs one of them)."""
        with self._lock:
            idle = self._idle_ready
        if idle:
            self._pauses.expect_job()

    def devices(self, timeout: float = START_TIMEOUT_S) -> tuple[str, ...]:
        """The logical devices a worker's TensorFlow sees (reported when it became ready).

        Raises WorkerCrashed when no worker starts within ``timeout``.
        """
        if not self._ready_devices.wait(timeout):
            raise WorkerCrashed(f"no worker started within {timeout:g} s to list the devices")
        return self._devices

    def nodes(self) -> list[dict[str, Any]]:
        """This machine, as the one node (waits for a worker: it says which TensorFlow)."""
        devices = list(self.devices())
        return [{"node": socket.gethostname(), "host": socket.gethostname(),
                 "tensorflow": self.tensorflow, "devices": devices}]

    def wait_warm(self, timeout: float = START_TIMEOUT_S) -> bool:
        """Block until every slot has a worker that imported TensorFlow and waits for a job."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._idle_ready >= len(self._slots):
                    return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        """Stop every worker; queued jobs are cancelled (again: a no-op)."""
        if self._closed.is_set():
            return
        atexit.unregister(self.close)
        self._closed.set()
        left = self._queue.drain()
        with self._lock:
            live = list(self._live)
        for worker in live:
            worker.kill()
        for slot in self._slots:
            slot.join(timeout=5)
        for job in left:
            job.fail(Cancelled("the executor was closed before the job started"))
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- slots --------------------------------------------------------------------------------
    def _start_worker(self) -> WorkerProcess:
        self._wait_for_memory()
        worker = WorkerProcess(self._python, self._env, self._workdir, self.sandbox.active,
                               writable=(self._lock_file,), hidden=self._hidden,
                               readable=self._readable)
        with self._lock:
            self._live.add(worker)
        self._pauses.starting(worker.process.pid)
        return worker

    def _retire(self, worker: WorkerProcess) -> None:
        """Kill the worker and remove its job folder (its log was read into the job)."""
        worker.kill()
        shutil.rmtree(worker.workdir, ignore_errors=True)
        with self._lock:
            self._live.discard(worker)

    def _wait_for_memory(self) -> None:
        """A worker beyond the K (a spare) starts only while the machine has memory for it."""
        while not self._closed.is_set():
            with self._lock:
                beyond = len(self._live) >= self.workers
            if not beyond or psutil.virtual_memory().available >= SPARE_NEEDS_MB * 2**20:
                return
            self._closed.wait(1.0)

    def _next_job(self, ready: bool) -> Job | None:
        """The next job, users in turn (None when closing), once fewer than K jobs run here
        and in the pools sharing the permits; counts this slot idle (warm) while it waits. The
        job is taken first and a permit after, so a slot waiting for a job holds none (an idle
        version's pool never blocks the server's). The caller releases ``_running`` when the
        job has ended."""
        with self._lock:
            self._idle_ready += ready
        try:
            taken = self._queue.get()
            if taken is None:
                return None
            while not self._running.acquire(timeout=0.2):
                if self._closed.is_set():
                    self._queue.done(taken[0])
                    taken[1].fail(Cancelled("the executor was closed before the job started"))
                    return None
            return taken[1]
        finally:
            with self._lock:
                self._idle_ready -= ready

    def _slot(self) -> None:
        """One worker at a time: start it, hand it the next job, supervise, replace it."""
        while not self._closed.is_set():
            worker = self._start_worker()
            startup_error = self._await_ready(worker)
            job = self._next_job(startup_error is None)
            if job is None or self._closed.is_set():
                self._retire(worker)
                if job is not None:
                    self._running.release()
                    job.fail(Cancelled("the executor was closed"))
                return
            if job.cancelled or startup_error is not None:
                job.log = worker.read_log()
                job.fail(startup_error or Cancelled("cancelled before it started"))
                self._retire(worker)
                self._running.release()
                self._queue.done(job.user)
                if startup_error is not None:
                    time.sleep(1.0)  # a worker that cannot start will not start a moment later
                continue
            job.start(worker.ready or {})
            self._pauses.job_began()
            try:
                self._supervise(worker, job)
            except Exception as exc:  # a supervisor bug must not leave the caller waiting
                job.fail(WorkerCrashed(f"supervising the worker failed: {exc}"))
            finally:
                self._pauses.job_ended()
                log = worker.read_log()
                self._retire(worker)
                self._running.release()  # a spare (if warm) takes the next job now
                self._queue.done(job.user)
                job.release(log)
            if not self._replace:
                return

    def _await_ready(self, worker: WorkerProcess) -> InspectorError | None:
        """Wait for the worker's TensorFlow import; None when it is ready. The worker is
        continued (imports.py) before this returns, whatever the outcome."""
        try:
            return self._read_ready(worker)
        finally:
            self._pauses.ready(worker.process.pid)

    def _read_ready(self, worker: WorkerProcess) -> InspectorError | None:
        deadline = time.monotonic() + START_TIMEOUT_S + PAUSE_LIMIT_S
        while time.monotonic() < deadline and not self._closed.is_set():
            self._pauses.check(worker.process.pid, job_waits=self._queue.waiting() > 0)
            try:
                events = worker.read_events(0.2)
            except WorkerCrashed as exc:
                return exc
            if events is None:
                return worker.crash_error("while starting")
            for event in events:
                if event.get("event") == Event.ALIVE:
                    self._pauses.alive(worker.process.pid)
                if event.get("event") == Event.READY:
                    # The host's pid of what was started (bwrap's, when sandboxed): inside a
                    # sandbox's PID namespace the worker sees a pid of its own.
                    worker.ready = {**event, "pid": worker.process.pid,
                                    "ready_at": time.monotonic()}
                    worker.restore_priority()  # what a sandboxed worker cannot do itself
                    self._devices = tuple(event.get("devices", ()))
                    self.tensorflow = event.get("tensorflow")
                    self._ready_devices.set()
                    return None
        return WorkerCrashed(f"the worker did not start within {START_TIMEOUT_S:g} s")

    def _supervise(self, worker: WorkerProcess, job: Job) -> None:
        """Send the job, then follow its events and enforce its limits until it ends.

        A job ends when its worker sent ``done`` or ``failed``: the worker is then killed, not
        awaited, and an event it wrote after the end, or a line that is not the protocol, is
        the user's code writing to the pipe, and ends the job as WorkerCrashed.
        """
        tensorflow = job.worker_info.get("tensorflow")
        request = place_model(job.request, worker.workdir)  # a model file: a copy, not bytes
        end_token = protocol.new_end_token()
        worker.send_job(protocol.job_message(request, str(worker.workdir / "job.log"),
                                             end_token))
        started = time.monotonic()
        checked = 0.0  # when the process tree's memory was last read (about 1 ms a read)
        ending: dict[str, Any] | None = None  # the done or failed event, until the pipe closes
        while True:
            try:
                events = worker.read_events(POLL_S)
                if events is not None:
                    ending = self._apply(job, events, ending, end_token)
                if ending is not None:
                    self._apply(job, worker.stop_after_end(), ending, end_token)
            except WorkerCrashed as exc:  # off the protocol: what the worker sent is not kept
                job.fail(exc, tensorflow, keep_results=False)
                return
            if ending is not None:
                self._end(worker, job, ending, tensorflow)
                return
            if events is None:
                job.fail(worker.crash_error("during the job"), tensorflow)
                return
            breach = self._breach(worker, job, time.monotonic() - started,
                                  check_memory=time.monotonic() - checked >= POLL_S)
            if breach is not None:
                job.fail(breach, tensorflow)
                return
            if time.monotonic() - checked >= POLL_S:  # not again for every burst of events
                checked = time.monotonic()

    @staticmethod
    def _apply(job: Job, events: list[dict[str, Any]], ending: dict[str, Any] | None,
               end_token: str) -> dict[str, Any] | None:
        """Apply progress events (a stage began, a mode finished) to the job; returns the
        done or failed event once it came. Raises WorkerCrashed for an event after it, an end
        without the job's token, or an event whose fields do not parse."""
        for event in events:
            kind = event["event"]
            if ending is not None or kind in (Event.ALIVE, Event.READY):
                raise WorkerCrashed(f"{protocol.NOT_PROTOCOL}: a {kind} event "
                                    f"{'after ' + ending['event'] if ending else 'during a job'}")
            protocol.check_token(event, end_token)
            if kind in (Event.DONE, Event.FAILED):
                ending = event
                continue
            at = protocol.sent_at(event)
            try:  # an unknown stage, a mode not asked for, a field of another type
                if kind == Event.STAGE:
                    job.enter_stage(event["stage"], event.get("mode"), at)
                else:
                    add = job.add_measured if kind == Event.MEASURED else job.add_mode
                    add(str(event["mode"]), mode_result_from_worker(event["result"]), at)
            except (WorkerCrashed, KeyError, TypeError, ValueError, AttributeError) as exc:
                raise protocol.off_protocol(exc) from None
        return ending

    @staticmethod
    def _end(worker: WorkerProcess, job: Job, event: dict[str, Any],
             tensorflow: str | None) -> None:
        """The job's last event, once its worker was stopped."""
        try:
            if event["event"] == Event.DONE:
                job.finish(event["report"], worker.read_log())
            else:
                job.fail(ErrorInfo.from_dict(event["error"]).to_exception(), tensorflow)
        except (WorkerCrashed, KeyError, TypeError, ValueError, AttributeError) as exc:
            job.fail(protocol.off_protocol(exc), tensorflow, keep_results=False)

    @staticmethod
    def _breach(worker: WorkerProcess, job: Job, elapsed: float,
                check_memory: bool) -> InspectorError | None:
        """The limit the job has broken (or a cancellation), if any."""
        limits = job.limits
        if job.cancelled:
            return Cancelled("the job was cancelled")
        if elapsed > limits.timeout_s:
            now = job.progress
            doing = f" (it was {now.stage}{' mode ' + now.mode if now.mode else ''})"
            fewer = ("make fewer timed calls (--runs, --warmup), " if now.stage == Stage.TIMING
                     else "")
            return Timeout(f"the job ran longer than {limits.timeout_s:g} s{doing}; {fewer}"
                           "simplify the function or raise the limit (--timeout; in the app: "
                           "Advanced)")
        if worker.bytes_read > limits.max_report_mb * 2**20:
            return ReportTooLarge(f"the worker sent more than {limits.max_report_mb} MB")
        if check_memory:
            used, processes = worker.usage()
            if processes > MAX_PROCESSES:  # before memory: a fork's pages count once per copy
                return ProcessLimit(f"the user's code started {processes} processes, over the "
                                    f"limit of {MAX_PROCESSES}; a function that forks in a "
                                    "loop cannot be inspected")
            if used > limits.memory_mb and processes > SINGLE_WORKER_PROCESSES:
                used = worker.proportional_mb()  # forked children share their parent's pages
            if used > limits.memory_mb:
                return MemoryLimit(f"the worker used {used:.0f} MB, over the {limits.memory_mb} "
                                   "MB limit; use smaller inputs or raise it (--memory-mb; in "
                                   "the app: Advanced)")
        return None


def one_shot(environment: Environment | None = None) -> LocalExecutor:
    """A pool of one worker (of ``environment``'s TensorFlow, default this one's) for one job,
    started now, so that its TensorFlow imports while the caller prepares the job; no worker
    replaces it after the job: for one-shot callers like the CLI (close it after)."""
    # The job is coming: a warm-up would only delay it.
    return LocalExecutor(workers=1, env={"INSPECTOR_WARM_UP": "off"}, environment=environment,
                         replace=False)


def run_one(request: InspectRequest, limits: Limits = DEFAULT_LIMITS,
            on_progress: Callable[[Progress], None] | None = None,
            environment: Environment | None = None,
            started: Executor | None = None) -> tuple[Report, str]:
    """Run one request in a one-shot pool (``started``, else one started now), then stop it.

    Returns the report and the worker's log.
    """
    with started or one_shot(environment) as executor:
        return follow(executor.submit(request, limits), on_progress)


def follow(job: JobHandle, on_progress: Callable[[Progress], None] | None = None
           ) -> tuple[Report, str]:
    """Wait for a job (of either backend), telling ``on_progress`` each new stage; its report
    and its worker's log."""
    last = None
    while not job.wait(0.1):
        if on_progress is not None and job.progress != last:
            last = job.progress
            on_progress(last)
    return job.result(), job.log
