"""Files to take away: graph images, GraphDefs (.pbtxt/.pb), a TensorBoard log directory, zips.
Works on a finished report in any process (no TensorFlow); the HTML report is in ``html``.
"""

from __future__ import annotations

import io
import os
import socket
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tensorboard.compat.proto import event_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

from inspector.errors import UsageError
from inspector.graphs import diff, passes, protos, render, views
from inspector.report import Report

GRAPH_FORMATS = ("pbtxt", "pb")


def file_name(function: str | None, mode: str, view: str, ext: str) -> str:
    """``<function>-<mode>-<view>.<ext>``, e.g. ``process_data-spec-pre.svg``."""
    return f"{function or 'function'}-{mode}-{view}.{ext}"


def _ignore(note: str) -> None:
    del note


def write_graphs(report: Report, directory: str | Path, formats: Iterable[str] = ("svg",),
                 options: views.ViewOptions = views.DEFAULT_OPTIONS,
                 on_note: Callable[[str], None] = _ignore) -> list[Path]:
    """The pre and post GraphDefs of each mode as ``.pbtxt`` and ``.pb`` (the bytes TensorFlow
    serialized), and pictures of the pre, post and diff views in the image ``formats``; where
    the report has the graph that executed, that graph too (``<function>-<mode>-executed``),
    its picture coloured by what the runtime changed after Grappler.
    Returns the files written; ``on_note`` hears what a picture could not show as asked (a PNG
    drawn more collapsed to stay legible, a layout that timed out).

    Raises GraphvizMissing (before writing anything) when images are asked for without ``dot``.
    """
    formats = tuple(formats)
    unknown = [f for f in formats if f not in render.FORMATS]
    if unknown:
        raise UsageError(f"unknown image format(s) {unknown}; choose from "
                         f"{', '.join(render.FORMATS)}")
    if formats:
        render.dot_command()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def write(mode: str, view: str, ext: str, data: bytes) -> None:
        path = out / file_name(report.function, mode, view, ext)
        path.write_bytes(data)
        written.append(path)

    # (graphs, view drawn, mode and view in the file name)
    pictures: list[tuple[protos.ModeGraphs, str, str, str]] = []
    for result in report.results:
        graphs = protos.mode_graphs(result)
        if graphs is None or result.graphs is None:  # the second for mypy: implied by the first
            continue
        for side, graph_def in (("pre", graphs.pre), ("post", graphs.post)):
            write(graphs.mode, side, "pbtxt", protos.to_text(graph_def).encode("utf-8"))
            write(graphs.mode, side, "pb", result.graphs[side])
        pictures += [(graphs, view, graphs.mode, view) for view in (views.VIEWS if formats else ())]
        executed = protos.executed_graphs(result)
        if executed is not None:  # the graph that ran, coloured by what the runtime changed
            write(graphs.mode, "executed", "pbtxt",
                  protos.to_text(executed.post).encode("utf-8"))
            write(graphs.mode, "executed", "pb", result.graphs["executed"])
            if formats:
                pictures.append((executed, "post", graphs.mode, "executed"))
    # One dot process per picture, as many at once as there are cores: each is single-threaded
    # and an every-node export of a large model is several seconds of layout per picture.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        drawn = pool.map(lambda job: render.draw(job[0], job[1], formats, options), pictures)
        for (_, _, mode, view), picture in zip(pictures, drawn, strict=True):
            for fmt, data in picture.data.items():
                write(mode, view, fmt, data)
            if picture.fallback:
                on_note(f"{file_name(report.function, mode, view, '*')}: {picture.fallback}")
    return written


def write_passes(report: Report, directory: str | Path, formats: Iterable[str] = ("svg",),
                 options: views.ViewOptions = views.DEFAULT_OPTIONS,
                 on_note: Callable[[str], None] = _ignore) -> list[Path]:
    """The graph after each Grappler pass of each mode as ``.pbtxt``
    (``<function>-<mode>-pass07-round1-constant_folding.pbtxt``), and for each pass that changed
    something a picture of its diff against the graph before it (``...-diff.<format>``)."""
    formats = tuple(formats)
    if formats:
        render.dot_command()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    pictures = []
    for result in report.results:
        after_each = passes.pass_graphs(result)
        if after_each is None or result.graphs is None:
            continue
        before = protos.parse(result.graphs["pre"])
        for index, (change, after) in enumerate(zip(result.passes, after_each, strict=True)):
            label = passes.pass_file_label(index, change)
            path = out / file_name(report.function, result.mode, label, "pbtxt")
            path.write_text(protos.to_text(after), encoding="utf-8")
            written.append(path)
            if change.changed and formats:
                pictures.append((result.mode, label, protos.ModeGraphs(
                    result.mode, before, after, diff.diff_graphs(before, after))))
            before = after
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        drawn = pool.map(lambda job: render.draw(job[2], "diff", formats, options), pictures)
        for (mode, label, _), picture in zip(pictures, drawn, strict=True):
            for fmt, data in picture.data.items():
                path = out / file_name(report.function, mode, f"{label}-diff", fmt)
                path.write_bytes(data)
                written.append(path)
            if picture.fallback:
                on_note(f"{file_name(report.function, mode, f'{label}-diff', '*')}: "
                        f"{picture.fallback}")
    return written


def write_tensorboard(report: Report, directory: str | Path) -> list[Path]:
    """A log directory with one run per mode and graph (``<mode>/pre``, ``<mode>/post``, and
    ``<mode>/executed`` where recorded): ``tensorboard --logdir DIR`` shows them in its Graphs
    tab. Where the report holds the profiled calls' trace, it goes to
    ``plugins/profile/<mode>/worker.xplane.pb``, the trace viewer's layout (TensorBoard's
    profile plugin). Returns the files written."""
    written = []
    for result in report.results:
        for side, serialized in (result.graphs or {}).items():
            if side == "trace":
                run = Path(directory) / "plugins" / "profile" / result.mode
                run.mkdir(parents=True, exist_ok=True)
                (run / "worker.xplane.pb").write_bytes(serialized)
                written.append(run / "worker.xplane.pb")
                continue
            if side not in ("pre", "post", "executed"):  # "passes" holds changes, not a graph
                continue
            run = Path(directory) / result.mode / side
            run.mkdir(parents=True, exist_ok=True)
            now = time.time()
            path = run / f"events.out.tfevents.{int(now)}.{socket.gethostname()}.inspector"
            with open(path, "wb") as handle:
                writer = RecordWriter(handle)
                writer.write(event_pb2.Event(wall_time=now, file_version="brain.Event:2")
                             .SerializeToString())
                writer.write(event_pb2.Event(wall_time=now, step=0, graph_def=serialized)
                             .SerializeToString())
                writer.flush()
            written.append(path)
    return written


def zip_directory(write: Any, report: Report) -> bytes:
    """Call ``write(report, tmpdir)`` and return everything it wrote as one zip archive."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="inspector-export-") as tmp:
        write(report, tmp)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(tmp).rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(tmp))
    return buffer.getvalue()
