"""The command line: ``tf-graph-inspector inspect|check|history|versions|serve|gallery|devices``.

Each command lives in its own module (``inspect_command``, ``history_command``); this one
builds the parser and maps typed errors to exit codes.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import TextIO, cast

from inspector.cli import (
    check_command,
    history_command,
    inspect_command,
    serve_command,
    versions_command,
)
from inspector.cli.common import EXIT_OK, Parser, TextOnly, json_path, write_json
from inspector.errors import ErrorInfo, InspectorError
from inspector.inputs import gallery
from inspector.jobs import backends
from inspector.report import Report

__all__ = ["main", "build_parser"]

# As a shell reports a command Ctrl-C stopped (128 + SIGINT). A saved run of it shows as
# interrupted (the store marks running rows whose process is gone).
EXIT_INTERRUPTED = 130


def build_parser() -> Parser:
    parser = Parser(prog="tf-graph-inspector",
                    description="See what tf.function and Grappler do to a Python function.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    inspect_command.add_arguments(
        commands.add_parser("inspect", help="trace, optimize, diff and time a function"))
    check_command.add_arguments(
        commands.add_parser("check", help="hold inspections to bounds from a TOML file (for "
                                          "CI): exit 0 all hold, 1 any fails, 2 bad input"))
    history_command.add_parsers(
        commands.add_parser("history", help="saved runs: list, show, compare, delete, prune"),
        Parser)
    versions_command.add_parsers(
        commands.add_parser("versions", help="TensorFlow versions the workers can run: "
                                             "add, list, remove"), Parser)
    serve_command.add_arguments(
        commands.add_parser("serve", help="the hosted dashboard (settings file, sandbox required)"))
    commands.add_parser("gallery", help="list the built-in examples")
    devices = commands.add_parser("devices", help="list the devices TensorFlow sees, per node")
    devices.add_argument("--executor", choices=backends.KINDS,
                         help="this machine's pool (local, default) or every node of a Ray "
                              "cluster (ray); default $INSPECTOR_EXECUTOR")
    return parser


def _gallery(out: TextIO) -> int:
    for entry in gallery.ENTRIES:
        calls = " | ".join(entry.calls) or "the model's own inputs"
        out.write(f"{entry.name:<24}{entry.title}\n{'':<24}calls: {calls}\n"
                  f"{'':<24}{entry.hint}\n")
    return EXIT_OK


def _devices(chosen: str | None, out: TextIO, err: TextIO) -> int:
    """Each node's devices, under its host name and TensorFlow version."""
    try:
        with backends.start(chosen) as executor:
            nodes = backends.nodes(executor)
    except InspectorError as exc:  # ExecutorError: no cluster there (exit 2)
        err.write(f"error: {ErrorInfo.from_exception(exc)}\n")
        return exc.exit_code
    for node in nodes:
        gpu = " | GPU resource" if node.get("gpu") else ""
        added = [v for v in node.get("versions", ()) if v != node["tensorflow"]]
        held = f" | also holds {', '.join(added)}" if added else ""
        out.write(f"{node['node']} | TensorFlow {node['tensorflow']}{gpu}{held}\n")
        for name in node["devices"]:
            out.write(f"  {name}\n")
        if not any(":GPU:" in d for d in node["devices"]):
            out.write("  (no GPU: TensorFlow sees only the CPU on this node)\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout,
         err: TextIO = sys.stderr) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out, err = cast(TextIO, TextOnly(out)), cast(TextIO, TextOnly(err))
    try:
        args = build_parser().parse_args(argv)
        if args.command == "gallery":
            return _gallery(out)
        if args.command == "devices":
            return _devices(args.executor, out, err)
        if args.command == "history":
            return history_command.run(args, out, err)
        if args.command == "check":
            return check_command.run(args, out, err)
        if args.command == "versions":
            return versions_command.run(args, out, err)
        if args.command == "serve":
            return serve_command.run(args, out, err)
        return inspect_command.run(args, out, err)
    except InspectorError as exc:  # bad arguments, a store that cannot open, an unknown run id
        err.write(f"error: {ErrorInfo.from_exception(exc) if exc.type != 'InputError' else exc.message}\n")
        with contextlib.suppress(InspectorError):  # --json itself may be what failed
            write_json(Report(tensorflow=None, error=ErrorInfo.from_exception(exc)),
                       json_path(argv), out)
        return exc.exit_code
    except KeyboardInterrupt:  # Ctrl-C: the pools' context managers have stopped the workers
        err.write("interrupted\n")
        return EXIT_INTERRUPTED
