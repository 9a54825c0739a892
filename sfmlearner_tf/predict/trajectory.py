"""The camera trajectory of a sequence from the pose net's windows, in TUM format, and a top-down plot.

Convention (as training and the pose evaluation): for a window of L frames centred on c, the net gives the
target->source 6-vectors v_j = [t, rx, ry, rz] (R = Rx Ry Rz) of T_{c->j} = C_j^-1 C_c, which maps points
from camera c to camera j (C_k: camera k -> world); the windows are chained as evaluation/trajectory_chain.py
says (the same chaining scores whole trajectories in sfm-eval --full_trajectory), and drawn by
evaluation/trajectory_plot.py. The scale is the network's (monocular: unknown; consistent only as far as the
network's is).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from sfmlearner_tf.evaluation.pose_snippets import euler_to_quaternion, matrix_to_euler, pose_vec_to_mat
from sfmlearner_tf.evaluation.trajectory_chain import chain_window_transforms
from sfmlearner_tf.evaluation.trajectory_plot import END_COLOUR, START_COLOUR, top_view
from sfmlearner_tf.io_utils import atomic_save_image, atomic_write_text


def window_transforms(source_vecs: np.ndarray) -> np.ndarray:
    """[L-1, 6] target->source vectors of one window (sources in time order) -> [L, 4, 4] T_{c->j} for every
    frame j of the window in time order, the identity at the centre."""
    half = len(source_vecs) // 2
    vecs = np.insert(np.asarray(source_vecs, dtype=np.float64), half, np.zeros(6), axis=0)
    return np.stack([pose_vec_to_mat(vec) for vec in vecs])


def chain_trajectory(window_vecs: np.ndarray) -> np.ndarray:
    """[W, L-1, 6] pose-net outputs of the W windows of a sequence of W + L - 1 frames (window w = frames
    w..w+L-1, centred on w + (L-1)/2) -> [W + L - 1, 4, 4] camera-to-first-camera poses C_0^-1 C_k."""
    window_vecs = np.asarray(window_vecs, dtype=np.float64)
    return chain_window_transforms(np.stack([window_transforms(vecs) for vecs in window_vecs]))


def tum_lines(poses: np.ndarray, times: Sequence[float]) -> str:
    """`timestamp tx ty tz qx qy qz qw` per pose (TUM format; the quaternion by the pose snippets' route)."""
    lines = []
    for pose, stamp in zip(poses, times):
        qw, qx, qy, qz = euler_to_quaternion(*matrix_to_euler(pose[:3, :3]))
        tx, ty, tz = pose[:3, 3]
        lines.append("%f %f %f %f %f %f %f %f\n" % (stamp, tx, ty, tz, qx, qy, qz, qw))  # noqa: UP031
    return "".join(lines)


def top_down_plot(poses: np.ndarray, size: int = 640, margin: int = 48) -> np.ndarray:
    """RGB uint8 [size, size, 3]: the camera centres seen from above, x (right) across and z (forward) up,
    equal scales, start in green and end in red."""
    return top_view([(poses, (31, 119, 180), 2)], f"top view: x right, z forward; {len(poses)} frames",
                    [("start", START_COLOUR), ("end", END_COLOUR)], "(network units)", size, margin)


def write_trajectory(out_dir: str | os.PathLike, poses: np.ndarray, times: Sequence[float]) -> tuple[str, str]:
    """<out_dir>/trajectory.txt (TUM) and trajectory.png (top view), atomically; returns both paths."""
    text_path, plot_path = os.path.join(out_dir, "trajectory.txt"), os.path.join(out_dir, "trajectory.png")
    atomic_write_text(text_path, tum_lines(poses, times))
    atomic_save_image(plot_path, top_down_plot(poses))
    return text_path, plot_path
