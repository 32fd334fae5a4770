"""The interface every backend implements: submit a request, follow its progress, get a report.

``Executor`` and ``JobHandle`` are what the CLI and the app call; ``local.LocalExecutor`` is
the default backend. ``Limits`` and ``Progress`` are the plain data they exchange.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from inspector.errors import CallSpecError
from inspector.inputs.calls import TensorArg, parse_calls
from inspector.inputs.request import InspectRequest
from inspector.report import Report
from inspector.stages import Stage

__all__ = ["Stage"]  # where the jobs' callers have always imported it from

# Resident memory of a worker that imported TensorFlow and warmed up, before the user's data
# (``import tensorflow`` alone is 770-800 MB here; tensorflow-notes).
WORKER_BASE_MB = 800
# Bytes per element of each call-spec dtype.
_ITEMSIZE = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int8": 1, "int16": 2,
             "int32": 4, "int64": 8, "uint8": 1, "bool": 1, "complex64": 8}


@dataclass(frozen=True)
class Limits:
    """Per-job limits; a breach kills the worker's process group."""

    # Wall-clock seconds from the job's start in a worker (queueing not counted).
    timeout_s: float = 60.0
    # Resident memory of the worker's whole process tree.
    memory_mb: int = 4096
    # Bytes the worker may send back (reports with GraphDefs of large models are a few MB).
    max_report_mb: int = 256


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Progress:
    """What a job is doing now, for progress displays."""

    stage: Stage
    mode: str | None = None
    # Modes finished so far.
    modes_done: tuple[str, ...] = ()
    # Modes whose matrix figures came (their profile and analysis may still run).
    modes_measured: tuple[str, ...] = ()


class JobHandle(Protocol):
    """What ``Executor.submit`` returns (jobs.job.Job for both backends): callers wait on it,
    read its progress, cancel it, and read its worker's log once it ends."""

    # Who asked (the fair queue serves users in turn).
    user: str
    # The worker's log for this job, once it ended (TensorFlow's C++ log included).
    log: str

    def wait(self, timeout: float | None = None) -> bool: ...
    def result(self, timeout: float | None = None) -> Report: ...
    def cancel(self) -> None: ...
    def measured(self) -> Report | None:
        """While it runs: every mode's figures for the matrix once all came, else None."""
        ...
    @property
    def progress(self) -> Progress: ...
    @property
    def queued_ahead(self) -> int | None: ...
    @property
    def at_user_cap(self) -> bool: ...


class Executor(Protocol):
    """A backend (local.LocalExecutor, ray_backend.RayExecutor): what the CLI and the app use.
    mypy checks both against it where backends.start returns one."""

    limits: Limits
    # Whether user code runs in bubblewrap (hosting.sandbox.Sandbox: .active, .reason).
    sandbox: Any

    def submit(self, request: InspectRequest, limits: Limits | None = None,
               user: str = "local") -> JobHandle: ...
    def devices(self) -> tuple[str, ...]: ...
    def nodes(self) -> list[dict[str, Any]]:
        """Each machine jobs run on: ``node``, ``host``, ``tensorflow``, ``devices`` (and,
        with Ray, ``node_id``, ``gpu``, ``alive``)."""
        ...
    def wait_warm(self, timeout: float = ...) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self) -> Executor: ...
    def __exit__(self, *exc: object) -> None: ...


def check_fits(request: InspectRequest, limits: Limits) -> None:
    """Raise CallSpecError when a call's arguments cannot fit the job's memory limit.

    A call's tensors exist twice while it runs (the NumPy array and its Tensor copy), beside
    the worker's own TensorFlow; checked before any work, so the user learns at once instead
    of after a worker tried and died.
    """
    for number, call in enumerate(parse_calls(request.calls), 1):
        data_bytes = 0
        for arg in call.args:
            if isinstance(arg, TensorArg):
                elements = 1
                for dim in arg.shape:
                    elements *= dim
                data_bytes += elements * _ITEMSIZE[arg.dtype]
        needed_mb = 2 * data_bytes / 2**20 + WORKER_BASE_MB
        if needed_mb > limits.memory_mb:
            raise CallSpecError(
                f"call {number} ({call}) needs about {needed_mb:,.0f} MB (its arguments twice, "
                f"{2 * data_bytes / 2**20:,.0f} MB, plus {WORKER_BASE_MB} MB for TensorFlow), "
                f"over the {limits.memory_mb} MB memory limit; use smaller shapes or raise the "
                "limit (--memory-mb; in the app: Advanced)")
