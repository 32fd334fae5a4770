"""``inspect``: trace, optimize, diff and time a function; export, print, save."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from inspector.errors import ErrorInfo, InspectorError, RenderError, StoreError, UsageError
from inspector.graphs import PICTURE_FORMATS
from inspector.hosting import sandbox
from inspector.inputs import modes, sources
from inspector.jobs import backends, versions
from inspector.jobs.executor import Limits, check_fits
from inspector.report import Report

if TYPE_CHECKING:
    from inspector.graphs.views import ViewOptions
    from inspector.inputs.request import InspectRequest
    from inspector.jobs.executor import Executor, Progress
    from inspector.store.runs import RunStore
from inspector.cli.common import (
    EXIT_MODE_FAILED,
    add_config_argument,
    check_writable,
    exit_code,
    seconds,
    write_json,
)


def add_arguments(inspect: argparse.ArgumentParser) -> None:
    """The ``inspect`` command's arguments."""
    inspect.add_argument("source", help="a .py file, '-' for stdin, gallery:NAME, or a model: a "
                                        ".keras file, or a SavedModel folder, .zip or .tar.gz")
    _model_arguments(inspect)
    inspect.add_argument("--function", help="the function to inspect (optional when the source "
                                            "defines exactly one)")
    inspect.add_argument("--mode", action="append", default=[], metavar="MODE",
                         help="repeatable: " + ", ".join(modes.CODE_MODES) + ", saved (a SavedModel "
                              "signature as saved), all (default: all)")
    inspect.add_argument("--call", action="append", default=[], metavar="SPEC",
                         help="repeatable, one call each: e.g. 'float32[2,3]; int32[]'")
    inspect.add_argument("--device", help="e.g. CPU:0 or GPU:0 (default: TensorFlow's choice)")
    inspect.add_argument("--tf", action="append", default=[], metavar="VERSION",
                         help="repeatable: run on this TensorFlow (e.g. 2.20; 'all': every "
                              "installed one; see 'versions list'); default: the server's own")
    inspect.add_argument("--compare-versions", action="store_true",
                         help="with several --tf: print per mode how each version's post graph, "
                              "patterns, passes and median differ from the first's")
    inspect.add_argument("--executor", choices=backends.KINDS,
                         help="where the worker runs: this machine's pool (local, default) or "
                              "a Ray cluster (ray: RAY_ADDRESS, or a local Ray instance "
                              "started and stopped for this run); default $INSPECTOR_EXECUTOR")
    inspect.add_argument("--runs", type=_count, help="timed calls per mode (default, or 0: "
                                                     "adapt to --budget)")
    inspect.add_argument("--warmup", type=_count, help="untimed calls first (default 10)")
    inspect.add_argument("--budget", type=seconds, default=2.0,
                         help="seconds of timed calls per mode when --runs is not given")
    inspect.add_argument("--json", metavar="PATH", help="write the JSON report ('-': stdout)")
    inspect.add_argument("--no-passes", dest="capture_passes", action="store_false",
                         help="do not capture the graph after each Grappler pass (its dumps "
                              "cost I/O that grows with the graph's constants)")
    inspect.add_argument("--ablate", action="store_true",
                         help="leave-one-out table: each Grappler optimizer turned off")
    inspect.add_argument("--lines", action="store_true",
                         help="print the source listing: per line that made nodes, its nodes "
                              "before Grappler -> after -> executed, what changed, and its "
                              "profiled time per call")
    inspect.add_argument("--compare", type=_mode_pair, metavar="A,B",
                         help="print how two modes' graphs differ node by node, before and "
                              "after Grappler, e.g. numpy,spec")
    inspect.add_argument("--grappler", action="append", default=[], metavar="KEY=VALUE",
                         help="override a Grappler option, e.g. constant_folding=off")
    inspect.add_argument("--timeout", type=seconds, help="seconds per inspection (default 60; "
                                                       "large gallery models bring their own)")
    inspect.add_argument("--memory-mb", type=_megabytes, default=Limits.memory_mb,
                         help="memory cap of the worker process tree")
    inspect.add_argument("--log", metavar="PATH",
                         help="write the worker's log (TensorFlow's C++ log, Grappler's passes)")
    _export_arguments(inspect)
    saving = inspect.add_argument_group("saved runs (store: the settings' [store], else "
                                        "INSPECTOR_DB, INSPECTOR_DATA)")
    add_config_argument(saving)
    saving.add_argument("--save", action="store_true",
                        help="keep the run in the store; prints its id (history show ID)")
    saving.add_argument("--title", help="a title for the saved run")
    saving.add_argument("--tag", action="append", default=[], metavar="TAG",
                        help="repeatable: a tag for the saved run")


def _model_arguments(inspect: argparse.ArgumentParser) -> None:
    """For a model as SOURCE (issue 27)."""
    inspect.add_argument("--signature", help="the SavedModel signature to call (default "
                                             "serving_default)")
    inspect.add_argument("--endpoint", help="call this restored tf.function of the SavedModel "
                                            "instead of a signature (give --call)")
    inspect.add_argument("--list", action="store_true",
                         help="list the model's signatures and their inputs, and stop")


def _export_arguments(inspect: argparse.ArgumentParser) -> None:
    """The files an inspection writes, and how its pictures are drawn."""
    exports = inspect.add_argument_group("exports (file names: <function>-<mode>-<view>.<ext>)")
    exports.add_argument("--graphs", metavar="DIR",
                         help="write each mode's pre/post GraphDefs (.pbtxt, .pb) and pictures "
                              "of the pre, post and diff views")
    exports.add_argument("--format", type=_formats,
                         help="picture formats for --graphs, comma-separated: svg,png,pdf "
                              "(default svg; 'none' for GraphDefs only)")
    exports.add_argument("--passes", metavar="DIR",
                         help="write the graph after each Grappler pass (.pbtxt) and a picture "
                              "of each changing pass's diff against the graph before it "
                              "(--format applies)")
    exports.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    exports.add_argument("--tensorboard", metavar="DIR",
                         help="write a TensorBoard log directory (one run per mode and graph)")
    exports.add_argument("--expanded", action="store_true",
                         help="draw every node: no scope collapsing, no noise hiding, no "
                              "narrowing of huge graphs to their changes")
    exports.add_argument("--changes-only", type=_hops, metavar="K",
                         help="draw only changed nodes and their neighbours within K hops")
    exports.add_argument("--expand", action="append", default=[], metavar="SCOPE",
                         help="repeatable: draw this name scope opened in collapsed overviews")
    exports.add_argument("--edge-shapes", action="store_true",
                         help="label data edges with the static shape they carry")


def _count(text: str) -> int:
    """A count of calls: 0 or more."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, not {text!r}")
    return int(text)


def _megabytes(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of megabytes, 1 or more, not "
                                         f"{text!r}")
    return int(text)


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
    unknown = [f for f in chosen if f not in PICTURE_FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown picture format(s) {', '.join(unknown) or repr(text)}; choose from "
            f"{', '.join(PICTURE_FORMATS)} or none")
    return chosen


def _prepare_outputs(args: argparse.Namespace) -> None:
    """Create the folders the outputs go to, so a bad path fails before the inspection runs."""
    folders = [Path(p).parent for p in (args.json, args.html, args.log) if p and p != "-"]
    folders += [Path(p) for p in (args.graphs, args.tensorboard, args.passes) if p]
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the output folder {folder}: {exc.strerror}") from exc
        if not os.access(folder, os.W_OK):
            raise UsageError(f"cannot write to the output folder {folder}")
    for path, flag in ((args.json, "--json"), (args.html, "--html"), (args.log, "--log")):
        check_writable(path, flag)


def _view_options(args: argparse.Namespace) -> ViewOptions:
    from inspector.graphs.views import ViewOptions  # with the protos: only for pictures

    common = dict(changes_only=args.changes_only, edge_shapes=args.edge_shapes,
                  expand=tuple(args.expand))
    if args.expanded:
        return ViewOptions(hide_noise=False, collapse=False, narrow_past=None, **common)
    return ViewOptions(**common)


def _export(report: Report, args: argparse.Namespace, err: TextIO) -> None:
    from inspector.output import files  # Plotly and the protos load only when exporting
    from inspector.output.html_report import html_report

    options = _view_options(args)
    written: list[Path] = []

    def note(text: str) -> None:
        err.write(f"note: {text}\n")

    if args.graphs:
        written += files.write_graphs(report, args.graphs, args.format, options, note)
    if args.passes:
        written += files.write_passes(report, args.passes, args.format, options, note)
    if args.tensorboard:
        written += files.write_tensorboard(report, args.tensorboard)
    if args.html:
        Path(args.html).write_text(html_report(report, options), encoding="utf-8")
        written.append(Path(args.html))
    for path in written:
        err.write(f"wrote {path}\n")


def _progress_printer(err: TextIO):
    def show(progress: Progress) -> None:
        where = f" {progress.mode}" if progress.mode else ""
        err.write(f"  ... {progress.stage}{where}\n")
        err.flush()
    return show


def _open_store(config: str | None) -> RunStore:
    """The store the settings name (SQLAlchemy loads only when saving)."""
    from inspector.hosting import policy

    return policy.open_store(policy.load(config))


def _checked_request(args: argparse.Namespace) -> tuple[InspectRequest, Limits]:
    """Everything that can be checked before any work: the source, the request, the outputs,
    Graphviz when pictures are asked for, and the job's limits."""
    from inspector.inputs.request import prepare

    exporting = bool(args.graphs or args.html or args.tensorboard or args.passes)
    source = sources.read_source(args.source, signature=args.signature, endpoint=args.endpoint)
    request = prepare(source, args.function, args.call, args.mode, args.grappler,
                      device=args.device, runs=args.runs or None, warmup=args.warmup,
                      budget_s=args.budget, ablate=args.ablate, passes=args.capture_passes,
                      include_graphs=exporting or args.save or args.compare is not None
                      or args.compare_versions)
    if args.compare_versions and len(versions.resolve(args.tf)) < 2:
        raise UsageError("--compare-versions needs two or more versions: give --tf twice (e.g. "
                         "--tf 2.21 --tf 2.20) or --tf all")
    missing = [m for m in args.compare or () if m not in request.modes]
    if missing:
        raise UsageError(f"--compare {','.join(args.compare)} needs both modes in the run; "
                         f"add {' '.join('--mode ' + m for m in missing)}")
    if args.format is not None and not (args.graphs or args.passes):  # walk: it drew nothing
        raise UsageError("--format picks the pictures --graphs DIR and --passes DIR write; give "
                         "one of them (--html draws its own)")
    if args.format is None:
        args.format = ("svg",)
    if args.html or ((args.graphs or args.passes) and args.format):
        from inspector.graphs import render  # drawing's imports only when it draws

        render.dot_command()  # fail before the inspection, not after it
    _prepare_outputs(args)
    timeout = sources.default_timeout_s(source) if args.timeout is None else args.timeout
    limits = Limits(timeout_s=timeout, memory_mb=args.memory_mb)
    check_fits(request, limits)
    return request, limits


def _write_outputs(report: Report, log: str, args: argparse.Namespace, out: TextIO,
                   err: TextIO) -> int:
    """The log, the JSON, the exports and the summary; the exit code."""
    from inspector.output.text import (
        format_comparison,
        format_header,
        format_lines,
        format_summary,
        format_version_comparison,
    )

    if args.log:
        Path(args.log).write_text(log, encoding="utf-8")
    write_json(report, args.json, out)
    if bool(args.graphs or args.html or args.tensorboard or args.passes) and report.error is None:
        try:
            _export(report, args, err)
        except (RenderError, OSError) as exc:
            err.write(f"error: exports failed: {exc}\n")
            return EXIT_MODE_FAILED
    if args.json != "-":  # a report's error goes to stderr only, below
        out.write((format_summary(report) if report.error is None
                   else format_header(report)) + "\n")
        if args.compare and report.error is None:
            out.write("\n" + format_comparison(report, *args.compare) + "\n")
        if args.lines and report.error is None:
            out.write("\n" + format_lines(report) + "\n")
        if args.compare_versions and report.error is None:
            out.write("\n" + format_version_comparison(report) + "\n")
    if report.error is not None:
        err.write(f"error: {report.error}\n")
        for frame in report.error.frames:
            err.write(f"    {frame}\n")
    return exit_code(report)


def _started_early(args: argparse.Namespace, stack: contextlib.ExitStack) -> Executor | None:
    """For one version on this machine, its one-shot pool, started before the request is
    checked: the worker imports TensorFlow while this process reads the source, prepares the
    request and opens the store (about 0.2 s of a CLI run here). Closed with ``stack``."""
    if args.list:
        return None
    environment = None  # this TensorFlow: its version is read later, while the worker starts
    if args.tf:
        chosen = versions.resolve(args.tf)
        if len(chosen) != 1:
            return None
        environment = chosen[0]
    started = backends.one_shot(args.executor, environment)
    return stack.enter_context(started) if started is not None else None


def _run_versions(args: argparse.Namespace, request: InspectRequest, limits: Limits,
                  err: TextIO, started: Executor | None = None) -> tuple[Report, str]:
    """The request on each TensorFlow ``--tf`` names, one after the other (a pool each, or
    ``started`` for one version), as one report; the workers' logs joined, each under its
    version."""
    from inspector.report import merge_versions

    chosen = versions.resolve(args.tf)
    progress = _progress_printer(err) if err.isatty() else None
    if len(chosen) == 1:
        return backends.run_one(args.executor, request, limits, progress, chosen[0], started)
    runs, logs = [], []
    for environment in chosen:
        if err.isatty():
            err.write(f"TensorFlow {environment.version}:\n")
        report, log = backends.run_one(args.executor, request, limits, progress, environment)
        runs.append((environment.version, report))
        logs.append(f"===== TensorFlow {environment.version} =====\n{log}")
    return merge_versions(runs), "\n".join(logs)


def _list_model(args: argparse.Namespace, out: TextIO) -> int:
    """--list: the model's signatures and inputs, read from its metadata (nothing runs)."""
    from inspector.inputs import gallery, models

    where = args.source
    if where.startswith(sources.GALLERY_PREFIX):  # a gallery model's file
        entry = gallery.get(where[len(sources.GALLERY_PREFIX):])
        where = str(gallery.model_path(entry)) if entry.model else where
    if Path(where).is_dir():  # a folder without saved_model.pb: read_bytes says what to give
        models.read_bytes(where)
    if not models.is_model(where):
        raise UsageError("--list is for a model (.keras, or a SavedModel folder, .zip or "
                         ".tar.gz)")
    # The checks a run makes of --signature and --endpoint (walk: --list took any endpoint).
    sources.read_source(args.source, signature=args.signature, endpoint=args.endpoint)
    name, data = models.read_bytes(where)
    out.write(models.listing(models.listed(name, data, args.signature)) + "\n")
    return 0


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``inspect``: validate, run in a one-shot worker, write outputs; the exit code. A typed
    error before or while starting the job (bad input, a store or sandbox that cannot be set
    up, no cluster) is one line and its class's exit code, with a JSON report holding it."""
    with contextlib.ExitStack() as stack:
        run_id = None
        try:
            if args.list:
                return _list_model(args, out)
            started = _started_early(args, stack)
            request, limits = _checked_request(args)
            store = stack.enter_context(contextlib.closing(_open_store(args.config))) \
                if args.save else None  # fails before any work
            guard = sandbox.detect()
            if not guard.active:
                err.write(f"warning: user code runs without a sandbox: {guard.reason} (it "
                          "runs with your rights: it can read your files)\n")
            if store is not None:
                run_id = store.start(request, dataclasses.asdict(limits), title=args.title,
                                     tags=args.tag)
            # While the worker imports TensorFlow: the text output's own imports (tabulate,
            # the protos: 60 ms) were on the way from the report to the exit.
            from inspector.output import text  # noqa: F401
            report, log = _run_versions(args, request, limits, err, started)
        except InspectorError as exc:
            failed = Report(tensorflow=None, error=ErrorInfo.from_exception(exc))
            if run_id is not None:
                store.finish(run_id, failed)  # type: ignore[union-attr]
            err.write(f"error: {failed.error}\n")
            with contextlib.suppress(InspectorError):  # --json itself may be what failed
                write_json(failed, args.json, out)
            return exc.exit_code
        if store is not None and run_id is not None:
            try:
                store.finish(run_id, report, log=log)
            except StoreError as exc:  # a full disk: the report is still written and shown
                err.write(f"error: {exc.type}: {exc.message}\n")
                return max(_write_outputs(report, log, args, out, err), exc.exit_code)
            report = dataclasses.replace(report, run_id=run_id)
            err.write(f"saved run {run_id}\n")
        return _write_outputs(report, log, args, out, err)
