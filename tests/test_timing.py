"""The timing harness: planning with a fake clock, and agreement with timeit on a real call."""

from __future__ import annotations

import statistics
import timeit

import pytest

from inspector.engine.timing import MAX_RUNS, MIN_RUNS, measure, plan_runs


def test_plan_fits_the_budget_within_bounds():
    assert plan_runs(0.001, 2.0) == 2000
    assert plan_runs(1.0, 2.0) == MIN_RUNS
    assert plan_runs(1e-7, 2.0) == MAX_RUNS


def test_statistics_from_a_fake_clock():
    ticks = iter(range(0, 10**9, 1000))  # every call takes exactly 1 us between two reads
    timing = measure(lambda: None, first_call_us=5.0, runs=30, warmup=2,
                     clock=lambda: next(ticks))
    assert timing.runs == 30 and timing.warmup == 2
    assert timing.median_us == timing.p10_us == timing.p90_us == 1.0
    assert timing.first_call_us == 5.0 and len(timing.samples_us) == 30


@pytest.mark.tf
def test_agrees_with_timeit_on_a_tf_function():
    tf = pytest.importorskip("tensorflow")
    fn = tf.function(tf.square)
    x = tf.constant([1.0, 2.0, 3.0, 4.0])
    fn(x)
    ratios = []
    for _ in range(3):  # the machine is shared: take the attempt least disturbed
        # ours and timeit's in turns, so a slow spell of the machine hits both alike
        ours, theirs = [], []
        for _ in range(7):
            ours.append(measure(lambda: fn(x), first_call_us=0.0, runs=300,
                                warmup=20).median_us)
            loops = timeit.repeat(lambda: fn(x), number=100, repeat=3)
            theirs.append(statistics.median(loops) / 100 * 1e6)
        ratios.append(statistics.median(ours) / statistics.median(theirs))
        if abs(ratios[-1] - 1) < 0.1:
            break
    assert min(abs(r - 1) for r in ratios) < 0.1, ratios
