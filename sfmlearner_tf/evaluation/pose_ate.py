"""Absolute trajectory error of pose snippets, exactly as the original's compute_ate:
timestamps associated greedily (|dt| < 0.01 s, closest pairs first), translation only, the predicted positions
shifted so that the first matched positions coincide (no rotation alignment), a least-squares scale
s = sum(gt . pred) / sum(pred^2), and ATE = sqrt(sum ||s pred - gt||^2) / n, with n counting every matched frame
including the identity first frame (not an RMSE). Over a sequence: mean and population std of the snippets.

The original keeps a snippet only if not `ate == False`, and in Python `0.0 == False`: a snippet whose ATE is
exactly 0 (e.g. static ground truth: all positions zero, so the fitted scale and the error are 0) is dropped
from the mean, the std and the count. Reproduced by default and counted; `keep_zero_ate=True` scores them.

The original silently skips predictions without ground truth (and ground truth without predictions), scores a
snippet on whatever frames match, and averages in the NaN of a prediction that does not move. Here a sequence is
scored only if every ground-truth snippet is, frame for frame (directory_ate): its ATE is never the ATE of the
part that happened to be predicted, nor NaN."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.pose_snippets import matched_snippet_names, name_list, read_tum_file

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


def snippet_positions(path: str | os.PathLike) -> dict[float, np.ndarray]:
    """{timestamp: [tx, ty, tz]} of a TUM-style snippet file; a position that is not three finite numbers is a
    DataError naming the file and the timestamp."""
    positions = {}
    for stamp, fields in read_tum_file(path).items():
        try:
            xyz = np.array([float(v) for v in fields[:3]])
        except ValueError:
            xyz = np.array([])
        if xyz.shape != (3,) or not np.all(np.isfinite(xyz)):
            raise DataError(f"{path}: the position at timestamp {stamp} is not three finite numbers: "
                            f"{' '.join(fields[:3])[:60]!r}")
        positions[stamp] = xyz
    return positions


def _matched_positions(gt_file: str | os.PathLike, pred_file: str | os.PathLike,
                       ) -> tuple[np.ndarray, np.ndarray, int]:
    """The matched positions [n, 3] of ground truth and prediction, and the frame count of the longer file."""
    gt, pred = snippet_positions(gt_file), snippet_positions(pred_file)
    matches = associate(gt, pred)
    gt_xyz = np.array([gt[a] for a, _ in matches]).reshape(-1, 3)
    pred_xyz = np.array([pred[b] for _, b in matches]).reshape(-1, 3)
    return gt_xyz, pred_xyz, max(len(gt), len(pred))


def snippet_ate(gt_file: str | os.PathLike, pred_file: str | os.PathLike) -> float | None:
    """ATE of one predicted snippet file against its ground truth; None if fewer than 2 frames match."""
    gt_xyz, pred_xyz, _ = _matched_positions(gt_file, pred_file)
    return compute_ate(gt_xyz, pred_xyz) if len(gt_xyz) >= 2 else None


def _unscorable(gt_xyz: np.ndarray, pred_xyz: np.ndarray, frames: int) -> str | None:
    """Why a snippet cannot be scored honestly (None if it can): frames without a partner, or a prediction that
    does not move (no scale fits: the original's ATE would be NaN)."""
    if len(gt_xyz) < max(frames, 2):
        return f"{len(gt_xyz)} of {frames} frames matched"
    if np.all(pred_xyz == pred_xyz[0]):
        return "no predicted motion"
    return None


def directory_ate(gt_dir: str | os.PathLike, pred_dir: str | os.PathLike, keep_zero_ate: bool = False,
                  label: str = "pose evaluation") -> dict[str, float | int]:
    """Mean and population std of the ATE over the snippets of `gt_dir`, each predicted in `pred_dir`.

    What cannot be scored honestly is a DataError starting with `label` (e.g. "sequence 09"), never a score of
    what is left: a missing or extra prediction (pose_snippets.matched_snippet_names), a prediction whose
    timestamps do not match its ground truth's frame for frame (|dt| < 0.01 s), one that does not move, and
    nothing left to score. Snippets whose ATE is exactly 0 are dropped, as the original does, unless
    `keep_zero_ate`; `num_zero_ate_dropped` says how many were.
    """
    names = matched_snippet_names(gt_dir, pred_dir, label)
    values, dropped, bad = [], 0, []
    for name in names:
        gt_xyz, pred_xyz, frames = _matched_positions(Path(gt_dir) / name, Path(pred_dir) / name)
        problem = _unscorable(gt_xyz, pred_xyz, frames)
        ate = math.nan if problem else compute_ate(gt_xyz, pred_xyz)
        if problem or not math.isfinite(ate):
            bad.append(f"{name} ({problem or 'ATE not finite'})")
        elif ate == 0.0 and not keep_zero_ate:
            dropped += 1
        else:
            values.append(ate)
    if bad:
        raise DataError(f"{label}: {len(bad)} of the {len(names)} predicted snippets in {pred_dir} cannot be "
                        f"scored: {name_list(bad, 2)}")
    if not values:
        raise DataError(f"{label}: nothing to score: all {dropped} snippets in {pred_dir} have ATE exactly 0, which "
                        "the original drops (static ground truth or perfect predictions); --keep_zero_ate scores them")
    return {"ate_mean": float(np.mean(values)), "ate_std": float(np.std(values)), "num_snippets": len(values),
            "num_zero_ate_dropped": dropped}
