"""The Inspect form's settings as the page's URL query, and back: a copied link fills the form
the same way, Advanced settings included. Pure (no Streamlit), so the round trip is tested on
its own.

Pasted code is not in the URL (it can be long and private): its run's own link (``?run=ID``)
reproduces it. Neither is "Private run": a link shared with a teammate should not decide that.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from inspector.inputs.grappler import format_overrides
from inspector.inputs.sources import PROVIDED_PREFIX

# The entry name a pasted-code form is saved under in the URL.
PASTE = "paste"
# The entry name of an uploaded model (the model itself is not in the URL: its run's link has it).
MODEL = "model"


@dataclass(frozen=True)
class FormSettings:
    """What the Inspect form holds, as the URL carries it (defaults: a fresh page)."""

    # A gallery entry's name, ``file:NAME`` for an operator's file, or PASTE.
    entry: str | None = None
    modes: tuple[str, ...] = ()
    calls: tuple[str, ...] = ()
    device: str | None = None
    # Timed runs per mode (0: as many as fit in 1 s).
    runs: int = 100
    # Grappler overrides as KEY=VALUE texts.
    grappler: tuple[str, ...] = ()
    ablate: bool = False
    passes: bool = True
    # 0: the source's default.
    time_limit: int = 0
    memory_mb: int = 4096
    # The TensorFlow versions chosen (empty: the server's own alone).
    versions: tuple[str, ...] = ()


# Query key for each field (``mode`` and ``call`` repeat, as links made before kept them).
_KEYS = {"entry": "entry", "modes": "mode", "calls": "call", "device": "device", "runs": "runs",
         "grappler": "grappler", "ablate": "ablate", "passes": "passes",
         "time_limit": "time_limit", "memory_mb": "memory_mb", "versions": "tf"}
_TRUE, _FALSE = "1", "0"


def from_saved(request: Mapping[str, Any], limits: Mapping[str, Any],
               defaults: FormSettings = FormSettings(),
               versions: Sequence[str] = ()) -> FormSettings:
    """A saved run's inputs (``InspectRequest.to_dict()``, its limits and the TensorFlow
    versions its report ran on) as the form holds them: what "Edit as new" and "Re-run" put
    back. Limits are as saved; the page keeps them within the operator's bounds. One version is
    the server's own or an old run's: no choice to keep."""
    source = request.get("source") or {}
    entry = (source.get("gallery_name")
             or (PROVIDED_PREFIX + source["provided_name"] if source.get("provided_name")
                 else MODEL if source.get("model") else PASTE))
    return FormSettings(
        entry=entry, modes=tuple(request.get("modes") or ()),
        calls=tuple(request.get("calls") or ()), device=request.get("device"),
        runs=int(request.get("runs") or 0),
        grappler=tuple(format_overrides(request.get("grappler") or {})),
        ablate=bool(request.get("ablate")), passes=bool(request.get("passes", True)),
        time_limit=int(limits.get("timeout_s") or 0),
        memory_mb=int(limits.get("memory_mb") or defaults.memory_mb),
        versions=tuple(versions) if len(versions) > 1 else ())


def to_query(settings: FormSettings, defaults: FormSettings = FormSettings()) -> dict[str, str | list[str]]:
    """The URL query for ``settings``: only what differs from ``defaults`` (short links), lists
    as repeated keys."""
    query: dict[str, str | list[str]] = {}
    for field in dataclasses.fields(FormSettings):
        value = getattr(settings, field.name)
        if value == getattr(defaults, field.name) or value is None:
            continue
        key = _KEYS[field.name]
        if isinstance(value, tuple):
            query[key] = list(value)
        elif isinstance(value, bool):
            query[key] = _TRUE if value else _FALSE
        else:
            query[key] = str(value)
    return query


def from_query(query: Mapping[str, Sequence[str]],
               defaults: FormSettings = FormSettings()) -> FormSettings:
    """The settings a URL query gives (each key's values as a list); a value that does not
    parse keeps the default (the form then shows the default, and the rest of the link
    still applies)."""
    values: dict[str, object] = {}
    for field in dataclasses.fields(FormSettings):
        given = [v for v in query.get(_KEYS[field.name], ()) if v != ""]
        if not given:
            continue
        default = getattr(defaults, field.name)
        if isinstance(default, tuple):
            values[field.name] = tuple(given)
        elif isinstance(default, bool):
            if given[-1] in (_TRUE, _FALSE):
                values[field.name] = given[-1] == _TRUE
        elif isinstance(default, int):
            try:
                values[field.name] = int(given[-1])
            except ValueError:
                pass
        else:
            values[field.name] = given[-1]
    return dataclasses.replace(defaults, **values)  # type: ignore[arg-type]
