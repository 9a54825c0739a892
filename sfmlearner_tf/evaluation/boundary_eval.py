"""Boundary metrics over a test list: DBE where the synthetic drives' dense true depth exists, edge sharpness
with their instance masks or with boundary images given per test line (e.g. Mask R-CNN boundaries on KITTI)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.boundary_metrics import (
    boundary_from_instances,
    edge_sharpness_ratio,
    image_boundary_errors,
)
from sfmlearner_tf.evaluation.split_files import TestFrame

BOUNDARY_KEYS = ("dbe_acc", "dbe_comp", "edge_sharpness")  # the scores boundary_scores gives


def read_instances(path: Path) -> np.ndarray:
    """An instance id PNG (uint16, 0 = none) as int32."""
    ids = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if ids is None or ids.ndim != 2:
        raise DataError(f"{path}: cannot read a single-channel instance id image")
    return ids.astype(np.int32)


def read_boundary(path: Path) -> np.ndarray:
    """A boundary image (grey or RGB panel, uint8) as [H, W] uint8."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise DataError(f"{path}: cannot read boundary image")
    return image


def _nanmean(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def boundary_scores(frames: Sequence[TestFrame], pred_depths: Sequence[np.ndarray], edge_domain: str = "depth",
                    boundary_dir: str | os.PathLike | None = None) -> dict[str, object] | None:
    """Mean DBE accuracy/completeness (px) and edge-sharpness ratio over the images where they are defined.

    DBE needs depth_02/*.npy beside every test image (synthetic drives); sharpness uses `boundary_dir`
    (<boundary_dir>/<test line>, a grey or panel PNG) when given, else the instance masks. Returns None when
    neither dense depth nor boundaries are available (e.g. plain KITTI without boundary images).
    """
    has_dense = all(f.dense_depth.is_file() for f in frames)
    has_instances = all(f.instances.is_file() for f in frames)
    if not (has_dense or has_instances or boundary_dir):
        return None
    accuracy, completeness, sharpness = [], [], []
    for frame, pred in zip(frames, pred_depths):
        pred = np.asarray(pred, dtype=np.float32)
        instances = read_instances(frame.instances) if has_instances else None
        if has_dense:
            true_depth = np.load(frame.dense_depth, allow_pickle=False)
            acc, comp = image_boundary_errors(pred, true_depth, instances, edge_domain)
            accuracy.append(acc)
            completeness.append(comp)
        if boundary_dir:
            sharpness.append(edge_sharpness_ratio(pred, read_boundary(Path(boundary_dir) / frame.line)))
        elif instances is not None:
            sharpness.append(edge_sharpness_ratio(pred, boundary_from_instances(instances, pred.shape)))
    scores: dict[str, object] = {}
    if accuracy:
        scores.update(dbe_acc=_nanmean(accuracy), dbe_comp=_nanmean(completeness),
                      dbe_images=sum(not math.isnan(a) for a in accuracy), edge_domain=edge_domain)
    if sharpness:
        scores.update(edge_sharpness=_nanmean(sharpness), sharpness_images=sum(not math.isnan(s) for s in sharpness))
    return scores
