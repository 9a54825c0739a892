"""Whole-trajectory odometry metrics (pure numpy): the similarity alignment of Umeyama (1991), the KITTI odometry
development kit's segment errors (devkit evaluate_odometry.cpp) and the absolute trajectory error (ATE).

Segment errors, as the kit computes them (in float64 here, the kit uses float32): cumulative distances along
the ground truth; first frames every `step` (10) frames; for each length, the first frame whose distance from
the start exceeds first + length (strictly) ends the segment (none: no segment); pose error
E = inv(inv(P_first) P_last) inv(G_first) G_last; rotation error = acos(clip((trace(R_E) - 1) / 2)) / length,
translation error = ||t_E|| / length. The kit's summary is the mean over all segments, published as t_err in %
(x 100) and r_err in deg per 100 m (x 180 / pi x 100).

The true rotations are first projected onto the nearest rotations (`nearest_rotations`): a perfect prediction
scored against poses/XX.txt as written (7 digits) would otherwise show r_err of 0.2 deg / 100 m on 1 m segments
(below 0.02 at KITTI's 100 m).

Sequences shorter than the kit's shortest length (100 m; the synthetic ones are 10-50 m) have no KITTI segment:
`segment_lengths` then uses the same lengths relative to a 1 km drive, 10 %..80 % of the sequence's own path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from sfmlearner_tf.errors import DataError

KITTI_LENGTHS = (100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0)
SHORT_FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # KITTI's lengths over a 1000 m drive
KITTI_STEP = 10  # first frames every 10 frames (1 s at 10 Hz)


class Similarity(NamedTuple):
    """x -> scale * rotation @ x + translation."""

    rotation: np.ndarray  # [3, 3]
    translation: np.ndarray  # [3]
    scale: float


class SegmentError(NamedTuple):
    """One segment of the kit: translation error per metre (fraction) and rotation error in radians per metre."""

    first_frame: int
    length: float
    t_err: float
    r_err: float


def umeyama_alignment(pred_xyz: np.ndarray, gt_xyz: np.ndarray, with_scale: bool = True) -> Similarity:
    """The similarity (rotation, translation, scale) minimising sum ||gt - (s R pred + t)||^2 over matched positions
    [N, 3] (Umeyama 1991, eqs. 38-42; with_scale=False: s = 1, a rigid 6-DoF fit). Unique when the positions span a
    plane or more; along a straight line any roll about the line fits equally well (one is returned)."""
    pred, gt = np.asarray(pred_xyz, np.float64), np.asarray(gt_xyz, np.float64)
    if pred.shape != gt.shape or pred.ndim != 2 or pred.shape[1] != 3 or len(pred) < 2:
        raise DataError(f"alignment needs two equal [N>=2, 3] position arrays, got {pred.shape} and {gt.shape}")
    mean_pred, mean_gt = pred.mean(axis=0), gt.mean(axis=0)
    centred_pred, centred_gt = pred - mean_pred, gt - mean_gt
    variance = float(np.mean(np.sum(centred_pred**2, axis=1)))
    if with_scale and variance == 0.0:
        raise DataError("the predicted positions are all one point: no scale can align them")
    u, d, vt = np.linalg.svd(centred_gt.T @ centred_pred / len(pred))
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1.0
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(d) @ sign) / variance) if with_scale else 1.0
    return Similarity(rotation, mean_gt - scale * rotation @ mean_pred, scale)


def homogeneous(poses: np.ndarray) -> np.ndarray:
    """[N, 3, 4] or [N, 4, 4] poses -> float64 [N, 4, 4]."""
    poses = np.asarray(poses, np.float64)
    out = np.tile(np.eye(4), (len(poses), 1, 1))
    out[:, :3, :] = poses[:, :3, :]
    return out


def nearest_rotations(poses: np.ndarray) -> np.ndarray:
    """[N, 4, 4] poses with each rotation block replaced by the nearest rotation (Frobenius norm: U V^T of its SVD,
    the last axis flipped if that is a reflection). Pose files round to about 7 digits, and the kit's
    acos((trace - 1) / 2) turns a non-orthogonality of 1e-7 into an angle of about 3e-4 rad."""
    poses = homogeneous(poses)
    u, _, vt = np.linalg.svd(poses[:, :3, :3])
    flip = np.where(np.linalg.det(u @ vt) < 0, -1.0, 1.0)
    u[:, :, 2] *= flip[:, None]
    poses[:, :3, :3] = u @ vt
    return poses


def align_poses(poses: np.ndarray, similarity: Similarity) -> np.ndarray:
    """Camera-to-world poses [N, 4, 4] moved by the similarity: R_k -> R R_k, p_k -> s R p_k + t."""
    rotation, translation, scale = similarity
    aligned = homogeneous(poses)
    aligned[:, :3, :3] = rotation @ aligned[:, :3, :3]
    aligned[:, :3, 3] = scale * aligned[:, :3, 3] @ rotation.T + translation
    return aligned


def trajectory_distances(poses: np.ndarray) -> np.ndarray:
    """[N] distance travelled from frame 0 to each frame along the positions of [N, 3|4, 4] poses."""
    steps = np.linalg.norm(np.diff(np.asarray(poses)[:, :3, 3], axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(steps)])


def segment_lengths(path_length: float) -> tuple[tuple[float, ...], str]:
    """The segment lengths to score a sequence of this ground-truth path length with, and the rule used: KITTI's
    100..800 m when the path is longer than 100 m (the kit scores those that fit), else 10 %..80 % of the path."""
    if path_length > KITTI_LENGTHS[0]:
        return KITTI_LENGTHS, "KITTI's 100..800 m"
    return (tuple(f * path_length for f in SHORT_FRACTIONS),
            f"10%..80% of the {path_length:.3g} m path, shorter than KITTI's 100 m segments")


def kitti_segment_errors(gt_poses: np.ndarray, pred_poses: np.ndarray, lengths: Sequence[float] = KITTI_LENGTHS,
                         step: int = KITTI_STEP) -> list[SegmentError]:
    """Every segment error of the KITTI kit (see the module docstring) of predicted against true camera-to-world
    poses [N, 3|4, 4] of the same frames, in the kit's order (first frame, then length)."""
    gt, pred = homogeneous(gt_poses), homogeneous(pred_poses)
    if gt.shape != pred.shape:
        raise DataError(f"segment errors need poses of the same frames, got {len(gt)} true and {len(pred)} predicted")
    dist = trajectory_distances(gt)
    errors = []
    for first in range(0, len(gt), step):
        for length in lengths:
            beyond = np.nonzero(dist[first:] > dist[first] + length)[0]
            if not len(beyond):
                continue
            last = first + int(beyond[0])
            delta_gt = np.linalg.inv(gt[first]) @ gt[last]
            delta_pred = np.linalg.inv(pred[first]) @ pred[last]
            error = np.linalg.inv(delta_pred) @ delta_gt
            angle = math.acos(max(min(0.5 * (np.trace(error[:3, :3]) - 1.0), 1.0), -1.0))
            errors.append(SegmentError(first, float(length), float(np.linalg.norm(error[:3, 3])) / length,
                                       angle / length))
    return errors


def mean_segment_errors(errors: Sequence[SegmentError]) -> tuple[float | None, float | None]:
    """The kit's published summary: (t_err in %, r_err in deg per 100 m), means over all segments; None, None
    without segments."""
    if not errors:
        return None, None
    return (100.0 * float(np.mean([e.t_err for e in errors])),
            100.0 * math.degrees(float(np.mean([e.r_err for e in errors]))))


def absolute_trajectory_error(gt_xyz: np.ndarray, aligned_xyz: np.ndarray) -> float:
    """ATE: the root mean square of the position errors [N, 3] (after alignment)."""
    diff = np.asarray(aligned_xyz, np.float64) - np.asarray(gt_xyz, np.float64)
    return float(np.sqrt(np.mean(np.sum(diff**2, axis=1))))
