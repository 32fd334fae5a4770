"""Grappler's option names, checked and parsed before anything runs (no TensorFlow)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from inspector.errors import UsageError

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


def parse_overrides(items: Sequence[str]) -> dict[str, bool | int]:
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
