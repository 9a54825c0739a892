"""The library's depth path (DepthPredictor, used by run_eval and sfm-predict) against the eager Keras call
worked out here: depth = 1 / disp1 of the [-1, 1] image, for any batch size from one traced graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.depth_predict import DepthPredictor, predict_depths
from sfmlearner_tf.models import DispNet

HEIGHT, WIDTH = 32, 64


@pytest.fixture(scope="module")
def disp_net() -> DispNet:
    tf.keras.utils.set_random_seed(11)
    return DispNet().ensure_built()


def eager_depth(net: DispNet, images: np.ndarray) -> np.ndarray:
    network_range = images.astype(np.float32) / 255.0 * 2.0 - 1.0
    return 1.0 / net(network_range, training=False)[0].numpy()[..., 0]


def random_images(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, HEIGHT, WIDTH, 3), dtype=np.uint8)


def test_any_batch_size_from_one_trace_matches_the_eager_call(disp_net: DispNet) -> None:
    predict = DepthPredictor(disp_net, HEIGHT, WIDTH)
    for count in (1, 3, 1):
        images = random_images(count, count)
        depth = predict(images)
        assert depth.shape == (count, HEIGHT, WIDTH) and depth.dtype == np.float32
        np.testing.assert_allclose(depth, eager_depth(disp_net, images), rtol=1e-5)
    assert predict._disparity.experimental_get_tracing_count() == 1


def test_it_follows_the_nets_weights(disp_net: DispNet) -> None:
    """The graph reads the variables: after a weight change its depths are the new net's (the demo evaluates the
    net while it trains)."""
    net = DispNet().ensure_built()
    net.set_weights(disp_net.get_weights())
    predict = DepthPredictor(net, HEIGHT, WIDTH)
    images = random_images(2, 5)
    before = predict(images)
    net.set_weights([w * 0.9 for w in net.get_weights()])
    after = predict(images)
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, eager_depth(net, images), rtol=1e-5)


def test_predict_depths_batches_files_and_names_a_bad_one(disp_net: DispNet, tmp_path: Path) -> None:
    images = random_images(5, 7)
    paths = []
    for index, image in enumerate(images):
        paths.append(tmp_path / f"{index}.png")
        Image.fromarray(image).save(paths[-1])  # lossless and at the net's size: resizing keeps the pixels
    depths = predict_depths(disp_net, paths, HEIGHT, WIDTH, batch_size=2, progress_every_s=1e9)  # 2 + 2 + 1
    np.testing.assert_allclose(depths, eager_depth(disp_net, images), rtol=1e-5)
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"bad\.jpg: corrupt or unreadable image"):
        predict_depths(disp_net, [tmp_path / "bad.jpg"], HEIGHT, WIDTH)
