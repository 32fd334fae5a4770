"""Where a function comes from: a file, stdin or the gallery; checked without running, then loaded."""

from __future__ import annotations

import ast
import re
import sys
import tempfile
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector import gallery
from inspector.errors import FunctionNotFound, SourceError, UserCodeError

GALLERY_PREFIX = "gallery:"


@dataclass(frozen=True)
class Source:
    """The user's code as text, before anything runs."""

    # The complete module source.
    text: str
    # The name shown in tracebacks and used as the module's file name ("<stdin>" for stdin).
    filename: str
    # The gallery entry's name when the code came from the gallery, else None.
    gallery_name: str | None = None


@dataclass(frozen=True)
class FunctionInfo:
    """What the source's ``def`` says about the function to inspect."""

    name: str
    # Names of the positional parameters, in order.
    params: tuple[str, ...]
    # How many of them have no default.
    required: int
    # Whether the function takes *args.
    varargs: bool
    # 1-based line of the ``def``.
    line: int


def read_source(where: str, stdin_text: str | None = None) -> Source:
    """Read SOURCE as the CLI names it: a .py path, ``-`` for stdin, or ``gallery:NAME``."""
    if where.startswith(GALLERY_PREFIX):
        entry = gallery.get(where[len(GALLERY_PREFIX):])
        return Source(entry.source, f"gallery_{entry.name}.py", entry.name)
    if where == "-":
        text = stdin_text if stdin_text is not None else sys.stdin.read()
        return Source(text, "<stdin>")
    path = Path(where)
    if not path.is_file():
        raise SourceError(f"no such file: {where}; SOURCE is a .py file, '-' for stdin, "
                          f"or gallery:NAME")
    try:
        return Source(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {where}: {exc}") from None


def parse(source: Source) -> ast.Module:
    try:
        return ast.parse(source.text, filename=source.filename)
    except SyntaxError as exc:
        line = exc.lineno
        text = (exc.text or "").strip()
        shown = f": {text}" if text else ""
        raise SourceError(f"syntax error at line {line}: {exc.msg}{shown}", line=line) from None


def _top_level_defs(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def function_names(source: Source) -> tuple[str, ...]:
    """The top-level functions the source defines, in order; SourceError on a syntax error."""
    return tuple(_top_level_defs(parse(source)))


def find_function(source: Source, name: str | None) -> FunctionInfo:
    """Find the top-level ``def`` to inspect, without running the code.

    With ``name`` None the source must define exactly one top-level function.
    """
    tree = parse(source)
    defs = _top_level_defs(tree)
    if name is None:
        if len(defs) != 1:
            listed = ", ".join(defs) or "none"
            raise FunctionNotFound(f"the source defines {len(defs)} top-level functions "
                                   f"({listed}); choose one with --function NAME")
        name = next(iter(defs))
    node = defs.get(name)
    if node is None:
        assigned = {target.id for stmt in tree.body if isinstance(stmt, ast.Assign)
                    for target in stmt.targets if isinstance(target, ast.Name)}
        what = "is assigned, not defined with def" if name in assigned else "is not defined"
        raise FunctionNotFound(f"{name!r} {what}; top-level functions: "
                               f"{', '.join(defs) or 'none'}")
    args = node.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    return FunctionInfo(name, tuple(positional), len(positional) - len(args.defaults),
                        args.vararg is not None, node.lineno)


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

    AutoGraph re-raises with the user's frames in the text ("in user code: File ...") and the
    original error last; runtime errors say "Graph execution error" and where the failing node
    was defined. The exception's own traceback points at generated or TensorFlow code.
    """
    lines = message.splitlines()
    frames, last_line = [], None
    for index, text in enumerate(lines):
        match = _FRAME.search(text)
        if match and match.group("path") == filename:
            code = lines[index + 1].strip() if index + 1 < len(lines) else ""
            frames.append(f"line {match.group('line')} in {match.group('name')}"
                          + (f": {code}" if code else ""))
            last_line = int(match.group("line"))
    content = [t.strip() for t in lines if t.strip() and not t.strip().startswith("[[")]
    return tuple(frames), last_line, content[-1] if content else ""


def user_code_error(exc: BaseException, filename: str, doing: str) -> UserCodeError:
    """Wrap an exception raised by user code, keeping only the user's frames."""
    message = str(exc).strip()
    frames = user_frames(exc.__traceback__, filename)
    line = last_user_line(exc.__traceback__, filename)
    if message.startswith(("in user code:", "Graph execution error")):
        found, found_line, summary = _frames_in_message(message, filename)
        frames, line = found or frames, found_line or line
    else:
        lines = message.splitlines()
        # TensorFlow appends pages of graph context to some messages; the first line says it.
        summary = lines[0] if lines else ""
    if not summary.startswith(type(exc).__name__):
        summary = f"{type(exc).__name__}: {summary}"
    return UserCodeError(f"{summary} (while {doing})", line=line, frames=frames)


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
