"""What every command shares: exit codes, the one-line argument parser, JSON output."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, TextIO

from inspector.errors import InputError, UsageError, exit_code_of
from inspector.report import Report

# The codes the error classes carry (errors.py's tree), and success.
EXIT_OK, EXIT_MODE_FAILED, EXIT_USAGE = 0, 1, 2


# What a terminal takes as a command rather than text: C0 controls but tab and newline (a
# carriage return or backspaces overwrite what was printed, a bell rings), DEL, C1 controls
# (ESC's one-byte forms), and the bidirectional overrides and isolates (they reorder what
# follows). Each becomes U+FFFD, a character for a character: tables laid out by length stay
# aligned (a title's escapes shifted its row in `history list`, in a walk). The JSON the
# CLI prints holds none of them (json escapes them all).
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class TextOnly:
    """A text stream that drops terminal control characters from what is written: error
    messages, titles and names in a report are the user's (another user's, in a team's
    store), and an escape sequence put a link or hid text in the terminal that showed them
    (found in a walk)."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_TERMINAL_CONTROLS.sub("\ufffd", text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit code 2 with no usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{message} (see --help)")


def add_config_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--config``: the settings file every command reads (hosting/policy.py's order)."""
    parser.add_argument("--config", metavar="PATH",
                        help="the settings file (default: $INSPECTOR_CONFIG); its [store] "
                             "picks the store before INSPECTOR_DB and INSPECTOR_DATA")


def seconds(text: str) -> float:
    """An argument in seconds: more than 0 (a finite number)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds, more than 0, not {text!r}")
    return value


def exit_code(report: Report) -> int:
    if report.error is not None:
        return exit_code_of(report.error.type)
    return EXIT_MODE_FAILED if report.failed_modes else EXIT_OK


def write_text(text: str, where: str | None, out: TextIO) -> None:
    """``text`` to a file, or to ``out`` for "-"; nothing for None. UsageError when the file
    cannot be written (a folder, /proc, a full disk)."""
    if where is None:
        return
    if where == "-":
        out.write(text)
        return
    try:
        Path(where).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {where}: {exc.strerror or exc}") from None


def check_writable(path: str | None, flag: str) -> None:
    """Fail before any work when the output file ``path`` cannot be written: it is opened for
    appending (and removed again if that made it), as the write at the end will open it."""
    if path is None or path == "-":
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{flag} {path}: a folder; give a file name")
    if not target.parent.is_dir():
        raise UsageError(f"{flag} {path}: cannot write there: no such folder")
    existed = target.exists()
    try:
        with target.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write there: {exc.strerror or exc}") from None
    if not existed:
        target.unlink(missing_ok=True)


def write_json(report: Report, where: str | None, out: TextIO) -> None:
    write_text(report.to_json() + "\n", where, out)


def json_path(argv: list[str]) -> str | None:
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
