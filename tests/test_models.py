"""A model file as input (issue 27): a .keras file and a SavedModel (a directory, a .zip, a
.tar.gz) run through the CLI in the real sandboxed worker. TensorFlow is the oracle: a fresh
process loads the same files, calls them as the inspector's modes do with run metadata on, and
its post-Grappler graphs are compared with the report's. Bad models are typed errors, exit 2,
and the next job runs."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from inspector.errors import CallSpecError, ModelLoadError, UsageError
from inspector.inputs import models, sources
from inspector.inputs.request import InspectRequest, prepare
from tests.helpers import ROOT, shown

pytestmark = pytest.mark.worker
# A file of the server's (in the data folder the sandbox covers) that a model tries to read.
SECRET = Path(os.environ["INSPECTOR_DATA"]) / "model-secret.txt"

# Builds the test models (small, random weights) and answers as TensorFlow: the post-Grappler
# graph of each (model, mode) when called as the inspector calls it.
_MAKE = """
import json, sys
import keras
import tensorflow as tf
folder = sys.argv[1]
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
                          keras.layers.BatchNormalization(), keras.layers.ReLU(),
                          keras.layers.Flatten(), keras.layers.Dense(5)])
model.save(folder + "/small.keras")
model.export(folder + "/small_saved", verbose=False)
bad = keras.Sequential([keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2.0)])
bad.save(folder + "/lambda.keras")

@keras.saving.register_keras_serializable(package="mine")
class Twice(keras.layers.Layer):  # a custom layer: its class is not in the worker
    def call(self, x):
        return x * 2.0

keras.Sequential([keras.Input((4,)), Twice()]).save(folder + "/custom.keras")

class Reader(tf.Module):  # a SavedModel whose graph reads a file of the server's
    @tf.function(input_signature=[tf.TensorSpec([1], tf.float32)])
    def read(self, x):
        return {"text": tf.io.read_file(sys.argv[2]), "x": x}

reader = Reader()
tf.saved_model.save(reader, folder + "/reader_saved", signatures={"serving_default": reader.read})

class Mixed(tf.Module):  # a float signature beside a string one, and one of any rank
    @tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    def double(self, x):
        return {"y": x * 2.0}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def words(self, s):
        return {"n": tf.strings.length(s)}

    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def anyrank(self, z):
        return {"z": z + 1.0}

    @tf.function(input_signature=[tf.TensorSpec([2], tf.float32), tf.TensorSpec([], tf.int32)])
    def scale(self, a, n):  # two arguments: a function, not a signature (--endpoint)
        return a * tf.cast(n, tf.float32)

mixed = Mixed()
tf.saved_model.save(mixed, folder + "/mixed_saved", signatures={
    "serving_default": mixed.double, "words": mixed.words, "anyrank": mixed.anyrank})
"""

# What both oracles share: a function's post-Grappler ops from the run metadata of one call,
# taking the graph the traced function's nodes are in (as the inspector's capture does).
_POST_OPS = """
from tensorflow.python.eager import context

def post_ops(fn, x, concrete=None):
    concrete = concrete or fn.get_concrete_function(x)
    traced = {op.name for op in concrete.graph.get_operations()}
    context.enable_run_metadata()
    fn(x)
    graphs = context.export_run_metadata().function_graphs
    context.disable_run_metadata()
    chosen = max(graphs, key=lambda g: (len(traced & {n.name for n in g.pre_optimization_graph.node}),
                                        len(g.pre_optimization_graph.node)))
    ops = {}
    for node in chosen.post_optimization_graph.node:
        ops[node.op] = ops.get(node.op, 0) + 1
    return ops
"""

_ORACLE = _POST_OPS + """
import json, sys
import numpy as np
import keras
import tensorflow as tf
from tensorflow.python.eager import context
folder = sys.argv[1]
found = {}


x = np.ones([1, 8, 8, 3], np.float32)
model = keras.models.load_model(folder + "/small.keras", compile=False, safe_mode=True)
spec = [tf.TensorSpec([1, 8, 8, 3], tf.float32)]
found["keras"] = {
    "spec": post_ops(tf.function(lambda x: model(x, training=False), input_signature=spec), x),
    "tensor": post_ops(tf.function(lambda x: model(x, training=False)), tf.constant(x))}
loaded = tf.saved_model.load(folder + "/small_saved")
signature = loaded.signatures["serving_default"]
name = sorted(signature.structured_input_signature[1])[0]
found["saved"] = {
    "spec": post_ops(tf.function(lambda x: signature(**{name: x}), input_signature=spec), x),
    "saved": post_ops(lambda x: signature(**{name: x}), tf.constant(x), signature),
    "input": name, "shape": signature.structured_input_signature[1][name].shape.as_list()}
print(json.dumps(found))
"""


def _python(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    SECRET.write_text("the server's secret")
    _python(_MAKE, str(folder), str(SECRET))
    shutil.make_archive(str(folder / "small_saved"), "zip", folder / "small_saved")
    with tarfile.open(folder / "small_saved.tar.gz", "w:gz") as packed:
        packed.add(folder / "small_saved", arcname="small_saved")
    return folder


@pytest.fixture(scope="module")
def oracle(made) -> dict:
    return json.loads(_python(_ORACLE, str(made)).strip().splitlines()[-1])


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def _inspect(path: Path, tmp_path: Path, *args: str) -> dict:
    out = tmp_path / f"{path.name}.json"
    done = cli("inspect", str(path), "--runs", "3", "--json", str(out), *args)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


def test_a_keras_file_runs_in_every_mode_and_matches_tensorflow(made, oracle, tmp_path):
    report = _inspect(made / "small.keras", tmp_path, "--mode", "spec", "--mode", "tensor")
    assert report["error"] is None
    assert report["calls"] == ["float32[1,8,8,3]"]  # model.inputs, None dims at 1
    assert report["source"].startswith("small.keras (sha256 ")
    for result in report["results"]:
        assert result["error"] is None, result["error"]
        assert result["post"]["ops"] == oracle["keras"][result["mode"]], result["mode"]


@pytest.mark.parametrize("name", ["small_saved", "small_saved.zip", "small_saved.tar.gz"])
def test_a_saved_model_as_folder_zip_or_tarball_matches_tensorflow(made, oracle, tmp_path,
                                                                    name):
    report = _inspect(made / name, tmp_path, "--mode", "spec")
    assert report["error"] is None and report["results"][0]["error"] is None
    assert report["function"] == "serving_default"
    assert report["results"][0]["post"]["ops"] == oracle["saved"]["spec"]


# TensorFlow's own names for a SavedModel's layers: the name scopes ("model/layer") of the
# nodes in the functions its serving signature calls.
_SCOPES = """
import json, sys
import tensorflow as tf
graph = tf.saved_model.load(sys.argv[1]).signatures["serving_default"].graph
scopes = {"/".join(node.name.split("/")[:2]) for function in graph.as_graph_def().library.function
          for node in function.node_def if node.name.count("/") >= 2}
print(json.dumps(sorted(scopes)))
"""


def test_a_saved_models_source_rows_are_its_layers_as_tensorflow_names_them(made, tmp_path):
    """Its pre-Grappler graph is the signature's call alone; the rows come from the graph the
    runtime gave Grappler, the call inlined (the walk found one row for the whole model)."""
    scopes = json.loads(_python(_SCOPES, str(made / "small_saved")).strip().splitlines()[-1])
    result = _inspect(made / "small_saved", tmp_path, "--mode", "spec")["results"][0]
    layers = {row["text"]: row for row in result["layers"]}
    assert set(layers) - {"(inputs and variables)"} == set(scopes)
    assert all(layers[scope]["nodes"] > 0 for scope in scopes)
    # Each layer's nodes after Grappler: the post graph's nodes under its scope.
    assert sum(row["post_nodes"] for row in result["layers"]) <= result["post"]["nodes"]
    assert any(layers[scope]["post_nodes"] > 0 for scope in scopes)


def test_mode_saved_is_the_signature_as_saved_and_code_has_no_such_mode(made, oracle, tmp_path):
    report = _inspect(made / "small_saved", tmp_path, "--mode", "saved")
    result = report["results"][0]
    assert result["mode"] == "saved" and result["error"] is None and result["traces"] == 0
    assert result["post"]["ops"] == oracle["saved"]["saved"]
    assert "traced when the model was saved" in result["calls"][0]["reason"]
    assert prepare(sources.read_source(str(made / "small_saved")), modes=["all"]).modes[0] == \
        "saved"
    # After eager in the same job (eager calls the signature first): still captured.
    both = _inspect(made / "small_saved", tmp_path, "--mode", "eager", "--mode", "saved")
    assert [r["error"] for r in both["results"]] == [None, None]
    assert both["results"][0]["post"]["ops"] == oracle["saved"]["saved"]
    with pytest.raises(UsageError, match="mode saved is a SavedModel signature"):
        prepare(sources.read_source(str(made / "small.keras")), modes=["saved"])
    assert "saved" not in prepare(sources.read_source("gallery:fused_dense"), modes=["all"]).modes


def test_list_names_the_signatures_and_their_inputs(made, oracle):
    done = cli("inspect", str(made / "small_saved"), "--list")
    assert done.returncode == 0, done.stderr
    shape = ",".join("None" if d is None else str(d) for d in oracle["saved"]["shape"])
    assert "serving_default (default)" in done.stdout
    assert f"{oracle['saved']['input']}: float32[{shape}]" in done.stdout
    assert "\nmodes: every mode applies: the signature is called" in done.stdout
    keras = cli("inspect", str(made / "small.keras"), "--list")  # which modes, and why (walk)
    assert "\nmodes: every mode applies: the model is called as model(x, training=False)" in \
        keras.stdout and "so a .keras file has none" in keras.stdout


def test_calls_that_do_not_fit_and_unknown_signatures_are_typed_before_any_work(made):
    source = sources.read_source(str(made / "small.keras"))
    with pytest.raises(CallSpecError, match=r"expects float32\[None,8,8,3\]"):
        prepare(source, calls=["float32[1,9,8,3]"], modes=["spec"])
    assert prepare(source, calls=["float32[4,8,8,3]"], modes=["spec"]).calls == (
        "float32[4,8,8,3]",)  # a None dim takes any size
    with pytest.raises(UsageError, match="no signature 'predict'"):
        sources.read_source(str(made / "small_saved"), signature="predict")
    done = cli("inspect", str(made / "small_saved"), "--signature", "predict")
    assert done.returncode == 2 and "serving_default" in done.stderr
    # From a walk: a Python number for a tensor input, --signature on a .keras file, --list on
    # a folder that is not a SavedModel.
    scale = sources.read_source(str(made / "mixed_saved"), endpoint="scale")
    with pytest.raises(CallSpecError, match=r"expects int32\[\]; the call gives 3, a Python "
                                            r"value \(a model's input is a tensor: give "
                                            r"int32\[\]\)"):
        prepare(scale, calls=["float32[2]; 3"], modes=["spec"])
    with pytest.raises(UsageError, match="--signature picks a SavedModel's signature"):
        sources.read_source(str(made / "small.keras"), signature="serving_default")
    listed = cli("inspect", str(made), "--list")
    assert listed.returncode == 2 and "without saved_model.pb" in listed.stderr, listed.stderr


def test_a_lambda_layer_is_refused_and_the_next_job_runs(made, tmp_path):
    done = cli("inspect", str(made / "lambda.keras"), "--mode", "spec", "--runs", "3")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "ModelLoadError" in done.stderr and "Lambda" in done.stderr
    assert _inspect(made / "small.keras", tmp_path, "--mode", "spec")["error"] is None


def test_bad_files_are_model_load_errors(made, tmp_path):
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes((made / "small.keras").read_bytes()[:500])
    not_saved = tmp_path / "plain"
    not_saved.mkdir()
    (not_saved / "readme.txt").write_text("hello")
    shutil.make_archive(str(tmp_path / "plain"), "zip", not_saved)
    for path, said in ((truncated, "truncated"), (tmp_path / "plain.zip", "saved_model.pb"),
                       (tmp_path / "missing.keras", "no such file"),
                       (made / "custom.keras", "needs custom classes this worker does not "
                                               "have: mine>Twice"),
                       (not_saved, "not a SavedModel")):
        done = cli("inspect", str(path))
        assert done.returncode == 2, (path, done.stderr)
        assert "ModelLoadError" in done.stderr and said in done.stderr, done.stderr


def _evil_tar(made: Path, tmp_path: Path, member: tarfile.TarInfo, data: bytes = b"x") -> Path:
    """The small SavedModel's tarball plus one hostile member."""
    path = tmp_path / f"evil-{abs(hash(member.name))}.tar.gz"
    with tarfile.open(made / "small_saved.tar.gz") as good, \
            tarfile.open(path, "w:gz") as evil:
        for item in good.getmembers():
            evil.addfile(item, good.extractfile(item) if item.isfile() else None)
        evil.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return path


def test_hostile_archives_write_nothing_outside_the_job_folder(made, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    escape = tarfile.TarInfo(f"../../../../../../..{outside}/pwned.txt")
    escape.size = 1
    link = tarfile.TarInfo("small_saved/variables/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    bomb_zip = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb_zip, "w", zipfile.ZIP_DEFLATED) as packed:
        for item in sorted((made / "small_saved").rglob("*")):
            packed.write(item, "small_saved/" + str(item.relative_to(made / "small_saved")))
        packed.writestr("small_saved/zeros.bin", b"\0" * (models.MAX_UNPACKED_BYTES + 1))
    for path, said in ((_evil_tar(made, tmp_path, escape), "outside the folder"),
                       (_evil_tar(made, tmp_path, link), "link"),
                       (bomb_zip, "unpacks to more than")):
        done = cli("inspect", str(path), "--mode", "spec", "--runs", "3")
        assert done.returncode == 2, (path, done.stdout[-1000:], done.stderr[-2000:])
        assert "ModelLoadError" in done.stderr and said in done.stderr, done.stderr
    assert list(outside.iterdir()) == []


def test_a_saved_model_that_reads_a_server_file_gets_nothing(made, tmp_path):
    out = tmp_path / "reader.json"
    done = cli("inspect", str(made / "reader_saved"), "--mode", "numpy", "--runs", "3",
               "--json", str(out))
    report = json.loads(out.read_text())
    assert "the server's secret" not in done.stdout + done.stderr + out.read_text()
    errors = [r["error"] for r in report["results"]]
    assert done.returncode == 1 and errors[0] is not None, done.stdout[-2000:]
    assert errors[0]["type"] == "SandboxDenied", errors[0]
    assert "NotFoundError" in errors[0]["message"] and str(SECRET) in errors[0]["message"]


def test_the_app_takes_an_uploaded_model_and_its_saved_run_runs_again(made, oracle):
    from tests.test_app import app, inspect

    at = app(entry="model", mode="spec", runs="5")
    assert at.selectbox(key="entry").value == "(upload a model)"
    inspect(at)  # nothing uploaded yet: said, nothing runs
    assert at.session_state["report"].error.type == "ModelLoadError"
    at.file_uploader(key="model_file").upload(
        "small.keras", (made / "small.keras").read_bytes()).run()
    assert not at.exception
    assert at.text_area(key="calls").value == "float32[1,8,8,3]"
    inspect(at)
    report = at.session_state["report"]
    assert report.error is None and report.source.startswith("small.keras (sha256 ")
    assert report.results[0].post.ops == oracle["keras"]["spec"]
    # Its saved run: Re-run uses the stored model, Edit as new puts it back in the form.
    saved = app(run=report.run_id)
    saved.button(key="edit_saved").click().run()
    assert saved.selectbox(key="entry").value == "(upload a model)"
    assert any("small.keras (sha256" in shown(c.value) and "put back" in shown(c.value)
               for c in saved.caption)
    inspect(saved)
    again = saved.session_state["report"]
    assert again.error is None and again.results[0].post.ops == oracle["keras"]["spec"]
    # A zipped SavedModel, and a file that is not a model.
    assert "saved" not in at.pills(key="modes").options  # a .keras model has no such mode
    at.file_uploader(key="model_file").upload(
        "small_saved.zip", (made / "small_saved.zip").read_bytes()).run()
    assert at.text_area(key="calls").value == "float32[1,8,8,3]"
    assert "saved" in at.pills(key="modes").options
    inspect(at)
    assert at.session_state["report"].results[0].post.ops == oracle["saved"]["spec"]
    at.file_uploader(key="model_file").upload("junk.zip", b"not a zip").run()
    assert any("ModelLoadError" in e.value for e in at.error)


# The gallery's models as TensorFlow answers for them: post-Grappler ops in spec mode.
_GALLERY_ORACLE = _POST_OPS + """
import json, sys
import numpy as np
import keras
import tensorflow as tf
from tensorflow.python.eager import context
folder = sys.argv[1]


x = np.ones([1, 224, 224, 3], np.float32)
spec = [tf.TensorSpec([1, 224, 224, 3], tf.float32)]
model = keras.models.load_model(folder + "/mobilenet_v3_small.keras", compile=False)
loaded = tf.saved_model.load(folder + "/mobilenet_v3_small_saved")
signature = loaded.signatures["serving_default"]
name = sorted(signature.structured_input_signature[1])[0]
print(json.dumps({
    "model_keras": post_ops(tf.function(lambda x: model(x, training=False),
                                        input_signature=spec), x),
    "model_saved": post_ops(tf.function(lambda x: signature(**{name: x}),
                                        input_signature=spec), x)}))
"""


def test_the_gallerys_models_run_with_one_click_as_tensorflow_says(tmp_path):
    """The set-up made them (Makefile: models); each entry's post graph is TensorFlow's own."""
    from inspector.inputs import gallery

    folder = gallery.models_folder()
    if not (folder / "mobilenet_v3_small.keras").exists():
        pytest.skip(f"the set-up has not made the gallery's models in {folder}")
    expected = json.loads(_python(_GALLERY_ORACLE, str(folder)).strip().splitlines()[-1])
    for name in ("model_keras", "model_saved"):
        out = tmp_path / f"{name}.json"
        done = cli("inspect", f"gallery:{name}", "--mode", "spec", "--runs", "3", "--json",
                   str(out))
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(out.read_text())
        assert report["calls"] == ["float32[1,224,224,3]"]
        assert report["results"][0]["post"]["ops"] == expected[name], name


def test_hostile_names_and_metadata_stay_data_in_the_server(made, tmp_path):
    """The file name is never code in the generated module; a config that nests too deep and a
    gzip bomb are typed errors read in bounded time, in the server, before any worker."""
    import time

    data = (made / "small.keras").read_bytes()
    evil = 'x"""\nimport os\nos.system("touch /tmp/pwned")\n""".keras'
    source = sources.model_source(evil, data)
    compile(source.text, "model.py", "exec")  # still valid Python ...
    shown = evil.replace("\n", "?")  # ... the name a repr, on one line wherever it is shown
    assert 'os.system("touch' not in source.text.replace(repr(shown), "")
    assert source.model["name"] == shown and "\n" not in prepare(source).source_label
    deep = io.BytesIO()
    with zipfile.ZipFile(deep, "w") as packed:
        packed.writestr("config.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelLoadError, match="nests too deep|not JSON"):
        sources.model_source("deep.keras", deep.getvalue())
    bomb = io.BytesIO()
    with tarfile.open(fileobj=bomb, mode="w:gz") as packed:
        zeros = tarfile.TarInfo("zeros.bin")
        zeros.size = models.MAX_SCAN_BYTES + 1
        packed.addfile(zeros, io.BytesIO(b"\0" * zeros.size))
        pb = tarfile.TarInfo("saved_model.pb")
        pb.size = 1
        packed.addfile(pb, io.BytesIO(b"\0"))
    started = time.monotonic()
    with pytest.raises(ModelLoadError, match="within its first"):
        sources.model_source("bomb.tar.gz", bomb.getvalue())
    assert time.monotonic() - started < 60


def test_a_saved_model_run_stores_the_model_once_and_gives_it_back(made, tmp_path):
    """Two runs of the same model: one artifact, named by each row; the run read back holds
    the bytes again (Re-run, Edit as new), and sweep keeps the artifact while a run names it."""
    from inspector.store.runs import RunStore

    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}", tmp_path)
    source = sources.read_source(str(made / "small.keras"))
    request = prepare(source, modes=["spec"])
    ids = [store.start(request, {}) for _ in range(2)]
    import sqlalchemy as sa

    from inspector.store.models import runs

    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(runs.c.model_sha, runs.c.request)).all()
    assert {row.model_sha for row in rows} == {source.model["sha256"]}
    assert all(row.request["source"]["model"]["data"] is None for row in rows)
    assert store.artifacts.get(source.model["sha256"]) == (made / "small.keras").read_bytes()
    back = store.get(ids[0])
    assert back.request["source"]["model"]["data"] == source.model["data"]
    store.sweep()
    assert store.get(ids[1]).request["source"]["model"]["data"] == source.model["data"]


def test_a_string_signature_blocks_only_itself_and_any_rank_takes_any_call(made, tmp_path):
    """Found in a walk: one string signature refused the whole SavedModel, and an input of
    unknown rank was taken for a scalar."""
    listed = cli("inspect", str(made / "mixed_saved"), "--list")
    assert listed.returncode == 0, listed.stderr
    assert "s: string[None]" in listed.stdout and "z: float32, any shape" in listed.stdout
    assert prepare(sources.read_source(str(made / "mixed_saved")), modes=["spec"]).calls == (
        "float32[1,2]",)
    with pytest.raises(ModelLoadError, match="'s' is a string tensor.*serving_default"):
        sources.read_source(str(made / "mixed_saved"), signature="words")
    anyrank = sources.read_source(str(made / "mixed_saved"), signature="anyrank")
    assert prepare(anyrank, calls=["float32[3,4]"], modes=["numpy"]).calls == ("float32[3,4]",)
    report = _inspect(made / "mixed_saved", tmp_path, "--signature", "anyrank", "--call",
                      "float32[3,4]", "--mode", "numpy")
    assert report["results"][0]["error"] is None


def test_a_functional_models_inputs_come_in_its_call_order():
    """Found in a walk: inputs were taken in the layers' order, not the model's."""
    config = {"class_name": "Functional", "config": {
        "layers": [{"class_name": "InputLayer", "name": "b",
                    "config": {"name": "b", "batch_shape": [None, 3, 5], "dtype": "float32"}},
                   {"class_name": "InputLayer", "name": "a",
                    "config": {"name": "a", "batch_shape": [None, 4], "dtype": "float32"}}],
        "input_layers": [["a", 0, 0], ["b", 0, 0]]}}
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    info = models.describe("two.keras", packed.getvalue())
    assert [i.name for i in info.inputs] == ["a", "b"]
    assert models.default_calls(info) == ("float32[1,4]; float32[1,3,5]",)


def test_a_model_read_on_this_machine_reaches_a_local_worker_as_a_copy_not_as_bytes(made,
                                                                                    tmp_path):
    """Issue 27's load time: a SavedModel folder (or a file) the server read is copied into the
    worker's job folder, and an upload's bytes are written there as its file; the job's message
    no longer carries them. A folder changed since it was read still goes as bytes; a saved run
    keeps no path."""
    from inspector.jobs import protocol
    from inspector.jobs.process import place_model
    from inspector.store.runs import RunStore

    folder = tmp_path / "saved"
    shutil.copytree(made / "small_saved", folder)
    request = prepare(sources.read_source(str(folder)), modes=["spec"])
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    placed = place_model(request, job_dir)
    model = placed.source.model
    assert model["data"] is None and Path(model["placed"]).parent == job_dir / "model-in"
    assert "path" not in model and "stamp" not in model  # the server's paths stay its own
    assert (Path(model["placed"]) / models.SAVED_MODEL_PB).read_bytes() == (
        folder / models.SAVED_MODEL_PB).read_bytes()
    whole = len(protocol.job_message(request, "log", "t"))
    assert len(protocol.job_message(placed, "log", "t")) < 20_000 < whole
    upload = prepare(sources.model_source(*models.read_bytes(str(folder))), modes=["spec"])
    uploaded = tmp_path / "uploaded"
    uploaded.mkdir()
    placed_upload = place_model(upload, uploaded)  # an upload's bytes: its file
    given = placed_upload.source.model
    assert given["data"] is None and Path(given["placed"]).parent == uploaded / "model-in"
    assert Path(given["placed"]).read_bytes() == models.decode(upload.source.model["data"])
    assert len(protocol.job_message(placed_upload, "log", "t")) < 20_000 < \
        len(protocol.job_message(upload, "log", "t"))
    # An upload is written nowhere until it runs; once a run stored it, its next run is
    # given the stored file (found in review: keeping it at upload let a user fill the disk
    # with uploads never run).
    uploads = RunStore(f"sqlite:///{tmp_path / 'uploads.db'}", tmp_path / "uploads")
    assert uploads.with_model_file(upload) is upload
    uploads.start(upload, {})
    again = uploads.with_model_file(upload).source.model
    assert again["path"] == str(uploads.artifacts.path(upload.source.model["sha256"]))
    os.utime(folder / models.SAVED_MODEL_PB, ns=(1, 1))  # changed since it was read
    sent = place_model(request, tmp_path / "unused").source.model
    assert sent["data"] == request.source.model["data"] and "placed" not in sent
    assert not (tmp_path / "unused").exists()
    # A saved run keeps the model as an artifact, not the path it was read from; read back, it
    # is placed from the artifact.
    import sqlalchemy as sa

    from inspector.store.models import runs

    store = RunStore(f"sqlite:///{tmp_path / 'runs.db'}", tmp_path)
    run_id = store.start(request, {})
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(runs.c.request)).one()
    assert not {"path", "stamp", "data"} & {k for k, v in row.request["source"]["model"].items()
                                             if v is not None}
    back = InspectRequest.from_dict(store.get(run_id).request)
    artifact = store.artifacts.path(request.source.model["sha256"])
    assert back.source.model["path"] == str(artifact)
    fresh = tmp_path / "job2"
    fresh.mkdir()
    assert Path(place_model(back, fresh).source.model["placed"]).read_bytes() == \
        artifact.read_bytes()


def test_the_bytes_kept_for_uploads_are_found_by_hash_and_bounded(monkeypatch):
    """An upload's bytes are kept after encoding, by their sha256 (its first run writes them
    without decoding again), the oldest dropped past KEPT_BYTES; a model not kept is decoded
    from its data."""
    monkeypatch.setattr(models, "_KEPT", type(models._KEPT)())
    monkeypatch.setattr(models, "KEPT_BYTES", 10)
    first, second = b"123456", b"abcdef"
    given = [{"sha256": models.sha256(d), "data": models.encode(d)} for d in (first, second)]
    assert list(models._KEPT) == [given[1]["sha256"]]  # 12 bytes > 10: the first went
    assert models.bytes_of(given[0]) == first and models.bytes_of(given[1]) is second
    assert models.bytes_of({"sha256": given[1]["sha256"], "data": given[0]["data"]}) is second
    models.encode(b"x" * 11)  # larger than the bound: not kept
    assert list(models._KEPT) == [given[1]["sha256"]]


def test_a_model_file_the_inspector_does_not_take_says_so(tmp_path):
    """Found in a walk: an .h5 file was read as Python and failed on its bytes."""
    for name in ("old.h5", "m.tflite"):
        (tmp_path / name).write_bytes(b"\x89HDF\r\n\x1a\n\xb4")
        with pytest.raises(ModelLoadError, match=f"{name}: .* is not taken; give a .keras"):
            sources.read_source(str(tmp_path / name))


def test_endpoints_are_listed_checked_in_the_server_and_called(made, tmp_path):
    """--endpoint calls another restored tf.function: --list names each with its traces' inputs
    (read without TensorFlow), and an unknown one is a UsageError before any work."""
    listed = cli("inspect", str(made / "mixed_saved"), "--list")
    assert listed.returncode == 0, listed.stderr
    functions = listed.stdout.split("functions of the saved object")[1]
    assert "  double\n    (x: float32[None,2])" in functions, listed.stdout
    assert "  words\n    (s: string[None])" in functions
    assert "  anyrank\n    (z: float32, any shape)" in functions
    with pytest.raises(UsageError, match="no function 'nope'; its functions: anyrank, double, "
                                         "scale, words"):
        sources.read_source(str(made / "mixed_saved"), endpoint="nope")
    done = cli("inspect", str(made / "mixed_saved"), "--endpoint", "nope")
    assert done.returncode == 2 and done.stderr.count("no function 'nope'") == 1, done.stderr
    assert "  scale\n    (a: float32[2], n: int32[])" in functions
    # Found in a walk: the wrapper took one argument whatever the function's, and a call that
    # did not fit failed in the worker. Now: one parameter per input, the first trace's call
    # by default, and a call that fits no trace is a CallSpecError before any work.
    scale = sources.read_source(str(made / "mixed_saved"), endpoint="scale")
    assert prepare(scale, modes=["spec"]).calls == ("float32[2]; int32[]",)
    with pytest.raises(CallSpecError, match="input 'a' of mixed_saved/ expects float32"):
        prepare(scale, calls=["float32[3]; int32[]"], modes=["spec"])
    report = _inspect(made / "mixed_saved", tmp_path, "--endpoint", "scale", "--mode", "numpy",
                      "--mode", "spec")
    assert [r["error"] for r in report["results"]] == [None, None]
    assert report["function"] == "scale"
    report = _inspect(made / "mixed_saved", tmp_path, "--endpoint", "double", "--call",
                      "float32[3,2]", "--mode", "numpy")
    assert report["results"][0]["error"] is None


def test_compare_names_each_runs_model_and_its_content(made):
    """Found in a walk: Compare's inputs had no row for the model, so two versions of a model
    file under one name looked like the same input."""
    from inspector.output import compare

    keras_file = prepare(sources.read_source(str(made / "small.keras")), modes=["spec"])
    saved = prepare(sources.read_source(str(made / "small_saved")), modes=["spec"])
    a = compare.run_inputs(keras_file.to_dict(), None)
    b = compare.run_inputs(saved.to_dict(), None)
    assert a["model"] == (f"small.keras (sha256 {keras_file.source.model['sha256'][:12]}; "
                          "Keras, model(x, training=False))")
    assert b["model"].endswith("; signature serving_default)")
    rows = {r["input"]: r for r in compare.input_rows(a, b)}
    assert rows["model"]["differs"]
    code = prepare(sources.read_source("gallery:fused_dense"), modes=["spec"])
    assert "model" not in compare.run_inputs(code.to_dict(), None)


def test_signature_and_endpoint_apply_to_gallery_models_and_not_to_gallery_code():
    """Found in this stage's walk: `inspect gallery:model_saved --endpoint nope` ran the
    default signature, ignoring the flag (and a .keras gallery model took --endpoint)."""
    with pytest.raises(UsageError, match="no function 'nope'; its functions: serve"):
        sources.read_source("gallery:model_saved", endpoint="nope")
    with pytest.raises(UsageError, match="a .keras model is called as model"):
        sources.read_source("gallery:model_keras", endpoint="serve")
    with pytest.raises(UsageError, match="gallery:fused_dense is code"):
        sources.read_source("gallery:fused_dense", signature="serve")
    chosen = sources.read_source("gallery:model_saved", signature="serve")
    assert chosen.gallery_name == "model_saved" and chosen.model["signature"] == "serve"
    assert chosen.model["path"].endswith("mobilenet_v3_small_saved")
    # The request calls the function the chosen signature or endpoint names (a later walk:
    # the entry's own "serving_default" was asked for, FunctionNotFound).
    assert prepare(chosen, modes=["spec"]).function == "serve"
    endpoint = sources.read_source("gallery:model_saved", endpoint="serve")
    assert prepare(endpoint, modes=["spec"], calls=["float32[1,224,224,3]"]).function == "serve"
    assert prepare(sources.read_source("gallery:model_saved"),
                   modes=["spec"]).function == "serving_default"
