"""An inspection request: everything a worker needs, validated before TensorFlow is imported."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from inspector.errors import CallSpecError, ErrorInfo
from inspector.inputs import gallery, models, sources
from inspector.inputs.calls import check_arity, parse_calls
from inspector.inputs.grappler import parse_overrides
from inspector.inputs.modes import parse_modes
from inspector.inputs.sources import Source
from inspector.report import Report


@dataclass(frozen=True)
class InspectRequest:
    """One inspection; crosses to the worker as JSON."""

    source: Source
    # The function to inspect (validated against the source's defs).
    function: str
    # Calls in call-spec grammar; the first is captured and timed.
    calls: tuple[str, ...]
    # Canonical mode names, in report order.
    modes: tuple[str, ...]
    # Requested device ("CPU:0", "GPU:0"); None: TensorFlow's default placement.
    device: str | None = None
    # Timed calls per mode; None adapts to ``budget_s``.
    runs: int | None = None
    warmup: int | None = None
    # Seconds of timed calls per mode when ``runs`` is None.
    budget_s: float = 2.0
    # Leave-one-out table per optimizer.
    ablate: bool = False
    # Grappler overrides applied before anything is traced.
    grappler: dict[str, bool | int] = field(default_factory=dict)
    # Ship serialized GraphDefs back (for exports and pictures).
    include_graphs: bool = False
    # Capture the graph after each Grappler pass (TensorFlow's dumps: I/O that grows with the
    # graph's constants, see README).
    passes: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def source_label(self) -> str:
        """How reports name the source: ``gallery:NAME``, ``file:NAME`` (the operator's
        folder) or the file name."""
        if self.source.gallery_name:
            return f"{sources.GALLERY_PREFIX}{self.source.gallery_name}"
        if self.source.provided_name:
            return f"{sources.PROVIDED_PREFIX}{self.source.provided_name}"
        if self.source.model:
            return f"{self.source.model['name']} (sha256 {self.source.model['sha256'][:12]})"
        return self.source.filename

    def blank_report(self, tensorflow: str | None, error: ErrorInfo | None = None) -> Report:
        """A report with this request's header and no results yet (the one place it is built)."""
        return Report(tensorflow=tensorflow, error=error, source=self.source_label,
                      function=self.function, calls=self.calls, modes=self.modes,
                      grappler={k: str(v) for k, v in self.grappler.items()})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InspectRequest:
        data = dict(data)
        data["source"] = Source(**data["source"])
        for key in ("calls", "modes"):
            data[key] = tuple(data[key])
        return cls(**data)


def _saved_signature(source: Source) -> bool:
    """Whether the source is a SavedModel signature (it has the "saved" mode)."""
    model = source.model or {}
    return model.get("kind") == "saved_model" and not model.get("endpoint")


def _model_info(model: dict[str, Any]) -> models.ModelInfo:
    return models.ModelInfo(model["kind"], model["name"],
                            tuple(_model_input(i) for i in model["inputs"]))


def _model_input(item: list[Any]) -> models.ModelInput:
    name, dtype, shape = item
    return models.ModelInput(name, dtype, None if shape is None else tuple(shape))


def prepare(source: Source, function: str | None = None, calls: Sequence[str] = (),
            modes: Sequence[str] = (), grappler: Sequence[str] = (),
            **options: Any) -> InspectRequest:
    """Check everything that can be checked without running the code; raise an InputError."""
    entry = gallery.get(source.gallery_name) if source.gallery_name else None
    # First: a mistyped mode was reported only once the function and calls were right.
    chosen_modes = parse_modes(modes, saved=_saved_signature(source))
    if function is None and entry is not None and not source.model:  # a model's module
        function = entry.function  # names its one function after the signature or endpoint
    info = sources.find_function(source, function)
    call_texts = tuple(calls) or (entry.calls if entry is not None else ()) or tuple(
        (source.model or {}).get("calls") or ())
    if not call_texts and source.model and source.model.get("endpoint"):
        raise CallSpecError(f"give --call for the function {source.model['endpoint']!r}: the "
                            "SavedModel does not say its inputs")
    if not call_texts:
        if info.required:
            raise CallSpecError(
                f"give at least one --call: {info.name} takes {len(info.params)} argument(s) "
                f"({', '.join(info.params)}), e.g. --call '{'; '.join(['float32[4]'] * info.required)}'")
        call_texts = ("",)
    parsed = parse_calls(call_texts)
    check_arity(parsed, info.params, info.required, info.varargs)
    if source.model:
        model = _model_info(source.model)
        endpoint = source.model.get("endpoint")
        traces = [tuple(_model_input(i) for i in t) for t in source.model.get("traces") or ()]
        for call in parsed:
            if not endpoint:
                models.check_call(model, call.args)
            elif traces:
                models.check_call_any(model, endpoint, traces, call.args)
    return InspectRequest(source=source, function=info.name,
                          calls=tuple(str(c) for c in parsed),
                          modes=chosen_modes,
                          grappler=parse_overrides(grappler),
                          **options)
