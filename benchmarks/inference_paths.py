"""Ways to run DispNet for depth, each a callable uint8 [B, H, W, 3] -> depth float32 [B, H, W] (= 1 / disp1), so
that benchmarks/depth_inference.py can time them and tests can hold their outputs against the library's path.

- keras_eager: an eager Keras call per batch (what run_eval and sfm-predict ran until they took the library path).
- library: evaluation.depth_predict.DepthPredictor, what run_eval and sfm-predict run: the call traced once into a
  tf.function for any batch size.
- xla: the call traced for the timed batch shape and compiled with XLA (jit_compile=True).
- frozen: the traced function with its variables folded into constants (TF's convert_variables_to_constants_v2),
  so grappler can constant-fold around the weights.
- tflite: the TensorFlow Lite export (sfmlearner_tf/export/tflite.py, XNNPACK's CPU kernels), batch 1 only: a
  batch runs image by image.
- mixed_precision: a DispNet computing in bfloat16 (CPU) / float16 (GPU) with the same weights, through the
  library path (what --mixed_precision runs).

FLOAT32_TOLERANCE / MIXED_TOLERANCE bound their largest relative depth
difference from keras_eager (checked by tests/test_bench_inference.py).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

from sfmlearner_tf.evaluation.depth_predict import DepthPredictor, to_network_range
from sfmlearner_tf.export import TfliteDepth, convert_to_tflite
from sfmlearner_tf.models import DispNet
from sfmlearner_tf.ops.precision import DtypePolicy, precision_policy

PATHS = ("keras_eager", "library", "xla", "frozen", "tflite", "mixed_precision")
FLOAT32_TOLERANCE = 1e-4  # largest relative depth difference of the float32 paths from keras_eager
MIXED_TOLERANCE = 0.1     # bfloat16 keeps 8 mantissa bits: depths move by a few percent

DepthFn = Callable[[np.ndarray], np.ndarray]


def _traced(net: keras.Model, batch: int, height: int, width: int, jit: bool) -> tf.types.experimental.ConcreteFunction:
    """Network-range float32 images -> depth, traced for one fixed input shape."""
    function = tf.function(lambda x: 1.0 / tf.cast(net(x, training=False)[0], tf.float32)[..., 0], jit_compile=jit)
    return function.get_concrete_function(tf.TensorSpec([batch, height, width, 3], tf.float32))


def _from_traced(concrete: Callable) -> DepthFn:
    def depth(images: np.ndarray) -> np.ndarray:
        out = concrete(tf.constant(to_network_range(images)))
        return (out[0] if isinstance(out, list | tuple) else out).numpy()

    return depth


def mixed_precision_copy(net: keras.Model) -> keras.Model:
    """A DispNet with the mixed precision policy (bfloat16 on a CPU, float16 on a GPU) holding `net`'s weights."""
    with DtypePolicy(precision_policy(True)):
        mixed = DispNet().ensure_built()
    mixed.set_weights(net.get_weights())
    return mixed


def make_path(name: str, net: keras.Model, batch: int, height: int, width: int, tflite_threads: int | None = None
              ) -> DepthFn:
    """The depth callable of path `name` (PATHS) for batches of `batch` uint8 images of height x width."""
    if name == "keras_eager":
        return lambda images: 1.0 / net(to_network_range(images), training=False)[0].numpy()[..., 0]
    if name == "library":
        return DepthPredictor(net, height, width)
    if name == "xla":
        return _from_traced(_traced(net, batch, height, width, jit=True))
    if name == "frozen":
        return _from_traced(convert_variables_to_constants_v2(_traced(net, batch, height, width, jit=False)))
    if name == "tflite":
        model = TfliteDepth(convert_to_tflite(net, height, width, "float32"), num_threads=tflite_threads)
        return lambda images: np.stack([model(image) for image in images])
    if name == "mixed_precision":
        return DepthPredictor(mixed_precision_copy(net), height, width)
    raise ValueError(f"unknown inference path {name!r}; choose from {PATHS}")


def max_relative_difference(depth: np.ndarray, reference: np.ndarray) -> float:
    """Largest |depth - reference| / reference over all pixels."""
    return float(np.max(np.abs(depth.astype(np.float64) - reference) / reference))
