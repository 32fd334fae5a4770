"""The benchmarks by name: ``--only NAME`` runs one, no ``--only`` runs every one, family by
family (bench/run.py's FAMILIES) in the order each module registers them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    name: str
    # Runs it; the argument is --quick (seed examples only, fewer repeats).
    run: Callable[[bool], None]
    summary: str


BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(name: str) -> Callable[[Callable[[bool], None]], Callable[[bool], None]]:
    """Register the decorated ``run(quick)`` under ``name``; its docstring's first sentence is
    the summary ``--list`` prints."""
    def register(run: Callable[[bool], None]) -> Callable[[bool], None]:
        if name in BENCHMARKS:
            raise ValueError(f"two benchmarks named {name!r}")
        summary = " ".join((run.__doc__ or "").split()).split(". ")[0].split("; ")[0]
        BENCHMARKS[name] = Benchmark(name, run, summary)
        return run
    return register
