"""``history``: list, show, compare, delete and prune saved runs (no worker, no TensorFlow)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from inspector.cli.common import EXIT_OK, add_config_argument, write_json, write_text
from inspector.hosting import policy
from inspector.inputs.modes import MODES
from inspector.store import STATUSES

# SQLAlchemy, tabulate and the output tables load only for a history command (inspect starts
# its worker first).
if TYPE_CHECKING:
    from inspector.store.runs import RunStore, RunSummary


def add_parsers(history: argparse.ArgumentParser, parser_class: type) -> None:
    actions: Any = history.add_subparsers(dest="action", required=True,
                                          parser_class=parser_class)
    listing = actions.add_parser("list", help="saved runs, newest first")
    listing.add_argument("--function", help="only runs of this function")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--tag", help="only runs with this tag")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", metavar="PATH", help="write the list as JSON ('-': stdout)")
    show = actions.add_parser("show", help="a saved run's report and exports, without running")
    show.add_argument("id")
    show.add_argument("--json", metavar="PATH", help="the report as inspect --json wrote it")
    show.add_argument("--html", metavar="PATH", help="write the HTML report")
    show.add_argument("--graphs", metavar="DIR", help="write GraphDefs and SVG pictures")
    show.add_argument("--tensorboard", metavar="DIR", help="write a TensorBoard log directory")
    comparing = actions.add_parser("compare", help="two saved runs side by side")
    comparing.add_argument("first")
    comparing.add_argument("second")
    comparing.add_argument("--mode", choices=MODES, help="only this mode")
    delete = actions.add_parser("delete", help="delete a saved run")
    delete.add_argument("id")
    prune = actions.add_parser("prune", help="delete old runs: by --keep-days and --max-gb, "
                               "else by the settings file's [retention]; neither: none")
    prune.add_argument("--keep-days", type=_positive, help="delete runs older than this")
    prune.add_argument("--max-gb", type=_positive,
                       help="then the oldest until the store is smaller")
    for action in (listing, show, comparing, delete, prune):
        add_config_argument(action)


def _positive(text: str) -> float:
    """A number > 0: 0 or less would delete every finished run."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 (it would delete every finished "
                                         f"run), not {text}")
    return value


def summary_json(run: RunSummary) -> dict[str, object]:
    """A run as ``history list --json`` gives it."""
    return {"id": run.id, "created_at": run.created_at.isoformat(), "status": run.status,
            "owner": run.owner, "title": run.title, "source": run.source_label,
            "function": run.function, "modes": list(run.modes), "tensorflow": run.tensorflow,
            "device": run.device, "duration_s": run.duration_s, "post_nodes": run.post_nodes,
            "tags": list(run.tags), "error_type": run.error_type}


def _list(store: RunStore, args: argparse.Namespace, out: TextIO) -> int:
    from tabulate import tabulate

    from inspector.output import tables
    from inspector.store.runs import RunFilter

    found = store.find(RunFilter(function=args.function, status=args.status, tag=args.tag),
                       limit=args.limit)
    if args.json:
        write_text(json.dumps([summary_json(s) for s in found], indent=2) + "\n", args.json, out)
    if args.json != "-":
        rows = tables.formatted(tables.run_rows(found))
        out.write((tabulate(rows, headers="keys", disable_numparse=True) if rows
                   else f"no saved runs in {store.safe_url}") + "\n")
    return EXIT_OK


def _show(store: RunStore, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from inspector.output.text import format_summary

    saved = store.get(args.id)
    report = saved.report
    if report is None:
        out.write(f"run {args.id} is {saved.summary.status}: it has no report\n")
        return EXIT_OK
    write_json(report, args.json, out)
    written: list[Path] = []
    if args.graphs or args.tensorboard or args.html:
        from inspector.output import files
        from inspector.output.html_report import html_report

        if args.graphs:
            written += files.write_graphs(report, args.graphs)
        if args.tensorboard:
            written += files.write_tensorboard(report, args.tensorboard)
        if args.html:
            Path(args.html).write_text(html_report(report), encoding="utf-8")
            written.append(Path(args.html))
    for path in written:
        err.write(f"wrote {path}\n")
    if args.json != "-":
        out.write(format_summary(report) + "\n")
    return EXIT_OK


def format_run_comparison(store: RunStore, first: str, second: str,
                          mode: str | None = None) -> str:
    """``history compare``: figures, post-Grappler graphs per mode, the source diff."""
    from tabulate import tabulate

    from inspector.output import compare, tables  # TensorBoard's protos: only when comparing

    a, b = store.get(first), store.get(second)
    lines = [f"A {first}: {a.summary.function} ({a.summary.source_label}), TensorFlow "
             f"{a.summary.tensorflow}, {a.summary.created_at:%Y-%m-%d %H:%M}",
             f"B {second}: {b.summary.function} ({b.summary.source_label}), TensorFlow "
             f"{b.summary.tensorflow}, {b.summary.created_at:%Y-%m-%d %H:%M}"]
    inputs = compare.input_rows(compare.run_inputs(a.request, a.report, a.executor),
                                compare.run_inputs(b.request, b.report, b.executor))
    lines += ["", tabulate(inputs, headers="keys", disable_numparse=True)]
    if a.report is None or b.report is None:
        return "\n".join([*lines, "not compared: a run has no report "
                                  f"({a.summary.status}, {b.summary.status})"])
    rows = [r for r in compare.matrix_rows(a.report, b.report) if mode in (None, r["mode"])]
    if rows:
        lines += ["", tabulate(tables.formatted(rows), headers="keys", disable_numparse=True)]
    in_a, in_b = ({r.mode for r in x.report.results} for x in (a, b))  # type: ignore[union-attr]
    if not in_a & in_b or (mode is not None and mode not in in_a & in_b):
        lines += ["", f"not compared mode by mode: A ran {', '.join(sorted(in_a)) or 'none'}, "
                      f"B ran {', '.join(sorted(in_b)) or 'none'}"
                      + (f" (--mode {mode} is not in both)" if mode else "")]
    for found in compare.graph_comparisons(a.report, b.report):
        if mode not in (None, found.mode):
            continue
        sizes = f"{found.nodes_a} and {found.nodes_b} nodes"
        if not found.rows:
            lines += ["", f"[{found.mode}] after Grappler: the same graph ({sizes})"]
            continue
        lines += ["", f"[{found.mode}] after Grappler: {len(found.rows)} differences ({sizes})"]
        lines += [f"  {row['node']}: {row['difference']}: {row['detail']}" for row in found.rows]
    source = compare.source_diff(a.source_text, b.source_text, f"A {first}", f"B {second}")
    lines += ["", source.rstrip() if source else "source: the same code"]
    return "\n".join(lines)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``history ACTION`` on the store the settings name; StoreError, RunNotFound and
    PolicyError reach main() (exit 2)."""
    settings = policy.load(args.config)
    store = policy.open_store(settings, maintain=args.action in ("delete", "prune"),
                              create=False)
    try:
        if args.action == "list":
            return _list(store, args, out)
        if args.action == "show":
            return _show(store, args, out, err)
        if args.action == "compare":
            out.write(format_run_comparison(store, args.first, args.second, args.mode) + "\n")
        elif args.action == "delete":
            store.delete(args.id)
            err.write(f"deleted run {args.id}\n")
        elif args.action == "prune":
            # The settings' [retention] unless the command line says otherwise.
            keep_days = args.keep_days if args.keep_days is not None else settings.keep_days
            max_gb = args.max_gb if args.max_gb is not None else settings.max_gb
            if keep_days is None and max_gb is None:
                err.write("pruned nothing: give --keep-days or --max-gb (or [retention] in "
                          "the settings file)\n")
                return EXIT_OK
            gone = store.prune(keep_days, max_gb)
            err.write(f"pruned {len(gone)} run(s)\n")
        return EXIT_OK
    finally:
        store.close()
