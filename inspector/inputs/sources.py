"""Where a function comes from: a file, stdin or the gallery, read and checked without running it."""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.errors import FunctionNotFound, ModelLoadError, SourceError, UsageError
from inspector.inputs import gallery

GALLERY_PREFIX = "gallery:"
# How a file from the operator's folder ([inputs] files) is named in reports and links.
PROVIDED_PREFIX = "file:"
# Seconds a job may run when neither the user nor a gallery entry sets a limit.
DEFAULT_TIMEOUT_S = 60.0
# A model's, as the gallery's large models have.
MODEL_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Source:
    """The user's code as text, before anything runs."""

    # The complete module source.
    text: str
    # The name shown in tracebacks and used as the module's file name ("<stdin>" for stdin).
    filename: str
    # The gallery entry's name when the code came from the gallery, else None.
    gallery_name: str | None = None
    # The file's name when the code came from the operator's folder ([inputs] files), else None.
    provided_name: str | None = None
    # A model given as input (issue 27; ``text`` is then the module that loads and calls it):
    # {"name", "kind" ("keras" | "saved_model"), "sha256", "data" (base64), "signature",
    # "endpoint", "inputs" ([name, dtype, shape]), "calls" (the default call)}, plus "path" and
    # "stamp" when the bytes were read from a file or folder on this machine (a local worker
    # gets a copy of it instead of the bytes: jobs/process.py). None: code.
    model: dict[str, Any] | None = None

    def __hash__(self) -> int:  # ``model`` is a dict: hash what names the source
        return hash((self.text, self.filename, self.gallery_name, self.provided_name))


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


def gallery_source(name: str, signature: str | None = None,
                   endpoint: str | None = None) -> Source:
    """A gallery entry's code as a Source (UsageError for an unknown name); a model entry's
    model, read from the models folder the set-up fills (ModelLoadError when it is missing),
    called through ``signature`` or ``endpoint`` when given (UsageError for code)."""
    entry = gallery.get(name)
    if entry.model is not None:
        path = gallery.model_path(entry)
        return _gallery_model(entry.name, str(path), path.stat().st_mtime_ns, signature,
                              endpoint)
    if signature or endpoint:
        raise UsageError(f"--signature and --endpoint are for a SavedModel; "
                         f"{GALLERY_PREFIX}{name} is code")
    return Source(entry.source, f"gallery_{entry.name}.py", entry.name)


@functools.lru_cache(maxsize=4)
def _gallery_model(name: str, path: str, mtime_ns: int, signature: str | None,
                   endpoint: str | None) -> Source:
    """A gallery model as a Source, read once per change of the file (the page asks for it on
    every rerun)."""
    from inspector.inputs import models

    read, data, location = models.read_located(path)
    return dataclasses.replace(model_source(read, data, signature, endpoint, location),
                               gallery_name=name)


def provided_names(folder: str | None) -> tuple[str, ...]:
    """The .py files and models the operator offers in ``folder``, sorted (none without a
    folder)."""
    from inspector.inputs import models

    if not folder:
        return ()
    return tuple(sorted(p.name for p in Path(folder).iterdir()
                        if not p.is_symlink() and ((p.is_file() and p.suffix == ".py")
                                                   or models.is_model(str(p)))))


def provided_source(folder: str | None, name: str) -> Source:
    """One of the operator's files as a Source; SourceError for a name it does not offer
    (so a link cannot reach a file outside the folder)."""
    if name not in provided_names(folder):
        raise SourceError(f"no provided file {name!r}; the operator offers: "
                          f"{', '.join(provided_names(folder)) or 'none'}")
    from inspector.inputs import models

    path = Path(folder or ".") / name
    if models.is_model(str(path)):
        read, data, location = models.read_located(str(path))
        return dataclasses.replace(model_source(read, data, location=location),
                                   provided_name=name)
    try:
        return Source(path.read_text(encoding="utf-8"), name, provided_name=name)
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read the provided file {name}: {exc}") from None


def default_timeout_s(source: Source) -> float:
    """The time limit a job gets when the user sets none: a gallery entry's own, a model's
    (loading it takes time too), else 60 s."""
    if source.gallery_name:
        return gallery.get(source.gallery_name).timeout_s
    return MODEL_TIMEOUT_S if source.model else DEFAULT_TIMEOUT_S


def model_source(name: str, data: bytes, signature: str | None = None,
                 endpoint: str | None = None,
                 location: dict[str, Any] | None = None) -> Source:
    """A model's bytes as a Source: the module a worker runs to load and call it, with the
    bytes beside (ModelLoadError, or UsageError for an unknown signature, before any work).
    ``location``: where on this machine the bytes were read from (models.read_located), so a
    worker here can be given a copy of the files instead."""
    from inspector.inputs import models

    name = re.sub(r"[\x00-\x1f\x7f]", "?", name)  # a name is shown on one line, never run
    info = models.describe(name, data, signature)
    if signature and info.kind == "keras":  # as --endpoint is (found in a walk: ignored)
        raise UsageError("--signature picks a SavedModel's signature; a .keras model is "
                         "called as model(x, training=False)")
    if endpoint:
        info = models.for_endpoint(info, endpoint)
    stem = Path(name).name.split(".")[0] or "model"
    digest = models.sha256(data)
    return Source(models.wrapper_source(info, data, endpoint), f"model_{stem}.py",
                  model={"name": info.name, "kind": info.kind, "sha256": digest,
                         "data": models.encode(data, digest), "signature": info.signature,
                         "endpoint": endpoint,
                         "inputs": [_input_list(i) for i in info.inputs],
                         "calls": list(models.default_calls(info)) if info.inputs else [],
                         **({"traces": [[_input_list(i) for i in t] for t in
                                        (info.endpoints or {}).get(endpoint, ())
                                        if None not in t]} if endpoint else {}),
                         **(location or {})})


def _input_list(given: Any) -> list[Any]:
    """A model input as the model dict holds it: [name, dtype, shape or None]."""
    return [given.name, given.dtype, None if given.shape is None else list(given.shape)]


# Model files the inspector does not take, by suffix: what they are.
UNTAKEN_MODELS = {".h5": "a legacy Keras HDF5 file (save it with model.save('m.keras'))",
                  ".hdf5": "a legacy Keras HDF5 file (save it with model.save('m.keras'))",
                  ".tflite": "a TensorFlow Lite model (Grappler does not run on it)",
                  ".onnx": "an ONNX model"}


def read_source(where: str, stdin_text: str | None = None, signature: str | None = None,
                endpoint: str | None = None, model_limit: int | None = None) -> Source:
    """Read SOURCE as the CLI names it: a .py path, ``-`` for stdin, ``gallery:NAME``, or a
    model (a .keras file, a SavedModel directory, .zip or .tar.gz)."""
    from inspector.inputs import models

    if where.startswith(GALLERY_PREFIX):
        return gallery_source(where[len(GALLERY_PREFIX):], signature, endpoint)
    if models.is_model(where):
        name, data, location = models.read_located(where, model_limit or models.MAX_MODEL_BYTES)
        return model_source(name, data, signature, endpoint, location)
    if signature or endpoint:
        raise UsageError("--signature and --endpoint are for a SavedModel; SOURCE is code")
    if where == "-":
        text = stdin_text if stdin_text is not None else sys.stdin.read()
        if not text.strip():  # walk: it was "0 top-level functions; choose one with --function"
            raise SourceError("nothing came on stdin: pipe the code in (tf-graph-inspector "
                              "inspect - < my_function.py) or give the .py file's path")
        return Source(text, "<stdin>")
    path = Path(where)
    if path.is_dir():
        raise ModelLoadError(f"{where} is a folder without {models.SAVED_MODEL_PB}: not a "
                             "SavedModel (give the folder tf.saved_model.save or "
                             "model.export wrote, or a .py file)")
    if not path.is_file():
        raise SourceError(f"no such file: {where}; SOURCE is a .py file, '-' for stdin, "
                          f"gallery:NAME, or a model (.keras; a SavedModel folder, .zip or "
                          f".tar.gz)")
    if path.suffix.lower() in UNTAKEN_MODELS:  # read as Python it failed on its bytes (walk)
        raise ModelLoadError(f"{path.name}: {UNTAKEN_MODELS[path.suffix.lower()]} is not taken; "
                             "give a .keras file or a SavedModel (a folder, .zip or .tar.gz)")
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
