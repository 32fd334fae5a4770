"""Input modes: turn a Python function and call specs into the tf.function and arguments a user would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from inspector.errors import UsageError
from inspector.inputs.calls import CallSpec, PythonArg, TensorArg

# Modes whose arguments are NumPy arrays (each call pays a conversion to a Tensor).
NUMPY_MODES = frozenset({"numpy", "reduce-retracing"})
# Modes built with an input_signature.
SIGNATURE_MODES = frozenset({"spec", "spec-dynamic"})


def _python_dtype(value: int | float | bool) -> tf.DType:
    if isinstance(value, bool):
        return tf.bool
    return tf.int32 if isinstance(value, int) else tf.float32


def make_array(arg: TensorArg, seed: int) -> np.ndarray:
    """Deterministic data for one tensor argument, made in its own dtype: a float64 temporary
    would double the peak memory of a float32 input."""
    rng = np.random.default_rng(seed)
    np_dtype = tf.dtypes.as_dtype(arg.dtype).as_numpy_dtype
    if arg.dtype == "bool":
        return rng.integers(0, 2, size=arg.shape, dtype=np.uint8).view(bool)
    if arg.dtype.startswith(("int", "uint")):
        return rng.integers(0, 10, size=arg.shape, dtype=np_dtype)
    if arg.dtype == "complex64":
        values = np.empty(arg.shape, np.complex64)
        values.real = rng.standard_normal(arg.shape, dtype=np.float32)
        values.imag = rng.standard_normal(arg.shape, dtype=np.float32)
        return values
    if arg.dtype in ("float32", "float64"):
        return rng.standard_normal(arg.shape, dtype=np_dtype)
    return rng.standard_normal(arg.shape, dtype=np.float32).astype(np_dtype)  # 16-bit floats


def make_arguments(call: CallSpec, mode: str, call_index: int) -> list[Any]:
    """The arguments of one call as the mode passes them: NumPy arrays, Tensors or Python values."""
    arguments: list[Any] = []
    for position, arg in enumerate(call.args):
        if isinstance(arg, PythonArg):
            value: Any = arg.value
            if mode in SIGNATURE_MODES:  # a signature admits only tensors
                value = tf.constant(value, _python_dtype(arg.value))
            arguments.append(value)
            continue
        array = make_array(arg, seed=1000 * call_index + position)
        arguments.append(array if mode in NUMPY_MODES else tf.constant(array))
    return arguments


def input_signature(call: CallSpec, dynamic: bool) -> list[tf.TensorSpec]:
    specs = []
    for arg in call.args:
        if isinstance(arg, PythonArg):
            specs.append(tf.TensorSpec([], _python_dtype(arg.value)))
        else:
            shape = [None] * len(arg.shape) if dynamic else list(arg.shape)
            specs.append(tf.TensorSpec(shape, arg.dtype))
    return specs


def build_function(python_function: Callable[..., Any], mode: str,
                   first_call: CallSpec) -> Callable[..., Any]:
    """A FRESH callable for the mode (a tf.function, or the plain function for eager)."""
    if mode == "eager":
        return python_function
    if mode == "saved":  # a SavedModel signature's own function (inputs/models.py's module)
        saved = getattr(python_function, "saved", None)
        if saved is None:
            raise UsageError("mode saved needs a SavedModel signature as SOURCE")
        return saved
    if mode == "spec":
        return tf.function(python_function, input_signature=input_signature(first_call, False))
    if mode == "spec-dynamic":
        return tf.function(python_function, input_signature=input_signature(first_call, True))
    if mode == "reduce-retracing":
        return tf.function(python_function, reduce_retracing=True)
    if mode == "xla":
        return tf.function(python_function, jit_compile=True)
    return tf.function(python_function)
