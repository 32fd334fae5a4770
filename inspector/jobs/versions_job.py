"""One request on several TensorFlow versions as one job: each version's pool runs it in turn
(one after the other, so one version's timed calls never share the cores with another's),
and the report merges theirs (report.merge_versions). A JobHandle like the pools' own."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from inspector.errors import Cancelled, ErrorInfo, NotFinished
from inspector.inputs.request import InspectRequest
from inspector.jobs.executor import Executor, JobHandle, Limits, Progress, Stage
from inspector.report import Report, merge_versions


class VersionsJob:
    """The request on each (version, pool) in order; cancel stops the running one and skips
    the rest."""

    def __init__(self, request: InspectRequest, limits: Limits, user: str,
                 pools: Sequence[tuple[str, Executor]]):
        self.user = user
        self.log = ""
        self._request, self._limits, self._pools = request, limits, list(pools)
        self._current: JobHandle | None = None
        self._cancelled = False
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._report: Report | None = None
        threading.Thread(target=self._run, daemon=True, name="versions-job").start()

    def _next(self, pool: Executor) -> JobHandle | None:
        with self._lock:
            if self._cancelled:
                return None
            self._current = pool.submit(self._request, self._limits, user=self.user)
            return self._current

    def _run(self) -> None:
        runs: list[tuple[str, Report]] = []
        logs: list[str] = []
        try:
            for version, pool in self._pools:
                job = self._next(pool)
                if job is None:
                    error = ErrorInfo.from_exception(Cancelled("cancelled before it ran"))
                    runs.append((version, self._request.blank_report(version, error)))
                    continue
                job.wait()
                runs.append((version, job.result()))
                logs.append(f"===== TensorFlow {version} =====\n{job.log}")
        except Exception as exc:  # a pool that cannot take the job: the versions not run say so
            error = ErrorInfo.from_exception(exc)
            done = {version for version, _ in runs}
            runs += [(version, self._request.blank_report(version, error))
                     for version, _ in self._pools if version not in done]
        self.log = "\n".join(logs)
        self._report = merge_versions(runs)
        self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def result(self, timeout: float | None = None) -> Report:
        if not self._done.wait(timeout):
            raise NotFinished("the job has not finished")
        assert self._report is not None
        return self._report

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            current = self._current
        if current is not None:
            current.cancel()

    def measured(self) -> Report | None:
        """None: the matrix of several versions waits for all of them."""
        return None

    @property
    def progress(self) -> Progress:
        current = self._current
        return current.progress if current is not None else Progress(Stage.QUEUED)

    @property
    def queued_ahead(self) -> int | None:
        current = self._current
        return current.queued_ahead if current is not None else None

    @property
    def at_user_cap(self) -> bool:
        current = self._current
        return current.at_user_cap if current is not None else False
