"""Grappler's per-pass log (``TF_CPP_VMODULE=meta_optimizer=1``), parsed into pass records."""

from __future__ import annotations

import re

from inspector.report import GrapplerPass

_ITEM = re.compile(r"Starting optimization for grappler item: (\S+)")
_PASS = re.compile(r"meta_optimizer\.cc:\d+\] (.+?): Graph size after: (\d+) nodes \((-?\d+)\), "
                   r"(\d+) edges \((-?\d+)\), time = ([\d.]+)ms")


def parse_passes(log: str, item: str) -> tuple[GrapplerPass, ...]:
    """The pass lines logged for one grappler item (a function's ``__inference_..`` name).

    The meta optimizer runs its passes in rounds; a pass seen again starts the next round.
    """
    passes: list[GrapplerPass] = []
    current = None
    seen: set[str] = set()
    iteration = 1
    for line in log.splitlines():
        started = _ITEM.search(line)
        if started:
            current = started.group(1)
            seen, iteration = set(), 1
            continue
        if current != item:
            continue
        if "Optimized main graph" in line:
            current = None
            continue
        match = _PASS.search(line)
        if not match:
            continue
        name = match.group(1)
        if name in seen:
            iteration += 1
            seen = set()
        seen.add(name)
        passes.append(GrapplerPass(iteration, name, int(match.group(2)), int(match.group(3)),
                                   int(match.group(4)), int(match.group(5)),
                                   float(match.group(6))))
    return tuple(passes)
