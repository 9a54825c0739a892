"""Each DispNet inference path of the benchmarks gives the library's depths (the eager Keras call) within its
stated tolerance, at a tiny size."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from benchmarks.inference_paths import (
    FLOAT32_TOLERANCE,
    MIXED_TOLERANCE,
    PATHS,
    make_path,
    max_relative_difference,
)
from sfmlearner_tf.models import DispNet

BATCH, HEIGHT, WIDTH = 2, 32, 64


@pytest.fixture(scope="module")
def net_and_reference():
    tf.keras.utils.set_random_seed(3)
    net = DispNet().ensure_built()
    images = np.random.default_rng(3).integers(0, 256, (BATCH, HEIGHT, WIDTH, 3), dtype=np.uint8)
    reference = make_path("keras_eager", net, BATCH, HEIGHT, WIDTH)(images)
    return net, images, reference


def test_max_relative_difference_by_hand():
    assert max_relative_difference(np.array([1.0, 2.2]), np.array([1.0, 2.0])) == pytest.approx(0.1)


def test_reference_is_one_over_the_first_disparity(net_and_reference):
    net, images, reference = net_and_reference
    disp = net(images.astype(np.float32) / 255.0 * 2.0 - 1.0, training=False)[0].numpy()[..., 0]
    assert reference.shape == (BATCH, HEIGHT, WIDTH)
    np.testing.assert_allclose(reference, 1.0 / disp, rtol=1e-5)


@pytest.mark.parametrize("name", [pytest.param(p, marks=pytest.mark.slow) if p == "tflite" else p  # converter: 30 s
                                  for p in PATHS if p != "keras_eager"])
def test_path_matches_the_library_path(net_and_reference, name):
    net, images, reference = net_and_reference
    depth = make_path(name, net, BATCH, HEIGHT, WIDTH, tflite_threads=1)(images)
    assert depth.shape == reference.shape and depth.dtype == np.float32
    bound = MIXED_TOLERANCE if name == "mixed_precision" else FLOAT32_TOLERANCE
    assert max_relative_difference(depth, reference) <= bound


def test_unknown_path_is_named():
    with pytest.raises(ValueError, match="unknown inference path 'fast'"):
        make_path("fast", None, 1, HEIGHT, WIDTH)
