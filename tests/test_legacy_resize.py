"""Legacy resizes against hand-worked and numpy references (docs/QUIRKS.md, "resize_like", "half-pixel-free
bilinear")."""

import numpy as np
import tensorflow as tf

from sfmlearner_tf.ops.legacy_resize import (
    area_downsample,
    area_resize,
    legacy_bilinear_resize,
    resize_like_crop,
)


def test_resize_like_crop_drops_last_column_like_tf1_nearest():
    x = tf.reshape(tf.range(2 * 8, dtype=tf.float32), [1, 2, 8, 1])
    like = tf.zeros([1, 2, 7, 1])
    out = resize_like_crop(x, like).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(out, x.numpy()[0, :, :7, 0])
    # The TF1 legacy nearest kernel gives the same indices floor(j * 8 / 7).
    legacy = tf.raw_ops.ResizeNearestNeighbor(images=x, size=[2, 7], align_corners=False, half_pixel_centers=False)
    np.testing.assert_array_equal(out, legacy.numpy()[0, :, :, 0])


def test_legacy_bilinear_2x_matches_hand_worked_values():
    src = np.array([1.0, 3.0, 7.0], dtype=np.float32)
    x = tf.constant(src.reshape(1, 1, 3, 1))
    out = legacy_bilinear_resize(x, (1, 6)).numpy().ravel()
    # Source coordinate j * 3 / 6 = j / 2: even outputs copy, odd outputs average, the last repeats the last pixel.
    np.testing.assert_allclose(out, [1.0, 2.0, 3.0, 5.0, 7.0, 7.0])


def test_area_downsample_is_block_mean_and_equals_resize_area():
    rng = np.random.default_rng(1)
    x = rng.random((2, 8, 12, 3)).astype(np.float32)
    expected = x.reshape(2, 2, 4, 3, 4, 3).mean(axis=(2, 4))
    np.testing.assert_allclose(area_downsample(tf.constant(x), 4).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(area_resize(tf.constant(x), (2, 3)).numpy(), expected, rtol=1e-5)
