"""The metric scale of sfm-predict: the road plane of an analytic depth map (tilted camera, known height) found
exactly, RANSAC holding against noise and "cars" where a plain least-squares fit does not, the synthetic
drives' true depth divided by a known factor giving that factor back (within 2 % with the rig's 1.65 m, within
0.5 % with each frame's true camera height), and the speed route by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.predict.metric_scale import (
    MetricOptions,
    PlaneFit,
    fit_ground,
    ground_points,
    scale_from_plane_fits,
    scale_from_speed,
)
from sfmlearner_tf.predict.scene_outputs import estimate_scale
from sfmlearner_tf.prep.kitti_io import read_raw_intrinsics
from sfmlearner_tf.synthetic.rig import CAMERA_HEIGHT_M

K = np.array([[241.6745, 0.0, 204.168], [0.0, 246.2849, 59.00083], [0.0, 0.0, 1.0]])  # synthetic 416x128
FACTOR = 7.3
DATE = "1970_01_01"


def plane_depth(normal: np.ndarray, height: float, shape: tuple[int, int] = (128, 416)) -> np.ndarray:
    """Analytic z-depth of the plane normal . x = height seen through K (0 where the ray misses it)."""
    v, u = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    rays = np.stack([u, v, np.ones_like(u)], axis=-1) @ np.linalg.inv(K).T  # z component 1
    facing = rays @ normal
    return np.where(facing > 1e-9, height / np.where(facing > 1e-9, facing, 1.0), 0.0)


def tilted_normal(pitch: float, roll: float) -> np.ndarray:
    """The road's normal (camera axes, pointing down) of a camera pitched and rolled by these angles."""
    rot_x = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    rot_z = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    return rot_z @ rot_x @ np.array([0.0, 1.0, 0.0])


def test_an_analytic_plane_is_found_exactly() -> None:
    normal = tilted_normal(0.05, -0.03)
    fit = fit_ground(plane_depth(normal, 0.8), K)
    assert isinstance(fit, PlaneFit)
    assert fit.height == pytest.approx(0.8, rel=1e-9)
    np.testing.assert_allclose(fit.normal, normal, atol=1e-9)
    assert fit.inlier_fraction == 1.0 and fit.rms_residual < 1e-9
    # The points come from the lowest 40 % of the rows (77..127 of 128), thinned to at most max_points.
    points = ground_points(plane_depth(normal, 0.8), K, 0.4, max_points=10**6)
    assert len(points) == 51 * 416
    assert len(ground_points(plane_depth(normal, 0.8), K, 0.4, max_points=5000)) <= 5000
    scale = scale_from_plane_fits([fit, None], 1.65)
    assert scale.scale == pytest.approx(1.65 / 0.8) and (scale.frames_used, scale.frames) == (1, 2)
    assert scale.details["per_frame_scale"][1] is None


def noisy_road_with_cars(seed: int) -> np.ndarray:
    """A level camera 1.65 above the road, 3 % depth noise, and a third of the searched rows (the lowest 30 %:
    90..127) covered by "cars" (upright faces much nearer than the road behind them)."""
    rng = np.random.default_rng(seed)
    depth = plane_depth(np.array([0.0, 1.0, 0.0]), 1.65)
    depth *= 1.0 + 0.03 * rng.standard_normal(depth.shape)
    for left, top, width, face in ((20, 95, 70, 6.0), (240, 100, 80, 9.0), (150, 110, 25, 4.0)):
        depth[top:, left:left + width] = face * (1.0 + 0.01 * rng.standard_normal((128 - top, width)))
    return depth


def test_ransac_holds_against_noise_and_cars() -> None:
    depth = noisy_road_with_cars(3)
    points = ground_points(depth, K)
    fits = [fit_ground(depth, K, MetricOptions(seed=seed)) for seed in range(3)]
    heights = np.array([fit.height for fit in fits])
    np.testing.assert_allclose(heights, 1.65, rtol=0.01)
    assert np.ptp(heights) < 0.002 * 1.65  # whichever sample wins, the refits settle on one plane
    assert all(abs(fit.normal[1]) > 0.999 and 0.4 < fit.inlier_fraction < 0.8 for fit in fits)  # cars: outliers
    # A least-squares plane through all the points (no RANSAC) is far off, and so is an orthogonal
    # (total least squares) fit of the same inliers: depth noise moves points along their rays.
    assert abs(1.0 / np.linalg.norm(np.linalg.lstsq(points, np.ones(len(points)), rcond=None)[0]) - 1.65) > 0.1
    inliers = points[np.abs(points @ fits[0].normal - fits[0].height) < 0.05 * fits[0].height]
    centroid = inliers.mean(axis=0)
    assert abs(np.linalg.svd(inliers - centroid)[2][-1] @ centroid) < 1.65 * 0.985


def test_no_road_is_an_error() -> None:
    wall = np.full((128, 416), 5.0)  # a wall facing the camera: its normal is the optical axis
    assert fit_ground(wall, K) is None
    with pytest.raises(DataError, match="no road plane found in any of 2 frame"):
        scale_from_plane_fits([None, fit_ground(wall, K)], 1.65)
    for bad in ({"camera_height": 1.65, "speed": 10.0}, {"camera_height": -1.0}, {"ground_rows": 0.0}):
        with pytest.raises(ConfigError):
            MetricOptions(**bad)


def drive_depths(root: Path, drive: str) -> tuple[list[np.ndarray], np.ndarray]:
    """True depth maps of a synthetic drive and its camera's true heights above the road (poses_02: z up)."""
    folder = root / "kitti_raw" / DATE / f"{DATE}_drive_{drive}_sync"
    depths = [np.load(path) for path in sorted((folder / "depth_02" / "data").glob("*.npy"))]
    heights = np.loadtxt(folder / "poses_02.txt").reshape(-1, 3, 4)[:, 2, 3]
    return depths, heights


@pytest.mark.parametrize("drive", ["0001", "0003"])
def test_synthetic_true_depth_over_a_factor_gives_the_factor(synthetic_root: Path, drive: str) -> None:
    intrinsics = read_raw_intrinsics(synthetic_root / "kitti_raw" / DATE, "02")
    np.testing.assert_allclose(intrinsics, K, rtol=1e-6)
    depths, heights = drive_depths(synthetic_root, drive)
    fits = [fit_ground(depth / FACTOR, intrinsics) for depth in depths]
    estimate = scale_from_plane_fits(fits, CAMERA_HEIGHT_M)
    assert estimate.frames_used == len(depths)
    assert estimate.scale == pytest.approx(FACTOR, rel=0.02)
    # Per frame against the camera's true height (it bobs by a few cm with the pitch): within 0.5 %.
    per_frame = np.array([height / fit.height for height, fit in zip(heights, fits)])
    np.testing.assert_allclose(per_frame, FACTOR, rtol=0.005)
    assert estimate.details["median_rms_residual_m"] < 0.02
    assert abs(estimate.details["median_normal"][1]) > 0.999


def test_synthetic_depth_with_noise_and_extra_cars(synthetic_root: Path) -> None:
    rng = np.random.default_rng(4)
    depths, _ = drive_depths(synthetic_root, "0002")
    fits = []
    for depth in depths:
        noisy = depth / FACTOR * (1.0 + 0.03 * rng.standard_normal(depth.shape))
        left = rng.integers(0, 300)
        noisy[85:, left:left + 110] = rng.uniform(4.0, 8.0) / FACTOR  # a car's back across a quarter of the rows
        fits.append(fit_ground(noisy.astype(np.float32), K))
    assert scale_from_plane_fits(fits, CAMERA_HEIGHT_M).scale == pytest.approx(FACTOR, rel=0.02)


def test_scale_from_speed_by_hand() -> None:
    poses = np.stack([np.eye(4)] * 5)
    poses[:, 2, 3] = [0.0, 0.5, 1.0, 1.0, 2.0]  # steps 0.5, 0.5, 0 (a stop), 1.0: mean 0.5
    poses[:, 0, 3] = [0.0, 0.0, 0.0, 0.0, 0.0]
    estimate = scale_from_speed(poses, fps=10.0, speed=15.0)  # 1.5 m per frame = 0.5 units
    assert estimate.scale == pytest.approx(3.0) and estimate.details["mean_step"] == pytest.approx(0.5)
    assert estimate_scale(MetricOptions(speed=15.0), "unused", [], None, poses, 10.0).scale == pytest.approx(3.0)
    assert estimate_scale(MetricOptions(), "unused", [], None, poses, 10.0) is None
    with pytest.raises(DataError, match="does not move"):
        scale_from_speed(np.stack([np.eye(4)] * 3), 10.0, 15.0)
