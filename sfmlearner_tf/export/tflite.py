"""DispNet as TensorFlow Lite: a fixed-size signature (uint8 [1, H, W, 3] at the model's size -> depth
[1, H, W]), float32 weights or float16 weights (half the file; the CPU kernels dequantise them to float32).

The model is converted from a temporary SavedModel (the TF2 path; converting a concrete function directly
is deprecated). Resize frames to the model's size first (PIL LANCZOS, as sfm-predict does).
TensorFlow 2.21 still ships tf.lite.Interpreter but marks it deprecated in favour of LiteRT's
(`pip install ai-edge-litert`, same API); TfliteDepth uses LiteRT's when it is installed, TensorFlow's
otherwise, so no new dependency is needed.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.export.savedmodel import SIGNATURE, fixed_size_depth, write_archive

TFLITE_DTYPES = ("float32", "float16")


def convert_to_tflite(depth_net: keras.Model, height: int, width: int, dtype: str = "float32") -> bytes:
    """The TensorFlow Lite flatbuffer of DispNet at height x width with float32 or float16 weights."""
    if dtype not in TFLITE_DTYPES:
        raise ConfigError(f"TFLite weights must be float32 or float16, got {dtype!r}")
    with tempfile.TemporaryDirectory() as tmp:
        spec = tf.TensorSpec([1, height, width, 3], tf.uint8, name="image")
        write_archive(depth_net, Path(tmp) / "model", fixed_size_depth(depth_net), spec)
        converter = tf.lite.TFLiteConverter.from_saved_model(str(Path(tmp) / "model"), signature_keys=[SIGNATURE])
        if dtype == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        return converter.convert()


def _interpreter_class() -> type:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        Interpreter = tf.lite.Interpreter  # noqa: N806 (a class)
    return Interpreter


class TfliteDepth:
    """Runs an exported .tflite depth model: uint8 [H, W, 3] or [1, H, W, 3] at the model's size -> depth."""

    def __init__(self, model: str | os.PathLike | bytes, num_threads: int | None = None) -> None:
        source = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
        if not isinstance(model, bytes) and not Path(model).is_file():
            raise DataError(f"{model}: TFLite model not found")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # tf.lite.Interpreter's deprecation notice
            self.interpreter = _interpreter_class()(**source, num_threads=num_threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) the model takes."""
        return int(self.input["shape"][1]), int(self.input["shape"][2])

    def __call__(self, image: np.ndarray) -> np.ndarray:
        batch = np.asarray(image, dtype=np.uint8)
        batch = batch[np.newaxis] if batch.ndim == 3 else batch
        wanted = tuple(int(d) for d in self.input["shape"])
        if batch.shape != wanted:
            raise ConfigError(f"the TFLite model takes uint8 {wanted}, got {batch.shape}")
        self.interpreter.set_tensor(self.input["index"], batch)
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"])[0].copy()
