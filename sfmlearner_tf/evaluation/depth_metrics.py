"""Depth metrics of the original evaluation: Garg crop, per-image median scaling, clamping,
seven error/accuracy measures per image, and their mean over images (not pooled over pixels).

Precision follows the original: ground truth and predictions are float32, the per-image values are stored in
float32 arrays, and the reported numbers are the float32 means of those arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from sfmlearner_tf.errors import DataError

# The original's printed column order; d1_all is a KITTI-2015 disparity metric it prints as 0 for Eigen.
METRIC_NAMES = ("abs_rel", "sq_rel", "rms", "log_rms", "d1_all", "a1", "a2", "a3")
# The columns of our labelled tables (model, baselines, comparisons): the original's, without the always-0 d1_all.
SUMMARY_METRICS = ("abs_rel", "sq_rel", "rms", "log_rms", "a1", "a2", "a3")
GARG_CROP_FRACTIONS = (0.40810811, 0.99189189, 0.03594771, 0.96405229)


def garg_crop(height: int, width: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the Garg et al. crop: int() of the fractions times the image size."""
    return tuple(np.array([GARG_CROP_FRACTIONS[0] * height, GARG_CROP_FRACTIONS[1] * height,
                           GARG_CROP_FRACTIONS[2] * width, GARG_CROP_FRACTIONS[3] * width]).astype(np.int32).tolist())


def evaluation_mask(gt: np.ndarray, min_depth: float, max_depth: float) -> np.ndarray:
    """Pixels scored: min_depth < gt < max_depth inside the Garg crop."""
    top, bottom, left, right = garg_crop(*gt.shape)
    crop = np.zeros(gt.shape, dtype=bool)
    crop[top:bottom, left:right] = True
    return (gt > min_depth) & (gt < max_depth) & crop


def compute_depth_errors(gt: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """abs_rel, sq_rel, rms, log_rms, a1, a2, a3 of matching 1-D arrays of positive depths."""
    thresh = np.maximum(gt / pred, pred / gt)
    return {
        "abs_rel": np.mean(np.abs(gt - pred) / gt),
        "sq_rel": np.mean((gt - pred) ** 2 / gt),
        "rms": np.sqrt(np.mean((gt - pred) ** 2)),
        "log_rms": np.sqrt(np.mean((np.log(gt) - np.log(pred)) ** 2)),
        "a1": np.mean(thresh < 1.25),
        "a2": np.mean(thresh < 1.25**2),
        "a3": np.mean(thresh < 1.25**3),
    }


def resize_prediction(pred: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The original's resize of a predicted depth map to the raw image size (cv2 INTER_LINEAR, float32)."""
    return cv2.resize(np.asarray(pred, dtype=np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def scale_and_clamp(gt: np.ndarray, pred: np.ndarray, mask: np.ndarray, min_depth: float, max_depth: float,
                    ) -> tuple[np.ndarray, float]:
    """Median scaling on the scored pixels (pred[mask] *= median(gt) / median(pred)), then the clamp of the whole
    map to [min_depth, max_depth]. Returns the new map and the scale factor."""
    pred = np.array(pred, dtype=np.float32)
    scale = np.median(gt[mask]) / np.median(pred[mask])
    pred[mask] *= scale
    pred[pred < min_depth] = min_depth
    pred[pred > max_depth] = max_depth
    return pred, float(scale)


def score_image(gt: np.ndarray, pred: np.ndarray, min_depth: float = 1e-3, max_depth: float = 80.0,
                ) -> tuple[dict[str, float], float]:
    """Metrics of one image (pred already at the ground truth's size) and the median-scaling factor."""
    mask = evaluation_mask(gt, min_depth, max_depth)
    if not mask.any():
        raise DataError(f"no ground-truth pixel within ({min_depth}, {max_depth}) m inside the Garg crop")
    scaled, scale = scale_and_clamp(gt, pred, mask, min_depth, max_depth)
    return compute_depth_errors(gt[mask], scaled[mask]), scale


def score_depths(gt_depths: Sequence[np.ndarray], pred_depths: Sequence[np.ndarray] | np.ndarray,
                 min_depth: float = 1e-3, max_depth: float = 80.0, names: Sequence[str] | None = None,
                 ) -> dict[str, object]:
    """Scores predictions (any size; resized to each ground truth) against the ground truth, as eval_depth.py.

    Returns {"metrics": {name: mean over images}, "per_image": {name: [values]}, "scales": [median factors]}.
    """
    if len(pred_depths) != len(gt_depths):
        raise DataError(f"{len(pred_depths)} predicted depth maps for {len(gt_depths)} test images")
    num = len(gt_depths)
    per_image = {name: np.zeros(num, np.float32) for name in METRIC_NAMES}
    scales = np.zeros(num, np.float32)
    for i, (gt, pred) in enumerate(zip(gt_depths, pred_depths)):
        gt = np.asarray(gt, dtype=np.float32)
        label = names[i] if names is not None else f"image {i}"
        if np.asarray(pred).ndim != 2:
            raise DataError(f"{label}: predicted depth map has shape {np.shape(pred)}, expected 2-D")
        try:
            errors, scales[i] = score_image(gt, resize_prediction(pred, gt.shape), min_depth, max_depth)
        except DataError as exc:
            raise DataError(f"{label}: {exc}") from exc
        for name, value in errors.items():
            per_image[name][i] = value
    return {
        "metrics": {name: float(values.mean()) for name, values in per_image.items()},
        "per_image": {name: values.tolist() for name, values in per_image.items()},
        "scales": scales.tolist(),
    }


def format_metrics_table(metrics: dict[str, float]) -> str:
    """The original's two printed lines: right-aligned names, then values with 4 decimals."""
    header = ", ".join(f"{name:>10}" for name in METRIC_NAMES)
    values = ", ".join(f"{metrics[name]:10.4f}" for name in METRIC_NAMES)
    return f"{header}\n{values}"


def format_labelled_table(rows: dict[str, dict[str, float]]) -> str:
    """One labelled line per row ({label: metrics}) under a header of SUMMARY_METRICS, 4 decimals."""
    width = max(10, *(len(label) for label in rows))
    header = f"{'':<{width}}" + "".join(f"{name:>10}" for name in SUMMARY_METRICS)
    lines = [f"{label:<{width}}" + "".join(f"{metrics[name]:>10.4f}" for name in SUMMARY_METRICS)
             for label, metrics in rows.items()]
    return "\n".join([header, *lines])
