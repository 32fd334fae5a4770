"""Benchmarks: per-stage engine times, the inspector against raw TensorFlow doing the same
work, worker latency, rendering of large graphs, click-to-result in a real browser, the store,
many users at once, and the Ray backend.

Prints a Markdown table per part; figures are ratios or medians measured in this run.
Usage: .venv/bin/python bench/run.py [--quick] [--only NAME ...] [--list]
The benchmarks live in bench/<family>.py, each registered by name (bench/registry.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench` as a package

from bench import app, cluster, engine, render, store, workers  # noqa: E402
from bench.registry import BENCHMARKS, Benchmark  # noqa: E402

# A full run's order: the cheap in-process figures first, the browser and cluster ones last.
FAMILIES = (engine, workers, render, app, store, cluster)


def in_order() -> list[Benchmark]:
    names = [family.__name__ for family in FAMILIES]
    return sorted(BENCHMARKS.values(), key=lambda b: names.index(b.run.__module__))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="seed examples only, fewer repeats")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME",
                        help="run this benchmark only (repeatable); --list names them")
    parser.add_argument("--list", action="store_true", help="name each benchmark and stop")
    args = parser.parse_args()
    if args.list:
        for bench in in_order():
            print(f"{bench.name:<16}{bench.summary[:100]}")
        return
    chosen = args.only or [b.name for b in in_order()]
    for name in chosen:
        BENCHMARKS[name].run(args.quick)


if __name__ == "__main__":
    main()
