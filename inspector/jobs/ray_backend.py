"""The Ray backend: today's Executor and JobHandle over a Ray cluster, GPU machines included.

Each node runs one long-lived ``NodeAgent`` actor that owns a local pool
(``local.LocalExecutor``) of pre-started, sandboxed workers with their limits, so a warm
request never imports TensorFlow and a node's crash loses only that node's jobs. This process
keeps the queue: users are served in turn across the whole cluster (``FairQueue``), and each
node's worker slots take the next job they can run (a job that asks for a GPU only on a node
with Ray's GPU resource). Each node says which TensorFlow versions it holds (its own and those
added there with ``versions add``), and an executor for one version starts its agents only on
the nodes that hold it. The only module that imports ``ray``, and only when the backend is
chosen (``INSPECTOR_EXECUTOR=ray``, ``inspect --executor ray``).
"""

from __future__ import annotations

import atexit
import os
import socket
import threading
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from inspector.errors import Cancelled, ExecutorError, UsageError, WorkerCrashed
from inspector.hosting.sandbox import Sandbox
from inspector.inputs.request import InspectRequest
from inspector.jobs import versions
from inspector.jobs.executor import DEFAULT_LIMITS, Limits, Progress, check_fits
from inspector.jobs.job import Job, QueuedPool
from inspector.jobs.local import START_TIMEOUT_S, LocalExecutor
from inspector.report import ExecutorInfo, Report

# The Ray resource a job asking for a GPU needs on its node. Ray counts a node's GPUs as "GPU";
# a test cluster on a machine without one declares a custom resource and names it here.
GPU_RESOURCE_ENV = "INSPECTOR_RAY_GPU_RESOURCE"
# Ray's namespace for the agents, so two dashboards on one cluster do not share names.
NAMESPACE = "tf-graph-inspector"
# How long one poll of a running job waits on its node before this side checks for a cancel.
POLL_S = 0.2
# Seconds to wait for a TCP answer from RAY_ADDRESS before calling the cluster unreachable
# (ray.init itself retries for about a minute).
CONNECT_TIMEOUT_S = 5.0


class NodeAgent:
    """One per node (a Ray actor pinned there): a local pool of warm workers and its jobs.
    ``version``: run that TensorFlow (as this node's ``versions list`` names it); a node that
    does not hold it starts no workers and says so in ``info``."""

    def __init__(self, workers: int, limits: Limits, sandbox_mode: str | None,
                 hidden: tuple[str, ...], spares: int = 0, version: str | None = None):
        held = versions.installed()
        self._versions = [e.version for e in held]
        environment = next((e for e in held if e.version == version), None)
        self._pool = (None if version is not None and environment is None else
                      LocalExecutor(workers=workers, limits=limits, sandbox_mode=sandbox_mode,
                                    hidden=tuple(Path(p) for p in hidden), spares=spares,
                                    environment=environment))
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def info(self, timeout: float) -> dict[str, Any]:
        """This node: Ray's node id, host name, the TensorFlow versions it holds, the workers'
        TensorFlow and devices (None and none when it lacks the version asked for), and the
        pid of this actor (its workers are its children)."""
        import ray

        pool = self._pool
        devices = list(pool.devices(timeout)) if pool else []  # waits for a worker's TensorFlow
        return {"node_id": ray.get_runtime_context().get_node_id(),
                "host": socket.gethostname(), "versions": self._versions,
                "tensorflow": pool.tensorflow if pool else None,
                "devices": devices, "pid": os.getpid(),
                "sandbox": pool.sandbox.reason if pool and not pool.sandbox.active else "",
                "holds": pool is not None}

    def _running(self) -> LocalExecutor:
        if self._pool is None:
            raise ExecutorError("this node does not hold the TensorFlow version asked for")
        return self._pool

    def wait_warm(self, timeout: float) -> bool:
        return self._running().wait_warm(timeout)

    def submit(self, job_id: str, request: InspectRequest, limits: Limits, user: str) -> None:
        job = self._running().submit(request, limits, user)
        with self._lock:
            self._jobs[job_id] = job

    def poll(self, job_id: str, wait_s: float) -> tuple[Progress, bool]:
        """The job's progress, after waiting up to ``wait_s`` for it to end; and whether it did."""
        job = self._jobs[job_id]
        finished = job.wait(wait_s)
        return job.progress, finished

    def measured(self, job_id: str) -> dict[str, Any] | None:
        """The running job's matrix figures (Job.measured) as JSON data, or None."""
        job = self._jobs.get(job_id)
        report = job.measured() if job is not None else None
        return report.to_dict() if report is not None else None

    def result(self, job_id: str) -> tuple[dict[str, Any], str]:
        """The finished job's report (graphs included, as JSON data) and its worker's log."""
        with self._lock:
            job = self._jobs.pop(job_id)
        return job.result().to_dict(include_graphs=True), job.log

    def cancel(self, job_id: str) -> None:
        """Kill the job's worker (or take it out of this node's queue)."""
        job = self._jobs.get(job_id)
        if job is not None:
            job.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()


@dataclass
class _Node:
    """A node as this process sees it: its agent and what it said about itself."""

    agent: Any
    node_id: str
    host: str
    tensorflow: str | None
    devices: tuple[str, ...]
    has_gpu: bool
    actor_pid: int
    # Why this node's workers run without a sandbox ("" when they have one).
    unsandboxed: str = ""
    alive: bool = True
    # The TensorFlow versions the node holds (its own first, then those added there).
    versions: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Host name and the start of Ray's node id (nodes of one machine share a host)."""
        return f"{self.host} (node {self.node_id[:8]})"

    def accepts(self, job: Job) -> bool:
        return self.alive and (self.has_gpu or not _wants_gpu(job.request))


def _wants_gpu(request: InspectRequest) -> bool:
    return "GPU" in (request.device or "").upper()


def _import_ray() -> Any:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # before ray is imported
    try:
        import ray
    except ImportError as exc:
        raise ExecutorError("the Ray backend needs the ray package (pip install -r "
                            "requirements.txt)") from exc
    return ray


def check_reachable(address: str) -> None:
    """A fast, typed answer for a cluster that is not there (ray.init retries for a minute)."""
    if address in ("auto", "local") or address.startswith("ray://"):
        return
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), CONNECT_TIMEOUT_S):
            return
    except (OSError, ValueError) as exc:
        raise ExecutorError(f"cannot reach the Ray cluster at {address} ({exc}); start its head "
                            "with `ray start --head`, or unset RAY_ADDRESS to start a local "
                            "Ray instance") from None


class RayExecutor(QueuedPool):
    """The Executor over a Ray cluster: joins ``address`` (or RAY_ADDRESS), or starts a local
    Ray instance (stopped again by ``close``)."""

    def __init__(self, address: str | None = None, workers_per_node: int = 1,
                 limits: Limits = DEFAULT_LIMITS, *, jobs_per_user: int | None = None,
                 sandbox_mode: str | None = None, gpu_resource: str | None = None,
                 hidden: tuple[Path, ...] = (), start_timeout: float = START_TIMEOUT_S,
                 spares: int = 0, tensorflow: str | None = None):
        """Raises ExecutorError when the cluster cannot be reached or no agent starts, and
        UsageError when no node holds ``tensorflow`` (a version as ``versions list`` names
        it; None: each node's own). ``spares``: warm workers each node agent keeps beside its
        busy ones."""
        self._spares = spares
        self._version = tensorflow
        ray = _import_ray()
        self.limits = limits
        self._ray = ray
        address = address or os.environ.get("RAY_ADDRESS") or None
        self._gpu_resource = gpu_resource or os.environ.get(GPU_RESOURCE_ENV, "GPU")
        self._started_ray = not ray.is_initialized() and address is None
        if not ray.is_initialized():
            if address is not None:
                check_reachable(address)
            try:
                ray.init(address=address, namespace=NAMESPACE, include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ExecutorError(f"cannot join the Ray cluster at {address}: {exc}") from exc
        QueuedPool.__init__(self, jobs_per_user or max(1, workers_per_node))
        self._closed = threading.Event()
        # What close() walks, empty until the agents start (a failed start still closes).
        self._nodes: list[_Node] = []
        self._slots: list[threading.Thread] = []
        if self._started_ray:
            # A server stopped by a signal exits through atexit: stop the instance it started
            # (Ray installs no signal handler when started off the main thread, as in Streamlit).
            atexit.register(self.close)
        # Paths the sandbox covers on every node (where they exist there).
        self._hidden = tuple(str(p) for p in hidden)
        self._nodes = self._start_agents(workers_per_node, sandbox_mode, start_timeout)
        bare = [f"{n.label}: {n.unsandboxed}" for n in self._nodes if n.unsandboxed]
        # As LocalExecutor.sandbox: the page warns when some node runs code without one.
        self.sandbox = Sandbox("none", "; ".join(bare)) if bare else Sandbox("bwrap")
        self._slots = [threading.Thread(target=self._slot, args=(node,), daemon=True,
                                        name=f"ray-slot-{node.node_id[:8]}-{i}")
                       for node in self._nodes for i in range(max(1, workers_per_node))]
        for slot in self._slots:
            slot.start()

    def _start_agents(self, workers: int, sandbox_mode: str | None,
                      timeout: float) -> list[_Node]:
        ray = self._ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        remote_agent = ray.remote(num_cpus=0, max_concurrency=64)(NodeAgent)
        alive = [n for n in ray.nodes() if n.get("Alive")]
        agents = [remote_agent.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
                      node["NodeID"], soft=False)).remote(workers, self.limits, sandbox_mode,
                                                          self._hidden, self._spares,
                                                          self._version)
                  for node in alive]
        try:
            infos = ray.get([agent.info.remote(timeout) for agent in agents],
                            timeout=timeout + 30)
        except Exception as exc:  # an agent that cannot start its workers, or a timeout
            self._shutdown()
            raise ExecutorError(f"the Ray nodes' agents did not start: {exc}") from exc
        nodes = [_Node(agent, info["node_id"], info["host"], info["tensorflow"],
                       tuple(info["devices"]),
                       float(node.get("Resources", {}).get(self._gpu_resource, 0)) > 0,
                       info["pid"], info["sandbox"], versions=tuple(info["versions"]))
                 for agent, info, node in zip(agents, infos, alive, strict=True)]
        lacking = [n for n, info in zip(nodes, infos, strict=True) if not info["holds"]]
        for node in lacking:  # a node without the version runs none of its jobs
            ray.kill(node.agent)
        held = [n for n in nodes if n not in lacking]
        if not held:
            self._shutdown()
            said = "; ".join(f"{n.label}: {', '.join(n.versions) or 'none'}" for n in nodes)
            raise UsageError(f"no node of the Ray cluster holds TensorFlow {self._version}: "
                             f"run 'tf-graph-inspector versions add {self._version}' on a node "
                             f"(the nodes hold {said})")
        return held

    # -- the Executor interface ---------------------------------------------------------------
    def submit(self, request: InspectRequest, limits: Limits | None = None,
               user: str = "local") -> Job:
        """Queue a request for ``user``; UsageError when no live node has the device asked
        for, CallSpecError when its arguments cannot fit the limits. Nothing is queued then."""
        if self._closed.is_set():
            raise ExecutorError("the executor is closed: start another to submit jobs")
        job = Job(request, limits or self.limits, user, self)
        check_fits(request, job.limits)
        if not any(node.accepts(job) for node in self._nodes):
            nodes = ", ".join(f"{n.label}{'' if n.alive else ' (dead)'}" for n in self._nodes)
            raise UsageError(f"no live node of the Ray cluster has the {self._gpu_resource!r} "
                             f"resource that device {request.device!r} needs; nodes: {nodes}")
        self._queue.put(user, job)
        return job

    def devices(self) -> tuple[str, ...]:
        """The devices some live node has, each once (``nodes`` says which node has which)."""
        return tuple(dict.fromkeys(device for node in self._nodes if node.alive
                                   for device in node.devices))

    def wait_warm(self, timeout: float = START_TIMEOUT_S) -> bool:
        """Block until every live node's workers are started and waiting for a job."""
        live = [n for n in self._nodes if n.alive]
        return all(self._ray.get([n.agent.wait_warm.remote(timeout) for n in live],
                                 timeout=timeout + 30))

    def nodes(self) -> list[dict[str, Any]]:
        """Each node: label, host, Ray node id, TensorFlow, devices, GPU resource, alive, and
        the TensorFlow versions it holds."""
        return [{"node": n.label, "host": n.host, "node_id": n.node_id,
                 "tensorflow": n.tensorflow, "devices": list(n.devices), "gpu": n.has_gpu,
                 "alive": n.alive, "actor_pid": n.actor_pid, "versions": list(n.versions)}
                for n in self._nodes]

    def close(self) -> None:
        """Stop the agents (and their workers); a Ray instance this process started stops too."""
        if self._closed.is_set():
            return
        self._closed.set()
        for job in self._queue.drain():
            job.fail(Cancelled("the executor was closed before the job started"))
        for slot in self._slots:
            slot.join(timeout=5)
        for node in self._nodes:
            if node.alive:
                try:
                    self._ray.get(node.agent.close.remote(), timeout=30)
                    self._ray.kill(node.agent)
                except Exception:  # a dead node has nothing left to stop
                    pass
        self._shutdown()

    def _shutdown(self) -> None:
        if self._started_ray:
            self._ray.shutdown()

    def _fail_stranded(self, dead: _Node) -> None:
        """Queued jobs that no live node can run any more end now, saying why."""
        for job in self._queue.remove_where(
                lambda job: not any(n.accepts(job) for n in self._nodes)):
            job.fail(WorkerCrashed(f"the Ray node {dead.label} died and no live node can run "
                                   f"this job (device {job.request.device or 'any'})"))

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- slots ----------------------------------------------------------------------------------
    def _slot(self, node: _Node) -> None:
        """One of a node's worker slots: take the next job this node can run, run it there."""
        while not self._closed.is_set() and node.alive:
            taken = self._queue.get(accept=node.accepts)
            if taken is None:
                return
            job = taken[1]
            try:
                self._run(node, job)
            except Exception as exc:  # a bug here must not leave the caller waiting
                job.fail(WorkerCrashed(f"following the job on {node.label} failed: {exc}"))
                job.release("")
            finally:
                self._queue.done(job.user)

    def _fetch_measured(self, node: _Node, job: Job, job_id: str) -> bool:
        """The node's matrix figures, once all came, for the page to show before the end."""
        data = self._ray.get(node.agent.measured.remote(job_id))
        if data is None:
            return False
        for result in Report.from_dict(data).results:
            job.add_measured(result.mode, result)
        return True

    def _run(self, node: _Node, job: Job) -> None:
        if job.cancelled:
            job.fail(Cancelled("cancelled before it started"))
            return
        job_id = uuid.uuid4().hex
        info = ExecutorInfo("ray", node.label, node.tensorflow)
        job.start({"node": node.label, "tensorflow": node.tensorflow})
        ray = self._ray
        try:
            ray.get(node.agent.submit.remote(job_id, job.request, job.limits, job.user))
            cancel_sent = measured = False
            while True:
                if job.cancelled and not cancel_sent:
                    node.agent.cancel.remote(job_id)
                    cancel_sent = True
                progress, finished = ray.get(node.agent.poll.remote(job_id, POLL_S))
                job.follow(progress)
                if finished:
                    break
                if len(progress.modes_measured) == len(job.request.modes) and not measured:
                    measured = self._fetch_measured(node, job, job_id)
            data, log = ray.get(node.agent.result.remote(job_id))
        except (ray.exceptions.RayActorError, ray.exceptions.NodeDiedError,
                ray.exceptions.ActorUnavailableError) as exc:
            node.alive = False
            job.fail(WorkerCrashed(f"the Ray node {node.label} died during the job "
                                   f"({type(exc).__name__}); the next job runs on another "
                                   "node"), node.tensorflow)
            job.release("")
            self._fail_stranded(node)
            return
        report = Report.from_dict(data)
        job.complete(replace(report, executor=info), log)
