"""What a job is doing: the words the engine, the workers and the pages share. A leaf module
(it imports nothing of ours), so the engine can name a stage without importing ``jobs``."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """What a job is doing; also the stage names of the worker's progress events."""

    QUEUED = "queued"
    STARTING = "starting"
    LOADING = "loading"
    TRACING = "tracing"
    OPTIMIZING = "optimizing"
    # Waiting for another job's timed calls to end (jobs of one pool time one at a time).
    WAITING = "waiting"
    TIMING = "timing"
    # The diff and static shape tables of the graphs before and after Grappler (the matrix's).
    COMPARING = "comparing"
    # The calls under TensorFlow's profiler, after every mode's timed calls.
    PROFILING = "profiling"
    ANALYSING = "analysing"
    ABLATING = "ablating"
    DONE = "done"
    FAILED = "failed"
