"""RPN anchors for every pyramid level, in TF ops so one graph serves any input size.

Matterport's layout: level i has feature map ceil(H / stride_i) x ceil(W / stride_i); each position
(y, x) (every `anchor_stride` cells) carries one anchor per ratio r, centred at (y * stride, x * stride)
(no half-cell offset), of height scale / sqrt(r) and width scale * sqrt(r). Order: level, then y, then x,
then ratio -- the order in which the RPN's [B, h, w, anchors * k] outputs are reshaped. Anchors are
returned normalised to the padded image (see box_utils).
"""

from __future__ import annotations

import tensorflow as tf

from mask_rcnn_prep.config import MaskRcnnConfig


def level_anchors(feature_hw: tf.Tensor, scale: float, ratios: tuple[float, ...], stride: int,
                  anchor_stride: int) -> tf.Tensor:
    """Pixel anchors [N, 4] (y1, x1, y2, x2) of one level with feature map size `feature_hw` (int32 [2])."""
    sqrt_ratios = tf.sqrt(tf.constant(ratios, tf.float32))
    heights = scale / sqrt_ratios
    widths = scale * sqrt_ratios
    ys = tf.cast(tf.range(0, feature_hw[0], anchor_stride) * stride, tf.float32)
    xs = tf.cast(tf.range(0, feature_hw[1], anchor_stride) * stride, tf.float32)
    center_y, center_x = tf.meshgrid(ys, xs, indexing="ij")  # [h, w]
    center_y = center_y[..., None] + tf.zeros_like(heights)  # [h, w, ratios]
    center_x = center_x[..., None] + tf.zeros_like(widths)
    boxes = tf.stack(
        [center_y - 0.5 * heights, center_x - 0.5 * widths, center_y + 0.5 * heights, center_x + 0.5 * widths],
        axis=-1,
    )  # [h, w, ratios, 4]
    return tf.reshape(boxes, [-1, 4])


def pyramid_anchors(image_hw: tf.Tensor, config: MaskRcnnConfig) -> tf.Tensor:
    """Normalised anchors [N, 4] of all levels for a padded input of size `image_hw` (int32 [2])."""
    image_hw = tf.cast(image_hw, tf.int32)
    per_level = []
    for scale, stride in zip(config.anchor_scales, config.backbone_strides):
        feature_hw = (image_hw + stride - 1) // stride  # ceil
        per_level.append(level_anchors(feature_hw, float(scale), config.anchor_ratios, stride, config.anchor_stride))
    anchors = tf.concat(per_level, axis=0)
    size = tf.cast(image_hw, tf.float32)
    scale = tf.stack([size[0] - 1.0, size[1] - 1.0, size[0] - 1.0, size[1] - 1.0])
    return (anchors - tf.constant([0.0, 0.0, 1.0, 1.0])) / scale
