"""Depth predictions for a test list, as the original's test_kitti_depth.py: each raw image is resized with PIL
LANCZOS (the old ANTIALIAS) to img_width x img_height, batched, uint8 -> [-1, 1], and depth = 1 / disp1.
(Predictions from a file: prediction_file.py.)"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
from PIL import Image

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.progress import ProgressReporter

UINT8_TO_UNIT = np.float32(1.0 / 255.0)  # tf.image.convert_image_dtype's factor for uint8 -> float32


def load_resized_image(path: str | os.PathLike, height: int, width: int,
                       resample: Image.Resampling = Image.Resampling.LANCZOS) -> np.ndarray:
    """An RGB image file resized to width x height with PIL (LANCZOS for depth, as the original's test script)."""
    try:
        with Image.open(path) as image:
            rgb = image if image.mode == "RGB" else image.convert("RGB")
            return resize_rgb(np.asarray(rgb), height, width, resample)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read image ({exc})") from exc


def resize_rgb(image: np.ndarray, height: int, width: int,
               resample: Image.Resampling = Image.Resampling.LANCZOS) -> np.ndarray:
    """An RGB uint8 array resized to width x height with PIL, as load_resized_image does for files (used for
    frames that are not files, such as a video's)."""
    return np.asarray(Image.fromarray(image).resize((width, height), resample), dtype=np.uint8)


def to_network_range(images: np.ndarray) -> np.ndarray:
    """uint8 -> float32 in [-1, 1], as the original's preprocess_image (x / 255 * 2 - 1)."""
    return images.astype(np.float32) * UINT8_TO_UNIT * np.float32(2.0) - np.float32(1.0)


def predict_depth_batch(depth_net, images: np.ndarray) -> np.ndarray:
    """uint8 [B, H, W, 3] -> predicted depth float32 [B, H, W] = 1 / disp1."""
    disp1 = depth_net(to_network_range(images), training=False)[0]
    return (1.0 / tf.cast(disp1, tf.float32).numpy())[..., 0]


def predict_depths(depth_net, image_paths: Sequence[str | os.PathLike], height: int = 128, width: int = 416,
                   batch_size: int = 4, progress_every_s: float = 10.0) -> np.ndarray:
    """Depth maps float32 [N, height, width] of the images with an in-memory DispNet (no checkpoint needed)."""
    progress = ProgressReporter(len(image_paths), "depth prediction", every_s=progress_every_s, unit="images")
    depths = []
    for start in range(0, len(image_paths), batch_size):
        batch = np.stack([load_resized_image(p, height, width) for p in image_paths[start:start + batch_size]])
        depths.append(predict_depth_batch(depth_net, batch))
        progress.update(len(batch))
    return np.concatenate(depths) if depths else np.zeros((0, height, width), np.float32)


def load_depth_net(checkpoint: str | os.PathLike, mixed_precision: bool = False):
    """A DispNet filled from a checkpoint (Zhou et al.'s TF1 prefix, one of ours, or a folder of ours); with
    mixed_precision it computes in bfloat16 on a CPU or float16 on a GPU (the faster formats there; the README
    has the measured throughput), its weights still float32."""
    return restore_depth_net(checkpoint, mixed_precision)[0]


def restore_depth_net(checkpoint: str | os.PathLike, mixed_precision: bool = False) -> tuple[object, dict]:
    """load_depth_net's DispNet and restore_models' info, whose "checkpoint" is the prefix actually read (the
    newest one when `checkpoint` is a folder)."""
    from sfmlearner_tf.models import DispNet
    from sfmlearner_tf.models.tf1_checkpoint import restore_models
    from sfmlearner_tf.training.distribute import DtypePolicy, precision_policy

    with DtypePolicy(precision_policy(mixed_precision)):
        depth_net = DispNet()
        depth_net.ensure_built()
    return depth_net, restore_models(checkpoint, depth_net=depth_net)
