"""A model file in the worker (issue 27): written into the job's folder, an archive unpacked
there with its bounds, then loaded with TensorFlow or Keras. Called by the module
inputs/models.py generates (the Source tab shows it), so a model runs as pasted code does:
in the sandboxed worker, never in the server.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path
from typing import Any

from inspector.engine.loader import server_paths_out
from inspector.errors import ModelLoadError, UsageError
from inspector.inputs import models as inputs

# Where the loader puts the model's bytes, beside the generated module (loader.load_function).
MODEL_DIR = "model"
# Where this job's models are, by name: a .keras file or the folder holding saved_model.pb
# (write or use put them there; one job per worker process).
_WHERE: dict[str, Path] = {}
# Restored SavedModel objects, kept alive: a signature holds only weak references to the
# object's variables, which go when it does (one job per worker process).
_KEPT: list[Any] = []


def write(folder: Path, name: str, data: bytes) -> Path:
    """The model in the job's folder: a .keras file as it is, an archive unpacked from memory
    (written once, not as the archive and then its files: about 200 ms for 20 MB on these
    disks)."""
    target = folder / MODEL_DIR
    target.mkdir(exist_ok=True)
    path = target / Path(name).name
    if name.endswith(inputs.KERAS_SUFFIX):
        path.write_bytes(data)
    else:
        path = unpack(path, data)
    _WHERE[name] = path
    return path


def use(name: str, placed: Path) -> Path:
    """The model the executor copied into the job's folder (jobs/process.py): a .keras file
    or a SavedModel folder is loaded where it is; an archive is unpacked beside it."""
    if placed.is_dir():
        if not (placed / inputs.SAVED_MODEL_PB).is_file():
            raise ModelLoadError(f"{name}: the folder given to the worker holds no "
                                 f"{inputs.SAVED_MODEL_PB}")
        path = placed
    elif not placed.is_file():
        raise ModelLoadError(f"{name}: the copy given to the worker is missing ({placed})")
    elif name.endswith(inputs.KERAS_SUFFIX):
        path = placed
    else:
        path = unpack(placed, placed.read_bytes())
    _WHERE[name] = path
    return path


def _located(module_file: str, name: str) -> Path:
    """Where ``name`` is: as write or use put it, else beside the module."""
    return _WHERE.get(name) or _beside(module_file, name)


def _beside(module_file: str, name: str) -> Path:
    return Path(module_file).parent / MODEL_DIR / Path(name).name


def unpack(archive: Path, data: bytes, limit_files: int = inputs.MAX_ARCHIVE_FILES,
           limit_bytes: int = inputs.MAX_UNPACKED_BYTES) -> Path:
    """A SavedModel archive's ``data`` unpacked into ``archive`` + ".d"; the folder holding
    saved_model.pb. ModelLoadError for a member that would leave the folder (``..``, an
    absolute path, a link or device), or for more than ``limit_files`` files or
    ``limit_bytes`` unpacked: nothing is written outside the folder, and a bomb stops at the
    bound."""
    target = _unpacked(archive)
    target.mkdir(exist_ok=True)
    root = target.resolve()
    total = 0
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as packed:
                members = packed.infolist()
                if len(members) > limit_files:
                    raise ModelLoadError(f"{archive.name} holds {len(members):,} files, more "
                                         f"than {limit_files:,}")
                for member in members:
                    _inside(root, member.filename, archive.name)
                    if (member.external_attr >> 16) & 0o170000 == 0o120000:
                        raise ModelLoadError(f"{archive.name}: {member.filename} is a link; "
                                             "a SavedModel archive holds files only")
                    total += member.file_size
                    if total > limit_bytes:
                        raise ModelLoadError(_too_big(archive.name, limit_bytes))
                    if member.is_dir():
                        continue
                    out = root / member.filename
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with packed.open(member) as source, open(out, "wb") as sink:
                        _copy(source, sink, limit_bytes - (total - member.file_size),
                              archive.name)
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tarball:
                count = 0
                for entry in tarball:
                    count += 1
                    if count > limit_files:
                        raise ModelLoadError(f"{archive.name} holds more than "
                                             f"{limit_files:,} files")
                    _inside(root, entry.name, archive.name)
                    if not (entry.isfile() or entry.isdir()):
                        raise ModelLoadError(f"{archive.name}: {entry.name} is a link or a "
                                             "device; a SavedModel archive holds files only")
                    total += entry.size
                    if total > limit_bytes:
                        raise ModelLoadError(_too_big(archive.name, limit_bytes))
                    tarball.extract(entry, root, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise ModelLoadError(f"{archive.name} cannot be unpacked ({exc}): truncated or not "
                             "what its name says") from None
    return _saved_root(archive)


def _unpacked(archive: Path) -> Path:
    return archive.parent / (archive.name + ".d")


def _saved_root(archive: Path) -> Path:
    """The unpacked folder that holds saved_model.pb (the shallowest)."""
    found = sorted(_unpacked(archive).rglob(inputs.SAVED_MODEL_PB), key=lambda p: len(p.parts))
    if not found:
        raise ModelLoadError(f"{archive.name} holds no {inputs.SAVED_MODEL_PB}: not a "
                             "SavedModel")
    return found[0].parent


def _inside(root: Path, name: str, archive: str) -> None:
    if name.startswith(("/", "\\")) or ".." in Path(name).parts:
        raise ModelLoadError(f"{archive}: {name!r} would be written outside the folder it is "
                             "unpacked into; refused")
    if not (root / name).resolve().is_relative_to(root):
        raise ModelLoadError(f"{archive}: {name!r} leaves the folder it is unpacked into")


def _too_big(archive: str, limit: int) -> str:
    return f"{archive} unpacks to more than {limit // 2**20:,} MB; refused (an archive bomb?)"


def _copy(source: Any, sink: Any, left: int, archive: str) -> None:
    """Copy at most ``left`` bytes: a zip member's stated size can lie."""
    while chunk := source.read(1 << 20):
        left -= len(chunk)
        if left < 0:
            raise ModelLoadError(_too_big(archive, inputs.MAX_UNPACKED_BYTES))
        sink.write(chunk)


def load_keras(module_file: str, name: str) -> Any:
    """The .keras model beside the module, loaded with safe_mode (no Python code from the
    file runs: a Lambda layer's bytecode is refused)."""
    import keras

    path = _located(module_file, name)
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises ValueError, TypeError, OSError, its own
        text = str(exc)
        if "safe_mode" in text or "Lambda" in text or "lambda" in text:
            raise ModelLoadError(
                f"{name} holds Python code (a Lambda layer's bytecode), which is refused: "
                "loading it would run that code. Replace the Lambda with a layer class, or "
                "inspect the function as Python source instead") from None
        if "keras.src" in text and keras.__version__.startswith("2."):
            raise ModelLoadError(
                f"{name} was saved by Keras 3, and this TensorFlow's Keras is "
                f"{keras.__version__} (TensorFlow 2.15 and older ship Keras 2): run it on "
                "TensorFlow 2.16 or newer, or save the model as a SavedModel "
                "(model.export), which Keras 2 can load") from None
        custom = _custom_classes(path)
        if custom:
            raise ModelLoadError(
                f"{name} needs custom classes this worker does not have: "
                f"{', '.join(custom)} (registered with register_keras_serializable in the code "
                "that saved it). Inspect that code instead: paste the classes and the function "
                "that builds and calls the model") from None
        first = server_paths_out(text.splitlines()[0]) if text else ""
        raise ModelLoadError(f"{name} cannot be loaded as a Keras model: "
                             f"{type(exc).__name__}: {first}"
                             " (a corrupt file, or custom objects the file needs: inspect the "
                             "code that builds the model instead)") from None


def _custom_classes(path: Path) -> list[str]:
    """The classes a .keras file's config names outside Keras (their registered names, such
    as "mine>Twice"), in order; empty when the config cannot be read."""
    import json

    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, RecursionError):
        return []
    found: dict[str, None] = {}

    def visit(item: Any, depth: int) -> None:
        if depth > 200:
            return
        if isinstance(item, dict):
            module, registered = item.get("module"), item.get("registered_name")
            if "class_name" in item and registered and not str(module or "").startswith(
                    "keras"):
                found[str(registered)] = None
            for value in item.values():
                visit(value, depth + 1)
        elif isinstance(item, list):
            for value in item:
                visit(value, depth + 1)

    visit(config, 0)
    return list(found)


def _load_saved(module_file: str, name: str) -> Any:
    import tensorflow as tf

    folder = _WHERE.get(name) or _saved_root(_beside(module_file, name))  # before the module ran
    try:
        loaded = tf.saved_model.load(str(folder))
        _KEPT.append(loaded)
        return loaded
    except Exception as exc:
        text = str(exc).strip().splitlines()  # it names the job's folder
        raise ModelLoadError(f"{name} cannot be loaded as a SavedModel: {type(exc).__name__}: "
                             f"{server_paths_out(text[0]) if text else ''}") from None


class Saved:
    """A SavedModel signature called as the inspector calls a tf.function (mode saved): the
    concrete function TensorFlow restored, its inputs by position, traced when it was saved (it
    never traces here)."""

    # retrace.record_call says so instead of "matches the signature".
    traced_when_saved = True

    def __init__(self, concrete: Any, names: list[str]):
        self.concrete, self.names = concrete, list(names)

    def __call__(self, *args: Any) -> Any:
        return self.concrete(**dict(zip(self.names, args, strict=True)))

    def get_concrete_function(self, *args: Any) -> Any:
        return self.concrete

    def experimental_get_tracing_count(self) -> int:
        return 0


def load_signature(module_file: str, name: str, signature: str) -> Any:
    """A SavedModel's signature function (called with keyword arguments)."""
    loaded = _load_saved(module_file, name)
    if signature not in loaded.signatures:
        raise UsageError(f"{name} has no signature {signature!r}; its signatures: "
                         f"{', '.join(loaded.signatures) or 'none'}")
    return loaded.signatures[signature]


def load_endpoint(module_file: str, name: str, endpoint: str) -> Any:
    """Another restored tf.function of the SavedModel's object (e.g. ``serve``)."""
    loaded = _load_saved(module_file, name)
    found = getattr(loaded, endpoint, None)
    if found is None or not callable(found):
        names = sorted(a for a in dir(loaded) if not a.startswith("_")
                       and callable(getattr(loaded, a, None)))
        raise UsageError(f"{name} has no function {endpoint!r}; its functions: "
                         f"{', '.join(names) or 'none'}")
    return found
