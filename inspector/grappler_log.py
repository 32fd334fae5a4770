"""Grappler's options and its per-pass log (``TF_CPP_VMODULE=meta_optimizer=1``), parsed."""

from __future__ import annotations

import re

from inspector.errors import UsageError
from inspector.report import GrapplerPass

# The keys tf.config.optimizer.set_experimental_options accepts (it ignores unknown keys
# silently, so they are checked here).
BOOLEAN_OPTIONS = (
    "layout_optimizer", "constant_folding", "shape_optimization", "remapping",
    "arithmetic_optimization", "dependency_optimization", "loop_optimization",
    "function_optimization", "debug_stripper", "disable_model_pruning",
    "scoped_allocator_optimization", "pin_to_host_optimization", "implementation_selector",
    "auto_mixed_precision", "use_plugin_optimizers", "disable_meta_optimizer",
    "auto_mixed_precision_onednn_bfloat16", "auto_mixed_precision_mkl",
)
INTEGER_OPTIONS = ("min_graph_nodes",)

# Leave-one-out ablation: each optimizer that is on by default, and the setting that turns it off.
ABLATION_OFF = (
    ("constant_folding", False), ("arithmetic_optimization", False), ("remapping", False),
    ("layout_optimizer", False), ("dependency_optimization", False), ("loop_optimization", False),
    ("function_optimization", False), ("shape_optimization", False), ("debug_stripper", False),
    ("implementation_selector", False), ("disable_model_pruning", True),
    ("disable_meta_optimizer", True),
)

_ON = {"on": True, "true": True, "1": True, "yes": True,
       "off": False, "false": False, "0": False, "no": False}
_FORMS = ("--grappler KEY=VALUE with VALUE on/off for " + ", ".join(BOOLEAN_OPTIONS) +
          "; or min_graph_nodes=N (-1 optimizes every graph)")


def parse_overrides(items: list[str] | tuple[str, ...]) -> dict[str, bool | int]:
    """Parse ``KEY=VALUE`` overrides; raise UsageError naming the accepted forms."""
    options: dict[str, bool | int] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip().lower()
        if not sep:
            raise UsageError(f"grappler override {item!r} has no '='; {_FORMS}")
        if key in BOOLEAN_OPTIONS and value in _ON:
            options[key] = _ON[value]
        elif key in INTEGER_OPTIONS and re.fullmatch(r"-?\d+", value):
            options[key] = int(value)
        else:
            raise UsageError(f"bad grappler override {item!r}; {_FORMS}")
    return options


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
