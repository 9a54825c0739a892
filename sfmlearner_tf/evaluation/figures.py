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


def _object_window(instances: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a window of `size` (h, w) centred on the largest instance (the whole image
    if there is none)."""
    height, width = instances.shape
    ids, counts = np.unique(instances[instances > 0], return_counts=True)
    if ids.size == 0:
        return 0, height, 0, width
    rows, cols = np.nonzero(instances == ids[np.argmax(counts)])
    win_h, win_w = min(size[0], height), min(size[1], width)
    top = int(np.clip((rows.min() + rows.max()) // 2 - win_h // 2, 0, height - win_h))
    left = int(np.clip((cols.min() + cols.max()) // 2 - win_w // 2, 0, width - win_w))
    return top, top + win_h, left, left + win_w


def depth_rows_figure(frames: Sequence, depths_by_label: dict[str, np.ndarray], num_rows: int = 4,
                      crop_to_objects: bool = True) -> np.ndarray:
    """One row per frame: input | true depth | one predicted depth per label, for the `num_rows` synthetic test
    frames (with `.image`, `.dense_depth`, `.instances`) that show the most object pixels. All panels at the true
    depth's resolution, colours the original's magma disparity. crop_to_objects: each row is a window around the
    frame's largest object, enlarged 2x (to see its edges); otherwise the whole frame."""
    from sfmlearner_tf.evaluation.boundary_eval import read_instances
    from sfmlearner_tf.evaluation.depth_predict import load_resized_image

    instances = [read_instances(f.instances) for f in frames]
    order = np.argsort([-int((ids > 0).sum()) for ids in instances], kind="stable")[:num_rows]
    rows = []
    for i in order:
        true_depth = np.load(frames[i].dense_depth)
        height, width = true_depth.shape
        panels = [load_resized_image(frames[i].image, height, width), depth_to_color(true_depth)]
        panels += [depth_to_color(cv2.resize(depths[i], (width, height), interpolation=cv2.INTER_LINEAR))
                   for depths in depths_by_label.values()]
        if crop_to_objects:
            top, bottom, left, right = _object_window(instances[i], (height // 2, width // 3))
            panels = [cv2.resize(p[top:bottom, left:right], None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
                      for p in panels]
        rows.append(np.hstack([np.pad(p, ((2, 2), (2, 2), (0, 0)), constant_values=255) for p in panels]))
    labels = ["input", "true depth", *depths_by_label]
    header = np.full((LABEL_HEIGHT + 2, rows[0].shape[1], 3), 255, np.uint8)
    step = rows[0].shape[1] // len(labels)
    for k, label in enumerate(labels):
        cv2.putText(header, label, (k * step + 4, LABEL_HEIGHT - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return np.vstack([header, *rows])


def _series_plot(steps: Sequence[int], values: Sequence[float], title: str, size: tuple[int, int]) -> np.ndarray:
    """One metric against the step: points joined by lines in a frame, labelled with the value and step ranges."""
    height, width = size
    left, right, top, bottom = 52, 12, 26, 30
    pad = 0.05 * (max(values) - min(values)) or 0.01
    low, high = min(values) - pad, max(values) + pad
    span = max(steps[-1] - steps[0], 1)
    points = [(int(left + (step - steps[0]) / span * (width - left - right)),
               int(height - bottom - (value - low) / (high - low) * (height - top - bottom)))
              for step, value in zip(steps, values)]
    plot = np.full((height, width, 3), 255, np.uint8)
    cv2.rectangle(plot, (left, top), (width - right, height - bottom), (0, 0, 0), 1)
    cv2.polylines(plot, [np.array(points, np.int32)], False, (40, 90, 200), 2, cv2.LINE_AA)
    for point in points:
        cv2.circle(plot, point, 3, (40, 90, 200), -1, cv2.LINE_AA)
    labels = [(title, (left, 16)), (f"{high:.3f}", (2, top + 10)), (f"{low:.3f}", (2, height - bottom)),
              (f"{steps[0]}", (left, height - 10)), (f"step {steps[-1]}", (width - right - 70, height - 10))]
    for label, origin in labels:
        cv2.putText(plot, label, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return plot


def curve_figure(curve: Sequence[dict], keys: Sequence[str] = ("abs_rel", "a1"), size: tuple[int, int] = (260, 360)
                 ) -> np.ndarray:
    """A learning curve from points {"step", "metrics": {key: value}}: one plot per metric in `keys`, side by
    side. uint8 RGB."""
    steps = [point["step"] for point in curve]
    titles = {"a1": "delta < 1.25"}
    return np.hstack([_series_plot(steps, [point["metrics"][key] for point in curve], titles.get(key, key), size)
                      for key in keys])
