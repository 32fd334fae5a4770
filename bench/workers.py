"""The worker pool: a request to its report against raw TensorFlow, what the sandbox costs,
and where one request's wall time goes (its request_stages)."""

from __future__ import annotations

import resource
import statistics
import sys
import time

from bench.common import ALL_MODES, APP_MODES, SEEDS
from bench.engine import raw_warm
from bench.registry import benchmark


def spread(times: list[float]) -> str:
    return f"{statistics.median(times):.0f} ({min(times):.0f}-{max(times):.0f})"


@benchmark("executor")
def executor_latency(quick: bool) -> None:
    """Worker pool: cold first request, then warm requests against raw TensorFlow doing the
    same work in a warm process."""
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source
    from inspector.jobs.local import LocalExecutor

    repeats = 3 if quick else 10
    print("\n### Worker pool: request to report (100 timed runs per mode)\n")
    request = prepare(read_source("gallery:process_data"), runs=100)
    start = time.perf_counter()
    with LocalExecutor(workers=1) as pool:
        pool.submit(request).result()
        cold = time.perf_counter() - start
    print(f"cold first request, all modes (worker start, TensorFlow import and warm-up "
          f"included): {cold:.2f} s\n")
    print("Warm request through the pool against raw TensorFlow doing the same work in a warm "
          "process (bench/scripts/raw_request.py; medians in ms; each row's two figures are "
          "measured back to back):\n")
    print("| entry | modes | warm request median (min-max) | raw TF median (min-max) | ratio |")
    print("|---|---|---|---|---|")
    with LocalExecutor(workers=1) as pool:
        for name in SEEDS:
            for label, modes in (("app default: " + " ".join(APP_MODES), APP_MODES),
                                 ("all 7", ALL_MODES)):
                request = prepare(read_source(f"gallery:{name}"), modes=modes, runs=100)
                times = []
                for _ in range(repeats):
                    pool.wait_warm()
                    start = time.perf_counter()
                    pool.submit(request).result()
                    times.append((time.perf_counter() - start) * 1e3)
                raw = raw_warm(name, modes, repeats)
                ratio = statistics.median(times) / statistics.median(raw)
                print(f"| {name} | {label} | {spread(times)} | {spread(raw)} | {ratio:.2f}x |")
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    imported = "parent imported TF!" if "tensorflow" in sys.modules else \
        "parent never imported TensorFlow"
    print(f"\npeak RSS: parent (no TensorFlow) {parent:.0f} MB; largest worker {worker:.0f} MB"
          f" ({imported})")


@benchmark("sandbox")
def sandbox_cost(quick: bool) -> None:
    """Cold worker start and warm request with and without bubblewrap, interleaved."""
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source
    from inspector.jobs.local import LocalExecutor

    repeats = 2 if quick else 4
    print("\n### The sandbox's cost (bubblewrap on against off, interleaved)\n")
    request = prepare(read_source("gallery:process_data"), modes=APP_MODES, runs=100)
    cold: dict[str, list[float]] = {"bwrap": [], "off": []}
    warm: dict[str, list[float]] = {"bwrap": [], "off": []}
    for _ in range(repeats):
        for mode in ("bwrap", "off"):
            start = time.perf_counter()
            with LocalExecutor(workers=1, sandbox_mode=mode) as pool:
                pool.wait_warm()
                cold[mode].append(time.perf_counter() - start)
                for _ in range(3):
                    pool.wait_warm()
                    start = time.perf_counter()
                    pool.submit(request).result()
                    warm[mode].append((time.perf_counter() - start) * 1e3)
    print("| | sandbox on | sandbox off | on / off |")
    print("|---|---|---|---|")
    for label, values, unit in (("cold worker start to ready (s)", cold, "{:.2f}"),
                                ("warm request, app default modes (ms)", warm, "{:.0f}")):
        on, off = statistics.median(values["bwrap"]), statistics.median(values["off"])
        print(f"| {label} | {unit.format(on)} | {unit.format(off)} | {on / off:.2f}x |")


@benchmark("waterfall")
def waterfall(quick: bool) -> None:
    """Issue 24: where one request's wall time goes, stage by stage, on a warm pool with a
    spare (the report's request_stages), seed example 1 at the app's default modes and
    ResNet50 (numpy, spec)."""
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source
    from inspector.jobs.local import LocalExecutor

    print("\n### Where a request's time goes (request_stages, ms; warm pool, one spare)\n")
    with LocalExecutor(workers=1, spares=1) as pool:
        pool.wait_warm(120)
        for name in ("process_data", "resnet50"):
            modes = APP_MODES if name in SEEDS else ("numpy", "spec")
            report = pool.submit(prepare(read_source(f"gallery:{name}"), modes=modes,
                                         runs=100)).result(timeout=600)
            total = sum(s.ms for s in report.request_stages)
            print(f"{name} ({', '.join(modes)}): {total:,.0f} ms")
            for stage in report.request_stages:
                print(f"    {stage.stage:<30}{stage.ms:>10,.1f}")
            time.sleep(6)  # the finished worker's replacement imports TensorFlow


@benchmark("versions")
def two_versions(quick: bool) -> None:
    """A warm request on two TensorFlow versions (the app's VersionsJob over a warm pool per
    version) against the sum of the same request on each version alone (issue 28)."""
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source
    from inspector.jobs import versions
    from inspector.jobs.local import LocalExecutor
    from inspector.jobs.versions_job import VersionsJob

    installed = versions.installed()
    print("\n### Two TensorFlow versions, warm (medians in ms, min-max)\n")
    if len(installed) < 2:
        print("skipped: one TensorFlow installed (make second-tf, or versions add 2.15, then "
              f"INSPECTOR_VERSIONS={versions.folder()})")
        return
    own, other = installed[0], installed[1]
    repeats = 3 if quick else 7
    print(f"TensorFlow {own.version} (the server's) and {other.version}; each request waits "
          "for both pools to be warm first.\n")
    print("| entry | modes | on both | sum of each alone | ratio |")
    print("|---|---|---|---|---|")
    with LocalExecutor(workers=1) as first, \
            LocalExecutor(workers=1, environment=other, turns_with=first.turn_lock) as second:
        pools = [(own.version, first), (other.version, second)]
        for name, modes in (("fused_dense", ("numpy", "spec")), ("conv_batchnorm", APP_MODES)):
            request = prepare(read_source(f"gallery:{name}"), modes=modes, runs=100)
            both, alone = [], []
            for _ in range(repeats):
                for pool in (first, second):
                    pool.wait_warm()
                start = time.perf_counter()
                report = VersionsJob(request, first.limits, "bench", pools).result()
                both.append((time.perf_counter() - start) * 1e3)
                assert report.versions == (own.version, other.version), report.error
                total = 0.0
                for _, pool in pools:
                    for warm in (first, second):  # neither import beside the timed request
                        warm.wait_warm()
                    start = time.perf_counter()
                    pool.submit(request).result()
                    total += (time.perf_counter() - start) * 1e3
                alone.append(total)
            ratio = statistics.median(both) / statistics.median(alone)
            print(f"| {name} | {' '.join(modes)} | {spread(both)} | {spread(alone)} | "
                  f"{ratio:.2f}x |")


# Raw TensorFlow loading a gallery model in a fresh process with TensorFlow and Keras already
# imported (as a warm worker has them): the load alone.
_RAW_LOAD = """
import sys, time
import tensorflow as tf
import keras
kind, path = sys.argv[1], sys.argv[2]
if sys.argv[3:] == ["warm"]:  # as a worker's TensorFlow is before its job
    from inspector.engine import inspection
    import gc
    inspection.warm_up()
    gc.freeze()
start = time.perf_counter()
if kind == "keras":
    keras.models.load_model(path, compile=False, safe_mode=True)
else:
    tf.saved_model.load(path)
print((time.perf_counter() - start) * 1e3)
"""


@benchmark("models")
def model_loading(quick: bool) -> None:
    """Issue 27: the gallery models' "starting" and "loading" stages on a warm pool (the model
    copied into the job's folder or sent as bytes, an archive unpacked, the model loaded in the
    sandbox) against raw TensorFlow loading the same files in a fresh process with TensorFlow
    imported (goal 1.1x)."""
    import subprocess

    from inspector.inputs import gallery
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source
    from inspector.jobs.local import LocalExecutor

    repeats = 3 if quick else 7
    folder = gallery.models_folder()
    print("\n### Loading a model (ms, median and min-max; mode spec, 3 timed runs)\n")
    print("| entry | inspector's starting + loading stages | raw load, fresh process | ratio | "
          "raw load after the worker's warm-up |")
    print("|---|---|---|---|---|")
    from inspector.inputs.models import read_bytes
    from inspector.inputs.sources import model_source

    # The gallery's files are copied into the job's folder (the path the server read); the
    # last row sends the same SavedModel's bytes in the job's message, as for an upload's
    # first run, or a Ray node.
    saved = str(folder / "mobilenet_v3_small_saved")
    rows = [("model_keras", "keras", "mobilenet_v3_small.keras",
             read_source("gallery:model_keras")),
            ("model_saved", "saved", "mobilenet_v3_small_saved",
             read_source("gallery:model_saved")),
            ("model_saved as bytes", "saved", "mobilenet_v3_small_saved",
             model_source(*read_bytes(saved)))]
    with LocalExecutor(workers=1) as pool:
        for name, kind, file, source in rows:
            request = prepare(source, modes=["spec"], runs=3)
            ours: list[float] = []
            raw: list[float] = []
            warmed: list[float] = []
            for _ in range(repeats):
                pool.wait_warm()
                report = pool.submit(request).result(timeout=600)
                # "starting": the server's copy (or the bytes' message) until the worker's
                # first stage; then the worker's "loading".
                ours.append(sum(s.ms for s in report.request_stages
                                if s.stage in ("starting", "loading")))
                pool.wait_warm()  # not beside the replacement worker's import
                for times, extra in ((raw, []), (warmed, ["warm"])):
                    done = subprocess.run([sys.executable, "-c", _RAW_LOAD, kind,
                                           str(folder / file), *extra],
                                          capture_output=True, text=True, check=True)
                    times.append(float(done.stdout.strip().splitlines()[-1]))
            ratio = statistics.median(ours) / statistics.median(raw)
            print(f"| {name} | {spread(ours)} | {spread(raw)} | {ratio:.2f}x | "
                  f"{spread(warmed)} |")
