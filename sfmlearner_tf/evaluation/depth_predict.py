"""Depth predictions for a test list, as the original's test_kitti_depth.py: each raw image is resized with PIL
LANCZOS (the old ANTIALIAS) to img_width x img_height, batched, uint8 -> [-1, 1], and depth = 1 / disp1.
(Predictions from a file: prediction_file.py.)"""

from __future__ import annotations

import os
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from sfmlearner_tf.ops.image_files import read_rgb
from sfmlearner_tf.progress import ProgressReporter

UINT8_TO_UNIT = np.float32(1.0 / 255.0)  # tf.image.convert_image_dtype's factor for uint8 -> float32


def load_resized_image(path: str | os.PathLike, height: int, width: int,
                       resample: Image.Resampling = Image.Resampling.LANCZOS) -> np.ndarray:
    """An image file (any bit depth: ops/image_files.py) resized to width x height with PIL (LANCZOS for depth,
    as the original's test script)."""
    return resize_rgb(read_rgb(path), height, width, resample)


def resize_rgb(image: np.ndarray, height: int, width: int,
               resample: Image.Resampling = Image.Resampling.LANCZOS) -> np.ndarray:
    """An RGB uint8 array resized to width x height with PIL, as load_resized_image does for files (used for
    frames that are not files, such as a video's)."""
    return np.asarray(Image.fromarray(image).resize((width, height), resample), dtype=np.uint8)


def to_network_range(images: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [-1, 1], as the original's preprocess_image (x / 255 * 2 - 1)."""
    return images.astype(np.float32) * UINT8_TO_UNIT * np.float32(2.0) - np.float32(1.0)


class DepthPredictor:
    """Callable uint8 images [B, height, width, 3] -> depth float32 [B, height, width] (= 1 / disp1) of a DispNet.

    The net runs as one TensorFlow graph traced for any batch size (not as an eager Keras call, which is about
    twice as slow at batch 1); it reads the net's variables, so it follows the weights if they change. Its
    depths agree with the eager call's to float32 rounding (graph-level fusions change the summation order)."""

    def __init__(self, depth_net: keras.Model, height: int, width: int) -> None:
        self._disparity = tf.function(lambda images: depth_net(images, training=False)[0], autograph=False,
                                      input_signature=[tf.TensorSpec([None, height, width, 3], tf.float32)])

    def __call__(self, images: np.ndarray) -> np.ndarray:
        disp1 = self._disparity(tf.constant(to_network_range(images)))
        return (1.0 / tf.cast(disp1, tf.float32).numpy())[..., 0]


def predict_depths(depth_net, image_paths: Sequence[str | os.PathLike], height: int = 128, width: int = 416,
                   batch_size: int = 4, progress_every_s: float = 10.0) -> np.ndarray:
    """Depth maps float32 [N, height, width] of the images with an in-memory DispNet (no checkpoint needed)."""
    predict = DepthPredictor(depth_net, height, width)
    progress = ProgressReporter(len(image_paths), "depth prediction", every_s=progress_every_s, unit="images")
    depths = []
    for start in range(0, len(image_paths), batch_size):
        batch = np.stack([load_resized_image(p, height, width) for p in image_paths[start:start + batch_size]])
        depths.append(predict(batch))
        progress.update(len(batch))
    return np.concatenate(depths) if depths else np.zeros((0, height, width), np.float32)
