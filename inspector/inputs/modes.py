"""The input modes a function is inspected under: names, help text, parsing (no TensorFlow)."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Literal

from inspector.errors import UsageError

# Every mode, in the order reports list them and a job runs them. "eager" is a timing baseline
# with no tf.function; "saved" is a SavedModel signature's own graph, for a SavedModel source
# only, and runs first: a signature's first call instantiates it, and eager mode calls it
# (mode saved after eager recorded no graph, found in a walk).
Mode = Literal["saved", "eager", "numpy", "tensor", "spec", "spec-dynamic", "reduce-retracing",
               "xla"]
MODES: tuple[Mode, ...] = typing.get_args(Mode)
# The mode only a SavedModel signature has, and the modes every source has.
SAVED = "saved"
CODE_MODES: tuple[Mode, ...] = tuple(m for m in MODES if m != SAVED)

# One line each, for --help, the UI and reports.
MODE_HELP = {
    "eager": "no tf.function: the Python function called eagerly with Tensors (timing baseline)",
    "numpy": "tf.function called with NumPy arrays (each call converts them)",
    "tensor": "tf.function called with tf.Tensors",
    "spec": "input_signature of TensorSpecs with the first call's exact shapes",
    "spec-dynamic": "input_signature of TensorSpecs with every dim None (rank kept)",
    "reduce-retracing": "tf.function(reduce_retracing=True) called with NumPy arrays",
    "xla": "tf.function(jit_compile=True) called with tf.Tensors",
    "saved": "a SavedModel signature's graph as it was saved, called directly with tf.Tensors "
             "(no tf.function of ours; SavedModel sources only)",
}

# Modes whose arguments are NumPy arrays (each call pays a conversion to a Tensor).
NUMPY_MODES: frozenset[Mode] = frozenset({"numpy", "reduce-retracing"})
# Modes built with an input_signature.
SIGNATURE_MODES: frozenset[Mode] = frozenset({"spec", "spec-dynamic"})


def parse_modes(names: Sequence[str], saved: bool = False) -> tuple[Mode, ...]:
    """Expand 'all', drop repeats, keep the canonical order; raise UsageError on unknown names.
    ``saved``: the source is a SavedModel signature, so "saved" is a mode ('all' includes it);
    otherwise asking for it is a UsageError."""
    chosen: set[str] = set()
    offered = MODES if saved else CODE_MODES
    for name in names or ("all",):
        name = name.strip().lower().replace("_", "-")
        if name == "all":
            chosen.update(offered)
        elif name in offered:
            chosen.add(name)
        elif name == SAVED:
            raise UsageError("mode saved is a SavedModel signature's graph as it was saved: "
                             "give a SavedModel (a folder, .zip or .tar.gz) as SOURCE, without "
                             "--endpoint")
        else:
            raise UsageError(f"unknown mode {name!r}; modes: {', '.join(MODES)}, all")
    return tuple(m for m in MODES if m in chosen)
