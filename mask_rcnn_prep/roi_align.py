"""Pyramid ROIAlign: each box is cropped from the FPN level that matches its size, with bilinear
`crop_and_resize` (sample points span the box corners inclusive, zero outside the map)."""

from __future__ import annotations

import keras
import tensorflow as tf


def roi_levels(boxes: tf.Tensor, image_area: tf.Tensor) -> tf.Tensor:
    """Pyramid level (2..5, int32) of normalised boxes [..., 4]: 4 + round(log2(sqrt(h*w) / (224/sqrt(area)))).

    `round` is TF's (half to even), as in matterport. Empty (zero-padded) boxes go to level 2.
    """
    height = boxes[..., 2] - boxes[..., 0]
    width = boxes[..., 3] - boxes[..., 1]
    relative = tf.sqrt(height * width) / (224.0 / tf.sqrt(tf.cast(image_area, tf.float32)))
    level = 4.0 + tf.round(tf.math.log(relative) / tf.math.log(2.0))
    level = tf.where(tf.math.is_finite(level), level, 2.0)
    return tf.cast(tf.clip_by_value(level, 2.0, 5.0), tf.int32)


class PyramidRoiAlign(keras.layers.Layer):
    """(boxes [B, N, 4], padded image size [2], [P2, P3, P4, P5]) -> crops [B, N, pool, pool, C]."""

    def __init__(self, pool_size: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.pool_size = pool_size

    def call(self, boxes: tf.Tensor, image_hw: tf.Tensor, feature_maps: list[tf.Tensor]) -> tf.Tensor:
        batch, count = tf.shape(boxes)[0], tf.shape(boxes)[1]
        flat_boxes = tf.reshape(boxes, [-1, 4])
        box_images = tf.repeat(tf.range(batch), count)
        image_area = tf.cast(image_hw[0] * image_hw[1], tf.float32)
        partitions = roi_levels(flat_boxes, image_area) - 2
        positions = tf.dynamic_partition(tf.range(tf.shape(flat_boxes)[0]), partitions, 4)
        crops = []
        for feature_map, ix in zip(feature_maps, positions):
            crops.append(
                tf.image.crop_and_resize(
                    feature_map, tf.gather(flat_boxes, ix), tf.gather(box_images, ix),
                    [self.pool_size, self.pool_size], method="bilinear",
                )
            )
        stitched = tf.dynamic_stitch(positions, crops)  # back to the boxes' order
        channels = feature_maps[0].shape[-1]
        return tf.reshape(stitched, [batch, count, self.pool_size, self.pool_size, channels])
