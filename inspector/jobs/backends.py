"""Which backend runs jobs: the local pool (default) or a Ray cluster.

Chosen by ``INSPECTOR_EXECUTOR`` (``local`` or ``ray``; the app and the CLI) or the CLI's
``--executor``. Ray is imported only when it is chosen.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.errors import ExecutorError
from inspector.jobs.executor import DEFAULT_LIMITS, Executor, Limits, Progress

if TYPE_CHECKING:  # the pool and Ray load when a backend starts (the history CLI needs neither)
    from inspector.inputs.request import InspectRequest
    from inspector.jobs.versions import Environment
    from inspector.report import Report

EXECUTOR_ENV = "INSPECTOR_EXECUTOR"
KINDS = ("local", "ray")


def kind(chosen: str | None = None) -> str:
    """``chosen``, else $INSPECTOR_EXECUTOR, else "local"; ExecutorError for anything else."""
    value = (chosen or os.environ.get(EXECUTOR_ENV) or "local").strip().lower()
    if value not in KINDS:
        raise ExecutorError(f"unknown executor {value!r} ({EXECUTOR_ENV} or --executor): "
                            f"choose {' or '.join(KINDS)}")
    return value


def start(chosen: str | None = None, *, workers: int = 1, jobs_per_user: int | None = None,
          hidden: Sequence[Path] = (), limits: Limits = DEFAULT_LIMITS,
          spares: int = 0, environment: Environment | None = None,
          turns_with: Executor | None = None) -> Executor:
    """A running backend: ``workers`` pre-started workers here, or per Ray node, and
    ``spares`` warm ones beside them (here, or on each node); ``environment``: another
    TensorFlow's (on Ray: that version, on the nodes that hold it); ``turns_with``: a local
    pool whose timed calls this one's take turns with, and whose worker count this one's jobs
    count against."""
    if kind(chosen) == "ray":
        from inspector.jobs.ray_backend import RayExecutor

        return RayExecutor(workers_per_node=workers, limits=limits, jobs_per_user=jobs_per_user,
                           hidden=tuple(hidden), spares=spares,
                           tensorflow=environment.version if environment else None)
    from inspector.jobs.local import LocalExecutor

    lock = getattr(turns_with, "turn_lock", None)
    return LocalExecutor(workers=workers, limits=limits, jobs_per_user=jobs_per_user,
                         hidden=tuple(hidden), spares=spares, environment=environment,
                         turns_with=lock, permits=getattr(turns_with, "permits", None),
                         pauses=getattr(turns_with, "pauses", None))


def one_shot(chosen: str | None = None, environment: Environment | None = None
             ) -> Executor | None:
    """A local pool of one worker started now for one job, whose TensorFlow imports while the
    caller prepares it (give it to run_one); None on Ray (a cluster is joined when the job
    is run)."""
    if kind(chosen) != "local":
        return None
    from inspector.jobs.local import one_shot as local_one_shot

    return local_one_shot(environment)


def run_one(chosen: str | None, request: InspectRequest, limits: Limits = DEFAULT_LIMITS,
            on_progress: Callable[[Progress], None] | None = None,
            environment: Environment | None = None,
            started: Executor | None = None) -> tuple[Report, str]:
    """One request on a backend started for it (or ``started``, from one_shot) and stopped
    after (a Ray instance this call started stops with it); ``environment``: another
    TensorFlow's. Raises ExecutorError, or UsageError when no node has the device or the
    version."""
    if kind(chosen) == "local":
        from inspector.jobs.local import run_one as local_run_one

        return local_run_one(request, limits, on_progress, environment, started)
    from inspector.jobs.local import follow

    with start("ray", limits=limits, environment=environment) as executor:
        return follow(executor.submit(request, limits), on_progress)


def nodes(executor: Executor) -> list[dict[str, Any]]:
    """Each node a backend runs jobs on: ``node`` (its name), ``host``, ``tensorflow``,
    ``devices`` and, with Ray, ``node_id``, ``gpu`` (has the GPU resource), ``alive`` and
    ``versions`` (the TensorFlow versions it holds)."""
    return executor.nodes()
