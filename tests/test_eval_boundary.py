"""Depth-boundary metrics, exports and figures against hand-made maps."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sfmlearner_tf.evaluation.boundary_metrics import (
    depth_boundary_errors,
    edge_sharpness_ratio,
    predicted_depth_edges,
    true_depth_edges,
)
from sfmlearner_tf.evaluation.exports import colorize, export_depths, normalized_disparity
from sfmlearner_tf.evaluation.figures import comparison_figure, interpolate_sparse_depth


def test_true_edges_mark_the_nearer_side_of_a_depth_step() -> None:
    depth = np.full((12, 16), 40.0)
    depth[3:8, 4:10] = 10.0                  # a box: inverse depth 0.1 against 0.025 -> jump 0.075
    edges = true_depth_edges(depth)
    expected = np.zeros_like(edges)
    expected[3:8, 4:10] = True
    expected[4:7, 5:9] = False               # the box's one-pixel outline (nearer side)
    np.testing.assert_array_equal(edges, expected)


def test_true_edges_ignore_planes_and_use_instances() -> None:
    rows = np.arange(20, dtype=np.float64)[:, None] + 10.0
    road = np.repeat(721.0 * 1.65 / rows, 30, axis=1)  # a ground plane: inverse depth linear in the row
    assert not true_depth_edges(road).any()
    ids = np.zeros((20, 30), np.int32)
    ids[5:10, 10:20] = 3
    edges = true_depth_edges(np.full((20, 30), 12.0), ids)  # equal depths: the first pixel of a pair is marked
    expected = np.zeros((20, 30), bool)
    expected[4, 10:20] = expected[9, 10:20] = True          # pairs (4, 5) and (9, 10) along rows
    expected[5:10, 9] = expected[5:10, 19] = True           # pairs (9, 10) and (19, 20) along columns
    np.testing.assert_array_equal(edges, expected)


def test_dbe_hand_worked_distances() -> None:
    true_edges = np.zeros((20, 40), bool)
    true_edges[:, 10] = True
    pred_edges = np.zeros_like(true_edges)
    pred_edges[:, 13] = True
    assert depth_boundary_errors(true_edges, pred_edges) == pytest.approx((3.0, 3.0))
    pred_edges[:, 30] = True                 # 20 px away: not counted in accuracy, completeness unchanged
    assert depth_boundary_errors(true_edges, pred_edges) == pytest.approx((3.0, 3.0))
    only_far = np.zeros_like(true_edges)
    only_far[:, 30] = True
    assert depth_boundary_errors(true_edges, only_far) == (10.0, 10.0)
    acc, comp = depth_boundary_errors(np.zeros_like(true_edges), pred_edges)
    assert math.isnan(acc) and math.isnan(comp)


def test_canny_finds_a_depth_step_where_it_is() -> None:
    depth = np.full((40, 60), 30.0, np.float32)
    depth[:, 25:] = 5.0
    edges = predicted_depth_edges(depth)
    cols = np.nonzero(edges)[1]
    assert edges[5:35].any(axis=1).all()     # a continuous vertical edge
    assert set(cols.tolist()) <= {24, 25}
    assert not predicted_depth_edges(np.full((10, 10), 3.0)).any()


def test_edge_sharpness_hand_worked() -> None:
    cols = np.arange(8, dtype=np.float64)
    disparity = np.tile(1.0 + 0.1 * cols + (cols >= 4) * 1.0, (4, 1))
    boundary = np.zeros((4, 8), np.uint8)
    boundary[:, 3] = 255
    # Forward differences: 1.1 at column 3, 0.1 at columns 0-2 and 4-6, 0 at column 7 (no right neighbour).
    assert edge_sharpness_ratio(1.0 / disparity, boundary) == pytest.approx(1.1 / (0.6 / 7))
    assert math.isnan(edge_sharpness_ratio(1.0 / disparity, np.zeros((4, 8), np.uint8)))


def test_sparse_interpolation_nearest_fill() -> None:
    sparse = np.zeros((10, 10), np.float32)
    sparse[4, 1] = 5.0
    sparse[8, 8] = 20.0
    dense = interpolate_sparse_depth(sparse, sigma=0)
    assert dense[:4].max() == 0.0            # nothing above the highest point
    assert dense[5, 0] == 5.0 and dense[9, 9] == 20.0 and dense[4, 2] == 5.0 and dense[7, 8] == 20.0


def test_magma_colours_and_display_normalisation() -> None:
    ends = colorize(np.array([[0.0, 1.0]]))
    # Published magma end points: (0, 0, 4) and (252, 253, 191).
    np.testing.assert_allclose(ends[0, 0], [0, 0, 4], atol=3)
    np.testing.assert_allclose(ends[0, 1], [252, 253, 191], atol=3)
    depth = np.array([[1.0, 2.0], [4.0, 0.0]])
    disp = 1.0 / (np.array([1.0, 2.0, 4.0]) + 1e-6)
    normaliser = np.percentile([disp[0], disp[1], disp[2], 0.0], 95)
    np.testing.assert_allclose(normalized_disparity(depth).ravel(),
                               np.clip([disp[0] / normaliser, disp[1] / normaliser, disp[2] / normaliser, 0], 0, 1),
                               rtol=1e-5)


def test_exports_and_comparison_figure(tmp_path: Path) -> None:
    depths = [np.full((8, 12), 2.0, np.float32), np.full((8, 12), 4.0, np.float32)]
    assert export_depths(tmp_path, ["a", "b"], depths) == 2
    np.testing.assert_allclose(np.load(tmp_path / "b_disp.npy"), 0.25)
    np.testing.assert_array_equal(np.load(tmp_path / "a_depth.npy"), depths[0])
    assert (tmp_path / "a_disp.png").is_file()
    (tmp_path / "a_depth.npy").write_bytes(b"stale")  # an earlier run's file is replaced, never kept
    assert export_depths(tmp_path, ["a"], depths[:1]) == 1
    np.testing.assert_array_equal(np.load(tmp_path / "a_depth.npy"), depths[0])
    gt = np.zeros((24, 36), np.float32)
    gt[10:, ::3] = 7.0
    strip = comparison_figure(np.zeros((24, 36, 3), np.uint8), depths[0], depths[1], gt)
    assert strip.shape == (18 + 8, 4 * 12, 3) and strip.dtype == np.uint8
