"""A model file as input (issue 27): a ``.keras`` file, or a SavedModel as a directory, a
``.zip`` or a ``.tar.gz``. No TensorFlow here, and nothing is loaded or unpacked: the server
reads only what the model says about its inputs (the ``.keras`` file's ``config.json``, the
SavedModel's ``saved_model.pb``), in memory and within size bounds, to offer default calls and
check the user's. The model itself crosses to the sandboxed worker as bytes, with a small
generated Python module that loads and calls it (engine/models.py), so every mode, table and
picture works on a model as on pasted code.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import keyword
import re
import tarfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inspector.errors import CallSpecError, ModelLoadError, UsageError

# What a model input is, by the name's ending (a directory holding saved_model.pb too).
KERAS_SUFFIX = ".keras"
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
# A SavedModel folder read from disk crosses as a .tar under the folder's own name and this
# suffix ("mobilenet/"): reports, History and errors name what the user gave, not the packing.
FOLDER_SUFFIX = "/"
# The largest model file or archive taken (bytes); the operator's [inputs] may lower it.
MAX_MODEL_BYTES = 512 * 2**20
# The largest metadata member read in the server (config.json, saved_model.pb).
MAX_METADATA_BYTES = 64 * 2**20
# An archive holding more files than this, or unpacking to more bytes, is refused.
MAX_ARCHIVE_FILES = 10_000
MAX_UNPACKED_BYTES = 2 * 2**30
DEFAULT_SIGNATURE = "serving_default"
SAVED_MODEL_PB = "saved_model.pb"
# What a SavedModel folder is called when copied into a worker's job folder.
SAVED_FOLDER = "saved_model"

# TensorFlow DataType names -> the call-spec grammar's dtypes.
_DTYPES = {"DT_FLOAT": "float32", "DT_DOUBLE": "float64", "DT_HALF": "float16",
           "DT_BFLOAT16": "bfloat16", "DT_INT8": "int8", "DT_INT16": "int16",
           "DT_INT32": "int32", "DT_INT64": "int64", "DT_UINT8": "uint8",
           "DT_UINT16": "uint16", "DT_BOOL": "bool", "DT_COMPLEX64": "complex64"}


# The dtypes the inspector can make arguments of (the call-spec grammar's).
SUPPORTED_DTYPES = frozenset(_DTYPES.values())


@dataclass(frozen=True)
class ModelInput:
    """One input of a model: its name, dtype and shape (a None dim: any size; shape None: any
    rank)."""

    name: str
    dtype: str
    shape: tuple[int | None, ...] | None

    def spec(self, size: int = 1) -> str:
        """The input as a call spec, every None dim set to ``size`` (any rank: a vector)."""
        dims = ",".join(str(size if d is None else d) for d in self.shape) \
            if self.shape is not None else str(size)
        return f"{self.dtype}[{dims}]"

    def described(self) -> str:
        if self.shape is None:
            return f"{self.name}: {self.dtype}, any shape"
        dims = ",".join("None" if d is None else str(d) for d in self.shape)
        return f"{self.name}: {self.dtype}[{dims}]"


@dataclass(frozen=True)
class ModelInfo:
    """What the server knows of a model without loading it."""

    # "keras" or "saved_model".
    kind: str
    # The name the user gave (a file name, or a folder's name plus FOLDER_SUFFIX).
    name: str
    # The inputs of the call the inspector makes, in its argument order.
    inputs: tuple[ModelInput, ...]
    # SavedModel: the signature called, and every signature's inputs.
    signature: str | None = None
    signatures: dict[str, tuple[ModelInput, ...]] | None = None
    # SavedModel: the object's restored tf.functions (--endpoint), each with the positional
    # inputs of each of its traces (None: no object graph; a trace holding a Python value
    # instead of a tensor has None in its place).
    endpoints: dict[str, tuple[tuple[ModelInput | None, ...], ...]] | None = None


def is_model(where: str) -> bool:
    """Whether SOURCE names a model rather than Python code."""
    path = Path(where)
    return (where.endswith((KERAS_SUFFIX, *ARCHIVE_SUFFIXES))
            or (path.is_dir() and (path / SAVED_MODEL_PB).is_file()))


def read_bytes(where: str, limit: int = MAX_MODEL_BYTES) -> tuple[str, bytes]:
    """A model path as (name, bytes): a file as it is, a SavedModel directory packed as a
    .tar named as the folder with FOLDER_SUFFIX (its own files only: a link leaving it is
    refused; not compressed: the worker would only spend the time to unpack it).
    ModelLoadError when it cannot be read or is larger than ``limit``."""
    path = Path(where)
    if path.is_dir():
        if not (path / SAVED_MODEL_PB).is_file():
            raise ModelLoadError(f"{where} is a directory without {SAVED_MODEL_PB}: not a "
                                 "SavedModel (give the folder tf.saved_model.save wrote)")
        buffer = io.BytesIO()
        total = 0
        with tarfile.open(fileobj=buffer, mode="w") as packed:
            for item in sorted(path.rglob("*")):
                if item.is_symlink():
                    raise ModelLoadError(f"{item} is a link: a SavedModel is sent as its own "
                                         "files only")
                total += item.stat().st_size if item.is_file() else 0
                if total > limit:
                    raise ModelLoadError(f"{where} holds more than {limit // 2**20} MB, the "
                                         "most a model may have here; inspect the code that "
                                         "builds it, or a smaller variant of it")
                packed.add(item, arcname=str(item.relative_to(path)), recursive=False)
        return path.resolve().name + FOLDER_SUFFIX, buffer.getvalue()
    try:
        size = path.stat().st_size
        if size > limit:
            raise ModelLoadError(f"{where} is {size / 2**20:,.0f} MB, more than the "
                                 f"{limit // 2**20} MB a model may have here")
        return path.name, path.read_bytes()
    except FileNotFoundError:
        raise ModelLoadError(f"no such file: {where}; a model is a .keras file, a SavedModel "
                             "directory, or a .zip or .tar.gz of one") from None
    except OSError as exc:
        raise ModelLoadError(f"cannot read {where}: {exc.strerror}") from None


def stamp(where: str | Path) -> list[int] | None:
    """What says a model file or SavedModel folder is unchanged since it was read: each
    file's size and modification time, in order (None when it cannot be read)."""
    path = Path(where)
    try:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        return [n for s in (f.stat() for f in files) for n in (s.st_size, s.st_mtime_ns)]
    except OSError:
        return None


# What a model dict says of where its bytes are on the machine that read them.
LOCATION_KEYS = ("path", "stamp", "placed")


def unlocated(model: dict[str, Any]) -> dict[str, Any]:
    """The model dict without where it was on a machine (what a worker or a saved run keeps)."""
    return {k: v for k, v in model.items() if k not in LOCATION_KEYS}


def read_located(where: str, limit: int = MAX_MODEL_BYTES
                 ) -> tuple[str, bytes, dict[str, Any]]:
    """As ``read_bytes``, plus where the bytes came from: the model dict's "path" (absolute)
    and "stamp", taken before the read (a file changed meanwhile then fails the stamp's
    check, and its bytes are sent instead of a copy)."""
    before = stamp(where)
    name, data = read_bytes(where, limit)
    return name, data, {"path": str(Path(where).resolve()), "stamp": before}


def describe(name: str, data: bytes, signature: str | None = None) -> ModelInfo:
    """What the model says about its inputs, read from its metadata in memory.
    ModelLoadError for a file that is not what its name says, UsageError for an unknown
    signature."""
    info = listed(name, data, signature)
    unsupported = [i for i in info.inputs if i.dtype not in SUPPORTED_DTYPES]
    if unsupported:
        others = [k for k, inputs in (info.signatures or {}).items()
                  if all(i.dtype in SUPPORTED_DTYPES for i in inputs)]
        raise ModelLoadError(
            f"{name}: input {unsupported[0].name!r} is a {unsupported[0].dtype} tensor; the "
            "inspector makes numeric and bool arguments only"
            + (f" (signatures it can call: {', '.join(others)}; --signature NAME)"
               if others else ""))
    return info


def listed(name: str, data: bytes, signature: str | None = None) -> ModelInfo:
    """As ``describe``, whatever the inputs' dtypes (what --list shows)."""
    if name.endswith(KERAS_SUFFIX):
        return ModelInfo("keras", name, _keras_inputs(name, data))
    if not name.endswith((*ARCHIVE_SUFFIXES, FOLDER_SUFFIX)):
        raise ModelLoadError(f"{name}: a model is a .keras file, or a SavedModel as a "
                             "directory, .zip or .tar.gz")
    saved = _parse_saved(name, _member(name, data, SAVED_MODEL_PB))
    signatures, endpoints = _signatures(saved), _endpoints(saved)
    chosen = signature or DEFAULT_SIGNATURE
    if chosen not in signatures:
        raise UsageError(f"{name} has no signature {chosen!r}; its signatures: "
                         f"{', '.join(signatures) or 'none'} (--list shows their inputs)")
    return ModelInfo("saved_model", name, signatures[chosen], chosen, signatures, endpoints)


def for_endpoint(info: ModelInfo, endpoint: str) -> ModelInfo:
    """The model as called through ``endpoint``: its inputs are the first trace's (a call must
    fit one of its traces: check_call_any). UsageError when it is not one of the SavedModel's
    functions, was never traced, or takes Python values (not tensors) as arguments."""
    if info.kind != "saved_model":
        raise UsageError("--endpoint picks a function of a SavedModel; a .keras model is "
                         "called as model(x, training=False)")
    if info.endpoints is None:  # no object graph: the worker finds out
        return dataclasses.replace(info, inputs=(), signature=None)
    if endpoint not in info.endpoints:
        raise UsageError(f"{info.name} has no function {endpoint!r}; its functions: "
                         f"{', '.join(info.endpoints) or 'none'} (--list shows their inputs)")
    traces = info.endpoints[endpoint]
    tensors = [t for t in traces if all(i is not None for i in t)]
    if not tensors:
        raise UsageError(f"{info.name}: the function {endpoint!r} "
                         + ("was never traced, so it cannot be called" if not traces else
                            "takes Python values as arguments, which a call cannot give")
                         + " (--list shows each function's traces)")
    return dataclasses.replace(info, inputs=tuple(i for i in tensors[0] if i is not None),
                               signature=None)


def check_call_any(info: ModelInfo, endpoint: str,
                   traces: Sequence[tuple[ModelInput, ...]], args: Sequence[Any]) -> None:
    """As check_call, against each of the endpoint's traces: the call must fit one."""
    errors = []
    for trace in traces:
        try:
            check_call(dataclasses.replace(info, inputs=trace), args)
            return
        except CallSpecError as exc:
            errors.append(exc)
    if errors:
        if len(errors) == 1:
            raise errors[0]
        raise CallSpecError(f"the call fits none of {endpoint!r}'s {len(traces)} traces: "
                            + "; ".join(f"({', '.join(i.described() for i in t)})"
                                        for t in traces))


def default_calls(info: ModelInfo) -> tuple[str, ...]:
    """The first call: every input at its own shape, None dims set to 1."""
    return ("; ".join(i.spec() for i in info.inputs),)


def check_call(info: ModelInfo, args: Sequence[Any]) -> None:
    """CallSpecError naming the input and its expected shape when a parsed call does not fit
    the model's inputs (dtype, rank or a fixed dim)."""
    from inspector.inputs.calls import TensorArg

    if len(args) != len(info.inputs):
        raise CallSpecError(f"{info.name} takes {len(info.inputs)} input(s) "
                            f"({'; '.join(i.described() for i in info.inputs)}); the call "
                            f"gives {len(args)}")
    for arg, expected in zip(args, info.inputs, strict=True):
        fits = (isinstance(arg, TensorArg) and arg.dtype == expected.dtype
                and (expected.shape is None or (
                    len(arg.shape) == len(expected.shape)
                    and all(d is None or d == given
                            for d, given in zip(expected.shape, arg.shape, strict=True)))))
        if not fits:
            note = " (None: any size)" if expected.shape and None in expected.shape else ""
            given = (f"{arg}, a Python value (a model's input is a tensor: give "
                     f"{expected.spec()})" if not isinstance(arg, TensorArg) else str(arg))
            raise CallSpecError(f"input {expected.name!r} of {info.name} expects "
                                f"{expected.described().split(': ', 1)[1]}{note}; the call "
                                f"gives {given}")



def modes_note(kind: str, endpoint: str | None = None) -> str:
    """Which modes a model takes, and why (what --list and the app's upload box say)."""
    if kind == "keras":
        return ("every mode applies: the model is called as model(x, training=False) inside "
                "each mode's tf.function; mode saved is a SavedModel signature's own graph, so "
                "a .keras file has none")
    if endpoint:
        return ("every mode applies: the function is called inside each mode's tf.function; "
                "mode saved is for a signature (--signature), not a function")
    return ("every mode applies: the signature is called inside each mode's tf.function; and "
            "mode saved: the signature's graph as it was saved, not traced again")


def listing(info: ModelInfo) -> str:
    """What --list prints: each signature and its inputs (a .keras model: its inputs), and the
    modes it takes."""
    if info.kind == "keras":
        return "\n".join([f"{info.name} (Keras): called as model(x, training=False)",
                          *(f"  {i.described()}" for i in info.inputs),
                          f"modes: {modes_note('keras')}"])
    lines = [f"{info.name} (SavedModel) signatures (--signature NAME):"]
    for name, inputs in (info.signatures or {}).items():
        lines.append(f"  {name}{' (default)' if name == DEFAULT_SIGNATURE else ''}")
        lines += [f"    {i.described()}" for i in inputs]
    if info.endpoints:
        lines.append("functions of the saved object (--endpoint NAME):")
        for name, traces in info.endpoints.items():
            lines.append(f"  {name}")
            lines += [f"    ({', '.join(i.described() if i else 'a Python value' for i in t)})"
                      for t in traces] or ["    (no trace)"]
    lines.append(f"modes: {modes_note('saved')} (with --endpoint: every mode but saved)")
    return "\n".join(lines)


def identifier(name: str, taken: set[str]) -> str:
    """A Python parameter name for an input name (Keras and SavedModel names need not be)."""
    text = re.sub(r"\W", "_", name) or "x"
    if text[0].isdigit() or keyword.iskeyword(text):
        text = "x_" + text
    while text in taken:
        text += "_"
    taken.add(text)
    return text


def wrapper_source(info: ModelInfo, data: bytes, endpoint: str | None = None) -> str:
    """The Python module a worker runs for the model: load it (sandboxed, in the job's
    folder) and call it, one parameter per input. What the Source tab shows."""
    digest = sha256(data)
    taken: set[str] = set()
    params = [identifier(i.name, taken) for i in info.inputs]
    # The file name is the user's text: only ever a repr in this code, never raw (a name
    # holding quotes or a newline must not become code).
    head = [f"# The model {info.name!r} (sha256 {digest[:12]}), as the inspector calls it.",
            "# Generated: the model file sits beside this module in the job's folder.",
            "from inspector.engine import models", ""]
    if info.kind == "keras":
        args = params[0] if len(params) == 1 else "[" + ", ".join(params) + "]"
        return "\n".join([*head, f"model = models.load_keras(__file__, {info.name!r})", "",
                          "", f"def call_model({', '.join(params)}):",
                          f"    return model({args}, training=False)", ""])
    if endpoint and not params:  # its inputs unknown (no object graph): any arguments
        params = ["*args"]
    keywords = ", ".join(f"{i.name!r}: {p}" for i, p in zip(info.inputs, params, strict=True))
    target = (f"models.load_endpoint(__file__, {info.name!r}, {endpoint!r})" if endpoint else
              f"models.load_signature(__file__, {info.name!r}, {info.signature!r})")
    call = f"restored({', '.join(params)})" if endpoint else f"restored(**{{{keywords}}})"
    function = re.sub(r"\W", "_", endpoint or info.signature or DEFAULT_SIGNATURE)
    if not function.isidentifier() or keyword.iskeyword(function):
        function = "call_model"
    saved = ([] if endpoint else
             ["", "", "# Mode saved calls the signature itself, as it was saved.",
              f"{function}.saved = models.Saved(restored, {[i.name for i in info.inputs]!r})"])
    return "\n".join([*head, f"restored = {target}", "", "",
                      f"def {function}({', '.join(params)}):", f"    return {call}", *saved,
                      ""])


# The bytes of the models this process encoded last, by sha256, up to this many bytes in all:
# an upload's first run then writes them into the job's folder and the run store without
# decoding their base64 again (70 ms for 20 MB here).
KEPT_BYTES = 256 * 2**20
_KEPT: OrderedDict[str, bytes] = OrderedDict()
# The server's sessions encode and place models from threads of their own.
_KEPT_LOCK = threading.Lock()


def encode(data: bytes, digest: str | None = None) -> str:
    """``data`` as base64 text, its bytes kept by ``digest`` (its sha256, computed when not
    given)."""
    if len(data) <= KEPT_BYTES:
        digest = digest or sha256(data)
        with _KEPT_LOCK:
            _KEPT[digest] = data
            _KEPT.move_to_end(digest)
            while sum(len(kept) for kept in _KEPT.values()) > KEPT_BYTES:
                _KEPT.popitem(last=False)
    return base64.b64encode(data).decode("ascii")


def decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def bytes_of(model: dict[str, Any]) -> bytes:
    """A model dict's bytes: as this process encoded them, else decoded from its "data"."""
    with _KEPT_LOCK:
        kept = _KEPT.get(model.get("sha256") or "")
    return kept if kept is not None else decode(model["data"])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- metadata ---------------------------------------------------------------------------------
def _member(name: str, data: bytes, wanted: str) -> bytes:
    """One file of an archive, read in memory (the shallowest one called ``wanted``)."""
    try:
        if name.endswith(".zip") or name.endswith(KERAS_SUFFIX):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                found = sorted((i for i in archive.infolist()
                                if Path(i.filename).name == wanted and not i.is_dir()),
                               key=lambda i: i.filename.count("/"))
                if not found:
                    raise ModelLoadError(f"{name} holds no {wanted}")
                if found[0].file_size > MAX_METADATA_BYTES:
                    raise ModelLoadError(f"{name}: {wanted} is larger than "
                                         f"{MAX_METADATA_BYTES // 2**20} MB")
                return archive.read(found[0])
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            members = sorted(_scan(archive, name, wanted), key=lambda m: m.name.count("/"))
            if not members:
                raise ModelLoadError(f"{name} holds no {wanted}: not a SavedModel archive")
            if members[0].size > MAX_METADATA_BYTES:
                raise ModelLoadError(f"{name}: {wanted} is larger than "
                                     f"{MAX_METADATA_BYTES // 2**20} MB")
            handle = archive.extractfile(members[0])
            assert handle is not None
            return handle.read()
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise ModelLoadError(f"{name} cannot be read as an archive ({exc}): the file is "
                             "truncated or not what its name says") from None


# How much of a compressed tar the server reads looking for saved_model.pb: a tar is read in
# order (a gzip stream cannot be skipped), so a bomb would otherwise hold the server's CPU.
MAX_SCAN_BYTES = 512 * 2**20


def _scan(archive: tarfile.TarFile, name: str, wanted: str) -> list[tarfile.TarInfo]:
    """The first member called ``wanted`` (as a list; empty when none), reading at most
    MAX_SCAN_BYTES and MAX_ARCHIVE_FILES members of the archive (ModelLoadError past them)."""
    seen, count = 0, 0
    for member in archive:
        count += 1
        seen += member.size
        if count > MAX_ARCHIVE_FILES or seen > MAX_SCAN_BYTES:
            raise ModelLoadError(f"{name}: no {wanted} within its first {MAX_ARCHIVE_FILES:,} "
                                 f"files or {MAX_SCAN_BYTES // 2**20} MB; a SavedModel archive "
                                 f"puts it near the start (tar it from the SavedModel folder), "
                                 "or send a .zip")
        if Path(member.name).name == wanted and member.isfile():
            return [member]
    return []


def _keras_inputs(name: str, data: bytes) -> tuple[ModelInput, ...]:
    try:
        config = json.loads(_member(name, data, "config.json"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ModelLoadError(f"{name}: its config.json is not JSON (or nests too deep)") from None
    found: list[ModelInput] = []
    try:
        layers = _input_layers(config)
    except RecursionError:
        raise ModelLoadError(f"{name}: its config.json nests too deep") from None
    for layer in layers:
        settings = layer.get("config", {})
        shape = settings.get("batch_shape") or settings.get("batch_input_shape")
        dtype = settings.get("dtype")
        if isinstance(dtype, dict):  # a DTypePolicy
            dtype = dtype.get("config", {}).get("name")
        if shape is None or not isinstance(dtype, str):
            continue
        found.append(ModelInput(str(settings.get("name") or f"input_{len(found)}"),
                                dtype, tuple(None if d is None else int(d) for d in shape)))
    if not found:
        raise ModelLoadError(f"{name}: no input layer with a shape in its config (a "
                             "subclassed model that was never built?); build the model on an "
                             "input before saving it")
    return tuple(found)


def _input_layers(config: Any) -> list[dict[str, Any]]:
    """InputLayer configs, outermost model first (a Sequential's own, or a Functional's)."""
    found: list[dict[str, Any]] = []
    if isinstance(config, dict):
        if config.get("class_name") == "InputLayer":
            return [config]
        layers = config.get("config", {}).get("layers") if isinstance(
            config.get("config"), dict) else None
        for layer in layers or ():
            if isinstance(layer, dict) and layer.get("class_name") == "InputLayer":
                found.append(layer)
        order = _input_order(config.get("config", {}).get("input_layers"))
        if order:  # a Functional model's inputs in its call's order, not the layers' order
            found.sort(key=lambda layer: order.get(_layer_name(layer), len(order)))
        if not found:
            for layer in layers or ():
                found += _input_layers(layer)
                if found:
                    break
    return found


def _layer_name(layer: dict[str, Any]) -> str:
    settings = layer.get("config")
    return str(layer.get("name") or (settings.get("name") if isinstance(settings, dict) else ""))


def _input_order(spec: Any) -> dict[str, int]:
    """A Functional config's "input_layers" ([name, node, tensor], one or a list of them) as
    name -> position."""
    if not isinstance(spec, list) or not spec:
        return {}
    entries = [spec] if isinstance(spec[0], str) else spec
    return {str(e[0]): i for i, e in enumerate(entries) if isinstance(e, list) and e}


def _parse_saved(name: str, pb: bytes) -> Any:
    from google.protobuf.message import DecodeError

    saved = _saved_model_class()()
    try:
        saved.ParseFromString(pb)
    except (DecodeError, RecursionError):
        raise ModelLoadError(f"{name}: its {SAVED_MODEL_PB} cannot be parsed (truncated or "
                             "not a SavedModel)") from None
    if not saved.meta_graphs:
        raise ModelLoadError(f"{name}: its {SAVED_MODEL_PB} holds no graph")
    return saved


def _signatures(saved: Any) -> dict[str, tuple[ModelInput, ...]]:

    found: dict[str, tuple[ModelInput, ...]] = {}
    for key, signature in sorted(saved.meta_graphs[0].signature_def.items()):
        if key.startswith("__"):  # __saved_model_init_op and the like
            continue
        # Another dtype (a string) is listed, and refused only when its signature is chosen.
        found[key] = tuple(_input(input_name, info.dtype, info.tensor_shape)
                           for input_name, info in sorted(signature.inputs.items()))
    return found


def _input(name: str, dtype: int, shape: Any) -> ModelInput:
    """A tensor's name, DataType and TensorShapeProto as a ModelInput."""
    from tensorboard.compat.proto import types_pb2

    kind = types_pb2.DataType.Name(dtype)
    dims = None if shape.unknown_rank else tuple(
        None if d.size < 0 else int(d.size) for d in shape.dim)
    return ModelInput(name, _DTYPES.get(kind, kind.removeprefix("DT_").lower()), dims)


def _endpoints(saved: Any) -> dict[str, tuple[tuple[ModelInput | None, ...], ...]] | None:
    """The root object's tf.functions, by attribute name, with each trace's positional input
    specs (from the object graph tf.saved_model.load restores); None without an object graph
    (a TF1 SavedModel)."""
    graph = saved.meta_graphs[0].object_graph_def
    if not graph.nodes:
        return None
    concrete = graph.concrete_functions
    found: dict[str, tuple[tuple[ModelInput | None, ...], ...]] = {}
    for child in graph.nodes[0].children:
        if not 0 <= child.node_id < len(graph.nodes) or child.local_name.startswith("_"):
            continue
        node = graph.nodes[child.node_id]
        if node.WhichOneof("kind") != "function":
            continue
        traces: list[tuple[ModelInput | None, ...]] = []
        for function in node.function.concrete_functions:
            if function in concrete:
                args = concrete[function].canonicalized_input_signature.tuple_value.values
                traces.append(tuple(_specs(args[0]) if args else ()))
        found[child.local_name] = tuple(dict.fromkeys(traces))
    return dict(sorted(found.items()))


def _specs(value: Any, depth: int = 0) -> list[ModelInput | None]:
    """The leaves of a StructuredValue (a trace's arguments), in order: a tensor spec as a
    ModelInput (named "arg{i}" when unnamed), anything else as None."""
    kind = value.WhichOneof("kind")
    if depth > 20:
        return [None]
    if kind == "tensor_spec_value":
        spec = value.tensor_spec_value
        return [_input(spec.name, spec.dtype, spec.shape)]
    if kind in ("tuple_value", "list_value"):
        found = [t for v in getattr(value, kind).values for t in _specs(v, depth + 1)]
    elif kind == "dict_value":
        found = [t for _, v in sorted(value.dict_value.fields.items())
                 for t in _specs(v, depth + 1)]
    else:
        return [] if kind in (None, "none_value") else [None]
    if depth == 0:  # the trace's own arguments: name the unnamed ones by position
        return [i if i is None or i.name else dataclasses.replace(i, name=f"arg{n}")
                for n, i in enumerate(found)]
    return found


def _saved_model_class() -> Any:
    """The SavedModel message (saved_model.proto: a version and MetaGraphDefs), built on
    TensorBoard's MetaGraphDef: TensorBoard ships no saved_model_pb2."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from tensorboard.compat.proto import meta_graph_pb2

    pool = descriptor_pool.Default()
    try:
        descriptor = pool.FindMessageTypeByName("inspector.SavedModel")
    except KeyError:
        field = descriptor_pb2.FieldDescriptorProto
        proto = descriptor_pb2.FileDescriptorProto(
            name="inspector/saved_model.proto", package="inspector", syntax="proto3",
            dependency=[meta_graph_pb2.DESCRIPTOR.name])
        message = proto.message_type.add(name="SavedModel")
        message.field.add(name="saved_model_schema_version", number=1,
                          type=field.TYPE_INT64, label=field.LABEL_OPTIONAL)
        message.field.add(name="meta_graphs", number=2, type=field.TYPE_MESSAGE,
                          label=field.LABEL_REPEATED, type_name=".tensorboard.MetaGraphDef")
        pool.Add(proto)
        descriptor = pool.FindMessageTypeByName("inspector.SavedModel")
    return message_factory.GetMessageClass(descriptor)
