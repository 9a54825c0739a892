"""Boundary images against an independent Sobel (scipy-free 2D correlation written out per pixel)."""

import numpy as np

from sfmlearner_tf.ops.boundary import boundary_from_instance_masks, boundary_panel_rgb, sobel_magnitude

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)


def reference_sobel(mask: np.ndarray) -> np.ndarray:
    padded = np.pad(mask.astype(np.float64), 1)
    out = np.zeros(mask.shape)
    for y in range(mask.shape[0]):
        for x in range(mask.shape[1]):
            window = padded[y:y + 3, x:x + 3]
            gx = np.sum(window * SOBEL_X)
            gy = np.sum(window * SOBEL_X.T)
            out[y, x] = np.hypot(gx, gy)
    return out


def test_sobel_matches_per_pixel_correlation():
    rng = np.random.default_rng(0)
    mask = rng.random((9, 11)) > 0.6
    np.testing.assert_allclose(sobel_magnitude(mask), reference_sobel(mask), atol=1e-5)


def test_straight_edge_is_255_and_interior_is_zero():
    mask = np.zeros((6, 8), dtype=bool)
    mask[:, 4:] = True
    boundary = boundary_from_instance_masks(mask[None])
    # Columns 3 and 4 straddle the edge: magnitude 4 -> 255 away from the image border rows.
    np.testing.assert_array_equal(boundary[1:-1, 3], 255)
    np.testing.assert_array_equal(boundary[1:-1, 4], 255)
    np.testing.assert_array_equal(boundary[1:-1, :3], 0)
    np.testing.assert_array_equal(boundary[2:-2, 5:7], 0)


def test_id_map_and_stack_agree_and_max_over_instances():
    ids = np.zeros((10, 12), dtype=np.uint16)
    ids[2:6, 1:5] = 3
    ids[4:9, 4:10] = 7
    stack = np.stack([ids == 3, ids == 7])
    from_ids = boundary_from_instance_masks(ids)
    np.testing.assert_array_equal(from_ids, boundary_from_instance_masks(stack))
    expected = np.maximum(reference_sobel(ids == 3), reference_sobel(ids == 7))
    expected = np.round(np.clip(expected / 4.0, 0, 1) * 255).astype(np.uint8)
    np.testing.assert_array_equal(from_ids, expected)


def test_no_instances_gives_zero_panel():
    assert boundary_from_instance_masks(np.zeros((5, 7), dtype=np.int32)).max() == 0
    panel = boundary_panel_rgb(np.full((2, 3), 9, dtype=np.uint8))
    assert panel.shape == (2, 3, 3) and np.all(panel == 9)
