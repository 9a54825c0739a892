"""Absolute trajectory error of pose snippets, exactly as the original's compute_ate (SPEC section 8):
timestamps associated greedily (|dt| < 0.01 s, closest pairs first), translation only, the predicted positions
shifted so that the first matched positions coincide (no rotation alignment), a least-squares scale
s = sum(gt . pred) / sum(pred^2), and ATE = sqrt(sum ||s pred - gt||^2) / n, with n counting every matched frame
including the identity first frame (not an RMSE). Over a sequence: mean and population std of the snippets."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from sfmlearner_tf.evaluation.pose_snippets import read_tum_file

MAX_TIME_DIFFERENCE = 0.01


def associate(first: dict[float, list[str]], second: dict[float, list[str]],
              max_difference: float = MAX_TIME_DIFFERENCE) -> list[tuple[float, float]]:
    """Pairs of timestamps (first, second), each used once, closest first; sorted by the first timestamp."""
    candidates = sorted((abs(a - b), a, b) for a in first for b in second if abs(a - b) < max_difference)
    used_a, used_b, matches = set(), set(), []
    for _, a, b in candidates:
        if a not in used_a and b not in used_b:
            used_a.add(a)
            used_b.add(b)
            matches.append((a, b))
    return sorted(matches)


def compute_ate(gt_xyz: np.ndarray, pred_xyz: np.ndarray) -> float:
    """ATE of matched positions [n, 3] (first rows aligned, least-squares scale, sqrt(sum) / n)."""
    gt_xyz = np.asarray(gt_xyz, dtype=np.float64)
    pred_xyz = np.asarray(pred_xyz, dtype=np.float64) + (gt_xyz[0] - pred_xyz[0])
    scale = np.sum(gt_xyz * pred_xyz) / np.sum(pred_xyz**2)
    return float(np.sqrt(np.sum((pred_xyz * scale - gt_xyz) ** 2)) / len(gt_xyz))


def snippet_ate(gt_file: str | os.PathLike, pred_file: str | os.PathLike) -> float | None:
    """ATE of one predicted snippet file against its ground truth; None if fewer than 2 frames match."""
    gt, pred = read_tum_file(gt_file), read_tum_file(pred_file)
    matches = associate(gt, pred)
    if len(matches) < 2:
        return None
    gt_xyz = np.array([[float(v) for v in gt[a][:3]] for a, _ in matches])
    pred_xyz = np.array([[float(v) for v in pred[b][:3]] for _, b in matches])
    return compute_ate(gt_xyz, pred_xyz)


def directory_ate(gt_dir: str | os.PathLike, pred_dir: str | os.PathLike) -> dict[str, float | int]:
    """Mean and population std of the ATE over every predicted snippet whose same-named ground truth exists."""
    values = []
    for pred_file in sorted(Path(pred_dir).glob("*.txt")):
        gt_file = Path(gt_dir) / pred_file.name
        if gt_file.is_file() and (ate := snippet_ate(gt_file, pred_file)) is not None:
            values.append(ate)
    if not values:
        return {"ate_mean": math.nan, "ate_std": math.nan, "num_snippets": 0}
    return {"ate_mean": float(np.mean(values)), "ate_std": float(np.std(values)), "num_snippets": len(values)}
