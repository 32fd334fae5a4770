"""Workers importing TensorFlow stand still while a job runs beside them.

A spare's replacement imports TensorFlow for about 3 s on every core it can get; a job that
starts in that time (a user who changed one setting and clicked again) ran beside it, and
niceness alone did not keep the import's page faults and cache misses off the job. So while a
job runs, the starting workers are stopped (SIGSTOP to their process group) and continued
when no job runs any more, when a job waits for a worker, or when a worker has stood still
PAUSE_LIMIT_S in all: a pause may delay a spare, never starve it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

# The longest a starting worker stands still, all its pauses together: a long job (a model's
# several minutes) delays its replacement's import by this much at most.
PAUSE_LIMIT_S = 5.0
# How long after the last job ended the workers stand still: its report crosses to the page,
# is saved and drawn in that time.
RESUME_AFTER_S = 0.5


class _Pause:
    """One starting worker's process group and the time it has stood still."""

    def __init__(self, group: int):
        self.group = group
        self.stopped_at: float | None = None  # since when it stands still, while it does
        self.stood_s = 0.0  # the pauses before this one

    def stop(self) -> None:
        if self.stopped_at is None and self.stood_s < PAUSE_LIMIT_S \
                and _signal(self.group, signal.SIGSTOP):
            self.stopped_at = time.monotonic()

    def go(self) -> None:
        if self.stopped_at is not None:
            _signal(self.group, signal.SIGCONT)
            self.stood_s += time.monotonic() - self.stopped_at
            self.stopped_at = None

    def spent(self) -> bool:
        """Whether its pauses reached PAUSE_LIMIT_S."""
        now = self.stood_s + (time.monotonic() - self.stopped_at if self.stopped_at else 0)
        return now >= PAUSE_LIMIT_S


class ImportPauses:
    """The starting workers of one machine's pools (shared as the pools share their permits)
    and how many jobs run there."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._starting: dict[int, _Pause] = {}  # by process group
        self._running = 0
        self._ended = 0  # jobs ended so far: a later one's timer continues the workers

    def starting(self, group: int) -> None:
        """A worker's process group that began importing: stopped at once if a job runs."""
        with self._lock:
            pause = self._starting.setdefault(group, _Pause(group))
            if self._running:
                pause.stop()

    def check(self, group: int, job_waits: bool) -> None:
        """A starting worker's slot, every poll: continue it when a job waits for a worker or
        its pauses reached the limit."""
        with self._lock:
            pause = self._starting.get(group)
            if pause is not None and pause.stopped_at is not None \
                    and (job_waits or pause.spent()):
                pause.go()

    def ready(self, group: int) -> None:
        """A worker that imported, or died, or is killed: no longer paused (continued first,
        so a job is never handed to a stopped worker)."""
        with self._lock:
            pause = self._starting.pop(group, None)
            if pause is not None:
                pause.go()

    def job_began(self) -> None:
        with self._lock:
            self._running += 1
            for pause in self._starting.values():
                pause.stop()

    def job_ended(self) -> None:
        with self._lock:
            self._running = max(0, self._running - 1)
            if self._running:
                return
            self._ended += 1
        timer = threading.Timer(RESUME_AFTER_S, self._go_all, args=(self._ended,))
        timer.daemon = True
        timer.start()

    def _go_all(self, ended: int) -> None:
        with self._lock:
            if self._running or ended != self._ended:
                return
            for pause in self._starting.values():
                pause.go()


def _signal(group: int, signum: int) -> bool:
    """Send ``signum`` to a process group; False when it is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)
        return True
    return False
