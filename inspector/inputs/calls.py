"""The call grammar (``float32[2,3]; int32[]``): parsing and arity checks, no TensorFlow."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

from inspector.errors import CallSpecError

# dtype names accepted in a call spec; each is also a tf.dtypes name and (but bfloat16) a NumPy one.
DTYPES = ("float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "bool", "complex64")

_TENSOR_RE = re.compile(r"^([a-z0-9]+)\s*\[\s*([0-9,\s]*)\]$")
SPEC_FORMS = ("a call is arguments separated by ';', each a tensor 'dtype[dims]' such as "
              "'float32[4]', 'float32[2,3]' or 'int32[]' (a scalar), or a Python number or bool "
              "such as '2.5' or 'True'; dtypes: " + ", ".join(DTYPES))


@dataclass(frozen=True)
class TensorArg:
    """One tensor argument of a call: its dtype name and its full shape."""

    # A name from DTYPES.
    dtype: str
    # Every dim known: calls are concrete; modes decide what the signature hides.
    shape: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.dtype}[{','.join(str(d) for d in self.shape)}]"


@dataclass(frozen=True)
class PythonArg:
    """A plain Python scalar argument (traced as a constant: a new value retraces)."""

    value: int | float | bool

    def __str__(self) -> str:
        return repr(self.value)


Arg = TensorArg | PythonArg


@dataclass(frozen=True)
class CallSpec:
    """The arguments of one call, in order."""

    args: tuple[Arg, ...]

    def __str__(self) -> str:
        return "; ".join(str(a) for a in self.args)


def parse_arg(text: str) -> Arg:
    text = text.strip()
    match = _TENSOR_RE.match(text)
    if match:
        dtype, dims = match.group(1), match.group(2).strip()
        if dtype not in DTYPES:
            raise CallSpecError(f"unknown dtype {dtype!r} in {text!r}; dtypes: {', '.join(DTYPES)}")
        shape = tuple(int(d) for d in dims.split(",") if d.strip()) if dims else ()
        if dims and len(shape) != len(dims.split(",")):
            raise CallSpecError(f"empty dimension in {text!r}; write dims as '[2,3]'")
        return TensorArg(dtype, shape)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, (bool, int, float)):
        return PythonArg(value)
    raise CallSpecError(f"cannot read argument {text!r}: {SPEC_FORMS}")


def parse_call(text: str) -> CallSpec:
    """Parse one call, e.g. ``"float32[2,3]; int32[]"``; an empty text is a call with no arguments."""
    if not text.strip():
        return CallSpec(())
    return CallSpec(tuple(parse_arg(part) for part in text.split(";")))


def parse_calls(texts: Sequence[str]) -> tuple[CallSpec, ...]:
    calls = []
    for number, text in enumerate(texts, 1):
        try:
            calls.append(parse_call(text))
        except CallSpecError as exc:
            raise CallSpecError(f"call {number} ({text!r}): {exc.message}") from None
    return tuple(calls)


def check_arity(calls: tuple[CallSpec, ...], params: tuple[str, ...], required: int,
                varargs: bool) -> None:
    """Raise CallSpecError unless every call fits the function's parameters."""
    for number, call in enumerate(calls, 1):
        count = len(call.args)
        if count < required or (count > len(params) and not varargs):
            wanted = (f"{required}" if required == len(params) and not varargs
                      else f"{required} to {'any' if varargs else len(params)}")
            raise CallSpecError(
                f"call {number} ({call}) has {count} argument(s) but the function takes {wanted} "
                f"({', '.join(params) or 'none'}); give one 'dtype[dims]' per parameter, "
                "separated by ';'")
