"""Velodyne ground truth: projection, rounding, the duplicate quirk, the cache, missing-file errors.

`build_mini_raw` writes a tiny KITTI-raw stand-in whose velodyne points are made by back-projecting known pixel
depths, so where each point must land and with which value is known independently of the code under test.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import DATE, DRIVE, MINI_H, MINI_W, build_mini_raw, mini_dense_depth, mini_sample_pixels

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation import depth_gt
from sfmlearner_tf.evaluation.depth_gt import (
    SparseDepth,
    cached_gt_depths,
    generate_depth_map,
    project_velodyne,
    splat_min_depth,
)
from sfmlearner_tf.evaluation.split_files import (
    read_test_lines,
    resolve_test_frames,
    warn_if_not_standard,
)


def expected_mini_gt() -> np.ndarray:
    """Independent expectation: each sampled pixel's depth lands one row and one column up-left (round - 1)."""
    depth = mini_dense_depth()
    expected = np.zeros(depth.shape, np.float32)
    for row, col in mini_sample_pixels(depth):
        expected[row - 1, col - 1] = depth[row, col]
    return expected


@pytest.fixture
def mini_raw(tmp_path: Path) -> Path:
    return build_mini_raw(tmp_path)


def test_projection_lands_on_known_pixels_with_velodyne_x(mini_raw: Path) -> None:
    drive = mini_raw / DATE / DRIVE
    gt = generate_depth_map(mini_raw / DATE, drive / "velodyne_points/data/0000000000.bin", (MINI_H, MINI_W))
    np.testing.assert_allclose(gt, expected_mini_gt(), rtol=1e-6, atol=1e-6)
    assert np.count_nonzero(gt) == len(mini_sample_pixels(mini_dense_depth()))


def test_rounding_is_half_to_even_minus_one() -> None:
    projection = np.hstack([np.eye(3), np.zeros((3, 1))])  # u = x / z, v = y / z
    points = np.array([[2.5, 3.5, 1.0, 0.0], [1.5, 0.5, 1.0, 0.0], [7.0, 1.0, 1.0, 0.0]], np.float32)
    projected = project_velodyne(points, projection, (10, 7))
    # round(2.5)=2, round(3.5)=4, round(1.5)=2, round(0.5)=0 (numpy rounds halves to even); then minus 1.
    # The third point lands at u = 7 - 1 = 6 < 7: kept. The second at v = -1: dropped.
    np.testing.assert_array_equal(projected[:, :2], [[1.0, 3.0], [6.0, 0.0]])
    np.testing.assert_array_equal(projected[:, 2], [2.5, 7.0])  # the depth is the x coordinate


def test_duplicate_quirk_hand_made_case() -> None:
    # W = 4: (row 0, col 3) and (row 1, col 0) share the quirky index 0*3+3-1 = 1*3+0-1 = 2.
    points = np.array([[3, 0, 5.0], [0, 1, 2.0], [0, 1, 9.0], [2, 2, 7.0], [2, 2, 3.0]])  # (col, row, depth)
    quirky = splat_min_depth(points, (3, 4))
    expected = np.zeros((3, 4))
    expected[0, 3] = 2.0  # the group's first point gets the group's minimum
    expected[1, 0] = 9.0  # ... the other pixel of the group keeps its last written value
    expected[2, 2] = 3.0  # a true duplicate: minimum
    np.testing.assert_array_equal(quirky, expected)
    fixed = splat_min_depth(points, (3, 4), fix_duplicate_index=True)
    expected[0, 3], expected[1, 0] = 5.0, 2.0
    np.testing.assert_array_equal(fixed, expected)


def test_gt_cache_hit_returns_identical_arrays(mini_raw: Path, tmp_path: Path, monkeypatch) -> None:
    frames = resolve_test_frames(mini_raw, read_test_lines(mini_raw / "test_files_eigen.txt"))
    first = cached_gt_depths(frames, tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("gt_depths_*.npz"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("cache miss")

    monkeypatch.setattr(depth_gt, "compute_gt_depths", fail)
    second = cached_gt_depths(frames, tmp_path / "cache")
    assert len(second) == len(first) == 2
    for a, b in zip(first, second):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(second[0], expected_mini_gt(), rtol=1e-6)
    with pytest.raises(AssertionError, match="cache miss"):  # another option -> another key -> recomputed
        cached_gt_depths(frames, tmp_path / "cache", fix_duplicate_index=True)


@pytest.mark.parametrize("missing", ["velodyne_points/data/0000000001.bin", "calib_velo_to_cam.txt",
                                     "calib_cam_to_cam.txt"])
def test_missing_inputs_are_named(mini_raw: Path, missing: str) -> None:
    target = (mini_raw / DATE / missing) if missing.startswith("calib") else (mini_raw / DATE / DRIVE / missing)
    target.unlink()
    lines = read_test_lines(mini_raw / "test_files_eigen.txt")
    with pytest.raises(DataError, match=Path(missing).name):
        resolve_test_frames(mini_raw, lines)
    with pytest.raises(DataError, match=Path(missing).name):
        if missing.startswith("calib"):
            generate_depth_map(mini_raw / DATE, mini_raw / DATE / DRIVE / "velodyne_points/data/0000000000.bin",
                               (MINI_H, MINI_W))
        else:
            generate_depth_map(mini_raw / DATE, target, (MINI_H, MINI_W))


def test_standard_list_detected_and_other_lists_warned(shared_splits: Path, mini_raw: Path) -> None:
    standard = read_test_lines(shared_splits / "test_files_eigen.txt")
    assert len(standard) == 697
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_not_standard(standard, "eigen")
    with pytest.warns(UserWarning, match="not the standard 697-line"):
        assert not warn_if_not_standard(standard[:-1], "short")


def test_synthetic_drive_velodyne_lands_on_true_depth(synthetic_root: Path) -> None:
    """On a rendered drive, the ground truth at pixel (r, c) is the velodyne x of a point whose 0-based
    projection is (r + 1, c + 1): back-projecting the true z-depth there through the calibration (numpy,
    independent of the evaluation code) must give the same velodyne x, up to the +-0.5 px rounding."""
    from sfmlearner_tf.prep.kitti_io import read_calib_file

    raw = synthetic_root / "kitti_raw"
    frames = resolve_test_frames(raw, read_test_lines(synthetic_root / "splits" / "test_files_eigen.txt"))
    frame = frames[0]
    true_depth = np.load(frame.dense_depth)
    gt = generate_depth_map(frame.calib_dir, frame.velodyne, true_depth.shape)
    cam = read_calib_file(frame.calib_dir / "calib_cam_to_cam.txt")
    velo = read_calib_file(frame.calib_dir / "calib_velo_to_cam.txt")
    p_rect = cam["P_rect_02"].reshape(3, 4)
    k_inv = np.linalg.inv(p_rect[:, :3])
    offset = k_inv @ p_rect[:, 3]                       # camera 2 = rectified camera 0 + offset
    r_rect = cam["R_rect_00"].reshape(3, 3)
    rotation, translation = velo["R"].reshape(3, 3), velo["T"]
    rows, cols = np.nonzero(gt)
    inside = (rows + 1 < gt.shape[0]) & (cols + 1 < gt.shape[1])
    rows, cols = rows[inside], cols[inside]
    z = true_depth[rows + 1, cols + 1].astype(np.float64)
    keep = z > 0
    rows, cols, z = rows[keep], cols[keep], z[keep]
    pixels = np.stack([cols + 1, rows + 1, np.ones_like(cols)]).astype(np.float64)
    cam2 = (k_inv @ pixels) * z[None]
    rect0 = cam2 - offset[:, None]
    velo_xyz = rotation.T @ (r_rect.T @ rect0 - translation[:, None])
    relative = np.abs(gt[rows, cols] - velo_xyz[0]) / velo_xyz[0]
    assert len(relative) > 100
    assert np.median(relative) < 0.01
    assert np.quantile(relative, 0.8) < 0.05


def test_sparse_depth_rebuilds_the_dense_map_exactly_and_scores_alike() -> None:
    """Held sparse, a ground-truth map converts back bit for bit (zeros elsewhere), and everything that reads it
    as an array (the metrics, the priors, np.shape, np.count_nonzero) gets the dense map's numbers."""
    from sfmlearner_tf.evaluation.depth_metrics import score_depths
    from sfmlearner_tf.evaluation.priors import row_prior_depths

    rng = np.random.default_rng(0)
    dense = []
    for shape in ((375, 1242), (370, 1226)):  # KITTI's dates differ in size
        depth = np.zeros(shape, np.float32)
        rows, cols = rng.integers(150, shape[0], 5000), rng.integers(0, shape[1], 5000)
        depth[rows, cols] = rng.uniform(0.5, 90.0, 5000).astype(np.float32)
        dense.append(depth)
    sparse = [SparseDepth.from_dense(depth) for depth in dense]
    for held, depth in zip(sparse, dense):
        rebuilt = np.asarray(held)
        assert rebuilt.dtype == np.float32 and np.array_equal(rebuilt, depth)
        assert np.shape(held) == depth.shape and np.count_nonzero(held) == np.count_nonzero(depth)
        assert held.nbytes == 8 * np.count_nonzero(depth) < depth.nbytes / 10
    preds = [rng.uniform(1.0, 50.0, (128, 416)).astype(np.float32) for _ in dense]
    assert score_depths(sparse, preds) == score_depths(dense, preds)
    for a, b in zip(row_prior_depths(sparse, 1e-3, 80.0), row_prior_depths(dense, 1e-3, 80.0)):
        assert np.array_equal(a, b)


def test_a_cache_whose_points_do_not_fit_is_recomputed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="do not fit a 2x2 map"):
        SparseDepth((2, 2), np.array([1, 4]), np.array([1.0, 2.0]))
    path = tmp_path / "gt.npz"
    np.savez(path, key=np.array("k"), count=np.array(1), shape_00000=np.array([2, 2]),
             indices_00000=np.array([7]), values_00000=np.array([3.0], np.float32))
    with pytest.warns(UserWarning, match="damaged ground-truth cache"):
        assert depth_gt.load_gt_cache(path, "k") is None
