"""A raw frame read, resized and its intrinsics scaled, as the original's preparation did (scipy's imresize)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from sfmlearner_tf.errors import DataError


def load_frame(path: Path) -> np.ndarray:
    """A raw frame as RGB uint8 [H, W, 3] (grey or RGBA images are converted), errors naming the file."""
    if not path.is_file():
        raise DataError(f"{path}: image not found")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"{path}: corrupt or unreadable image ({exc})") from exc


def resize_frame(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """PIL bilinear resize, what `scipy.misc.imresize(image, (height, width))` did for uint8 RGB."""
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))


def scale_intrinsics(intrinsics: np.ndarray, zoom_x: float, zoom_y: float) -> np.ndarray:
    """fx, cx times zoom_x and fy, cy times zoom_y, computed in float64 and stored in K's dtype (as the original)."""
    scaled = intrinsics.astype(np.float64)
    scaled[0, [0, 2]] *= zoom_x
    scaled[1, [1, 2]] *= zoom_y
    return scaled.astype(intrinsics.dtype)
