"""The metric scale of a monocular prediction (depth and trajectory are known only up to one factor), from the
camera's height above the road or from the vehicle's mean speed.

Camera height: per frame, the pixels of the image's lowest `ground_rows` (where a forward-looking car camera
sees the road) are back-projected with K. RANSAC draws `iterations` planes through 3 of these points; a plane
counts only if its normal is within `max_tilt_deg` of the camera's y axis (down: a roughly level camera) and
the camera lies above it; a point is its inlier if its distance to the plane is below `inlier_tolerance`
times the plane's distance to the camera (depth errors of a fraction e move road points by about e times the
camera height, whatever their distance, so the tolerance is relative and needs no units). The plane with the
most inliers is refitted by least squares on them, REFITS times, each on the inliers of the plane before (one
refit leaves the result depending on which sample won; three settle it). The refit solves x . m = 1 for
m = normal / height, i.e. it minimises the inliers' distances to the plane relative to the camera height: depth
noise moves points along their rays, which biases an orthogonal (total least squares) fit (-2 % at 3 % noise)
but not this one (-0.2 %). The camera's height in the depth's units is the camera centre's distance to that
plane; the frame's scale is camera_height / that height, and the run's scale is the median over the frames
where the plane holds at least MIN_INLIER_FRACTION of the points.

Speed: scale = speed / (fps x mean distance between consecutive camera centres of the trajectory), the speed
being the mean over the whole clip (distance / duration, stops included).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.predict.point_cloud import back_project
from sfmlearner_tf.settings import check_settings, setting

MIN_POINTS = 30
MIN_INLIER_FRACTION = 0.2
REFITS = 3  # least-squares refits, each on the inliers of the plane before


@dataclass(frozen=True)
class MetricOptions:
    """camera_height (metres above the road) or speed (m/s, the clip's mean): at most one. The rest tune the
    road-plane fit (module docstring). The defaults (the lowest 30 % of the rows, a normal within 15 degrees of
    the camera's y axis) suit a roughly level car camera: on the demo model's synthetic drives they came closer
    to the true scale than 40 % / 30 degrees (the near road is predicted better, and a far-off tilt prior let
    the fit take slanted surfaces); a camera pitched down more needs a larger max_tilt_deg."""

    camera_height: float | None = setting(None, "Metric scale from the camera's height above the road (metres; "
                                          "KITTI's 1.65): the road plane is fitted (RANSAC, then least squares) in "
                                          "the lowest --ground_rows of every frame's depth and the median scale over "
                                          "the frames is applied. Writes metric/ (depth and trajectory in metres, "
                                          "scale.json); needs --hfov_deg or --intrinsics.", low=0.0, low_open=True)
    speed: float | None = setting(None, "Metric scale from the clip's mean speed (m/s, with the frame rate): scales "
                                  "the trajectory's mean step (needs --pose_ckpt_file).", low=0.0, low_open=True)
    ground_rows: float = setting(0.3, "--camera_height: the fraction of the image's rows, from the bottom, searched "
                                 "for the road.", low=0.0, low_open=True, high=1.0)
    inlier_tolerance: float = setting(0.05, "RANSAC inlier tolerance, relative to the plane's distance.", low=0.0,
                                      low_open=True, high=1.0, high_open=True)
    max_tilt_deg: float = setting(15.0, "--camera_height: the largest angle between the road's normal and the "
                                  "camera's down axis (a camera pitched or rolled more needs more).", low=0.0,
                                  low_open=True, high=90.0, high_open=True)
    iterations: int = 200
    max_points: int = 5000
    seed: int = 0

    def __post_init__(self) -> None:
        check_settings(self)
        if self.camera_height is not None and self.speed is not None:
            raise ConfigError("camera_height and speed are two ways to the metric scale: give one",
                              fields=("speed",))

    @property
    def enabled(self) -> bool:
        return self.camera_height is not None or self.speed is not None


@dataclass(frozen=True)
class PlaneFit:
    """The road plane of one frame, in camera axes: points x on it satisfy normal . x = height (normal: unit,
    pointing from the camera to the road, y > 0). rms_residual: RMS distance of its inliers to it. Lengths in
    the depth's units."""

    normal: np.ndarray
    height: float
    inlier_fraction: float
    rms_residual: float
    num_points: int


def ground_points(depth: np.ndarray, intrinsics: np.ndarray, ground_rows: float = 0.3,
                  max_points: int = 5000) -> np.ndarray:
    """[N, 3] camera coordinates of the valid pixels (finite depth > 0) of the lowest ground_rows of the rows,
    thinned by a fixed stride to at most max_points."""
    first_row = round(depth.shape[0] * (1.0 - ground_rows))
    points = back_project(depth, intrinsics)[first_row:].reshape(-1, 3)
    points = points[np.isfinite(points[:, 2]) & (points[:, 2] > 0)]
    return points[::int(np.ceil(len(points) / max_points))] if len(points) > max_points else points


def _inliers(points: np.ndarray, normal: np.ndarray, height: float, tolerance: float) -> np.ndarray:
    return np.abs(points @ normal - height) < tolerance * height


def fit_road_plane(points: np.ndarray, options: MetricOptions = MetricOptions(),
                   rng: np.random.Generator | None = None) -> PlaneFit | None:
    """RANSAC then a least-squares refit (module docstring); None when no plane holds MIN_INLIER_FRACTION."""
    if len(points) < MIN_POINTS:
        return None
    rng = rng or np.random.default_rng(options.seed)
    p0, p1, p2 = (points[i] for i in rng.integers(0, len(points), size=(3, options.iterations)))
    normals = np.cross(p1 - p0, p2 - p0)
    lengths = np.linalg.norm(normals, axis=1)
    normals = normals / np.where(lengths > 0, lengths, 1.0)[:, None]
    normals *= np.where(normals[:, 1] < 0, -1.0, 1.0)[:, None]
    heights = np.einsum("ij,ij->i", normals, p0)
    usable = (lengths > 0) & (normals[:, 1] >= np.cos(np.radians(options.max_tilt_deg))) & (heights > 0)
    counts = (np.abs(points @ normals.T - heights) < options.inlier_tolerance * heights).sum(axis=0) * usable
    best = int(np.argmax(counts))
    if counts[best] < MIN_INLIER_FRACTION * len(points):
        return None
    normal, height = normals[best], float(heights[best])
    for _ in range(REFITS):
        chosen = points[_inliers(points, normal, height, options.inlier_tolerance)]
        if len(chosen) < 3:
            return None
        m = np.linalg.lstsq(chosen, np.ones(len(chosen)), rcond=None)[0]  # chosen @ (normal / height) = 1
        if not np.isfinite(m).all() or m[1] <= 0:
            return None
        height = float(1.0 / np.linalg.norm(m))
        normal = m * height
    inliers = _inliers(points, normal, height, options.inlier_tolerance)
    if inliers.mean() < MIN_INLIER_FRACTION:
        return None
    residual = float(np.sqrt(np.mean((points[inliers] @ normal - height) ** 2)))
    return PlaneFit(normal=normal, height=height, inlier_fraction=float(inliers.mean()), rms_residual=residual,
                    num_points=len(points))


def fit_ground(depth: np.ndarray, intrinsics: np.ndarray, options: MetricOptions = MetricOptions()) -> PlaneFit | None:
    """The road plane of one depth map (K of the depth's size), or None."""
    return fit_road_plane(ground_points(depth, intrinsics, options.ground_rows, options.max_points), options)


@dataclass(frozen=True)
class ScaleEstimate:
    """depth and trajectory x scale = metres. method: "camera_height" or "speed"; frames_used of frames gave a
    value; details: JSON-able numbers behind it (scale.json)."""

    scale: float
    method: str
    frames_used: int
    frames: int
    details: dict[str, object] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for the log."""
        text = f"metric scale {self.scale:.6g} from the {self.method.replace('_', ' ')} ({self.frames_used} of " \
               f"{self.frames} frames)"
        if self.method == "camera_height":
            d = self.details
            normal = ", ".join(f"{v:.3f}" for v in d["median_normal"])
            text += (f"; road plane: median inlier fraction {d['median_inlier_fraction']:.3f}, normal ({normal}), "
                     f"RMS residual {d['median_rms_residual_m']:.3f} m, per-frame scales "
                     f"{d['scale_quartiles'][0]:.4g}..{d['scale_quartiles'][1]:.4g} (quartiles)")
        return text


def scale_from_plane_fits(fits: list[PlaneFit | None], camera_height: float) -> ScaleEstimate:
    """The median of camera_height / height over the frames with a plane (DataError when none has one)."""
    found = [fit for fit in fits if fit is not None]
    if not found:
        raise DataError(f"no road plane found in any of {len(fits)} frame(s) (the lowest rows of the image must "
                        "show the road; is the camera level?): use --speed, or no metric scale")
    scales = np.array([camera_height / fit.height for fit in found])
    normal = np.median([fit.normal for fit in found], axis=0)
    details = {
        "camera_height_m": camera_height,
        "per_frame_scale": [None if fit is None else camera_height / fit.height for fit in fits],
        "scale_quartiles": np.percentile(scales, [25, 75]).tolist(),
        "median_inlier_fraction": float(np.median([fit.inlier_fraction for fit in found])),
        "median_normal": (normal / np.linalg.norm(normal)).tolist(),
        "median_rms_residual_m": float(np.median([fit.rms_residual / fit.height for fit in found]) * camera_height),
    }
    return ScaleEstimate(float(np.median(scales)), "camera_height", len(found), len(fits), details)


def scale_from_speed(poses: np.ndarray, fps: float, speed: float) -> ScaleEstimate:
    """speed / (fps x mean step between consecutive camera centres) of [N, 4, 4] camera-to-first-camera poses."""
    steps = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
    if len(steps) == 0 or steps.mean() <= 0:
        raise DataError("the trajectory does not move: no metric scale from the speed")
    scale = speed / (fps * float(steps.mean()))
    details = {"speed_m_per_s": speed, "fps": fps, "mean_step": float(steps.mean())}
    return ScaleEstimate(scale, "speed", len(poses), len(poses), details)
