"""One trajectory from overlapping windows of relative poses: the pose net's windows (sfm-predict) or the pose
snippet files of a sequence (sfm-eval --full_trajectory).

A window of L frames centred on c is given as T_{c->j} = C_j^-1 C_c for its frames j in time order (C_k: camera
k -> world; T maps points from camera c to camera j, the pose net's target->source convention). The motion from
frame k to frame k+1 is C_k^-1 C_{k+1} = T_{c->k} T_{c->k+1}^-1, read from the window centred on k (at the ends
the first or last window, which also holds both frames), and the trajectory is chained from C_0 = I.

A snippet file (pose_snippets.py) holds, per frame j of its window, C_s^-1 C_j relative to its first frame s
(TUM line `timestamp tx ty tz qx qy qz qw`), so T_{c->j} = (C_s^-1 C_j)^-1 (C_s^-1 C_c).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.pose_snippets import read_tum_file, snippet_starts


def chain_window_transforms(transforms: np.ndarray) -> np.ndarray:
    """[W, L, 4, 4] T_{c->j} of the W windows of a sequence of W + L - 1 frames (window w = frames w..w+L-1)
    -> [W + L - 1, 4, 4] camera-to-first-camera poses C_0^-1 C_k."""
    num_windows, seq_length = transforms.shape[:2]
    half = (seq_length - 1) // 2
    poses = [np.eye(4)]
    for k in range(num_windows + seq_length - 2):
        w = min(max(k - half, 0), num_windows - 1)
        window = transforms[w]
        poses.append(poses[-1] @ window[k - w] @ np.linalg.inv(window[k + 1 - w]))
    return np.stack(poses)


def quaternion_to_matrix(qx: float, qy: float, qz: float, qw: float) -> np.ndarray:
    """3x3 rotation of a quaternion (normalised first: snippet files round it to 6 decimals)."""
    q = np.array([qw, qx, qy, qz], np.float64)
    norm = np.linalg.norm(q)
    if norm == 0.0:
        raise DataError("a zero quaternion is no rotation")
    w, x, y, z = q / norm
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def read_snippet_poses(path: str | os.PathLike, seq_length: int) -> np.ndarray:
    """[L, 4, 4] poses C_s^-1 C_j of a snippet file in timestamp order; it must hold exactly L frames."""
    entries = read_tum_file(path)
    if len(entries) != seq_length:
        raise DataError(f"{path}: {len(entries)} frames in a snippet of {seq_length} (--seq_length)")
    poses = []
    for stamp in sorted(entries):
        try:
            tx, ty, tz, qx, qy, qz, qw = (float(v) for v in entries[stamp][:7])
        except ValueError as exc:
            raise DataError(f"{path}: pose at {stamp} is not 7 numbers ({exc})") from exc
        pose = np.eye(4)
        try:
            pose[:3, :3] = quaternion_to_matrix(qx, qy, qz, qw)
        except DataError as exc:
            raise DataError(f"{path}: pose at {stamp}: {exc}") from exc
        pose[:3, 3] = tx, ty, tz
        poses.append(pose)
    return np.stack(poses)


def missing_snippets(snippet_dir: str | os.PathLike, num_frames: int, seq_length: int) -> list[str]:
    """Names of the snippet files (%06d.txt, one per window start) a sequence of num_frames lacks."""
    names = [f"{start:06d}.txt" for start in snippet_starts(num_frames, seq_length)]
    return [name for name in names if not (Path(snippet_dir) / name).is_file()]


def snippet_window_transforms(snippet_dir: str | os.PathLike, num_frames: int, seq_length: int) -> np.ndarray:
    """[W, L, 4, 4] T_{c->j} of every window of the sequence from its snippet files; all must be there (a
    trajectory is never chained across a gap): a DataError names how many and which are missing."""
    starts = snippet_starts(num_frames, seq_length)
    if not starts:
        raise DataError(f"{snippet_dir}: a sequence of {num_frames} frames has no {seq_length}-frame window")
    missing = missing_snippets(snippet_dir, num_frames, seq_length)
    if missing:
        shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
        raise DataError(f"{snippet_dir}: {len(missing)} of the {len(starts)} snippet files of the full trajectory "
                        f"({num_frames} frames, {seq_length}-frame windows) are missing: {shown}")
    half = (seq_length - 1) // 2
    windows = []
    for start in starts:
        poses = read_snippet_poses(Path(snippet_dir) / f"{start:06d}.txt", seq_length)
        windows.append(np.linalg.inv(poses) @ poses[half])
    return np.stack(windows)
