"""Molding and unmolding as matterport does them: scikit-image's resize(order=1, mode="constant", cval=0) -
bilinear, half-pixel centres, zero outside the source, clipped to the input's range - then uint8 truncation
of the molded image and the 0.5 threshold of the unmolded masks. Checked against a direct evaluation of that
definition, one output pixel at a time, and against hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mask_rcnn_prep.bilinear import resize_bilinear
from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.masks import paste_mask
from mask_rcnn_prep.molding import mold_image


def reference_pixel(image: np.ndarray, out_hw: tuple[int, int], i: int, j: int) -> np.ndarray:
    """Output pixel (i, j) by the definition: source point ((i + 0.5) * H / h - 0.5, (j + 0.5) * W / w - 0.5),
    its four neighbours with bilinear weights, a neighbour outside the image counting as 0; clipped to the
    input's [min, max]."""
    src_h, src_w = image.shape[:2]

    def neighbour(y: int, x: int) -> np.ndarray:
        inside = 0 <= y < src_h and 0 <= x < src_w
        return image[y, x].astype(np.float64) if inside else np.zeros(image.shape[2:])

    y = (i + 0.5) * src_h / out_hw[0] - 0.5
    x = (j + 0.5) * src_w / out_hw[1] - 0.5
    y0, x0 = math.floor(y), math.floor(x)
    fy, fx = y - y0, x - x0
    value = ((1 - fy) * (1 - fx) * neighbour(y0, x0) + (1 - fy) * fx * neighbour(y0, x0 + 1)
             + fy * (1 - fx) * neighbour(y0 + 1, x0) + fy * fx * neighbour(y0 + 1, x0 + 1))
    return np.clip(value, float(image.min()), float(image.max()))


def reference_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    out = np.zeros((height, width, *image.shape[2:]))
    for i in range(height):
        for j in range(width):
            out[i, j] = reference_pixel(image, (height, width), i, j)
    return out


def assert_truncation_matches(got: np.ndarray, reference: np.ndarray) -> None:
    """uint8 truncation of `reference`; where the exact value is an integer, the summation order decides
    between it and one less (pinned against scikit-image separately), so both are accepted there."""
    near_integer = np.abs(reference - np.round(reference)) < 1e-6
    np.testing.assert_array_equal(got[~near_integer], np.floor(reference[~near_integer]))
    assert np.isin(got[near_integer] - np.round(reference[near_integer]), (-1, 0)).all()


@pytest.mark.parametrize(("shape", "out_hw"), [
    ((5, 7), (11, 13)),      # upscaling by non-integer factors
    ((7, 5), (3, 2)),        # downscaling
    ((4, 6), (9, 4)),        # up in one axis, down in the other
    ((3, 4, 3), (8, 10)),    # RGB
    ((6, 4), (6, 4)),        # same size
    ((5, 5), (1, 1)),
])
def test_resize_matches_the_definition(shape: tuple[int, ...], out_hw: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape) + out_hw[0])
    image = rng.integers(20, 256, shape).astype(np.uint8)  # min > 0: the clip to the input's range matters
    got = resize_bilinear(image, *out_hw)
    assert got.dtype == np.float64 and got.shape == (*out_hw, *shape[2:])
    np.testing.assert_allclose(got, reference_resize(image, *out_hw), rtol=0, atol=1e-10)
    mask = rng.uniform(0, 1, shape[:2]).astype(np.float32)
    got_mask = resize_bilinear(mask, *out_hw)
    assert got_mask.dtype == np.float32
    np.testing.assert_allclose(got_mask, reference_resize(mask, *out_hw), rtol=0, atol=1e-6)


def test_upscaled_border_blends_with_black_then_clips_to_the_input_range() -> None:
    # 2 -> 4 columns: source points -0.25, 0.25, 0.75, 1.25. The outer ones take 1/4 of a zero from outside.
    np.testing.assert_array_equal(resize_bilinear(np.array([[0, 200]], np.uint8), 1, 4), [[0, 50, 150, 150]])
    # Same with a minimum of 100: 0.75 * 100 = 75 is clipped up to 100; 0.75 * 200 = 150 stays.
    np.testing.assert_array_equal(resize_bilinear(np.array([[100, 200]], np.uint8), 1, 4), [[100, 125, 175, 150]])


@pytest.mark.parametrize(("image", "out_hw", "pixels", "expected"), [
    # Exact value 200 (all four neighbours are 200).
    ([[0, 200, 200], [200, 200, 200]], (6, 2), [(2, 1)], [200.0]),
    # Exact value 255 * 0.8 = 204 in the last column, where a fifth of the weight falls outside the image.
    ([[0, 255, 255], [255, 255, 255]], (5, 5), [(1, 4), (2, 4), (3, 4)],
     [204.00000000000009, 204.00000000000006, 204.00000000000006]),
])
def test_summation_order_is_scikit_images(image: list, out_hw: tuple[int, int], pixels: list, expected: list) -> None:
    """What scikit-image 0.26 (SciPy 1.17) gives, bit for bit, at pixels whose exact value is an integer.
    The reference formula's order lands just below the integer there, so after matterport's uint8 truncation
    the summation order decides the grey level."""
    image = np.array(image, np.uint8)
    resized = resize_bilinear(image, *out_hw)
    got = [resized[i, j] for i, j in pixels]
    assert got == expected
    naive = [reference_pixel(image, out_hw, i, j) for i, j in pixels]
    np.testing.assert_allclose(naive, expected, rtol=1e-15)
    assert [int(v) for v in naive] == [int(v) - 1 for v in expected]


@pytest.mark.parametrize(("config", "window"), [
    (MaskRcnnConfig(), (354, 0, 669, 1024)),                                   # default: 1024x315 in 1024x1024
    (MaskRcnnConfig(image_max_dim=512), (177, 0, 335, 512)),                   # 512x158 in 512x512
    (MaskRcnnConfig(resize_mode="pad64", image_min_dim=256), (0, 0, 256, 832)),  # 832x256, no padding
])
def test_molded_416x128_frame_is_the_truncated_resize(config: MaskRcnnConfig, window: tuple) -> None:
    rng = np.random.default_rng(11)
    image = rng.integers(0, 256, (128, 416, 3), dtype=np.uint8)
    image[40:80, 100:200] = 200  # a flat region: exact integers, where truncation is most sensitive
    molded, plan = mold_image(image, config)
    assert plan.window == window
    y1, x1, y2, x2 = window
    mean = np.asarray(config.mean_pixel, np.float32)
    padding = np.ones(molded.shape[:2], bool)
    padding[y1:y2, x1:x2] = False
    np.testing.assert_array_equal(molded[padding], np.broadcast_to(-mean, (int(padding.sum()), 3)))
    # Every pixel of the window's outer two rows and columns, and 400 others.
    height, width = y2 - y1, x2 - x1
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    edge = (np.minimum(rows, height - 1 - rows) < 2) | (np.minimum(cols, width - 1 - cols) < 2)
    picked = np.concatenate([np.argwhere(edge), rng.choice(np.argwhere(~edge), 400, replace=False)])
    reference = np.array([reference_pixel(image, (height, width), i, j) for i, j in picked])
    resized = np.array([molded[y1 + i, x1 + j] for i, j in picked]) + mean
    assert np.array_equal(resized, np.round(resized))  # uint8 values minus the float32 mean: exact
    assert_truncation_matches(resized, reference)
    if plan.scale != 2.0:
        # The first row of the window blends with black: clearly darker than the second on average.
        assert molded[y1].mean() + 10 < molded[y1 + 1].mean()


@pytest.mark.parametrize("box", [(3, 5, 40, 22), (0, 10, 12, 70), (20, 40, 50, 80)])
def test_paste_mask_matches_the_definition(box: tuple[int, int, int, int]) -> None:
    # Boxes: taller than 28 and narrower; shorter and wider; one touching the image's bottom-right corner.
    rng = np.random.default_rng(8)
    mask = rng.uniform(0, 1, (28, 28)).astype(np.float32)
    full = paste_mask(mask, np.array(box), (50, 80), 0.5)
    y1, x1, y2, x2 = box
    reference = reference_resize(mask, y2 - y1, x2 - x1)
    decided = np.abs(reference - 0.5) > 1e-6
    np.testing.assert_array_equal(full[y1:y2, x1:x2][decided], (reference >= 0.5)[decided])
    outside = np.ones((50, 80), bool)
    outside[y1:y2, x1:x2] = False
    assert not full[outside].any()
    assert 0.3 < full[y1:y2, x1:x2].mean() < 0.7


def test_mask_touching_its_box_edge_loses_the_first_row() -> None:
    # 0.6 in the top 4 of 28 rows, pasted into a 56-row box (2x). Output row k samples source row
    # (k + 0.5) / 2 - 0.5: row 0 -> -0.25: 0.75 * 0.6 + 0.25 * 0 (outside) = 0.45 < 0.5, dropped;
    # rows 1-6 -> 0.6; row 7 -> 3.25: 0.75 * 0.6 + 0.25 * 0 = 0.45, dropped. Columns map 1:1.
    mask = np.zeros((28, 28), np.float32)
    mask[:4] = 0.6
    full = paste_mask(mask, np.array([10, 5, 66, 33]), (80, 40), 0.5)
    expected = np.zeros((80, 40), bool)
    expected[11:17, 5:33] = True
    np.testing.assert_array_equal(full, expected)
    # A uniform mask keeps its border: the clip to the mask's own range [0.6, 0.6] undoes the blend.
    uniform = paste_mask(np.full((28, 28), 0.6, np.float32), np.array([10, 5, 66, 33]), (80, 40), 0.5)
    assert uniform[10:66, 5:33].all() and uniform.sum() == 56 * 28
