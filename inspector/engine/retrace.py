"""Each call of a tf.function: whether it traced, why, and which signature served it."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from inspector.errors import ErrorInfo
from inspector.inputs.calls import CallSpec, PythonArg
from inspector.report import CallRecord


def format_signature(concrete: Any) -> str:
    """A concrete function's inputs in call-spec grammar, None for unknown dims."""
    args, kwargs = concrete.structured_input_signature
    parts = []
    for spec in list(args) + list(kwargs.values()):
        if isinstance(spec, tf.TensorSpec):
            if spec.shape.rank is None:
                dims = "<unknown rank>"
            else:
                dims = ",".join("None" if d is None else str(d) for d in spec.shape.as_list())
            parts.append(f"{spec.dtype.name}[{dims}]")
        else:
            parts.append(repr(spec))
    return "; ".join(parts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.split(" Received args:")[0]  # TensorFlow appends the full argument values


def _explain_retrace(call: CallSpec, params: tuple[str, ...], earlier: list[tuple[int, str]],
                     signature: str | None) -> str:
    """Why a call traced: which argument matched no earlier trace, against the latest one."""
    if not earlier:
        return "first call: nothing was traced yet"
    traced_at, latest = earlier[-1]
    latest_parts = [p.strip() for p in latest.split(";")]
    reasons = []
    for position, arg in enumerate(call.args):
        name = params[position] if position < len(params) else f"arg{position}"
        before = latest_parts[position] if position < len(latest_parts) else "?"
        if isinstance(arg, PythonArg):
            if repr(arg.value) != before:
                reasons.append(f"{name}: Python value {arg.value!r} is part of the trace key "
                               f"and differs from {before} (call {traced_at})")
        elif not before.startswith(arg.dtype + "["):
            reasons.append(f"{name}: dtype {arg.dtype} differs from {before} (call {traced_at})")
        elif str(arg) != before and "None" not in before:
            reasons.append(f"{name}: shape {str(arg)[len(arg.dtype):]} differs from {before} "
                           f"(call {traced_at})")
        elif "None" in before or "unknown" in before:
            reasons.append(f"{name}: {arg} has a rank {before} does not admit")
    text = "; ".join(reasons) or f"its arguments matched no earlier trace (latest: {latest})"
    if signature and signature != str(call) and ("None" in signature or "unknown" in signature):
        text += f"; TensorFlow generalized the new trace to {signature}"
    return text


def _traced_again(fn: Any, traces: int) -> str:
    """Why one call traced more than once: tf.function traces a function that creates
    variables on its first call (an unbuilt Keras model making its weights) once to create them
    and once more without creating any (walk: "traces 2" had no reason)."""
    if traces < 2:
        return ""
    # The variables the function made on its first call: tf.function keeps no public list.
    created = len(getattr(fn, "_created_variables", None) or ())
    why = (f": it created {created} variable(s) on its first trace, and tf.function traces a "
           "function that creates variables once more without creating them") if created else ""
    return f"; TensorFlow traced it {traces} times in this call{why}"


def record_call(fn: Any, args: list[Any], call: CallSpec, params: tuple[str, ...],
                earlier: list[tuple[int, str]], *, number: int,
                count_before: int | None = None) -> CallRecord:
    """Make one call and say whether it traced, and why.

    ``earlier``: the (call number, signature) of each trace so far, in order; a call that
    traces appends its own. ``number``: this call's 1-based number among the mode's calls.
    With ``count_before`` given, the call was already made (the capture's first call) and that
    was the tracing count before it.
    """
    if not hasattr(fn, "experimental_get_tracing_count"):  # eager
        error = None
        try:
            fn(*args)
        except Exception as exc:
            error = ErrorInfo(type(exc).__name__, _first_line(exc))
        return CallRecord(str(call), False, "eager: nothing is traced", None, error)
    error = None
    if count_before is None:
        count_before = fn.experimental_get_tracing_count()
        try:
            fn(*args)
        except Exception as exc:
            error = ErrorInfo(type(exc).__name__, _first_line(exc))
    traced = fn.experimental_get_tracing_count() > count_before
    if error is None and getattr(fn, "traced_when_saved", False):
        return CallRecord(str(call), False, "not traced: the signature was traced when the "
                          "model was saved", format_signature(fn.get_concrete_function(*args)))
    if error is not None:
        return CallRecord(str(call), traced, f"TensorFlow refused the call: {error.message}",
                          None, error)
    signature = format_signature(fn.get_concrete_function(*args))
    if traced:
        reason = _explain_retrace(call, params, earlier, signature) + _traced_again(
            fn, fn.experimental_get_tracing_count() - count_before)
        earlier.append((number, signature))
        return CallRecord(str(call), True, reason, signature)
    served_by = next((n for n, s in earlier if s == signature), None)
    where = f" traced at call {served_by}" if served_by else ""
    return CallRecord(str(call), False, f"matches the signature {signature}{where}", signature)
