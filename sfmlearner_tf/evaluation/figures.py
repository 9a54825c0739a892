"""Comparison figures like the seed paper's Fig. 7: input | model A | model B | interpolated ground truth, one
strip per test image, each panel at the prediction's size, with a label above each panel.

The ground truth is interpolated for display only (never for metrics): each pixel takes the depth of the
nearest velodyne point (Voronoi fill, cv2.distanceTransformWithLabels with the 5x5 mask), the fill is smoothed
with a Gaussian of sigma 2 px (at full resolution), rows above the highest velodyne point stay empty (black),
and the result is resized to the panel size with INTER_AREA.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from sfmlearner_tf.evaluation.exports import depth_to_color
from sfmlearner_tf.io_utils import atomic_save_image

LABEL_HEIGHT = 18
DISPLAY_SIGMA = 2.0


def interpolate_sparse_depth(sparse: np.ndarray, sigma: float = DISPLAY_SIGMA) -> np.ndarray:
    """Dense depth for display from a sparse map (0 = no point); float32 [H, W], 0 above the highest point."""
    sparse = np.asarray(sparse, dtype=np.float32)
    valid = sparse > 0
    if not valid.any():
        return np.zeros_like(sparse)
    _, labels = cv2.distanceTransformWithLabels(np.where(valid, 0, 1).astype(np.uint8), cv2.DIST_L2,
                                                cv2.DIST_MASK_5, labelType=cv2.DIST_LABEL_PIXEL)
    values = np.concatenate([[0.0], sparse[valid]]).astype(np.float32)  # labels count valid pixels in raster order
    dense = cv2.GaussianBlur(values[labels], (0, 0), sigma) if sigma > 0 else values[labels]
    dense[: np.nonzero(valid.any(axis=1))[0][0]] = 0.0
    return dense


def _labelled(panel: np.ndarray, label: str) -> np.ndarray:
    header = np.full((LABEL_HEIGHT, panel.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(header, label, (4, LABEL_HEIGHT - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([header, panel])


def comparison_figure(image: np.ndarray, depth_a: np.ndarray, depth_b: np.ndarray, gt_sparse: np.ndarray,
                      labels: Sequence[str] = ("input", "model A", "model B", "ground truth (interpolated)"),
                      ) -> np.ndarray:
    """One uint8 RGB strip [LABEL_HEIGHT + h, 4 w, 3]; h, w = the size of depth_a."""
    height, width = depth_a.shape
    size = (width, height)
    panels = [
        cv2.resize(np.asarray(image, dtype=np.uint8), size, interpolation=cv2.INTER_AREA),
        depth_to_color(depth_a),
        depth_to_color(cv2.resize(np.asarray(depth_b, np.float32), size, interpolation=cv2.INTER_LINEAR)),
        depth_to_color(cv2.resize(interpolate_sparse_depth(gt_sparse), size, interpolation=cv2.INTER_AREA)),
    ]
    return np.hstack([_labelled(panel, label) for panel, label in zip(panels, labels)])


def write_comparison_figures(out_dir: str | os.PathLike, names: Sequence[str], images: Sequence[np.ndarray],
                             depths_a: Sequence[np.ndarray], depths_b: Sequence[np.ndarray],
                             gt_depths: Sequence[np.ndarray], labels: Sequence[str]) -> list[Path]:
    """Writes <out_dir>/<name>_compare.png per image (atomic, replacing an earlier run's). Returns the paths."""
    paths = []
    for name, image, depth_a, depth_b, gt in zip(names, images, depths_a, depths_b, gt_depths):
        path = Path(out_dir) / f"{name}_compare.png"
        atomic_save_image(path, comparison_figure(image, depth_a, depth_b, gt, labels))
        paths.append(path)
    return paths
