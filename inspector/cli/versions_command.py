"""``versions``: the TensorFlow versions workers can run (add, list, remove)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from inspector.cli.common import EXIT_OK
from inspector.jobs import versions


def add_parsers(parser: argparse.ArgumentParser, parser_class: type) -> None:
    commands: Any = parser.add_subparsers(dest="versions_command", required=True,
                                     parser_class=parser_class)
    add = commands.add_parser("add", help="make a worker environment with that TensorFlow "
                                          "(the newest patch release of 2.N)")
    add.add_argument("version", help=f"2.{versions.OLDEST_MINOR} to 2.{versions.NEWEST_MINOR}, "
                                     "e.g. 2.20 (or an exact 2.20.0)")
    commands.add_parser("list", help="the installed versions, the server's own marked default")
    remove = commands.add_parser("remove", help="delete an added environment")
    remove.add_argument("version")


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.versions_command == "add":
        def say(line: str) -> None:
            err.write(line + "\n")
            err.flush()

        versions.add(args.version, say)
        return EXIT_OK
    if args.versions_command == "remove":
        gone = versions.remove(args.version)
        out.write(f"removed TensorFlow {gone.version} ({gone.path})\n")
        return EXIT_OK
    for env in versions.installed():
        size = f"{env.size_mb:,.0f} MB" if env.size_mb is not None else ""
        mark = "default (the server's own)" if env.default else size
        out.write(f"{env.version:<10} Keras {env.keras or '-':<8} {mark:<28} {env.path}\n")
    return EXIT_OK
