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
_FORMS = ("write KEY=VALUE (CLI: --grappler KEY=VALUE) with VALUE on/off for "
          + ", ".join(BOOLEAN_OPTIONS) + "; or min_graph_nodes=N (-1 optimizes every graph)")


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


def format_overrides(options: dict[str, bool | int]) -> list[str]:
    """``parse_overrides``'s inverse: ``KEY=on|off`` and ``KEY=N`` texts, sorted by key."""
    return [f"{key}={'on' if value is True else 'off' if value is False else value}"
            for key, value in sorted(options.items())]


# Each pass as TensorFlow names it in its log and dumps: the option that switches it (None: no
# set_experimental_options key reaches it), what that option's value means, and whether it runs
# by default (TensorFlow's RewriterConfig defaults on CPU).
PASS_OPTIONS: tuple[tuple[str, str | None, bool], ...] = (
    ("model_pruner", "disable_model_pruning", True),
    ("implementation_selector", "implementation_selector", True),
    ("function_optimizer", "function_optimization", True),
    ("common_subgraph_elimination", None, True),
    ("constant_folding", "constant_folding", True),
    ("shape_optimizer", "shape_optimization", True),
    ("arithmetic_optimizer", "arithmetic_optimization", True),
    ("layout", "layout_optimizer", True),
    ("remapper", "remapping", True),
    ("loop_optimizer", "loop_optimization", True),
    ("dependency_optimizer", "dependency_optimization", True),
    ("memory_optimizer", None, True),
    ("debug_stripper", "debug_stripper", False),
    ("scoped_allocator_optimizer", "scoped_allocator_optimization", False),
    ("pin_to_host_optimizer", "pin_to_host_optimization", False),
    ("auto_mixed_precision", "auto_mixed_precision", False),
)
# Options whose True turns their pass off.
INVERTED = frozenset({"disable_model_pruning", "disable_meta_optimizer"})


def switch_text(option: str | None, default_on: bool) -> str:
    """The override that flips a pass from its default, as a user writes it: an inverted option
    ("disable_model_pruning") read as the pass it switches, not as a double negative."""
    if option is None:
        return "(no option reaches it)"
    turn_on = not default_on
    value = "on" if (turn_on != (option in INVERTED)) else "off"
    return f"{option}={value} turns it {'on' if turn_on else 'off'}"


def pass_in_force(option: str | None, default_on: bool,
                  overrides: dict[str, str]) -> tuple[bool, str]:
    """Whether a pass is on, and who decided: "default", or "you: KEY=VALUE"."""
    if option is None or option not in overrides:
        return default_on, "default"
    value = overrides[option].lower() in ("true", "1", "on")
    return (not value if option in INVERTED else value), f"you: {option}={overrides[option]}"
