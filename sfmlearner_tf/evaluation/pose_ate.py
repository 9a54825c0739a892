"""Absolute trajectory error of pose snippets, exactly as the original's compute_ate:
timestamps associated greedily (|dt| < 0.01 s, closest pairs first), translation only, the predicted positions
shifted so that the first matched positions coincide (no rotation alignment), a least-squares scale
s = sum(gt . pred) / sum(pred^2), and ATE = sqrt(sum ||s pred - gt||^2) / n, with n counting every matched frame
including the identity first frame (not an RMSE). Over a sequence: mean and population std of the snippets.

The original keeps a snippet only if not `ate == False`, and in Python `0.0 == False`: a snippet whose ATE is
exactly 0 (e.g. static ground truth: all positions zero, so the fitted scale and the error are 0) is dropped
from the mean, the std and the count. Reproduced by default and counted; `keep_zero_ate=True` scores them."""

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


def directory_ate(gt_dir: str | os.PathLike, pred_dir: str | os.PathLike,
                  keep_zero_ate: bool = False) -> dict[str, float | int]:
    """Mean and population std of the ATE over every predicted snippet whose same-named ground truth exists.

    Snippets whose ATE is exactly 0 are dropped, as the original does, unless `keep_zero_ate`;
    `num_zero_ate_dropped` says how many were. NaN mean and std when no snippet is left.
    """
    values, dropped = [], 0
    for pred_file in sorted(Path(pred_dir).glob("*.txt")):
        gt_file = Path(gt_dir) / pred_file.name
        if not gt_file.is_file() or (ate := snippet_ate(gt_file, pred_file)) is None:
            continue
        if ate == 0.0 and not keep_zero_ate:
            dropped += 1
        else:
            values.append(ate)
    counts = {"num_snippets": len(values), "num_zero_ate_dropped": dropped}
    if not values:
        return {"ate_mean": math.nan, "ate_std": math.nan, **counts}
    return {"ate_mean": float(np.mean(values)), "ate_std": float(np.std(values)), **counts}
