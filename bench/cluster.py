"""The Ray backend against the local pool (named cluster, not ray: the package it measures)."""

from __future__ import annotations

import statistics
import time

from bench.common import APP_MODES, tree_rss_mb
from bench.registry import benchmark


@benchmark("ray")
def ray_latency(quick: bool) -> None:
    """A warm request through Ray (a local Ray instance: one node, one worker) against the local
    pool, alternating back to back in one run; the cluster's start time; what the node's agent
    and its worker hold."""
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source
    from inspector.jobs.local import LocalExecutor
    from inspector.jobs.ray_backend import RayExecutor

    repeats = 3 if quick else 7
    request = prepare(read_source("gallery:process_data"), modes=list(APP_MODES), runs=100)
    started = time.perf_counter()
    cluster = RayExecutor(workers_per_node=1)
    cluster.wait_warm()
    cluster_s = time.perf_counter() - started
    local = LocalExecutor(workers=1)
    times: dict[str, list[float]] = {"local pool": [], "Ray": []}
    try:
        agent = cluster.nodes()[0]
        agent_mb, workers_mb = tree_rss_mb(agent["actor_pid"])
        for _ in range(repeats):
            for name, pool in (("local pool", local), ("Ray", cluster)):
                # Both warm: a replacement worker importing TensorFlow in the other pool would
                # take CPU from this request (2 cores here).
                local.wait_warm()
                cluster.wait_warm()
                time.sleep(0.5)
                start = time.perf_counter()
                report = pool.submit(request).result(300)
                times[name].append((time.perf_counter() - start) * 1e3)
                assert report.error is None, report.error
    finally:
        local.close()
        cluster.close()
    local_ms, ray_ms = (statistics.median(times[k]) for k in ("local pool", "Ray"))
    print(f"\n### Ray backend: warm request (process_data, {len(APP_MODES)} modes, 100 runs; "
          f"median of {repeats}, alternating)\n")
    print("| backend | ms | ratio |")
    print("|---|---|---|")
    print(f"| local pool | {local_ms:.0f} | 1.00x |")
    print(f"| Ray (local instance, one node) | {ray_ms:.0f} | {ray_ms / local_ms:.2f}x |")
    print(f"\nRay instance started and its agent's worker warm in {cluster_s:.1f} s; the node's "
          f"agent holds {agent_mb:.0f} MB RSS and its warm worker {workers_mb:.0f} MB.")
