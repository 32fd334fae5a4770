"""Record what TensorFlow itself produces for the gallery's small entries, so the pure logic is
tested fast on real output (as tlparse tests its parsers on recorded logs).

    .venv/bin/python scripts/record_fixtures.py [ENTRY ...]

For each entry and graph mode (numpy, spec, spec-dynamic) it runs the real engine in this
process and writes ``tests/data/recorded/<entry>/<mode>.json``: the Grappler item, the
meta_optimizer log, the graph dumped after each pass (text, each distinct text once), the
GraphDefs before and after Grappler (text), and the profiler's events for the sampled calls
(constants' bytes left out: nothing reads them); and ``<entry>/report.json``,
the engine's report without graphs. ``MANIFEST.json`` says which TensorFlow, CPU and command
made them. Per-process names (``__inference_f_73090``, the dump folder) are normalised so a
re-recording differs only where TensorFlow's behaviour did. Imports TensorFlow: run it by
hand after a TensorFlow upgrade, not in the tests.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "tests" / "data" / "recorded"
MODES = ("numpy", "spec", "spec-dynamic")
# Stands for the capture's private dump folder in recorded logs.
DUMPS = "{DUMPS}"
_INFERENCE = re.compile(r"__inference_([A-Za-z0-9_]+)_(\d+)\b")
# A constant's bytes in GraphDef text: nothing the tests read, most of a model's size.
_VALUES = re.compile(r'\n *tensor_content: "(?:[^"\\]|\\.)*"')
# CPU features that decide which kernels TensorFlow picks (oneDNN's among them).
CPU_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")


class Normaliser:
    """Per-process numbers in function names replaced by their order of appearance."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def __call__(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            number = self.numbers.setdefault(match.group(2), len(self.numbers))
            return f"__inference_{match.group(1)}_{number}"

        return _INFERENCE.sub(one, text)


def _cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    found = re.search(r"^flags\s*:(.*)$", text, re.M)
    flags = set(found.group(1).split()) if found else set()
    return [flag for flag in CPU_FLAGS if flag in flags]


def record(entry_name: str) -> dict[str, int]:
    """Record one entry; returns each file's size in bytes."""
    from google.protobuf import text_format

    from inspector.engine import capture, inspection, profile
    from inspector.inputs.request import prepare
    from inspector.inputs.sources import read_source
    from inspector.stages import Stage

    per_mode: dict[str, dict[str, Any]] = {}
    current: dict[str, str | None] = {"mode": None}
    normalise = Normaliser()
    original_compare, original_sample = capture._compare, profile.sample

    def compare(log: str, item: str | None, folder: str | None, pre: Any = None) -> Any:
        mode = per_mode.setdefault(str(current["mode"]), {})
        if folder is not None and item is not None and "log" not in mode:
            from inspector.graphs import passes

            dumps = [d for d in passes.dumps_in_log(log)
                     if Path(d.path).parent == Path(folder) and d.item == item]
            mode.update(item=item, log=log.replace(folder, DUMPS),
                        dumps={Path(d.path).name: Path(d.path).read_text("utf-8")
                               for d in dumps})
        return original_compare(log, item, folder, pre)

    def sample(call: Any, calls: int = profile.SAMPLED_CALLS) -> profile.Sampled:
        sampled = original_sample(call, calls)
        mode = per_mode.setdefault(str(current["mode"]), {})
        mode.setdefault("events", [list(e) for e in sampled.events])
        mode.setdefault("walls", sampled.walls)
        return sampled

    def on_event(stage: str, mode: str | None, payload: Any) -> None:
        if stage == Stage.TRACING:
            current["mode"] = mode

    capture._compare, profile.sample = compare, sample
    try:
        report = inspection.run(prepare(read_source(f"gallery:{entry_name}"), modes=MODES,
                                        runs=5, include_graphs=True), on_event)
    finally:
        capture._compare, profile.sample = original_compare, original_sample
    assert report.error is None, report.error
    folder = OUT / entry_name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    from inspector.graphs.protos import parse

    sizes = {}
    for result in report.results:
        assert result.error is None, (entry_name, result.mode, result.error)
        mode = per_mode.get(result.mode, {})
        graphs = result.graphs or {}
        # Most passes change nothing and TensorFlow writes the same text again: each text once.
        texts: list[str] = []
        dumps = {}
        for name, text in mode.get("dumps", {}).items():
            text = _VALUES.sub("", normalise(text))
            if text not in texts:
                texts.append(text)
            dumps[normalise(name)] = texts.index(text)
        data = {
            "function": report.function,
            "item": normalise(mode.get("item") or ""),
            "log": normalise(mode.get("log") or ""),
            "dumps": dumps, "texts": texts,
            "pre": _VALUES.sub("", normalise(text_format.MessageToString(parse(graphs["pre"])))),
            "post": _VALUES.sub("", normalise(text_format.MessageToString(
                parse(graphs["post"])))),
            "events": [[e[0], normalise(e[1]), *e[2:]] for e in mode.get("events", [])],
            "walls": mode.get("walls", []),
        }
        path = folder / f"{result.mode}.json"
        path.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        sizes[str(path.relative_to(ROOT))] = path.stat().st_size
    path = folder / "report.json"
    path.write_text(normalise(report.to_json()) + "\n", encoding="utf-8")
    sizes[str(path.relative_to(ROOT))] = path.stat().st_size
    return sizes


def main(names: list[str]) -> int:
    from inspector.engine import tf_log

    tf_log.set_environment()
    import tensorflow as tf

    from inspector.inputs import gallery

    chosen = names or [e.name for e in gallery.ENTRIES if e.timeout_s <= 60]
    sizes: dict[str, int] = {}
    for name in chosen:
        sizes.update(record(name))
        print(f"recorded {name}", file=sys.stderr)
    manifest = {
        "tensorflow": tf.__version__, "python": platform.python_version(),
        "machine": platform.machine(), "cpu_flags": _cpu_flags(),
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
        "command": "python scripts/record_fixtures.py " + " ".join(names),
        "recorded": dt.date.today().isoformat(), "entries": sorted(
            p.name for p in OUT.iterdir() if p.is_dir()),
        "modes": list(MODES),
    }
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(sizes)} files, {sum(sizes.values()) / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
