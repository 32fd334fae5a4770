"""Workers importing TensorFlow stand still while a job runs beside them.

A spare's replacement imports TensorFlow for about 3 s on every core it can get; a click in
that time (a user who changed one setting and clicked again) ran beside it, and niceness
alone did not keep the import off the page's run and the job. So from the click, and while a
job runs, the starting workers are stopped (SIGSTOP to their process group), and continued
when no job runs any more, when a job waits for a worker, or when a worker has stood still
PAUSE_LIMIT_S in all: a pause may delay a spare, never starve it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable

# The longest a starting worker stands still, all its pauses together: a long job (a model's
# several minutes) delays its replacement's import by this much at most.
PAUSE_LIMIT_S = 5.0
# How long after the last job ended the workers stand still: its report crosses to the page,
# is saved and drawn in that time.
RESUME_AFTER_S = 0.5
# How long a click stands for a job before its job begins: the page's run between the click
# and the submit (10-40 ms) ran 50-100 ms slower beside an import (a probe of paired clicks).
EXPECTED_S = 1.0


class _Pause:
    """One starting worker's process group and the time it has stood still."""

    def __init__(self, group: int):
        self.group = group
        # Said it dies with its parent: a process stopped before then (bwrap not yet set up)
        # outlived a server killed with SIGKILL, stopped for good.
        self.alive = False
        self.stopped_at: float | None = None  # since when it stands still, while it does
        self.stood_s = 0.0  # the pauses before this one

    def stop(self) -> None:
        if self.alive and self.stopped_at is None and self.stood_s < PAUSE_LIMIT_S \
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
    """The starting workers of one machine's pools (shared as the pools share their permits),
    the jobs running there and the clicks whose job has not begun yet."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._starting: dict[int, _Pause] = {}  # by process group
        self._running = 0
        self._expected: list[int] = []  # the clicks' tokens, oldest first, until a job begins
        self._tokens = itertools.count()
        self._quiet = 0  # times the machine went quiet: only the latest one's timer continues

    def starting(self, group: int) -> None:
        """A worker's process group that was started (not stopped before it is ``alive``)."""
        with self._lock:
            self._starting.setdefault(group, _Pause(group))

    def alive(self, group: int) -> None:
        """A starting worker that dies with its parent: stopped at once if a job runs or is
        expected."""
        with self._lock:
            pause = self._starting.get(group)
            if pause is not None:
                pause.alive = True
                if self._running or self._expected:
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

    def expect_job(self) -> None:
        """A job is on its way (a click on Inspect or Re-run): stand still from now. The first
        job to begin takes the click's place; a click with no job (a refused request) counts
        EXPECTED_S at most."""
        with self._lock:
            token = next(self._tokens)
            self._expected.append(token)
            self._stop_all()
        _later(EXPECTED_S, self._unexpect, token)

    def job_began(self) -> None:
        with self._lock:
            self._running += 1
            if self._expected:
                self._expected.pop(0)
            self._stop_all()

    def job_ended(self) -> None:
        with self._lock:
            self._running = max(0, self._running - 1)
        self._maybe_quiet()

    def _unexpect(self, token: int) -> None:
        with self._lock:
            if token not in self._expected:
                return  # its job began
            self._expected.remove(token)
        self._maybe_quiet()

    def _stop_all(self) -> None:
        for pause in self._starting.values():
            pause.stop()

    def _maybe_quiet(self) -> None:
        """No job runs or is expected: continue the workers RESUME_AFTER_S later, unless
        another job came in between."""
        with self._lock:
            if self._running or self._expected:
                return
            self._quiet += 1
            quiet = self._quiet
        _later(RESUME_AFTER_S, self._go_all, quiet)

    def _go_all(self, quiet: int) -> None:
        with self._lock:
            if self._running or self._expected or quiet != self._quiet:
                return
            for pause in self._starting.values():
                pause.go()


def _later(seconds: float, call: Callable[[int], None], arg: int) -> None:
    timer = threading.Timer(seconds, call, args=(arg,))
    timer.daemon = True  # a server that stops does not wait for it
    timer.start()


def _signal(group: int, signum: int) -> bool:
    """Send ``signum`` to a process group; False when it is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)
        return True
    return False
