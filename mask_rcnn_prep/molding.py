"""Turning a uint8 frame into the network input ("molding") as matterport does: resize (scikit-image's bilinear
resize with a zero border, see bilinear.py), truncate to uint8, zero-pad, subtract the mean pixel, and remember
the window that holds the real image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mask_rcnn_prep.bilinear import resize_bilinear
from mask_rcnn_prep.config import MaskRcnnConfig
from sfmlearner_tf.errors import DataError


@dataclass(frozen=True)
class ResizePlan:
    """How one image size maps into the network input: scaled size, padding and the image window."""

    scale: float
    resized_hw: tuple[int, int]
    padded_hw: tuple[int, int]
    window: tuple[int, int, int, int]  # (y1, x1, y2, x2) in padded pixels, y2/x2 exclusive


def _pad_to_multiple(size: int, multiple: int) -> int:
    return size if size % multiple == 0 else size - size % multiple + multiple


def resize_plan(height: int, width: int, config: MaskRcnnConfig) -> ResizePlan:
    """Matterport's `resize_image` arithmetic (Python `round`, i.e. half to even) for one image size."""
    scale = max(1.0, config.image_min_dim / min(height, width)) if config.image_min_dim else 1.0
    if config.resize_mode == "square" and round(max(height, width) * scale) > config.image_max_dim:
        scale = config.image_max_dim / max(height, width)
    resized = (round(height * scale), round(width * scale)) if scale != 1.0 else (height, width)
    if config.resize_mode == "square":
        padded = (config.image_max_dim, config.image_max_dim)
    else:
        padded = (_pad_to_multiple(resized[0], 64), _pad_to_multiple(resized[1], 64))
    top = (padded[0] - resized[0]) // 2
    left = (padded[1] - resized[1]) // 2
    return ResizePlan(scale, resized, padded, (top, left, top + resized[0], left + resized[1]))


def mold_image(image: np.ndarray, config: MaskRcnnConfig) -> tuple[np.ndarray, ResizePlan]:
    """uint8 RGB [H, W, 3] -> (float32 [H', W', 3] resized, padded, mean-subtracted; its ResizePlan)."""
    if image.ndim != 3 or image.shape[2] != 3:
        raise DataError(f"expected an RGB image [H, W, 3], got shape {image.shape}")
    plan = resize_plan(image.shape[0], image.shape[1], config)
    resized = image
    if plan.resized_hw != image.shape[:2]:
        # matterport's resize_image ends with .astype(uint8): the fractions are truncated, not rounded.
        resized = resize_bilinear(image, *plan.resized_hw).astype(np.uint8)
    molded = np.zeros((*plan.padded_hw, 3), dtype=np.float32)
    y1, x1, y2, x2 = plan.window
    molded[y1:y2, x1:x2] = resized
    # Padding is zero *before* mean subtraction, as in matterport (pad, then mold).
    return molded - np.asarray(config.mean_pixel, dtype=np.float32), plan
