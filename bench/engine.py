"""The engine in one process: its stages, the CLI against raw TensorFlow doing the same work,
what the per-pass dumps cost, and where a call's time goes."""

from __future__ import annotations

import json
import os
import statistics

from bench.common import ALL_MODES, CLI, PY, SEEDS, script, script_path, wall
from bench.registry import benchmark


def raw_warm(name: str, modes: tuple[str, ...], repeats: int, runs: int = 100) -> list[float]:
    """Milliseconds raw TensorFlow takes for a request's whole work (bench/scripts/
    raw_request.py, the fair baseline), ``repeats`` times, each in a new process warmed up as
    a worker is (inspection.warm_up): a job always runs in a new worker, so the baseline must
    not have run the same request before (raw_again measures a process that has)."""
    return [json.loads(script("raw_request", name, ",".join(modes), "1", str(runs)))[0]
            for _ in range(repeats)]


def raw_again(name: str, modes: tuple[str, ...], repeats: int, runs: int = 100) -> list[float]:
    """As raw_warm, but the same request ``repeats`` more times in one process after a first
    (not counted): what a process that keeps its caches would take."""
    return json.loads(script("raw_request", name, ",".join(modes), str(repeats + 1),
                             str(runs)))[1:]


@benchmark("stages")
def stages(quick: bool) -> None:
    """Per-stage times inside one process, the engine's own functions, mode spec."""
    names = SEEDS if quick else (*SEEDS, "resnet50")
    data = json.loads(script("engine_stages", *names,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}))
    print(f"\n### Engine stages (mode spec, seconds; `import tensorflow`: {data['import']:.2f} s)\n")
    cols = list(data[names[0]])
    print("| entry | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name in names:
        print(f"| {name} | " + " | ".join(f"{data[name][c]:.3f}" for c in cols) + " |")


@benchmark("raw")
def versus_raw(quick: bool) -> None:
    """`inspect --mode all --runs 100` against raw TensorFlow doing the same work, each in a new
    process, alternating (5 pairs: one `import tensorflow` varies by ±0.5 s here)."""
    repeats = 1 if quick else 5
    print("\n### `inspect --mode all --runs 100` vs raw TensorFlow doing the same work "
          "(bench/scripts/raw_request.py: run metadata, per-pass dumps read back, timed and "
          "profiled calls, later calls, XLA's HLO)\n")
    print("| entry | inspector (s) | raw TF (s) | ratio of medians | ratio of fastest |")
    print("|---|---|---|---|---|")
    raw_script = script_path("raw_request")
    all_ours, all_raw = [], []
    for name in SEEDS:
        ours, raw = [], []
        for _ in range(repeats):
            ours.append(wall([CLI, "inspect", f"gallery:{name}", "--runs", "100", "--json",
                              os.devnull]))
            raw.append(wall([PY, raw_script, name, ",".join(ALL_MODES), "0"]))
        ours_s, raw_s = statistics.median(ours), statistics.median(raw)
        print(f"| {name} | {ours_s:.2f} | {raw_s:.2f} | {ours_s / raw_s:.2f}x | "
              f"{min(ours) / min(raw):.2f}x |")
        all_ours += ours
        all_raw += raw
    # The noise is additive (another process, an import that ran slow): the fastest of each
    # side is the steadier figure, and all entries pooled steadier still.
    print(f"| all three pooled | {sum(all_ours):.2f} | {sum(all_raw):.2f} | "
          f"{sum(all_ours) / sum(all_raw):.2f}x (sums) | |")


def _inspection(name: str, modes: str, runs: int, env: dict[str, str]) -> dict:
    """One warm inspection in a fresh process (bench/scripts/one_inspection.py)."""
    return json.loads(script("one_inspection", name, modes, str(runs), env=env))


@benchmark("passes")
def passes_cost(quick: bool) -> None:
    """What capturing the graph after every pass adds to an inspection (dumps on vs off, back
    to back in fresh processes, alternating)."""
    repeats = 1 if quick else 3
    print("\n### Per-pass graphs: one inspection (mode spec, 100 runs) with and without them\n")
    print("| entry | passes | with (s) | without (s) | ratio | first call with / without (s) |")
    print("|---|---|---|---|---|---|")
    for name in ("process_data", "mobilenet_v2", "resnet50"):
        runs: dict[str, list[dict]] = {"4": [], "1": []}
        for _ in range(repeats):
            for level in ("4", "1"):
                env = {**os.environ, "TF_CPP_VMODULE": f"meta_optimizer={level}",
                       "TF_CPP_MIN_LOG_LEVEL": "0"}
                runs[level].append(_inspection(name, "spec", 100, env))
        on = statistics.median(r["total"] for r in runs["4"])
        off = statistics.median(r["total"] for r in runs["1"])
        first_on = statistics.median(r["first"] for r in runs["4"])
        first_off = statistics.median(r["first"] for r in runs["1"])
        print(f"| {name} | {int(runs['4'][0]['passes'])} | {on:.2f} | {off:.2f} | "
              f"{on / off:.2f}x | {first_on:.2f} / {first_off:.2f} |")


@benchmark("breakdown")
def breakdown_checks(quick: bool) -> None:
    """Seed example 1: the NumPy mode's extra time before the graph against tf.convert_to_tensor
    timed alone; and the main timing's median with and without the profiled calls after it."""
    repeats = 2 if quick else 5
    modes = "numpy,spec"
    runs: dict[str, list[dict]] = {"5": [], "0": []}
    for _ in range(repeats):
        for calls in ("5", "0"):
            env = {**os.environ, "INSPECTOR_PROFILE_CALLS": calls}
            runs[calls].append(_inspection("process_data", modes, 1000, env)["modes"])
    sampled = runs["5"]
    extra = statistics.median(r["numpy"]["before"] - r["spec"]["before"] for r in sampled)
    alone = statistics.median(r["numpy"]["alone"] for r in sampled)
    inside = statistics.median(r["numpy"]["conversion"] for r in sampled)
    print(f"\n### Where the time goes (seed example 1, median of {repeats} fresh processes)\n")
    print("| figure | us |")
    print("|---|---|")
    print(f"| numpy's time before the graph minus spec's | {extra:.1f} |")
    print(f"| the conversion inside numpy's call (profiler) | {inside:.1f} |")
    print(f"| tf.convert_to_tensor on the same array, alone | {alone:.1f} |")
    print(f"| ratio: extra / alone | {extra / alone:.2f}x |")
    print("\n| mode | main median with profiled calls after (us) | without | ratio |")
    print("|---|---|---|---|")
    for mode in modes.split(","):
        with_ = statistics.median(r[mode]["median"] for r in runs["5"])
        without = statistics.median(r[mode]["median"] for r in runs["0"])
        print(f"| {mode} | {with_:.1f} | {without:.1f} | {with_ / without:.2f}x |")


@benchmark("lines")
def lines_cost(quick: bool) -> None:
    """What each node's source line and the executed graph add to an inspection (issue 25:
    goal 5%), on against off in fresh processes, alternating."""
    repeats = 2 if quick else 4
    print("\n### Source lines and the executed graph: one inspection with and without them\n")
    print("| entry | modes | with (s) | without (s) | ratio |")
    print("|---|---|---|---|---|")
    for name, modes in (("process_data", ",".join(ALL_MODES)), ("resnet50", "spec")):
        took: dict[str, list[float]] = {"1": [], "0": []}
        for _ in range(repeats):
            for on in ("1", "0"):
                env = {**os.environ, "INSPECTOR_SOURCE_LINES": on}
                took[on].append(_inspection(name, modes, 100, env)["total"])
        with_, without = statistics.median(took["1"]), statistics.median(took["0"])
        print(f"| {name} | {modes} | {with_:.2f} | {without:.2f} | {with_ / without:.2f}x |")
