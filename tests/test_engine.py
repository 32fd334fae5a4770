"""The engine's numbers equal what TensorFlow reports when the test asks it directly.

Runs TensorFlow functions in the test process (marker ``tf``). Each gallery entry is inspected
once per module; the test then rebuilds each mode's tf.function itself and compares.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf
# The TensorFlow that requirements.txt pins: counts that hold for it alone are asserted only there.
PINNED_TENSORFLOW = next(line.split("==")[1].strip() for line in
                         (Path(__file__).parents[1] / "requirements.txt").read_text().splitlines()
                         if line.startswith("tensorflow=="))

tf = pytest.importorskip("tensorflow")
from tensorflow.python.eager import context  # noqa: E402

from bench.canvas import canvas_use  # noqa: E402
from inspector.engine import inspection, loader  # noqa: E402
from inspector.graphs import dot_text, protos, render  # noqa: E402
from inspector.graphs.views import ViewOptions, build  # noqa: E402
from inspector.inputs import gallery, sources  # noqa: E402
from inspector.inputs.calls import PythonArg, parse_calls  # noqa: E402
from inspector.inputs.request import prepare  # noqa: E402
from tests.helpers import changed_names  # noqa: E402

# Where these tests' own loads write the source (inside the session's data folder: removed
# with it).
SOURCES = Path(os.environ["INSPECTOR_DATA"]) / "engine-sources"
SOURCES.mkdir(parents=True, exist_ok=True)

SMALL = [e.name for e in gallery.ENTRIES if e.timeout_s <= 60]
# Model entries (a file, not code) are tested in test_models.py.
LARGE = [e.name for e in gallery.ENTRIES if e.timeout_s > 60 and e.model is None]
LARGE_MODES = ("numpy", "spec", "spec-dynamic")
_reports: dict[str, object] = {}


def inspect_entry(name: str, modes=("all",)):
    if name not in _reports:
        source = sources.read_source(f"gallery:{name}")
        request = prepare(source, modes=modes, runs=5, warmup=1, include_graphs=True)
        _reports[name] = inspection.run(request)
    return _reports[name]


def direct_function(entry, mode):
    """Build the mode's tf.function and arguments with TensorFlow's API, not the inspector's."""
    loaded = loader.load_function(sources.read_source(f"gallery:{entry.name}"), entry.function,
                                  str(SOURCES))
    calls = parse_calls(entry.calls)

    def arguments(call, as_numpy):
        out = []
        for arg in call.args:
            if isinstance(arg, PythonArg):
                out.append(tf.constant(arg.value) if mode.startswith("spec") else arg.value)
            else:
                array = np.ones(arg.shape, dtype=arg.dtype)
                out.append(array if as_numpy else tf.constant(array))
        return out

    first = calls[0]
    signature = [tf.TensorSpec([] if isinstance(a, PythonArg) else
                               ([None] * len(a.shape) if mode == "spec-dynamic" else a.shape),
                               tf.float32 if isinstance(a, PythonArg) else a.dtype)
                 for a in first.args]
    fn = {"numpy": lambda f: tf.function(f), "tensor": lambda f: tf.function(f),
          "spec": lambda f: tf.function(f, input_signature=signature),
          "spec-dynamic": lambda f: tf.function(f, input_signature=signature),
          "reduce-retracing": lambda f: tf.function(f, reduce_retracing=True),
          "xla": lambda f: tf.function(f, jit_compile=True)}[mode](loaded.function)
    as_numpy = mode in ("numpy", "reduce-retracing")
    return fn, [arguments(c, as_numpy) for c in calls]


def direct_graphs(fn, args):
    context.export_run_metadata()
    context.enable_run_metadata()
    try:
        fn(*args)
        metadata = context.export_run_metadata()
    finally:
        context.disable_run_metadata()
    graphs = [g for g in metadata.function_graphs
              if not any(n.op == "_EagerConst" for n in g.pre_optimization_graph.node)]
    chosen = max(graphs, key=lambda g: len(g.pre_optimization_graph.node))
    return chosen.pre_optimization_graph, chosen.post_optimization_graph


def check_mode(report, entry, mode):
    result = report.result(mode)
    assert result.error is None, result.error
    fn, all_args = direct_function(entry, mode)
    if mode == "xla":
        fn(*all_args[0])
        pre = fn.get_concrete_function(*all_args[0]).graph.as_graph_def()
        assert result.graph_source == "offline"
        assert result.pre.nodes == len(pre.node)
        assert "HloModule" in result.hlo["hlo"] and "HloModule" in result.hlo["optimized_hlo"]
        # XLA names each op's Python source file: this server's paths read as names
        import sysconfig

        for text in result.hlo.values():
            assert sysconfig.get_paths()["purelib"] not in text
    else:
        pre, post = direct_graphs(fn, all_args[0])
        assert result.graph_source == "runtime"
        assert result.pre.nodes == len(pre.node)
        assert result.post.nodes == len(post.node)
        post_ops = {n.name: n.op for n in post.node}
        folded = {n.name for n in pre.node if n.op != "Const" and post_ops.get(n.name) == "Const"}
        fused = sorted((n.op, tuple(s.decode() for s in n.attr["fused_ops"].list.s))
                       for n in post.node if n.op.startswith("_Fused"))
        assert sorted((f.op, f.fused_ops) for f in result.diff.fused) == fused
        if "keras" in entry.source:  # Keras numbers layer names per model built: compare counts
            assert len(result.diff.folded) == len(folded)
        else:
            assert set(result.diff.folded) == folded
            assert {f.name for f in result.diff.fused} == {
                n.name for n in post.node if n.op.startswith("_Fused")}
    errors = []
    for args in all_args[1:]:
        try:
            fn(*args)
            errors.append(None)
        except Exception as exc:  # what TensorFlow refuses, the report must name
            errors.append(type(exc).__name__)
    assert result.traces == fn.experimental_get_tracing_count()
    assert [c.error.type if c.error else None for c in result.calls[1:]] == errors
    assert result.timing.runs == 5


@pytest.mark.parametrize("name", SMALL)
def test_small_entries_match_tensorflow_in_every_mode(name):
    entry = gallery.get(name)
    report = inspect_entry(name)
    assert report.error is None
    assert report.tensorflow == tf.__version__
    assert report.result("eager").timing.median_us > 0
    for mode in ("numpy", "tensor", "spec", "spec-dynamic", "reduce-retracing", "xla"):
        check_mode(report, entry, mode)


@pytest.mark.parametrize("name", LARGE)
def test_large_models_match_tensorflow(name):
    entry = gallery.get(name)
    report = inspect_entry(name, LARGE_MODES)
    for mode in LARGE_MODES:
        check_mode(report, entry, mode)
    if name == "resnet50":
        assert any(f.op == "_FusedConv2D" for f in report.result("spec").diff.fused)


def test_shape_folding_differs_between_fixed_and_none_dims():
    report = inspect_entry("shape_folding")
    fixed_pre = {n.name: n.op for n in report.result("spec").shapes["pre"].nodes}
    dynamic_pre = {n.name: n.op for n in report.result("spec-dynamic").shapes["pre"].nodes}
    constant = report.shape_dependent_constants
    assert constant.fixed_mode == "spec"
    assert constant.pre, "fixed shapes fold tf.shape/tf.size while tracing"
    for name in constant.pre:
        assert fixed_pre[name] == "Const" and dynamic_pre[name] != "Const"
    assert report.result("spec-dynamic").unknown_shape_outputs["pre"] > 0
    assert report.result("spec").unknown_shape_outputs == {"pre": 0, "post": 0}


@pytest.mark.parametrize("name", SMALL + LARGE)
def test_every_changed_node_is_attributed_to_a_pass(name):
    report = inspect_entry(name, LARGE_MODES if name in LARGE else ("all",))
    for result in report.results:
        if result.diff is None:
            continue
        named = changed_names(result.diff)
        assert result.passes or not named, result.mode
        missing = sorted(named - set(result.attribution or {}))
        assert not missing, (result.mode, missing[:5])


@pytest.mark.parametrize("name", SMALL + LARGE)
def test_every_changed_node_of_every_entry_is_in_exactly_one_pattern(name):
    report = inspect_entry(name, LARGE_MODES if name in LARGE else ("all",))
    for result in report.results:
        if result.diff is None:
            continue
        named = changed_names(result.diff)
        covered = [n for pattern in result.patterns for nodes in pattern.nodes for n in nodes]
        assert sorted(covered) == sorted(named), result.mode
        assert all(p.count == len(p.nodes) for p in result.patterns)
    if name == "resnet50":
        summaries = {p.summary: p.count for p in report.result("spec").patterns}
        fused = summaries["Conv2D + BiasAdd -> _FusedConv2D [BiasAdd] (by remapper)"]
        # Every one of ResNet50's 53 Conv2D + BiasAdd pairs, on the pinned TensorFlow
        # (requirements.txt) with oneDNN's kernels and without (make test runs both); another
        # TensorFlow's remapper may fuse otherwise, so there only "some" is asserted.
        assert fused == 53 if tf.__version__ == PINNED_TENSORFLOW else fused > 0, fused
        assert len(summaries) < 30  # about a thousand changes read as a handful of patterns


@pytest.mark.parametrize("name", SMALL + LARGE)
def test_diff_pictures_use_their_canvas(name):
    """Issue 16's goals for the large models' exported diff PNGs (overview and changes only):
    a quarter of the 100 px tiles inked, at most 4:1, labels at full size. The small entries'
    pictures are drawn as dot lays them out, as before."""
    report = inspect_entry(name, LARGE_MODES if name in LARGE else ("all",))
    for result in report.results:
        graphs = protos.mode_graphs(result)
        if graphs is None or (name in LARGE and result.mode != "spec"):
            continue
        for options in (ViewOptions(), ViewOptions(changes_only=1)):
            if name not in LARGE:
                assert dot_text.arrange(build(graphs, "diff", options)) is None, result.mode
                continue
            picture = render.draw(graphs, "diff", ("png", "svg"), options)
            _, _, aspect, inked = canvas_use(picture.data["png"])
            assert inked >= 0.25 and aspect <= 4, (options, inked, aspect)
            assert picture.columns > 1 and picture.png_scale == 1.0 and not picture.fallback
            # columns side by side in order: each one's "from column" connectors right of the
            # previous column's
            arriving: dict[int, list[float]] = {}
            for column, x in re.findall(r"<title>[^<]* arriving in (\d+)</title>\s*<polygon[^>]*"
                                        r'points="([\d.-]+)', picture.data["svg"].decode()):
                arriving.setdefault(int(column), []).append(float(x))
            assert sorted(arriving) == list(range(1, picture.columns))
            assert all(max(arriving[c]) < min(arriving[c + 1]) for c in range(1, picture.columns - 1))


@pytest.mark.parametrize("name", SMALL + LARGE)
def test_every_mode_of_every_entry_says_where_its_time_goes(name):
    report = inspect_entry(name, LARGE_MODES if name in LARGE else ("all",))
    for result in report.results:
        parts = result.timing.breakdown
        assert parts is not None and parts.samples >= 1, (result.mode, result.op_times_note)
        assert result.op_times, (result.mode, result.op_times_note)
        if result.mode != "eager":
            assert 0 < parts.graph_us <= parts.call_us, result.mode
        if result.mode in ("numpy", "reduce-retracing"):
            assert parts.convert_alone_us is not None


def test_python_scalar_retraces_per_value_with_reasons():
    result = inspect_entry("python_scalar").result("tensor")
    assert [c.traced for c in result.calls] == [True, True, False]
    assert "factor: Python value 3.0" in result.calls[1].reason
    assert "traced at call 1" in result.calls[2].reason


def test_grappler_passes_are_parsed_for_the_function():
    result = inspect_entry("constant_arithmetic").result("spec")
    names = [p.optimizer for p in result.grappler_passes]
    assert "constant_folding" in names
    folding = next(p for p in result.grappler_passes if p.optimizer == "constant_folding")
    assert folding.node_delta < 0


def test_overrides_and_ablation_change_what_grappler_does():
    source = sources.read_source("gallery:constant_arithmetic")
    request = prepare(source, modes=["spec"], grappler=["constant_folding=off"], runs=3,
                      warmup=1, ablate=True)
    result = inspection.run(request).result("spec")
    assert result.diff.folded == ()
    rows = {row.option: row for row in result.ablation}
    assert rows["disable_meta_optimizer"].post_nodes == result.pre.nodes
    assert all(row.error is None for row in rows.values())


@pytest.mark.parametrize("name", ["fused_dense", "shape_folding", "model_saved"])
def test_pre_shapes_read_from_tracing_equal_a_reimport(name, monkeypatch):
    """The pre graph's table is read from the traced graph, without re-importing the GraphDef;
    it must say what TensorFlow's re-import (with tracing's shapes completing it) says: the
    same node, op and shapes, and the same unknown count. model_saved's spec-dynamic _Arg is
    one a re-import completes from the traced placeholder."""
    from inspector.engine import shapes

    seen = []
    table = shapes.shape_table

    def spy(graph_def, variable_shapes=None, traced=None):
        if traced:
            seen.append((graph_def, variable_shapes, traced))
        return table(graph_def, variable_shapes, traced)

    monkeypatch.setattr(shapes, "shape_table", spy)
    request = prepare(sources.read_source(f"gallery:{name}"),
                      modes=("numpy", "spec", "spec-dynamic", "xla"), runs=1, warmup=0)
    report = inspection.run(request)
    assert all(r.error is None for r in report.results) and len(seen) == 4
    for graph_def, reads, traced in seen:
        fast = shapes._traced_table(graph_def, traced)
        assert fast is not None, "tracing built every node but the runtime's _Arg/_Retval"
        again = shapes.reimported_table(graph_def, reads, traced)
        assert again.error is None
        assert sorted(map(repr, fast.nodes)) == sorted(map(repr, again.nodes))
        assert fast.unknown_outputs == again.unknown_outputs
    # A node tracing did not build: the table comes from the re-import.
    graph_def, reads, traced = seen[0]
    built = next(n.name for n in graph_def.node if n.op not in ("_Arg", "_Retval"))
    partial = {k: v for k, v in traced.items() if k != built}
    assert shapes._traced_table(graph_def, partial) is None
    assert shapes.shape_table(graph_def, reads, partial) == \
        shapes.reimported_table(graph_def, reads, partial)


def test_variable_reads_get_the_shapes_of_the_traced_function():
    """Runtime graphs lose resource handle shapes; the report takes them from the traced graph,
    so a Keras model with a fixed input shape has no unknown static shapes."""
    entry = gallery.get("keras_mlp")
    result = inspect_entry("keras_mlp").result("spec")
    fn, all_args = direct_function(entry, "spec")
    traced = {op.name: op.outputs[0].shape
              for op in fn.get_concrete_function(*all_args[0]).graph.get_operations()
              if op.type == "ReadVariableOp"}
    reads = [n.outputs for n in result.shapes["pre"].nodes if n.op == "ReadVariableOp"]
    # A second load builds a second Keras model (other layer names): compare the shapes.
    assert reads and sorted(reads) == sorted((str(tuple(s.as_list())),) for s in traced.values())
    assert result.unknown_shape_outputs == {"pre": 0, "post": 0}
    handles = [n for n in result.shapes["pre"].nodes if n.outputs == ("resource",)]
    assert len(handles) == len(reads)  # the resource arguments, shown by dtype


NESTED = ("import tensorflow as tf\n\nv = tf.Variable(tf.ones([4, 4]))\n\n@tf.function\n"
          "def inner(x):\n    return tf.matmul(x, v)\n\ndef outer(x):\n    return inner(x) + 1.0\n")


def test_a_call_that_traces_twice_says_why():
    """An unbuilt Keras model makes its weights on the first trace: tf.function traces it a
    second time within that call. The count is TensorFlow's; the call's line says why."""
    code = ("import keras\n\nmodel = keras.Sequential([keras.layers.Dense(4)])\n\n"
            "def predict(x):\n    return model(x)\n")
    request = prepare(sources.Source(code, "pasted.py"), "predict", ["float32[2,8]"],
                      ["spec", "numpy"], runs=1, warmup=0)
    first, later = inspection.run(request).results  # the first mode's call builds the model
    assert first.error is None and first.traces == 2, first
    assert "TensorFlow traced it 2 times in this call: it created 2 variable(s)" in \
        first.calls[0].reason, first.calls[0].reason
    assert later.traces == 1 and "times in this call" not in later.calls[0].reason


def test_pre_graph_shapes_through_a_nested_function_are_the_traced_ones():
    """A re-import infers a nested tf.function's call through a body whose variable read has
    no shape; the pre graph is the traced graph, so the report takes tracing's shapes."""
    source = sources.Source(NESTED, "nested.py")
    request = prepare(source, "outer", ["float32[2,4]"], ["spec", "spec-dynamic"], runs=3,
                      warmup=1)
    report = inspection.run(request)
    outer = loader.load_function(source, "outer", str(SOURCES)).function
    for mode, dims in (("spec", [2, 4]), ("spec-dynamic", [None, None])):
        concrete = tf.function(outer).get_concrete_function(tf.TensorSpec(dims, tf.float32))
        calls = [op for op in concrete.graph.get_operations()
                 if op.type == "StatefulPartitionedCall"]
        assert len(calls) == 1
        expected = "(" + ", ".join(str(d) for d in calls[0].outputs[0].shape.as_list()) + ")"
        nodes = {n.name: n for n in report.result(mode).shapes["pre"].nodes}
        assert nodes[calls[0].name].outputs == (expected,)
    assert report.result("spec").unknown_shape_outputs["pre"] == 0
    assert report.result("spec-dynamic").unknown_shape_outputs["pre"] > 0


def test_summary_names_every_kind_of_change_checknumerics_op_change_included():
    """debug_stripper turns CheckNumerics into an Identity in place: an op change, which the
    text summary must show as TensorFlow reported it."""
    from inspector.output.text import format_summary

    code = ("import tensorflow as tf\n\ndef f(x):\n"
            "    return tf.debugging.check_numerics(x * 2.0, 'bad') + 1.0\n")
    request = prepare(sources.Source(code, "checked.py"), calls=["float32[4]"], modes=["spec"],
                      grappler=["debug_stripper=on"], runs=3, warmup=1)
    report = inspection.run(request)
    changes = report.result("spec").diff.op_changed
    checked = [c for c in changes if c.pre_op == "CheckNumerics"]
    assert checked and checked[0].post_op == "Identity"
    text = format_summary(report)
    assert f"x1 CheckNumerics -> Identity (by debug_stripper): {checked[0].name}" in text


def test_argument_data_is_made_in_its_own_dtype():
    import tracemalloc

    from inspector.engine.functions import make_array
    from inspector.inputs.calls import TensorArg

    for dtype, itemsize in (("float32", 4), ("int32", 4), ("bool", 1), ("float16", 2)):
        tracemalloc.start()
        array = make_array(TensorArg(dtype, (500, 500)), seed=1)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert array.dtype == np.dtype(tf.dtypes.as_dtype(dtype).as_numpy_dtype)
        # float16 goes through float32 (NumPy draws no 16-bit normals): at most 3x its size;
        # the others never hold a float64 copy (which would be 2x-8x).
        limit = 3.1 if dtype == "float16" else 1.1
        assert peak <= limit * 500 * 500 * itemsize, (dtype, peak)
