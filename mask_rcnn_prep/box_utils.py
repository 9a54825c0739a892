"""Box arithmetic shared by the proposal and detection layers. Boxes are (y1, x1, y2, x2); inside the graph
they are normalised so that pixel 0 maps to 0 and pixel H-1 (W-1) maps to 1 (matterport's convention)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def apply_box_deltas(boxes: tf.Tensor, deltas: tf.Tensor) -> tf.Tensor:
    """Shifts box centres by (dy*h, dx*w) and scales sizes by exp(dh), exp(dw). boxes, deltas [..., 4]."""
    height = boxes[..., 2] - boxes[..., 0]
    width = boxes[..., 3] - boxes[..., 1]
    center_y = boxes[..., 0] + 0.5 * height + deltas[..., 0] * height
    center_x = boxes[..., 1] + 0.5 * width + deltas[..., 1] * width
    height = height * tf.exp(deltas[..., 2])
    width = width * tf.exp(deltas[..., 3])
    return tf.stack(
        [center_y - 0.5 * height, center_x - 0.5 * width, center_y + 0.5 * height, center_x + 0.5 * width], axis=-1
    )


def clip_boxes(boxes: tf.Tensor, window: tf.Tensor) -> tf.Tensor:
    """Clips boxes [..., 4] to a window (y1, x1, y2, x2) broadcastable against them."""
    window = tf.cast(window, boxes.dtype)
    low = tf.stack([window[..., 0], window[..., 1], window[..., 0], window[..., 1]], axis=-1)
    high = tf.stack([window[..., 2], window[..., 3], window[..., 2], window[..., 3]], axis=-1)
    return tf.minimum(tf.maximum(boxes, low), high)


def norm_boxes(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixel boxes (y2, x2 exclusive) -> normalised boxes for an image of `shape` (H, W)."""
    height, width = shape
    scale = np.array([height - 1, width - 1, height - 1, width - 1], dtype=np.float32)
    shift = np.array([0, 0, 1, 1], dtype=np.float32)
    return ((np.asarray(boxes, dtype=np.float32) - shift) / scale).astype(np.float32)


def denorm_boxes(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Normalised boxes -> integer pixel boxes (y2, x2 exclusive) for an image of `shape` (H, W)."""
    height, width = shape
    scale = np.array([height - 1, width - 1, height - 1, width - 1], dtype=np.float32)
    shift = np.array([0, 0, 1, 1], dtype=np.float32)
    return np.round(np.asarray(boxes, dtype=np.float32) * scale + shift).astype(np.int32)
