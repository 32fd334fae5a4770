"""The command line: ``python -m inspector inspect|gallery|devices``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from inspector.errors import (
    ErrorInfo,
    GraphvizMissing,
    InputError,
    InspectorError,
    RenderError,
    UsageError,
)
from inspector.graphs import render
from inspector.graphs.views import ViewOptions
from inspector.inputs import gallery, modes, sources
from inspector.inputs.request import prepare
from inspector.jobs.executor import Limits, Progress
from inspector.jobs.local import run_one
from inspector.output import tables
from inspector.report import Report

EXIT_OK, EXIT_MODE_FAILED, EXIT_USAGE = 0, 1, 2

# Error types that mean the user's input must change (exit code 2), wherever they were found.
INPUT_ERROR_TYPES = {"InputError", "UsageError", "SourceError", "FunctionNotFound",
                     "CallSpecError", "GraphvizMissing"}


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit code 2 with no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tf-graph-inspector",
                     description="See what tf.function and Grappler do to a Python function.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    inspect = commands.add_parser("inspect", help="trace, optimize, diff and time a function")
    inspect.add_argument("source", help="a .py file, '-' for stdin, or gallery:NAME")
    inspect.add_argument("--function", help="the function to inspect (optional when the source "
                                            "defines exactly one)")
    inspect.add_argument("--mode", action="append", default=[], metavar="MODE",
                         help="repeatable: " + ", ".join(modes.MODES) + ", all (default: all)")
    inspect.add_argument("--call", action="append", default=[], metavar="SPEC",
                         help="repeatable, one call each: e.g. 'float32[2,3]; int32[]'")
    inspect.add_argument("--device", help="e.g. CPU:0 or GPU:0 (default: TensorFlow's choice)")
    inspect.add_argument("--runs", type=int, help="timed calls per mode (default: adapt to "
                                                  "--budget)")
    inspect.add_argument("--warmup", type=int, help="untimed calls first (default 10)")
    inspect.add_argument("--budget", type=float, default=2.0,
                         help="seconds of timed calls per mode when --runs is not given")
    inspect.add_argument("--json", metavar="PATH", help="write the JSON report ('-': stdout)")
    inspect.add_argument("--ablate", action="store_true",
                         help="leave-one-out table: each Grappler optimizer turned off")
    inspect.add_argument("--compare", type=_mode_pair, metavar="A,B",
                         help="print how two modes' graphs differ node by node, before and "
                              "after Grappler, e.g. numpy,spec")
    inspect.add_argument("--grappler", action="append", default=[], metavar="KEY=VALUE",
                         help="override a Grappler option, e.g. constant_folding=off")
    inspect.add_argument("--timeout", type=float, help="seconds per inspection (default 60; "
                                                       "large gallery models bring their own)")
    inspect.add_argument("--memory-mb", type=int, default=Limits.memory_mb,
                         help="memory cap of the worker process tree")
    exports = inspect.add_argument_group("exports (file names: <function>-<mode>-<view>.<ext>)")
    exports.add_argument("--graphs", metavar="DIR",
                         help="write each mode's pre/post GraphDefs (.pbtxt, .pb) and pictures "
                              "of the pre, post and diff views")
    exports.add_argument("--format", default="svg", type=_formats,
                         help="picture formats for --graphs, comma-separated: svg,png,pdf "
                              "(default svg; 'none' for GraphDefs only)")
    exports.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    exports.add_argument("--tensorboard", metavar="DIR",
                         help="write a TensorBoard log directory (one run per mode and graph)")
    exports.add_argument("--expanded", action="store_true",
                         help="draw every node: no scope collapsing, no noise hiding")
    exports.add_argument("--changes-only", type=_hops, metavar="K",
                         help="draw only changed nodes and their neighbours within K hops")
    exports.add_argument("--expand", action="append", default=[], metavar="SCOPE",
                         help="repeatable: draw this name scope opened in collapsed overviews")
    exports.add_argument("--edge-shapes", action="store_true",
                         help="label data edges with the static shape they carry")
    inspect.add_argument("--log", metavar="PATH",
                         help="write the worker's log (TensorFlow's C++ log, Grappler's passes)")
    commands.add_parser("gallery", help="list the built-in examples")
    commands.add_parser("devices", help="list the devices TensorFlow sees")
    return parser


def _hops(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of hops (0, 1, 2, ...), not {text!r}")
    return int(text)


def _mode_pair(text: str) -> tuple[str, str]:
    pair = tuple(m.strip() for m in text.split(","))
    graph_modes = [m for m in modes.MODES if m != "eager"]
    if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(graph_modes):
        raise argparse.ArgumentTypeError(
            f"expected two different modes with graphs, e.g. numpy,spec (from "
            f"{', '.join(graph_modes)}), not {text!r}")
    return pair[0], pair[1]


def _formats(text: str) -> tuple[str, ...]:
    chosen = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    if chosen == ("none",):
        return ()
    unknown = [f for f in chosen if f not in render.FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown picture format(s) {', '.join(unknown) or repr(text)}; choose from "
            f"{', '.join(render.FORMATS)} or none")
    return chosen


def _prepare_outputs(args: argparse.Namespace) -> None:
    """Create the folders the outputs go to, so a bad path fails before the inspection runs."""
    folders = [Path(p).parent for p in (args.json, args.html, args.log) if p and p != "-"]
    folders += [Path(p) for p in (args.graphs, args.tensorboard) if p]
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the output folder {folder}: {exc.strerror}") from exc
        if not os.access(folder, os.W_OK):
            raise UsageError(f"cannot write to the output folder {folder}")


def _view_options(args: argparse.Namespace) -> ViewOptions:
    common = dict(changes_only=args.changes_only, edge_shapes=args.edge_shapes,
                  expand=tuple(args.expand))
    if args.expanded:
        return ViewOptions(hide_noise=False, collapse=False, **common)
    return ViewOptions(**common)


def _export(report: Report, args: argparse.Namespace, err: TextIO) -> None:
    from inspector.output import files  # Plotly and the protos load only when exporting
    from inspector.output.html_report import html_report

    options = _view_options(args)
    written: list[Path] = []
    if args.graphs:
        written += files.write_graphs(report, args.graphs, args.format, options)
    if args.tensorboard:
        written += files.write_tensorboard(report, args.tensorboard)
    if args.html:
        Path(args.html).write_text(html_report(report, options), encoding="utf-8")
        written.append(Path(args.html))
    for path in written:
        err.write(f"wrote {path}\n")


def _json_path(argv: list[str]) -> str | None:
    """Where --json points, read from raw arguments argparse refused (the report is written
    whatever happened)."""
    if argv[:1] != ["inspect"]:
        return None
    for i, arg in enumerate(argv):
        if arg == "--json" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--json="):
            return arg.split("=", 1)[1]
    return None


def _write_json(report: Report, where: str | None, out: TextIO) -> None:
    if where is None:
        return
    text = report.to_json() + "\n"
    if where == "-":
        out.write(text)
    else:
        Path(where).write_text(text, encoding="utf-8")


def exit_code(report: Report) -> int:
    if report.error is not None:
        return EXIT_USAGE if report.error.type in INPUT_ERROR_TYPES else EXIT_MODE_FAILED
    return EXIT_MODE_FAILED if report.failed_modes else EXIT_OK


def _fmt_us(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def format_summary(report: Report) -> str:
    """The human-readable summary: a mode matrix, then per-mode details."""
    lines = [f"{report.function} from {report.source} | TensorFlow {report.tensorflow} | "
             f"device {report.device}"]
    if report.error is not None:
        lines.append(f"error: {report.error}")
        return "\n".join(lines)
    header = (f"{'mode':<17}{'traces':>7}{'pre':>6}{'post':>6}{'folded':>7}{'fused':>6}"
              f"{'removed':>8}{'unk pre/post':>13}{'first us':>12}{'median us':>11}"
              f"{'p10':>11}{'p90':>11}")
    lines += ["", header, "-" * len(header)]
    for result in report.results:
        if result.error is not None:
            lines.append(f"{result.mode:<17}error: {result.error}")
            lines += [f"{'':<19}{frame}" for frame in result.error.frames]
            continue
        d, t, u = result.diff, result.timing, result.unknown_shape_outputs
        lines.append(
            f"{result.mode:<17}{result.traces:>7}"
            f"{result.pre.nodes if result.pre else '-':>6}"
            f"{result.post.nodes if result.post else '-':>6}"
            f"{len(d.folded) if d else '-':>7}{len(d.fused) if d else '-':>6}"
            f"{len(d.removed) if d else '-':>8}"
            f"{(str(u['pre']) + '/' + str(u['post'])) if u else '-':>13}"
            f"{_fmt_us(t.first_call_us if t else None):>12}{_fmt_us(t.median_us if t else None):>11}"
            f"{_fmt_us(t.p10_us if t else None):>11}{_fmt_us(t.p90_us if t else None):>11}")
    for result in report.results:
        if result.error is not None:
            continue
        details = []
        for number, call in enumerate(result.calls, 1):
            flag = ("refused" if call.error is not None else "traced" if call.traced
                    else "eager" if result.mode == "eager" else "reused")
            details.append(f"  call {number} {call.spec}: {flag}: {call.reason}")
        if result.diff and (result.diff.folded or result.diff.fused or result.diff.removed):
            d = result.diff
            if d.folded:
                details.append(f"  folded: {', '.join(d.folded[:12])}"
                               f"{' ...' if len(d.folded) > 12 else ''}")
            if d.fused:
                details.append("  fused: " + ", ".join(
                    f"{f.name} ({f.op}: {'+'.join(f.fused_ops)})" for f in d.fused[:8]))
            if d.removed:
                details.append(f"  removed: {', '.join(d.removed[:12])}"
                               f"{' ...' if len(d.removed) > 12 else ''}")
        rows = tables.ablation(report, result.mode)
        if rows:
            details.append(f"  leave-one-out ablation: {'optimizer off':<26}{'post nodes':>11}"
                           f"{'vs all on':>10}{'median us':>11}")
            for row in rows:
                change = row["nodes vs all on"]
                details.append(
                    f"  {'':<24}{row['optimizer off']:<26}{_or_dash(row['post nodes']):>11}"
                    f"{'-' if change is None else f'{change:+d}':>10}"
                    f"{_fmt_us(row['median us']):>11}"
                    + (f"  {row['error']}" if row["error"] else ""))
        if result.graph_source == "offline":
            details.append("  graphs: offline Grappler run (jit_compile functions record no "
                           "runtime graphs)")
        if details:
            lines += ["", f"[{result.mode}]", *details]
    sdc = report.shape_dependent_constants
    if sdc is not None:
        lines += ["", f"constant with fixed shapes ({sdc.fixed_mode}) but not with None dims: "
                      f"pre {list(sdc.pre) or 'none'}, post {list(sdc.post) or 'none'}"]
    return "\n".join(lines)


def format_comparison(report: Report, mode_a: str, mode_b: str) -> str:
    """Two modes' graphs, before and after Grappler, node by node (from the GraphDefs the
    worker sent)."""
    from inspector.graphs import protos  # the protos load only when comparing or exporting

    results = [report.result(mode_a), report.result(mode_b)]
    graphs = [protos.mode_graphs(r) if r is not None else None for r in results]
    if graphs[0] is None or graphs[1] is None:
        failed = [m for m, g in zip((mode_a, mode_b), graphs, strict=True) if g is None]
        return f"{mode_a} vs {mode_b}: not compared, {' and '.join(failed)} has no graphs"
    lines = []
    for side, label in (("pre", "before Grappler"), ("post", "after Grappler")):
        graph_a, graph_b = getattr(graphs[0], side), getattr(graphs[1], side)
        rows = tables.mode_comparison(graph_a, graph_b, mode_a, mode_b)
        sizes = f"{len(graph_a.node)} and {len(graph_b.node)} nodes"
        if not rows:
            lines.append(f"{mode_a} vs {mode_b} {label}: the same graph (same nodes, ops and "
                         f"inputs; {sizes})")
            continue
        lines.append(f"{mode_a} vs {mode_b} {label}: {len(rows)} differences ({sizes})")
        lines += [f"  {row['node']}: {row['difference']}: {row['detail']}" for row in rows]
    return "\n".join(lines)


def _progress_printer(err: TextIO):
    def show(progress: Progress) -> None:
        where = f" {progress.mode}" if progress.mode else ""
        err.write(f"  ... {progress.stage}{where}\n")
        err.flush()
    return show


def _inspect(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    exporting = bool(args.graphs or args.html or args.tensorboard)
    try:
        source = sources.read_source(args.source)
        request = prepare(source, args.function, args.call, args.mode, args.grappler,
                          device=args.device, runs=args.runs, warmup=args.warmup,
                          budget_s=args.budget, ablate=args.ablate,
                          include_graphs=exporting or args.compare is not None)
        missing = [m for m in args.compare or () if m not in request.modes]
        if missing:
            raise UsageError(f"--compare {','.join(args.compare)} needs both modes in the run; "
                             f"add {' '.join('--mode ' + m for m in missing)}")
        if args.html or (args.graphs and args.format):
            render.dot_command()  # fail before the inspection, not after it
        _prepare_outputs(args)
    except (InputError, GraphvizMissing) as exc:
        err.write(f"error: {ErrorInfo.from_exception(exc)}\n")
        _write_json(Report(tensorflow=None, error=ErrorInfo.from_exception(exc)), args.json, out)
        return EXIT_USAGE
    timeout = args.timeout
    if timeout is None:
        timeout = gallery.get(source.gallery_name).timeout_s if source.gallery_name else 60.0
    limits = Limits(timeout_s=timeout, memory_mb=args.memory_mb)
    report, log = run_one(request, limits, _progress_printer(err) if err.isatty() else None)
    if args.log:
        Path(args.log).write_text(log, encoding="utf-8")
    _write_json(report, args.json, out)
    if exporting and report.error is None:
        try:
            _export(report, args, err)
        except (RenderError, OSError) as exc:
            err.write(f"error: exports failed: {exc}\n")
            return EXIT_MODE_FAILED
    if args.json != "-":
        out.write(format_summary(report) + "\n")
        if args.compare and report.error is None:
            out.write("\n" + format_comparison(report, *args.compare) + "\n")
    if report.error is not None:
        err.write(f"error: {report.error}\n")
        for frame in report.error.frames:
            err.write(f"    {frame}\n")
    return exit_code(report)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout,
         err: TextIO = sys.stderr) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except InputError as exc:
        err.write(f"error: {exc.message}\n")
        _write_json(Report(tensorflow=None, error=ErrorInfo.from_exception(exc)),
                    _json_path(argv), out)
        return EXIT_USAGE
    if args.command == "gallery":
        for entry in gallery.ENTRIES:
            out.write(f"{entry.name:<24}{entry.title}\n{'':<24}calls: "
                      f"{' | '.join(entry.calls)}\n{'':<24}{entry.hint}\n")
        return EXIT_OK
    if args.command == "devices":
        from inspector.jobs.local import LocalExecutor

        with LocalExecutor(workers=1) as executor:
            try:
                devices = executor.devices()
            except InspectorError as exc:
                err.write(f"error: {ErrorInfo.from_exception(exc)}\n")
                return EXIT_MODE_FAILED
        for name in devices:
            out.write(name + "\n")
        if not any(":GPU:" in d for d in devices):
            out.write("(no GPU: TensorFlow sees only the CPU on this machine)\n")
        return EXIT_OK
    return _inspect(args, out, err)
