"""Object boundary images (seed paper, section II-C): Sobel x and y responses of each instance mask,
combined as the L2 magnitude, maximum over instances, scaled so that a straight mask edge is 255.

A binary mask's straight edge gives a 3x3 Sobel magnitude of exactly 4 on the two pixels beside it; corners
give up to 4*sqrt(2), which is clipped. Pixels outside the image count as background (zero padding), so a
mask touching the image border has a boundary there too.
"""

from __future__ import annotations

import numpy as np

from sfmlearner_tf.errors import DataError

STRAIGHT_EDGE_MAGNITUDE = 4.0


def sobel_magnitude(mask: np.ndarray) -> np.ndarray:
    """L2 magnitude of the 3x3 Sobel x and y responses of one [H, W] mask (zero padding), float32."""
    padded = np.pad(mask.astype(np.float32), 1)
    # Separable Sobel: derivative [-1, 0, 1] along one axis, smoothing [1, 2, 1] along the other.
    dx = padded[:, 2:] - padded[:, :-2]
    gx = dx[:-2] + 2.0 * dx[1:-1] + dx[2:]
    dy = padded[2:, :] - padded[:-2, :]
    gy = dy[:, :-2] + 2.0 * dy[:, 1:-1] + dy[:, 2:]
    return np.sqrt(gx * gx + gy * gy)


def _as_instance_stack(masks: np.ndarray) -> np.ndarray:
    if masks.ndim == 2:
        ids = [i for i in np.unique(masks) if i != 0]
        return np.stack([masks == i for i in ids]) if ids else np.zeros((0, *masks.shape), dtype=bool)
    if masks.ndim == 3:
        return masks.astype(bool)
    raise DataError(f"instance masks must be [K, H, W] or an [H, W] id map, got shape {masks.shape}")


def boundary_from_instance_masks(masks: np.ndarray) -> np.ndarray:
    """Boundary image (uint8 [H, W]) of instance masks given as [K, H, W] booleans or an [H, W] id map."""
    stack = _as_instance_stack(np.asarray(masks))
    height, width = stack.shape[1:]
    magnitude = np.zeros((height, width), dtype=np.float32)
    for mask in stack:
        np.maximum(magnitude, sobel_magnitude(mask), out=magnitude)
    scaled = np.clip(magnitude / STRAIGHT_EDGE_MAGNITUDE, 0.0, 1.0) * 255.0
    return np.round(scaled).astype(np.uint8)


def boundary_panel_rgb(boundary: np.ndarray) -> np.ndarray:
    """A grey boundary image [H, W] uint8 as the RGB panel [H, W, 3] appended to a stacked sample."""
    return np.repeat(np.asarray(boundary, dtype=np.uint8)[..., None], 3, axis=2)
