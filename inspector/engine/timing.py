"""The latency harness: warm up, size the run to a time budget, time each call, summarize."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from inspector.report import Timing

# Calls before timing starts: the first ones pay allocator and cache warm-up.
DEFAULT_WARMUP = 10
# Bounds on the adaptive run count: enough samples for p10/p90, never a minute-long loop.
MIN_RUNS = 20
MAX_RUNS = 5000


def plan_runs(per_call_s: float, budget_s: float) -> int:
    """How many timed calls fit the budget, within [MIN_RUNS, MAX_RUNS]."""
    if per_call_s <= 0:
        return MAX_RUNS
    return int(min(MAX_RUNS, max(MIN_RUNS, budget_s / per_call_s)))


def measure(call: Callable[[], Any], *, first_call_us: float, budget_s: float = 2.0,
            runs: int | None = None, warmup: int | None = None,
            sync: Callable[[], None] | None = None,
            clock: Callable[[], int] = time.perf_counter_ns) -> Timing:
    """Time ``call`` one call at a time.

    Args:
        call: makes one call with the mode's real arguments (a NumPy mode pays its conversion).
        first_call_us: the already measured first call, reported beside the steady state.
        budget_s: time for the timed calls when ``runs`` is None.
        sync: waits for the device to finish (GPU); None on CPU, where ops run synchronously.
        clock: nanosecond clock, injectable for tests.
    """
    def once() -> int:
        start = clock()
        call()
        if sync is not None:
            sync()
        return clock() - start

    warm_calls = DEFAULT_WARMUP if warmup is None else warmup
    warm = [once() for _ in range(warm_calls)]
    if runs is None:
        probe = warm[-3:] if len(warm) >= 3 else [once() for _ in range(3)]
        runs = plan_runs(statistics.median(probe) / 1e9, budget_s)
    samples_us = np.array([once() for _ in range(max(1, runs))], dtype=np.float64) / 1e3
    p10, median, p90 = np.percentile(samples_us, [10, 50, 90])
    return Timing(
        runs=len(samples_us), warmup=warm_calls, median_us=float(median), p10_us=float(p10),
        p90_us=float(p90), mean_us=float(samples_us.mean()),
        stdev_us=float(samples_us.std(ddof=1)) if len(samples_us) > 1 else 0.0,
        min_us=float(samples_us.min()), first_call_us=first_call_us,
        samples_us=tuple(round(float(s), 3) for s in samples_us))
