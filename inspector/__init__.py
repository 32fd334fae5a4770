"""Graph optimization inspector: what tf.function and Grappler do to a Python function.

Importing this package does not import TensorFlow; inspections run in worker processes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from inspector.errors import (
    CallSpecError,
    Cancelled,
    ErrorInfo,
    FunctionNotFound,
    InputError,
    InspectorError,
    MemoryLimit,
    SourceError,
    Timeout,
    UsageError,
    UserCodeError,
    WorkerCrashed,
)

if TYPE_CHECKING:
    from inspector.inputs.request import InspectRequest, prepare
    from inspector.inputs.sources import Source, read_source
    from inspector.jobs.executor import Executor, Limits
    from inspector.jobs.local import LocalExecutor
    from inspector.report import ModeResult, Report

# The API's classes load on first use (PEP 562): a command such as `history list` imports
# this package and should not pay for the worker pool's modules.
_LAZY = {"InspectRequest": "inputs.request", "prepare": "inputs.request",
         "Source": "inputs.sources", "read_source": "inputs.sources",
         "Executor": "jobs.executor", "Limits": "jobs.executor", "LocalExecutor": "jobs.local",
         "ModeResult": "report", "Report": "report"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"inspector.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'inspector' has no attribute {name!r}")

__all__ = [
    "inspect", "Report", "ModeResult", "InspectRequest", "Source", "Limits", "Executor",
    "LocalExecutor", "prepare", "read_source", "ErrorInfo", "InspectorError", "InputError",
    "UsageError", "SourceError", "FunctionNotFound", "CallSpecError", "UserCodeError",
    "Timeout", "MemoryLimit", "WorkerCrashed", "Cancelled",
]


def inspect(source: str, function: str | None = None, calls: tuple[str, ...] = (),
            modes: tuple[str, ...] = ("all",), *, executor: Executor | None = None,
            limits: Limits | None = None, **options: Any) -> Report:
    """Inspect a function in an isolated worker and return the report.

    Args:
        source: a .py path, "-" for stdin, or "gallery:NAME" (as on the command line).
        options: InspectRequest fields (device, runs, warmup, budget_s, ablate, include_graphs)
            and ``grappler`` as a list of "KEY=VALUE" overrides.

    Raises:
        InputError: the source, function, calls or options are wrong (nothing ran).
    """
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source
    from inspector.jobs.executor import Limits
    from inspector.jobs.local import run_one

    grappler = options.pop("grappler", ())
    request = prepare(read_source(source), function, calls, modes, grappler, **options)
    if executor is not None:
        return executor.submit(request, limits).result()
    return run_one(request, limits or Limits())[0]
