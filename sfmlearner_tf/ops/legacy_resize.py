"""Resizes that reproduce TF1's behaviour exactly (docs/QUIRKS.md, "resize_like" and "half-pixel-free bilinear").

TF2's `tf.image.resize` uses half-pixel centres for nearest and bilinear and so gives different numbers than
the original graph; these helpers use the legacy kernels or their exact equivalents.
"""

from __future__ import annotations

import tensorflow as tf


def resize_like_crop(inputs: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """The original's nearest `resize_like` from a transposed-conv output of size 2*ceil(n/2) down to n.

    TF1 nearest without half-pixel centres maps output index j to input floor(j * in / out); for in = out + 1
    that is j itself, i.e. the last row/column is dropped. Sizes that already match are returned unchanged.
    """
    in_shape = tf.shape(inputs)
    like_shape = tf.shape(like)
    tf.debugging.assert_less_equal(like_shape[1:3], in_shape[1:3], message="resize_like_crop only shrinks")
    tf.debugging.assert_less_equal(in_shape[1:3] - like_shape[1:3], 1, message="resize_like_crop drops one row/col")
    return inputs[:, : like_shape[1], : like_shape[2], :]


def legacy_bilinear_resize(images: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """TF1 `resize_bilinear(align_corners=False)` without half-pixel centres: source coordinate = j * in / out."""
    return tf.raw_ops.ResizeBilinear(images=images, size=size, align_corners=False, half_pixel_centers=False)


def area_resize(images: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    """TF1 `resize_area(align_corners=False)` to any size (used by the data augmentation's random scaling)."""
    return tf.raw_ops.ResizeArea(images=images, size=size, align_corners=False)


def area_downsample(images: tf.Tensor, factor: int) -> tf.Tensor:
    """`resize_area` by an exact integer factor: the mean of factor x factor blocks (H and W divisible by it).

    Written as a reshape and mean, which equals TF1's area resize for integer factors and is cheaper and
    differentiable (ResizeArea has no gradient).
    """
    if factor == 1:
        return images
    shape = tf.shape(images)
    channels = images.shape[-1]
    blocks = tf.reshape(images, [shape[0], shape[1] // factor, factor, shape[2] // factor, factor, channels])
    return tf.reduce_mean(blocks, axis=[2, 4])
