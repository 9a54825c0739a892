"""Whole-trajectory scores of one odometry sequence (sfm-eval --split=odometry --full_trajectory): the predicted
snippets chained into one trajectory (evaluation/trajectory_chain.py), aligned to the ground truth of
poses/XX.txt (its rotations made orthonormal, see odometry_metrics.py) by a similarity (Sim(3), 7 DoF: a
monocular net's scale is unknown) or a rigid motion (SE(3)), then the ATE and the KITTI kit's t_err / r_err
(evaluation/odometry_metrics.py), a top-view plot of both trajectories and the aligned prediction in the kit's
pose format (so that the official kit can score it too).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.evaluation.odometry_metrics import (
    KITTI_STEP,
    SegmentError,
    absolute_trajectory_error,
    align_poses,
    kitti_segment_errors,
    mean_segment_errors,
    nearest_rotations,
    segment_lengths,
    trajectory_distances,
    umeyama_alignment,
)
from sfmlearner_tf.evaluation.trajectory_chain import chain_window_transforms, snippet_window_transforms
from sfmlearner_tf.evaluation.trajectory_plot import END_COLOUR, START_COLOUR, top_view
from sfmlearner_tf.io_utils import atomic_save_image, atomic_write_text
from sfmlearner_tf.prep.kitti_io import read_odometry_poses

ALIGNMENTS = {"sim3": "Sim(3)", "se3": "SE(3)"}  # name -> label; sim3 fits the scale too
GT_COLOUR, PRED_COLOUR = (60, 60, 60), (31, 119, 180)


def check_alignment(alignment: str) -> None:
    """A ConfigError naming the flag unless `alignment` is one of ALIGNMENTS."""
    if alignment not in ALIGNMENTS:
        raise ConfigError(f"--trajectory_alignment must be one of {', '.join(ALIGNMENTS)}, got {alignment!r}")


def evaluate_full_trajectory(odom_dir: str | os.PathLike, sequence: int, snippet_dir: str | os.PathLike,
                             seq_length: int, out_dir: str | os.PathLike, alignment: str = "sim3") -> dict:
    """Scores the trajectory chained from every snippet of `snippet_dir` (all windows of the sequence must be
    there) against `<odom_dir>/poses/<XX>.txt`; writes <out_dir>/trajectory_<XX>.png and
    trajectory_<XX>_aligned.txt and returns the numbers (None where there is no segment to score)."""
    check_alignment(alignment)
    gt = nearest_rotations(read_odometry_poses(Path(odom_dir) / "poses" / f"{sequence:02d}.txt"))
    gt = np.linalg.inv(gt[0]) @ gt
    pred = chain_window_transforms(snippet_window_transforms(snippet_dir, len(gt), seq_length))
    try:
        similarity = umeyama_alignment(pred[:, :3, 3], gt[:, :3, 3], with_scale=alignment == "sim3")
    except DataError as exc:
        raise DataError(f"{snippet_dir}: {exc}") from exc
    aligned = align_poses(pred, similarity)
    path_length = float(trajectory_distances(gt)[-1])
    lengths, rule = segment_lengths(path_length)
    segments = kitti_segment_errors(gt, aligned, lengths, KITTI_STEP)
    t_err, r_err = mean_segment_errors(segments)
    name = f"trajectory_{sequence:02d}"
    plot_path, poses_path = Path(out_dir) / f"{name}.png", Path(out_dir) / f"{name}_aligned.txt"
    atomic_save_image(plot_path, _plot(sequence, gt, aligned, alignment))
    atomic_write_text(poses_path, "".join(" ".join(f"{v:.6e}" for v in pose[:3].ravel()) + "\n" for pose in aligned))
    return {"alignment": alignment, "scale": similarity.scale, "rotation": similarity.rotation.tolist(),
            "translation": similarity.translation.tolist(), "num_frames": len(gt), "path_length_m": path_length,
            "ate_m": absolute_trajectory_error(gt[:, :3, 3], aligned[:, :3, 3]),
            "t_err_percent": t_err, "r_err_deg_per_100m": r_err, "num_segments": len(segments),
            "segment_lengths_m": list(lengths), "segment_rule": rule, "segment_step_frames": KITTI_STEP,
            "per_length": _per_length(segments, lengths), "plot": str(plot_path), "aligned_poses": str(poses_path)}


def _per_length(segments: list[SegmentError], lengths: tuple[float, ...]) -> list[dict]:
    """The kit's per-length means (t_err %, r_err deg / 100 m) of the lengths that have segments."""
    rows = []
    for length in lengths:
        chosen = [s for s in segments if s.length == length]
        if chosen:
            t_err, r_err = mean_segment_errors(chosen)
            rows.append({"length_m": length, "num_segments": len(chosen), "t_err_percent": t_err,
                         "r_err_deg_per_100m": r_err})
    return rows


def _plot(sequence: int, gt: np.ndarray, aligned: np.ndarray, alignment: str) -> np.ndarray:
    legend = [("ground truth", GT_COLOUR), (f"prediction, {ALIGNMENTS[alignment]}-aligned", PRED_COLOUR),
              ("start", START_COLOUR), ("end", END_COLOUR)]
    return top_view([(gt, GT_COLOUR, 5), (aligned, PRED_COLOUR, 2)],
                    f"seq {sequence:02d} top view: x right, z forward; {len(gt)} frames", legend, "m")


def full_trajectory_lines(sequence: int, scores: dict) -> str:
    """The printed lines: the whole-trajectory numbers, then the segments they are the means of."""
    label = ALIGNMENTS[scores["alignment"]]
    head = (f"Seq {sequence:02d} full trajectory ({scores['num_frames']} frames, {scores['path_length_m']:.4g} m, "
            f"{label}-aligned, scale {scores['scale']:.4g}): ATE {scores['ate_m']:.4f} m")
    if scores["t_err_percent"] is None:
        return f"{head}, t_err / r_err: no segment ({scores['segment_rule']})"
    lengths = ", ".join(f"{row['length_m']:.3g}" for row in scores["per_length"])
    return (f"{head}, t_err {scores['t_err_percent']:.2f} %, r_err {scores['r_err_deg_per_100m']:.2f} deg/100m\n"
            f"  means over {scores['num_segments']} segments of {lengths} m ({scores['segment_rule']}), "
            f"first frames every {scores['segment_step_frames']}")
