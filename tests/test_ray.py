"""The Ray backend on a real two-node Ray cluster on this machine (ray.cluster_utils.Cluster).

One node carries a custom resource standing in for a GPU (this machine has none), so placement
is tested without one. The same node alone holds the second TensorFlow that ``make test``
installs (INSPECTOR_TEST_VERSIONS), so a version's jobs are seen to go where it is installed. One worker per node; the cluster is shared by the module's tests and
the node-kill test runs last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from inspector.errors import UsageError
from inspector.inputs.request import prepare
from inspector.inputs.sources import Source, read_source
from inspector.jobs.executor import Limits, Stage
from tests.helpers import ROOT

pytestmark = [pytest.mark.ray, pytest.mark.worker]
ray = pytest.importorskip("ray")
GPU_STAND_IN = "inspector_gpu"
# The second TensorFlow's folder (Makefile: second-tf), and its version as asked for.
VERSIONS = os.environ.get("INSPECTOR_TEST_VERSIONS")
SECOND = os.environ.get("INSPECTOR_TEST_SECOND_TF", "2.15")
SLOW = ("import time\nimport tensorflow as tf\n\ndef f(x):\n    time.sleep(600)\n"
        "    return x\n")


def _ray_processes() -> set[int]:
    import psutil

    found = set()
    for process in psutil.process_iter(["name", "cmdline"]):
        text = " ".join([process.info["name"] or "", *(process.info["cmdline"] or [])])
        if "raylet" in text or "gcs_server" in text or "ray::" in text:
            found.add(process.pid)
    return found


def test_a_cli_run_starts_its_own_ray_and_leaves_no_ray_process():
    """Runs before the module's cluster starts: every Ray process seen after is this run's."""
    before = _ray_processes()
    done = subprocess.run([sys.executable, "-m", "inspector", "inspect", "gallery:process_data",
                           "--mode", "spec", "--runs", "5", "--executor", "ray", "--json", "-"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["executor"]["kind"] == "ray" and report["error"] is None
    deadline = time.monotonic() + 20
    while _ray_processes() - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _ray_processes() - before


def test_an_unreachable_cluster_is_exit_2_before_any_work():
    done = subprocess.run([sys.executable, "-m", "inspector", "inspect", "gallery:process_data",
                           "--executor", "ray"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "RAY_ADDRESS": "127.0.0.1:1"})
    assert done.returncode == 2
    assert "ExecutorError: cannot reach the Ray cluster at 127.0.0.1:1" in done.stderr


@pytest.fixture(scope="module")
def cluster():
    from ray.cluster_utils import Cluster

    started = time.monotonic()
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    gpu_node = nodes.add_node(num_cpus=1, resources={GPU_STAND_IN: 1},
                              env_vars={"INSPECTOR_VERSIONS": VERSIONS} if VERSIONS else None)
    nodes.wait_for_nodes()
    from inspector.jobs.ray_backend import RayExecutor

    executor = RayExecutor(address=nodes.address, workers_per_node=1,
                           gpu_resource=GPU_STAND_IN)
    print(f"cluster and agents ready in {time.monotonic() - started:.1f} s")
    try:
        yield executor, nodes, gpu_node
    finally:
        executor.close()
        ray.shutdown()
        nodes.shutdown()


def _node_of(report) -> str:
    assert report.executor is not None and report.executor.kind == "ray"
    return report.executor.node


def _nodes(serialized: bytes) -> list[tuple[str, str, tuple[str, ...]]]:
    from inspector.graphs.protos import parse

    return [(n.name, n.op, tuple(n.input)) for n in parse(serialized).node]


def _gpu_label(executor) -> str:
    return next(n["node"] for n in executor.nodes() if n["gpu"])


def test_devices_lists_both_nodes_with_host_and_tensorflow(cluster):
    executor, _, _ = cluster
    import tensorflow as tf

    nodes = executor.nodes()
    assert len(nodes) == 2 and len({n["node_id"] for n in nodes}) == 2
    for node in nodes:
        assert node["tensorflow"] == tf.__version__
        assert "/device:CPU:0" in " ".join(node["devices"])
        assert node["host"] in node["node"]
    assert [n["gpu"] for n in nodes].count(True) == 1
    assert executor.devices() == ("/device:CPU:0",)


def test_results_match_the_local_pool_node_for_node(cluster, executor):
    ray_executor, _, _ = cluster
    request = prepare(read_source("gallery:constant_arithmetic"), modes=["spec", "numpy"],
                      runs=5, include_graphs=True)
    through_ray = ray_executor.submit(request).result(180)
    local = executor.submit(request).result(180)
    assert through_ray.error is None and local.error is None
    assert local.executor.kind == "local"
    for ours, theirs in zip(through_ray.results, local.results, strict=True):
        assert ours.diff == theirs.diff
        assert (ours.pre, ours.post) == (theirs.pre, theirs.post)
        for side in ("pre", "post"):  # node for node (the bytes hold per-process counters)
            assert _nodes(ours.graphs[side]) == _nodes(theirs.graphs[side])
        assert ours.attribution == theirs.attribution
    assert through_ray.executor.tensorflow == local.tensorflow


def test_the_matrix_figures_come_from_the_node_before_the_end(cluster):
    """Issue 24 on Ray: the page's early matrix (Job.measured) reaches the head while the
    node's worker still runs the profiled calls (2 s of them)."""
    from tests.test_executor import SLOW_PROFILE, request_for

    executor, _, _ = cluster
    job = executor.submit(request_for(SLOW_PROFILE, modes=("spec",)))
    early = None
    deadline = time.monotonic() + 120
    while early is None and not job.wait(0.05) and time.monotonic() < deadline:
        early = job.measured()
    assert early is not None and not job.wait(0)
    report = job.result(120)
    assert early.results[0].timing.median_us == report.results[0].timing.median_us
    assert early.results[0].shapes == report.results[0].shapes


def test_jobs_route_by_resource(cluster):
    executor, _, _ = cluster
    gpu = _gpu_label(executor)
    wanting_gpu = prepare(read_source("gallery:process_data"), modes=["spec"], runs=3,
                          device="GPU:0")
    report = executor.submit(wanting_gpu).result(180)
    assert _node_of(report) == gpu  # the stand-in node took it ...
    assert report.error is not None and report.error.type == "UsageError"
    assert "no device 'GPU:0'" in report.error.message  # ... and its TensorFlow has no GPU
    cpu_nodes = set()
    plain = prepare(read_source("gallery:process_data"), modes=["spec"], runs=3)
    jobs = [executor.submit(plain, user=f"user{i}") for i in range(4)]
    for job in jobs:
        cpu_nodes.add(_node_of(job.result(180)))
    assert len(cpu_nodes) == 2  # a CPU job goes anywhere: both nodes served


def test_cancel_reaches_the_node_and_kills_the_worker(cluster):
    executor, _, _ = cluster
    job = executor.submit(prepare(Source(SLOW, "slow.py"), calls=["float32[2]"], modes=["spec"]),
                          Limits(timeout_s=300))
    deadline = time.monotonic() + 120
    while job.progress.stage not in (Stage.TRACING, Stage.OPTIMIZING) and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    started = time.monotonic()
    job.cancel()
    report = job.result(60)
    assert time.monotonic() - started < 30
    errors = [report.error] + [r.error for r in report.results]
    assert any(e is not None and e.type == "Cancelled" for e in errors)
    # The node's next job runs (its worker was replaced).
    assert executor.submit(prepare(read_source("gallery:process_data"), modes=["spec"],
                                   runs=3)).result(180).error is None


def test_no_node_with_the_device_is_a_usage_error_before_queueing(cluster):
    executor, _, _ = cluster
    request = prepare(read_source("gallery:process_data"), modes=["spec"], runs=3,
                      device="GPU:0")
    saved = [(n, n.has_gpu) for n in executor._nodes]
    for node, _ in saved:
        node.has_gpu = False
    try:
        with pytest.raises(UsageError, match="no live node of the Ray cluster has"):
            executor.submit(request)
        assert executor._queue.waiting() == 0
    finally:
        for node, had in saved:
            node.has_gpu = had


@pytest.mark.skipif(not VERSIONS, reason="needs the second TensorFlow (make test installs it)")
def test_a_version_runs_only_on_the_nodes_that_hold_it(cluster):
    from inspector.jobs.local import follow
    from inspector.jobs.ray_backend import RayExecutor

    executor, nodes, _ = cluster
    holder = _gpu_label(executor)
    held = {n["node"]: n["versions"] for n in executor.nodes()}
    second = next(v for v in held[holder] if v.startswith(SECOND + "."))
    assert [label for label, listed in held.items() if second in listed] == [holder]
    with RayExecutor(address=nodes.address, workers_per_node=1, gpu_resource=GPU_STAND_IN,
                     tensorflow=second) as versioned:
        assert [n["node"] for n in versioned.nodes()] == [holder]
        request = prepare(read_source("gallery:fused_dense"), modes=["spec"], runs=3)
        reports = [follow(versioned.submit(request, user=u))[0] for u in ("ann", "ben")]
    for report in reports:
        assert report.error is None and report.tensorflow == second
        assert _node_of(report) == holder and report.executor.tensorflow == second
    with pytest.raises(UsageError, match=r"no node of the Ray cluster holds TensorFlow 2\.16\.9: "
                                         r"run 'tf-graph-inspector versions add 2\.16\.9'"):
        RayExecutor(address=nodes.address, workers_per_node=1, tensorflow="2.16.9")


def test_a_node_killed_mid_job_gives_worker_crashed_and_the_next_job_runs_elsewhere(cluster):
    executor, nodes, gpu_node = cluster
    gpu = _gpu_label(executor)
    slow = prepare(Source(SLOW, "slow.py"), calls=["float32[2]"], modes=["spec"])
    # Two users' slow jobs fill both nodes' slots; then the stand-in GPU node is killed.
    jobs = [executor.submit(slow, Limits(timeout_s=300), user=u) for u in ("ann", "ben")]
    deadline = time.monotonic() + 180
    while not all(j.progress.stage == Stage.TRACING for j in jobs) and \
            time.monotonic() < deadline:
        time.sleep(0.1)
    on_gpu = next(j for j in jobs if j.worker_info.get("node") == gpu)
    other = next(j for j in jobs if j is not on_gpu)
    nodes.remove_node(gpu_node)  # kills its raylet, its agent and the agent's workers
    report = on_gpu.result(120)
    errors = [report.error] + [r.error for r in report.results]
    crashed = [e for e in errors if e is not None and e.type == "WorkerCrashed"]
    assert crashed and gpu in crashed[0].message
    other.cancel()
    other.result(60)
    after = executor.submit(prepare(read_source("gallery:process_data"), modes=["spec"],
                                    runs=3)).result(180)
    assert after.error is None and _node_of(after) != gpu
    assert gpu not in " ".join(n["node"] for n in executor.nodes() if n["alive"])
