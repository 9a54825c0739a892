"""A raw frame read, resized and its intrinsics scaled, as the original's preparation did (scipy's imresize)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from sfmlearner_tf.ops.image_files import read_rgb


def load_frame(path: Path) -> np.ndarray:
    """A raw frame as RGB uint8 [H, W, 3], by the one rule for images of any bit depth (ops/image_files.py),
    errors naming the file."""
    return read_rgb(path)


def resize_frame(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """PIL bilinear resize, what `scipy.misc.imresize(image, (height, width))` did for uint8 RGB."""
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))


def scale_intrinsics(intrinsics: np.ndarray, zoom_x: float, zoom_y: float) -> np.ndarray:
    """fx, cx times zoom_x and fy, cy times zoom_y, computed in float64 and stored in K's dtype (as the original)."""
    scaled = intrinsics.astype(np.float64)
    scaled[0, [0, 2]] *= zoom_x
    scaled[1, [1, 2]] *= zoom_y
    return scaled.astype(intrinsics.dtype)
