"""Turns for timed calls: the workers of one pool make their timed calls one job at a time."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# A file every worker of one pool locks while it makes timed calls (set by the executor).
TURN_LOCK_ENV = "INSPECTOR_TIMING_LOCK"


@contextmanager
def turn(label: str, on_wait: Callable[[], None] = lambda: None,
         on_start: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Hold the pool's timing lock for the block, so concurrent jobs time one at a time.

    Two timed loops on a 2-core machine slow each other down; without the lock, users of a
    shared dashboard would read each other's load in their figures. ``on_wait`` is called when
    another job holds the lock, ``on_start`` once this one does. The held interval goes to
    stderr (the job's log) on the system-wide monotonic clock. Without the environment variable
    (tests, one process) there is no lock.
    """
    path = os.environ.get(TURN_LOCK_ENV)
    if not path:
        on_start()
        yield
        return
    asked = time.monotonic()
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(lock, fcntl.LOCK_EX)
        start = time.monotonic()
        on_start()
        try:
            yield
        finally:
            end = time.monotonic()
            fcntl.flock(lock, fcntl.LOCK_UN)
            print(f"inspector: timed {label} from {start:.6f} to {end:.6f} (monotonic s; "
                  f"waited {start - asked:.3f} s)", file=sys.stderr, flush=True)
