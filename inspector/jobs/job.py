"""One job, whichever backend runs it, and the queue both backends keep of them.

A ``Job`` is what ``submit`` returns: callers wait on it, read its progress and cancel it; the
pool that runs it (``local.LocalExecutor``, or ``ray_backend.RayExecutor`` following it on a
node) makes its state changes. ``QueuedPool`` holds the fair queue's questions both pools
answer the same way.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace
from typing import Any, Protocol

from inspector.errors import Cancelled, ErrorInfo, InspectorError, NotFinished, WorkerCrashed
from inspector.inputs.request import InspectRequest
from inspector.jobs import protocol
from inspector.jobs.executor import Limits, Progress
from inspector.jobs.fairqueue import FairQueue
from inspector.report import ExecutorInfo, ModeResult, Report, RequestStage
from inspector.stages import Stage


class JobQueue(Protocol):
    """Where a queued job waits (a LocalExecutor, or the Ray backend's cluster queue)."""

    def withdraw(self, job: Job) -> bool: ...
    def queued_ahead(self, job: Job) -> int | None: ...
    def at_user_cap(self, job: Job) -> bool: ...


# The stages a worker's events may name (the others are the server's own).
WORKER_STAGES = frozenset({Stage.LOADING, Stage.TRACING, Stage.OPTIMIZING, Stage.WAITING,
                           Stage.TIMING, Stage.COMPARING, Stage.PROFILING, Stage.ANALYSING,
                           Stage.ABLATING})


class Job:
    """A job queued on or running in a pool: a LocalExecutor's, or the Ray backend's (which
    follows it from its node). It owns its own state changes; the pools call them."""

    def __init__(self, request: InspectRequest, limits: Limits, user: str = "local",
                 pool: JobQueue | None = None):
        self.request = request
        self.limits = limits
        # Who asked: the fair queue serves users in turn.
        self.user = user
        self._pool = pool
        self._done = threading.Event()
        self._cancelled = threading.Event()
        self._progress = Progress(Stage.QUEUED)
        self._mode_results: dict[str, ModeResult] = {}
        # Each mode's figures for the matrix, sent before its profile and analysis.
        self._measured: dict[str, ModeResult] = {}
        self._report: Report | None = None
        # While True, a finished report waits for its worker to be reaped before release.
        self._running = False
        self.log = ""  # the worker's stderr for this job (TensorFlow's C++ log included)
        # The worker's "ready" event: pid, tensorflow version, devices (and "ready_at", when
        # it became ready on this process's monotonic clock).
        self.worker_info: dict[str, Any] = {}
        # What the job was doing from when: the request's waterfall. Each mark: its label, when
        # it reached this process (monotonic clock) and, for a worker's event, the worker's
        # clock when it was sent.
        self._marks: list[tuple[str, float, float | None]] = [
            ("submitted", time.monotonic(), None)]

    # -- what callers use ------------------------------------------------------------------
    @property
    def progress(self) -> Progress:
        return self._progress

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def result(self, timeout: float | None = None) -> Report:
        if not self._done.wait(timeout):
            raise NotFinished("the job has not finished")
        assert self._report is not None
        return self._report

    def cancel(self) -> None:
        """Stop the job: at once while it is queued, by killing its worker while it runs."""
        self._cancelled.set()
        if self._pool is not None and self._pool.withdraw(self):
            self.fail(Cancelled("cancelled while queued"))

    def measured(self) -> Report | None:
        """While the job runs: the matrix's figures of every mode once all came (no profile,
        passes, lines or graphs yet), with what the server knows itself; else None."""
        found = dict(self._measured)
        if self._done.is_set() or not found or any(m not in found for m in self.request.modes):
            return None
        blank = self.request.blank_report(self.worker_info.get("tensorflow"))
        return self._server_facts(replace(blank, results=tuple(found.values())))

    @property
    def queued_ahead(self) -> int | None:
        """Jobs that will start before this one, while it is queued."""
        return self._pool.queued_ahead(self) if self._pool is not None else None

    @property
    def at_user_cap(self) -> bool:
        """Whether this queued job waits for its user's own running jobs (jobs_per_user)."""
        return self._pool is not None and self._pool.at_user_cap(self)

    # -- state changes, made by the pool ----------------------------------------------------
    def start(self, worker_info: dict[str, Any]) -> None:
        self.worker_info = worker_info
        self._running = True
        self._progress = Progress(Stage.STARTING)
        self._mark("starting")

    def _mark(self, label: str, at: float | None = None) -> None:
        self._marks.append((label, time.monotonic(), at))

    def enter_stage(self, stage: str, mode: str | None, at: float | None = None) -> None:
        """A stage the worker began (at ``at`` on its clock, if it says; ValueError for a name
        no stage has; WorkerCrashed for a stage only the server enters, or a mode the request
        did not ask for)."""
        said = Stage(stage)
        if said not in WORKER_STAGES or (mode is not None and mode not in self.request.modes):
            raise WorkerCrashed(f"a stage event for {said} {str(mode)[:40]!r}")
        self._progress = replace(self._progress, stage=said, mode=mode)
        self._mark(f"{stage} {mode}" if mode else stage, at)

    def _check_new(self, mode: str, result: ModeResult, seen: dict[str, ModeResult],
                   what: str) -> None:
        """WorkerCrashed for a result the worker may not send: a mode not asked for, or a second
        one (the user's code can write to the worker's pipe)."""
        if mode not in self.request.modes:
            raise WorkerCrashed(f"{what} for mode {mode[:40]!r}, which the request did not "
                                "ask for")
        if result.mode != mode:
            raise WorkerCrashed(f"{what} for mode {mode} holding mode {str(result.mode)[:40]!r}")
        if mode in seen:
            raise WorkerCrashed(f"a second {what} for mode {mode}")

    def add_measured(self, mode: str, result: ModeResult, at: float | None = None) -> None:
        """A mode's figures for the matrix (a partial result; add_mode brings the whole)."""
        self._check_new(mode, result, self._measured, "figures")
        self._measured[mode] = replace(result, tensorflow=self.worker_info.get("tensorflow"))
        self._progress = replace(self._progress,
                                 modes_measured=(*self._progress.modes_measured, mode))
        self._mark(f"sending {mode}'s figures", at)

    def add_mode(self, mode: str, result: ModeResult, at: float | None = None) -> None:
        self._check_new(mode, result, self._mode_results, "result")
        # The version is the ready event's (a fact the server knows), not the worker's claim.
        self._mode_results[mode] = replace(result,
                                           tensorflow=self.worker_info.get("tensorflow"))
        self._progress = replace(self._progress, modes_done=(*self._progress.modes_done, mode))
        self._mark(f"sending {mode}'s result", at)

    def finish(self, data: dict[str, Any], log: str) -> None:
        """The worker's "done" report; released at once (its worker is reaped afterwards:
        the kernel takes 20-40 ms to free a TensorFlow process)."""
        self.log = log
        self._running = False
        self._mark("decoding")
        report = self._server_facts(protocol.assemble(data, self._mode_results))
        self._mark("end")
        self._settle(replace(report, request_stages=self.request_stages()), Stage.DONE)

    def request_stages(self) -> tuple[RequestStage, ...]:
        """The marks so far as stages: each lasts until the next mark. The time from submit to
        start is split into waiting for a warm worker (the one that took the job became ready
        after the submit: it was importing TensorFlow) and queueing (behind other jobs)."""
        marks = self._mark_times()
        stages = []
        submitted = marks[0][1]
        started = next((t for label, t in marks if label == "starting"), None)
        ready_at = self.worker_info.get("ready_at")
        for (label, at), (following, until) in zip(marks, marks[1:], strict=False):
            if label == "submitted" and started is not None:
                waited = min(max(0.0, (ready_at or submitted) - submitted), until - at)
                stages += [RequestStage("queued", (until - at - waited) * 1e3),
                           RequestStage("waiting for a worker", waited * 1e3)]
                continue
            if label.startswith("sending") and following == "decoding":
                label = "sending the report"  # the last result, then the report's own part
            if label == "submitted":  # it ended before a worker took it (cancelled)
                label = "queued"
            stages.append(RequestStage(label, (until - at) * 1e3))
        return tuple(stages)

    def _mark_times(self) -> list[tuple[str, float]]:
        """Each mark's time on this process's clock. A worker's event is placed at its own
        clock (events read in one batch arrived together, though the stages between them
        took time), shifted by the smallest gap between a worker's time and its arrival (the
        clocks' offset, up to the quickest event's transfer), never after its arrival nor
        before the mark before it (a worker runs the user's code, which could write any
        time: at worst its own run's waterfall is wrong)."""
        gaps = [arrival - at for _, arrival, at in self._marks if at is not None]
        offset = min(gaps, default=0.0)
        times: list[tuple[str, float]] = []
        for label, arrival, at in self._marks:
            placed = arrival if at is None else min(arrival, at + offset)
            times.append((label, max(placed, times[-1][1]) if times else placed))
        return times

    def _server_facts(self, report: Report) -> Report:
        """The report with what the server knows itself in place of what the worker claims
        (its process runs the user's code, which can write to the control pipe): the
        request's function, calls, modes and options, and the TensorFlow version and devices
        of the ready event (sent before any user code ran). A device outside those is
        dropped; results keep the request's modes, in its order."""
        header = self.request.blank_report(self.worker_info.get("tensorflow"))
        devices = tuple(self.worker_info.get("devices") or ())
        by_mode = {r.mode: r for r in reversed(report.results)}  # the first result per mode
        return replace(report, tensorflow=header.tensorflow, source=header.source,
                       function=header.function, calls=header.calls, modes=header.modes,
                       grappler=header.grappler, devices=devices,
                       device=report.device if report.device in devices else None,
                       results=tuple(by_mode[m] if by_mode[m].tensorflow == header.tensorflow
                                     else replace(by_mode[m], tensorflow=header.tensorflow)
                                     for m in header.modes if m in by_mode),
                       executor=None)

    def fail(self, error: InspectorError, tensorflow: str | None = None,
             keep_results: bool = True) -> None:
        """Keep finished modes, and the matrix figures of modes measured but not finished
        (the one it stopped in gets the error too); the running one and those not reached
        get the error. ``keep_results=False`` (a worker caught off the protocol: nothing it
        sent is trusted): the whole job gets the error."""
        info = ErrorInfo.from_exception(error)
        self._mark("end")
        blank = replace(self.request.blank_report(tensorflow),
                        request_stages=self.request_stages())
        if not keep_results or (not self._mode_results and self._progress.mode is None):
            self._settle(replace(blank, error=info), Stage.FAILED)
            return
        current = self._progress.mode
        results = []
        for mode in self.request.modes:
            if mode in self._mode_results:
                results.append(self._mode_results[mode])
            elif mode in self._measured:  # its matrix figures stand; the rest was not made
                why = (f"the job stopped after the matrix's figures, before the profiled "
                       f"calls and the analysis ({info.type}: {info.message})")
                results.append(replace(self._measured[mode], unfinished=why,
                                       op_times_note="not made: " + why,
                                       passes_note="not made: " + why,
                                       error=info if mode == current else None))
            elif mode == current:
                results.append(ModeResult(mode, error=info))
            else:
                results.append(ModeResult(mode, error=ErrorInfo(
                    info.type, f"not run: the job stopped in mode {current}: "
                               f"{info.message}")))
        self._settle(replace(blank, results=tuple(results)), Stage.FAILED)

    def follow(self, progress: Progress) -> None:
        """Progress as another process saw it (the Ray backend's node)."""
        self._progress = progress

    def complete(self, report: Report, log: str) -> None:
        """A whole report from another process (the Ray backend's node)."""
        self.log = log
        self._running = False
        self._settle(report, Stage.DONE)

    def release(self, log: str) -> None:
        """The worker is gone: a report kept back until now reaches the caller."""
        if not self.log:
            self.log = log
        self._running = False
        self._done.set()

    def _settle(self, report: Report, stage: Stage) -> None:
        if report.executor is None:  # where it ran; the Ray backend names its node itself
            report = replace(report, executor=ExecutorInfo(
                "local", socket.gethostname(),
                self.worker_info.get("tensorflow") or report.tensorflow))
        self._report = report
        self._progress = replace(self._progress, stage=stage)
        if not self._running:
            self._done.set()


class QueuedPool:
    """A pool's fair queue of jobs (users served in turn, jobs_per_user each at once) and
    what a queued job asks of it."""

    def __init__(self, jobs_per_user: int):
        self._queue: FairQueue[Job] = FairQueue(jobs_per_user)

    def queued_ahead(self, job: Job) -> int | None:
        """Jobs that start before this queued one (users in turn); None once it started."""
        return self._queue.ahead(job.user, job)

    def withdraw(self, job: Job) -> bool:
        """Take a queued job out of the queue (a cancel before it started)."""
        return self._queue.remove(job.user, job)

    def at_user_cap(self, job: Job) -> bool:
        return self._queue.at_cap(job.user)
