"""Run the user's source as a module in the worker, and trim its errors to the user's own frames."""

from __future__ import annotations

import errno
import os
import re
import sys
import sysconfig
import tempfile
import textwrap
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.errors import (
    FunctionNotFound,
    InspectorError,
    SandboxDenied,
    SourceError,
    UserCodeError,
)
from inspector.inputs.sources import Source


def user_frames(tb: types.TracebackType | None, filename: str) -> tuple[str, ...]:
    """The traceback's frames that are in the user's source, innermost last."""
    frames = []
    for frame in traceback.extract_tb(tb):
        if frame.filename == filename:
            code = f": {frame.line.strip()}" if frame.line else ""
            frames.append(f"line {frame.lineno} in {frame.name}{code}")
    return tuple(frames)


def last_user_line(tb: types.TracebackType | None, filename: str) -> int | None:
    lines = [f.lineno for f in traceback.extract_tb(tb) if f.filename == filename]
    return lines[-1] if lines else None


_FRAME = re.compile(r'File "(?P<path>.+?)", line (?P<line>\d+), in (?P<name>\S+)')


def _frames_in_message(message: str, filename: str) -> tuple[tuple[str, ...], int | None, str]:
    """Frames and the real error from messages TensorFlow composes itself.

    AutoGraph re-raises with the frames in the text ("in user code: File ...") and the original
    error's whole message after them; runtime errors say "Graph execution error", where the
    failing node was defined, then the kernel's message. The exception's own traceback points
    at generated or TensorFlow code.
    """
    lines = message.splitlines()
    frames, last_line, after = [], None, 0
    for index, text in enumerate(lines):
        match = _FRAME.search(text)
        if match:
            after = index + 2  # the frame's code line follows it
        if match and match.group("path") == filename:
            code = lines[index + 1].strip() if index + 1 < len(lines) else ""
            frames.append(f"line {match.group('line')} in {match.group('name')}"
                          + (f": {code}" if code else ""))
            last_line = int(match.group("line"))
    rest = [t for t in lines[after:] if not t.strip().startswith("[[")]
    return tuple(frames), last_line, textwrap.dedent("\n".join(rest)).strip()


# Keras colours parts of its messages with terminal escapes.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# How much of an error's message goes into the error itself; the traceback keeps the rest.
MESSAGE_LINES = 24
TRACEBACK_CHARS = 40_000


def server_paths_out(text: str, filename: str | None = None) -> str:
    """Text a team's users may read (a traceback, TensorFlow's message, XLA's HLO): where this
    server keeps its Python, its packages and the job's folder replaced by names (the frames
    and the code stay). ``filename``: the user's code, whose folder reads <your code>."""
    places = {sysconfig.get_paths()["purelib"]: "<site-packages>",
              sysconfig.get_paths()["stdlib"]: "<python>",
              str(Path(__file__).resolve().parents[2]): "<inspector>",
              tempfile.gettempdir(): "<tmp>"}
    if filename is not None:
        places[str(Path(filename).parent)] = "<your code>"
    for path, name in sorted(places.items(), key=lambda p: -len(p[0])):
        text = text.replace(path, name)
    return text


def _whole_message(summary: str, doing: str) -> str:
    """The error's message, all of it (within MESSAGE_LINES), with what we were doing after its
    first line."""
    lines = [line.rstrip() for line in summary.splitlines()]
    while lines and not lines[0].strip():
        lines.pop(0)
    first = f"{lines[0] if lines else ''} (while {doing})"
    rest = lines[1:MESSAGE_LINES]
    if len(lines) > MESSAGE_LINES:
        rest.append(f"... ({len(lines) - MESSAGE_LINES} more lines in the traceback)")
    return "\n".join([first, *rest])


# Set by the sandbox (hosting.sandbox) in the worker's environment.
IN_SANDBOX_ENV = "INSPECTOR_IN_SANDBOX"
# What a hidden or read-only path looks like to the user's code.
_DENIED_ERRNOS = frozenset({errno.ENOENT, errno.EACCES, errno.EROFS, errno.EPERM})


# How TensorFlow's file ops (ReadFile, WriteFile, a SavedModel's graph) say the same.
_TF_DENIED = re.compile(r"(/[^\s;:'\"]+)[;:] (No such file or directory|Permission denied|"
                        r"Read-only file system)")


def _sandbox_denied(exc: BaseException, doing: str, line: int | None,
                    frames: tuple[str, ...]) -> SandboxDenied | None:
    """An OSError on a path (or TensorFlow's NotFoundError or PermissionDeniedError naming
    one), in a sandbox: most likely the sandbox, so say so and name it."""
    if not os.environ.get(IN_SANDBOX_ENV):
        return None
    if type(exc).__name__ == "StagingError" and exc.__context__ is not None:
        exc = exc.__context__  # AutoGraph re-raised the error (an OSError too) as its own type
    if isinstance(exc, OSError) and exc.filename and exc.errno in _DENIED_ERRNOS:
        filename, reason = exc.filename, exc.strerror
    elif type(exc).__name__ in ("NotFoundError", "PermissionDeniedError") and (
            found := _TF_DENIED.search(str(exc))):
        filename, reason = found.group(1), found.group(2)
    else:
        return None
    return SandboxDenied(
        f"{type(exc).__name__}: {reason}: {filename} (while {doing}); the sandbox "
        "shows only the system, Python and this job's folder, read-only but for /tmp and the "
        "job folder: no store, settings, secrets or home files", line=line, frames=frames)


def user_code_error(exc: BaseException, filename: str, doing: str) -> UserCodeError:
    """Wrap an exception raised by user code: its whole message, the user's frames, and the
    whole traceback for those who want the library's frames too."""
    message = _ANSI.sub("", str(exc)).strip()
    frames = user_frames(exc.__traceback__, filename)
    line = last_user_line(exc.__traceback__, filename)
    denied = _sandbox_denied(exc, doing, line, frames)
    if denied is not None:
        return denied
    summary = message
    if message.startswith(("in user code:", "Graph execution error")):
        found, found_line, summary = _frames_in_message(message, filename)
        frames, line = found or frames, found_line or line
    if not summary.startswith(type(exc).__name__):
        summary = f"{type(exc).__name__}: {summary}"
    # TensorFlow's own messages can hold a Python stack (XLA's compile errors do).
    summary = server_paths_out(summary, filename)
    whole = server_paths_out(_ANSI.sub("", "".join(traceback.format_exception(exc))),
                              filename)
    if len(whole) > TRACEBACK_CHARS:
        whole = "...\n" + whole[-TRACEBACK_CHARS:]
    return UserCodeError(_whole_message(summary, doing), line=line, frames=frames,
                         traceback=whole)


@dataclass(frozen=True)
class LoadedFunction:
    """The user's function after its module ran."""

    function: Callable[..., Any]
    # Where the source was written for the run: tracebacks and AutoGraph point here.
    path: str


def load_function(source: Source, name: str, workdir: str | None = None) -> LoadedFunction:
    """Run the source as a module and return the named function (call only in a worker).

    The text is written to a real file first: AutoGraph reads a function's source with
    ``inspect``, and an in-memory linecache entry does not survive TensorFlow's own use of it.
    A function already wrapped in tf.function is unwrapped: each mode applies its own.
    """
    folder = Path(workdir or tempfile.mkdtemp(prefix="inspector-src-"))
    stem = re.sub(r"[^A-Za-z0-9_]", "_", Path(source.filename).stem) or "source"
    path = folder / f"{stem}.py"
    path.write_text(source.text, encoding="utf-8")
    if source.model:  # the model for the module that loads it (engine/models.py)
        from inspector.engine import models
        from inspector.inputs.models import decode

        if source.model.get("placed"):  # copied into the job's folder by the executor
            models.use(source.model["name"], Path(source.model["placed"]))
        else:  # its bytes, beside the module
            models.write(folder, source.model["name"], decode(source.model["data"]))
    module_name = f"inspector_user_{stem}"
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    sys.modules[module_name] = module
    try:
        code = compile(source.text, str(path), "exec")
    except SyntaxError as exc:
        raise SourceError(f"syntax error at line {exc.lineno}: {exc.msg}", line=exc.lineno) from None
    try:
        exec(code, module.__dict__)
    except InspectorError:  # a model that cannot be loaded safely says so itself
        raise
    except ImportError as exc:
        line = last_user_line(exc.__traceback__, str(path))
        raise SourceError(f"import failed at line {line}: {exc}; install the package or "
                          "remove the import", line=line) from None
    except Exception as exc:
        raise user_code_error(exc, str(path), "running the module") from None
    if name not in module.__dict__:
        raise FunctionNotFound(f"{name!r} is not defined after running the source")
    function = module.__dict__[name]
    function = getattr(function, "python_function", function)
    if not callable(function):
        raise FunctionNotFound(f"{name!r} is a {type(function).__name__}, not a function")
    return LoadedFunction(function, str(path))
