'''Built-in example functions: the seed article's three examples verbatim, then one effect each.

Sources are text, run in a worker like pasted code; importing this module imports no TensorFlow.
Hints are questions for the user to answer with the report, never stored results.
'''

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from inspector.errors import ModelLoadError, UsageError

# Where the set-up puts the gallery's models (Makefile: models; scripts/make_gallery_models.py).
MODELS_ENV = "INSPECTOR_MODELS"
DEFAULT_MODELS = Path.home() / ".cache" / "tf-graph-inspector" / "models"


@dataclass(frozen=True)
class GalleryEntry:
    """One example a user can pick instead of pasting code."""

    # Short identifier used as ``gallery:NAME`` on the command line and in permalinks.
    name: str
    # One line for pickers.
    title: str
    # The complete Python source, run as a module.
    source: str
    # The function in ``source`` to inspect.
    function: str
    # Default calls in the call-spec grammar; the first is captured and timed.
    calls: tuple[str, ...]
    # What to look at, phrased as a question.
    hint: str
    # Wall-clock limit in seconds that this entry needs (large models need more than the default).
    timeout_s: float = 60.0
    # A model file or SavedModel folder in the models folder (models_folder()) instead of code;
    # ``source`` is then empty and ``function`` the one its generated module defines.
    model: str | None = None


def models_folder() -> Path:
    """Where the gallery's models are ($INSPECTOR_MODELS, else the user's cache)."""
    configured = os.environ.get(MODELS_ENV)
    return Path(configured) if configured else DEFAULT_MODELS


def model_path(entry: GalleryEntry) -> Path:
    """A model entry's file or folder; ModelLoadError saying how to make it when missing."""
    assert entry.model is not None
    path = models_folder() / entry.model
    if not path.exists():
        raise ModelLoadError(f"the gallery's model {entry.model} is not in {models_folder()}: "
                             "the set-up makes it (make run or make test do; or .venv/bin/python "
                             f"scripts/make_gallery_models.py {models_folder()})")
    return path


# The seed article's examples, verbatim.
_SEED_1 = '''import tensorflow as tf
import numpy as np

def process_data(data):
  """Processes NumPy array directly. Inefficient due to runtime type inference."""
  processed_data = tf.square(data)
  return processed_data

#Example usage
data_np = np.array([1,2,3,4], dtype=np.float32)
processed_data_np = process_data(data_np)
print(processed_data_np) # Output: tf.Tensor([ 1.  4.  9. 16.], shape=(4,), dtype=float32)
'''

_SEED_2 = '''import tensorflow as tf

def process_data_spec(data):
  """Processes data using TensorSpec, enabling static analysis and optimization."""
  processed_data = tf.square(data)
  return processed_data

# Example usage with TensorSpec
data_spec = tf.TensorSpec(shape=(4,), dtype=tf.float32)
@tf.function(input_signature=[data_spec])
def process_data_tf(data):
    return process_data_spec(data)

data_tf = tf.constant([1.,2.,3.,4.])
processed_data_tf = process_data_tf(data_tf)
print(processed_data_tf) # Output: tf.Tensor([ 1.  4.  9. 16.], shape=(4,), dtype=float32)
'''

_SEED_3 = '''import tensorflow as tf

def process_variable_data(data):
  """Processes variable-sized data using TensorSpec with unknown dimensions."""
  processed_data = tf.reduce_sum(data)
  return processed_data

# Example usage with unspecified dimension
data_spec_variable = tf.TensorSpec(shape=(None,), dtype=tf.float32) # None indicates unknown dimension
@tf.function(input_signature=[data_spec_variable])
def process_variable_data_tf(data):
    return process_variable_data(data)

data_tf_variable1 = tf.constant([1.,2.,3.])
data_tf_variable2 = tf.constant([1.,2.,3.,4.,5.])

processed_data_tf_variable1 = process_variable_data_tf(data_tf_variable1)
processed_data_tf_variable2 = process_variable_data_tf(data_tf_variable2)
print(processed_data_tf_variable1) # Output: tf.Tensor(6.0, shape=(), dtype=float32)
print(processed_data_tf_variable2) # Output: tf.Tensor(15.0, shape=(), dtype=float32)

'''

_CONSTANT_ARITHMETIC = '''import tensorflow as tf

def scale_by_constants(x):
    # Everything but the last multiply depends only on constants.
    scale = tf.constant(2.0) * tf.constant(3.0) + tf.math.sqrt(tf.constant(16.0))
    offset = tf.reduce_mean(tf.range(10, dtype=tf.float32))
    return x * scale + offset
'''

_SHAPE_FOLDING = '''import tensorflow as tf

def normalize_by_size(x):
    n = tf.cast(tf.size(x), x.dtype)
    rows = tf.cast(tf.shape(x)[0], x.dtype)
    return tf.reduce_sum(x) / n + rows
'''

_ARITHMETIC_REWRITE = '''import tensorflow as tf

def redundant_arithmetic(x, y):
    a = tf.math.negative(tf.math.negative(x))   # a double negation
    b = tf.transpose(tf.transpose(y))           # a transpose undone
    return x + y + a + b + x * 2.0 + x * 3.0    # a chain of adds, a common factor
'''

_FUSED_DENSE = '''import tensorflow as tf

rng = tf.random.Generator.from_seed(0)
w = tf.Variable(rng.normal([32, 64]), name="w")
b = tf.Variable(rng.normal([64]), name="b")

def dense_relu(x):
    return tf.nn.relu(tf.nn.bias_add(tf.matmul(x, w), b))
'''

_STATIC_BRANCH = '''import tensorflow as tf

def pad_to_even(x):
    # AutoGraph turns this `if` on a tensor into a conditional op; is its predicate
    # known before the function runs?
    if tf.shape(x)[0] % 2 == 1:
        x = tf.concat([x, tf.zeros([1], x.dtype)], axis=0)
    return x * 2.0
'''

_RANGE_LOOP = '''import tensorflow as tf

def weighted_powers(x):
    total = tf.zeros_like(x)
    for i in tf.range(4):
        total += tf.pow(x, tf.cast(i, x.dtype))
    return total
'''

_PYTHON_SCALAR = '''import tensorflow as tf

def scale(x, factor):
    # `factor` arrives as a plain Python number.
    return x * factor
'''

_KERAS_MLP = '''import keras

keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((16,)),
    keras.layers.Dense(32, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])

def predict(x):
    return model(x)
'''

# Found by trying (issue 28): Keras 2 (TensorFlow 2.15) builds batch norm as one
# FusedBatchNormV3, Keras 3 as mul and add nodes; Grappler's remapper fuses what it is given.
_CONV_BN = '''import keras

keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((32, 32, 3)),
    keras.layers.Conv2D(16, 3, use_bias=False),
    keras.layers.BatchNormalization(),
    keras.layers.ReLU(),
    keras.layers.GlobalAveragePooling2D(),
])

def features(x):
    return model(x, training=False)
'''

_MOBILENET = '''import keras

keras.utils.set_random_seed(0)
model = keras.applications.MobileNetV2(weights=None)   # random weights: no download

def classify(images):
    return model(images, training=False)
'''

_RESNET = '''import keras

keras.utils.set_random_seed(0)
model = keras.applications.ResNet50(weights=None)   # random weights: no download

def classify(images):
    return model(images, training=False)
'''

ENTRIES: tuple[GalleryEntry, ...] = (
    GalleryEntry("process_data", "Seed example 1: tf.square on a NumPy array", _SEED_1,
                 "process_data", ("float32[4]",),
                 "Does the NumPy mode's post-Grappler graph have fewer optimizations than the "
                 "fixed-TensorSpec mode's, and where does its extra latency come from?"),
    GalleryEntry("process_data_spec", "Seed example 2: tf.square behind a TensorSpec", _SEED_2,
                 "process_data_spec", ("float32[4]",),
                 "Which nodes differ between the spec and numpy modes, before and after Grappler?"),
    GalleryEntry("process_variable_data", "Seed example 3: reduce_sum over a None dimension",
                 _SEED_3, "process_variable_data", ("float32[3]", "float32[5]"),
                 "How many traces does each mode need for two lengths, and which static shapes "
                 "are unknown with None dims?"),
    GalleryEntry("constant_arithmetic", "Folding of constant arithmetic", _CONSTANT_ARITHMETIC,
                 "scale_by_constants", ("float32[8]",),
                 "Which nodes did constant folding replace, and what is left that depends on x?"),
    GalleryEntry("shape_folding", "tf.shape / tf.size with fixed vs None dims", _SHAPE_FOLDING,
                 "normalize_by_size", ("float32[6,4]",),
                 "Are Shape and Size already constants in the pre-Grappler graph with a fixed "
                 "shape, and what happens to them with None dims?"),
    GalleryEntry("arithmetic_rewrite", "Arithmetic optimizer rewrites", _ARITHMETIC_REWRITE,
                 "redundant_arithmetic", ("float32[16,16]; float32[16,16]",),
                 "Which nodes did the arithmetic optimizer remove or add, and what ops replace "
                 "the chain of adds?"),
    GalleryEntry("fused_dense", "Remapper fusion: MatMul + BiasAdd + Relu", _FUSED_DENSE,
                 "dense_relu", ("float32[8,32]",),
                 "Which ops did the remapper fuse into one node, and does XLA do the same?"),
    GalleryEntry("static_branch", "AutoGraph `if` on a shape", _STATIC_BRANCH,
                 "pad_to_even", ("float32[5]", "float32[6]"),
                 "Is the untaken branch still in the graph after Grappler with a fixed shape? "
                 "With None dims?"),
    GalleryEntry("range_loop", "A loop over tf.range", _RANGE_LOOP,
                 "weighted_powers", ("float32[32]",),
                 "Does the loop stay a While op after Grappler, and what is hoisted out of it?"),
    GalleryEntry("python_scalar", "A Python scalar argument", _PYTHON_SCALAR,
                 "scale", ("float32[4]; 2.0", "float32[4]; 3.0", "float32[4]; 2.0"),
                 "Which calls trace again, and why, when only the Python number changes?"),
    GalleryEntry("keras_mlp", "A small Keras model", _KERAS_MLP,
                 "predict", ("float32[4,16]",),
                 "How many nodes does a two-layer Keras model have before and after Grappler, "
                 "and which were fused?"),
    GalleryEntry("conv_batchnorm", "Conv2D, batch norm and ReLU in Keras", _CONV_BN,
                 "features", ("float32[2,32,32,3]",),
                 "Run it on two TensorFlow versions (versions add 2.15 gives Keras 2): what "
                 "does each build for the batch norm, and does Grappler fuse it with the Conv2D "
                 "and the ReLU on both?"),
    GalleryEntry("model_keras", "A .keras model: MobileNetV3Small (random weights)", "",
                 "call_model", (),
                 "What does Grappler do to a saved Keras model's graph when it is called, and "
                 "how many nodes does the fixed shape fold against None dims?",
                 timeout_s=300.0, model="mobilenet_v3_small.keras"),
    GalleryEntry("model_saved", "A SavedModel: MobileNetV3Small (random weights)", "",
                 "serving_default", (),
                 "The signature is a traced function of its own: what do the modes' graphs "
                 "hold around its call, and what is left after Grappler inlines it?",
                 timeout_s=300.0, model="mobilenet_v3_small_saved"),
    GalleryEntry("mobilenet_v2", "MobileNetV2 (random weights), a large graph", _MOBILENET,
                 "classify", ("float32[1,224,224,3]",),
                 "How many Conv2D nodes were fused, and what does the fixed shape buy over None "
                 "dims?", timeout_s=300.0),
    GalleryEntry("resnet50", "ResNet50 (random weights), a large graph", _RESNET,
                 "classify", ("float32[1,224,224,3]",),
                 "Which Grappler pass removes the most nodes, and how long does each take?",
                 timeout_s=300.0),
)

_BY_NAME = {entry.name: entry for entry in ENTRIES}


def get(name: str) -> GalleryEntry:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UsageError(f"no gallery entry {name!r}; entries: {', '.join(_BY_NAME)}") from None
