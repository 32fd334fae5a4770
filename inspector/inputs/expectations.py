"""``check``'s expectations file: ``[[expect]]`` tables read and checked, no TensorFlow.

Each table names what to inspect (``source``, ``function``, ``calls``, ``modes`` and the
inspect options) and bounds on what the report will say, per mode::

    [[expect]]
    source = "gallery:constant_arithmetic"
    calls = ["float32[]"]
    modes = ["spec"]
    post_nodes = "<= 6"
    folded = ">= 2"
    patterns = ["folded >= 2"]
    post_ops = ["_FusedMatMul >= 1"]
    median_vs = { run = "<saved run id>", ratio = "<= 1.10" }

A bound is a comparison and a number. An unknown key, a bad bound or a wrong type is an
ExpectationError naming the file's line.
"""

from __future__ import annotations

import operator
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.errors import ExpectationError

# Figures of a mode's report a bound may name, each with what it counts (for --help and errors).
METRICS = {
    "pre_nodes": "nodes before Grappler",
    "post_nodes": "nodes after Grappler",
    "removed": "nodes Grappler removed",
    "added": "nodes Grappler added",
    "folded": "nodes folded into constants",
    "fused": "fused nodes",
    "op_changed": "nodes whose op changed",
    "rewired": "nodes whose inputs were rewired",
    "traces": "traces after every call",
    "unknown_shapes": "post-Grappler outputs with a not fully known static shape",
    "median_us": "median time per call, microseconds",
}
# Keys that say what to inspect (as ``inspect`` takes them).
_REQUEST_KEYS = {"source": str, "function": str, "calls": list, "modes": list, "device": str,
                 "grappler": list, "runs": int, "name": str}
# Keys holding lists of "TEXT <op> N" counts.
_COUNTED = {"patterns": "a pattern kind (folded, fused, ...) or text of its summary",
            "pre_ops": "an op type in the graph before Grappler",
            "post_ops": "an op type in the graph after Grappler"}
KEYS = (*_REQUEST_KEYS, *METRICS, *_COUNTED, "median_vs")

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt}
_BOUND = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(-?[0-9]+(?:\.[0-9]*)?)\s*$")
# "TEXT <op> N": the last comparison followed by a number (summaries hold "->").
_COUNTED_BOUND = re.compile(r"^(.*\S)\s*(<=|>=|==|!=|<|>)\s*(-?[0-9]+(?:\.[0-9]*)?)\s*$")


@dataclass(frozen=True)
class Bound:
    """``<= 6``: a comparison and the number it compares with."""

    comparison: str
    value: float

    def holds(self, measured: float) -> bool:
        return _COMPARISONS[self.comparison](measured, self.value)

    def __str__(self) -> str:
        return f"{self.comparison} {_number(self.value)}"


@dataclass(frozen=True)
class Counted:
    """``"folded >= 2"``: what to count (a pattern, an op type) and its bound."""

    what: str
    bound: Bound


@dataclass(frozen=True)
class Expectation:
    """One ``[[expect]]`` table."""

    # 1-based position in the file, and the line of its ``[[expect]]`` header.
    number: int
    line: int
    source: str
    function: str | None = None
    calls: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    device: str | None = None
    grappler: tuple[str, ...] = ()
    runs: int | None = None
    # A label for output (default: the source and function).
    name: str | None = None
    bounds: dict[str, Bound] = field(default_factory=dict)
    counted: dict[str, tuple[Counted, ...]] = field(default_factory=dict)
    # median_vs: a saved run's id and the bound on this median / its median.
    baseline_run: str | None = None
    ratio: Bound | None = None
    # The file, and the line of each key the table sets (for errors found later).
    path: str = ""
    key_lines: dict[str, int] = field(default_factory=dict)

    def where(self, *keys: str) -> str:
        """``file:line: [[expect]] #N``, at the first of ``keys`` the table sets (else its
        header)."""
        line = next((self.key_lines[k] for k in keys if k in self.key_lines), self.line)
        return f"{self.path}:{line}: [[expect]] #{self.number}"

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return f"{self.source}" + (f" {self.function}" if self.function else "")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def parse_bound(text: Any, where: str) -> Bound:
    match = _BOUND.match(text) if isinstance(text, str) else None
    if match is None:
        raise ExpectationError(f"{where}: expected a comparison and a number, e.g. \"<= 6\", "
                               f"not {text!r}")
    return Bound(match.group(1), float(match.group(2)))


def _counted(items: Any, key: str, where: str) -> tuple[Counted, ...]:
    if not isinstance(items, list) or not items:
        raise ExpectationError(f"{where}: {key} is a list of \"TEXT <comparison> N\", e.g. "
                               f"[\"folded >= 2\"] (TEXT: {_COUNTED[key]})")
    found = []
    for item in items:
        match = _COUNTED_BOUND.match(item) if isinstance(item, str) else None
        if match is None:
            raise ExpectationError(f"{where}: {key} entry {item!r} is not \"TEXT <comparison> "
                                   f"N\" (TEXT: {_COUNTED[key]})")
        found.append(Counted(match.group(1).strip(), Bound(match.group(2),
                                                           float(match.group(3)))))
    return tuple(found)


def _key_lines(text: str) -> list[dict[str, int]]:
    """Per ``[[expect]]`` table, in order, the line of its header (key "") and of each key
    (tomllib keeps no positions)."""
    tables: list[dict[str, int]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if re.match(r"^\[\[\s*expect\s*\]\]", stripped):
            tables.append({"": number})
        elif tables and (match := re.match(r"^([A-Za-z0-9_\"'-]+)\s*=", stripped)):
            tables[-1].setdefault(match.group(1).strip("\"'"), number)
    return tables


def _typed(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = table[key]
    if kind is list and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ExpectationError(f"{where}: {key} is a list of strings, not {value!r}")
    if kind is int and not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        raise ExpectationError(f"{where}: {key} is a whole number above 0, not {value!r}")
    if kind is str and not isinstance(value, str):
        raise ExpectationError(f"{where}: {key} is a string, not {value!r}")
    return tuple(value) if kind is list else value


def _expectation(number: int, table: Any, lines: dict[str, int], path: str) -> Expectation:
    header = lines.get("", 0)

    def where(key: str = "") -> str:
        return f"{path}:{lines.get(key, header)}: [[expect]] #{number}" + (
            f" {key}" if key else "")

    if not isinstance(table, dict):
        raise ExpectationError(f"{where()}: expected a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ExpectationError(f"{where(unknown[0])}: unknown key {unknown[0]!r}; keys: "
                               f"{', '.join(KEYS)}")
    if "source" not in table:
        raise ExpectationError(f"{where()}: no source; give source = \"gallery:NAME\" or a "
                               ".py path")
    fields = {key: _typed(table, key, kind, where(key))
              for key, kind in _REQUEST_KEYS.items() if key in table}
    if "modes" in table and not fields["modes"]:
        raise ExpectationError(f"{where('modes')}: modes is empty; leave it out for every "
                               "mode with a graph, or name some, e.g. [\"spec\"]")
    bounds = {key: parse_bound(table[key], where(key)) for key in METRICS if key in table}
    counted = {key: _counted(table[key], key, where(key)) for key in _COUNTED if key in table}
    baseline_run = ratio = None
    if "median_vs" in table:
        against = table["median_vs"]
        if not (isinstance(against, dict) and set(against) == {"run", "ratio"}
                and isinstance(against["run"], str)):
            raise ExpectationError(f"{where('median_vs')}: expected {{ run = \"<saved run "
                                   f"id>\", ratio = \"<= 1.10\" }}, not {against!r}")
        baseline_run, ratio = against["run"], parse_bound(against["ratio"], where("median_vs"))
    if not bounds and not counted and ratio is None:
        raise ExpectationError(f"{where()}: nothing to check; give a bound such as "
                               f"post_nodes = \"<= 6\" (bounds: {', '.join(METRICS)}, "
                               f"{', '.join(_COUNTED)}, median_vs)")
    return Expectation(number=number, line=header, bounds=bounds, counted=counted,
                       baseline_run=baseline_run, ratio=ratio, path=path,
                       key_lines={k: v for k, v in lines.items() if k}, **fields)


def load(path: str) -> tuple[Expectation, ...]:
    """Every ``[[expect]]`` table of the file at ``path``; ExpectationError when the file is
    missing, is not TOML, or a table is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExpectationError(f"cannot read the expectations file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"expect"})
    if unknown:
        raise ExpectationError(f"{path}: unknown table or key {unknown[0]!r}; the file holds "
                               "[[expect]] tables only")
    tables = data.get("expect")
    if not isinstance(tables, list) or not tables:
        raise ExpectationError(f"{path}: no [[expect]] table; see the README's \"Checks in "
                               "CI\"")
    lines = _key_lines(text)
    return tuple(_expectation(number, table, lines[number - 1] if number <= len(lines) else {},
                              path)
                 for number, table in enumerate(tables, 1))
