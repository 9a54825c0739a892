"""The original's data augmentation and multi-scale intrinsics, in TF (docs/QUIRKS.md, "one augmentation draw per
batch", "augmentation intrinsics").

One random draw per batch: sx, sy ~ U[1, 1.15); the batch is area-resized to (int(H*sy), int(W*sx)) (float32
product, truncated), then cropped back to H x W at integer offsets uniform in [0, in - out]; fx, cx are scaled by
sx and fy, cy by sy, then cx, cy shifted by the offsets.

Quirks kept from the original (default): the image is scaled by the realised factor r = int(W*sx)/W (the area
resize maps pixel centre u to r*u + (r - 1)/2), while K is scaled by the drawn sx. The projection of a point
through the adjusted K is therefore off by (r - sx)*u + (r - 1)/2: up to about -1 pixel at the right/bottom
border (r - sx > -1/W) plus at most 0.075. `exact=True` scales K by r and adds the half-pixel term instead,
which makes the projection exact. Draws are stateless (seeded per batch) so a pipeline with a seed is
reproducible.
"""

from __future__ import annotations

import tensorflow as tf

from sfmlearner_tf.ops.legacy_resize import area_resize

SCALE_RANGE = (1.0, 1.15)


def make_intrinsics_matrix(fx: tf.Tensor, fy: tf.Tensor, cx: tf.Tensor, cy: tf.Tensor) -> tf.Tensor:
    """[B] vectors -> [B, 3, 3] matrices [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] (other entries are dropped)."""
    zeros = tf.zeros_like(fx)
    ones = tf.ones_like(fx)
    rows = [tf.stack([fx, zeros, cx], axis=1), tf.stack([zeros, fy, cy], axis=1), tf.stack([zeros, zeros, ones], 1)]
    return tf.stack(rows, axis=1)


def multi_scale_intrinsics(intrinsics: tf.Tensor, num_scales: int) -> tf.Tensor:
    """[B, 3, 3] -> [B, num_scales, 3, 3] with fx, fy, cx, cy divided by 2^s at scale s."""
    scales = []
    for s in range(num_scales):
        factor = float(2**s)
        scales.append(make_intrinsics_matrix(intrinsics[:, 0, 0] / factor, intrinsics[:, 1, 1] / factor,
                                             intrinsics[:, 0, 2] / factor, intrinsics[:, 1, 2] / factor))
    return tf.stack(scales, axis=1)


def scale_and_crop(images: tf.Tensor, intrinsics: tf.Tensor, sx: tf.Tensor, sy: tf.Tensor, crop_seed: tf.Tensor,
                   exact: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
    """Resizes a batch [B, H, W, C] by (sy, sx) and crops it back to H x W at a random offset; float32 output.

    exact=False: K scaled by (sx, sy) as the original; exact=True: K follows the resized pixels exactly.
    """
    out_h, out_w = images.shape[1], images.shape[2]
    in_h = tf.cast(tf.cast(out_h, tf.float32) * sy, tf.int32)
    in_w = tf.cast(tf.cast(out_w, tf.float32) * sx, tf.int32)
    scaled = area_resize(images, tf.stack([in_h, in_w]))
    seed_y, seed_x = tf.unstack(tf.random.experimental.stateless_split(crop_seed, 2))
    offset_y = tf.random.stateless_uniform([], seed_y, 0, in_h - out_h + 1, dtype=tf.int32)
    offset_x = tf.random.stateless_uniform([], seed_x, 0, in_w - out_w + 1, dtype=tf.int32)
    cropped = scaled[:, offset_y: offset_y + out_h, offset_x: offset_x + out_w, :]
    cropped = tf.ensure_shape(cropped, [images.shape[0], out_h, out_w, images.shape[3]])
    shift_x = shift_y = 0.0
    if exact:
        sx = tf.cast(in_w, tf.float32) / out_w
        sy = tf.cast(in_h, tf.float32) / out_h
        shift_x, shift_y = (sx - 1.0) / 2.0, (sy - 1.0) / 2.0
    adjusted = make_intrinsics_matrix(intrinsics[:, 0, 0] * sx, intrinsics[:, 1, 1] * sy,
                                      intrinsics[:, 0, 2] * sx + shift_x - tf.cast(offset_x, tf.float32),
                                      intrinsics[:, 1, 2] * sy + shift_y - tf.cast(offset_y, tf.float32))
    return cropped, adjusted


def random_scale_and_crop(images: tf.Tensor, intrinsics: tf.Tensor, seed: tf.Tensor,
                          exact: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
    """The original's augmentation with one draw for the batch from the stateless `seed` [2]."""
    scale_seed, crop_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    scaling = tf.random.stateless_uniform([2], scale_seed, *SCALE_RANGE)
    return scale_and_crop(images, intrinsics, scaling[0], scaling[1], crop_seed, exact)
