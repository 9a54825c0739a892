"""The camera trajectory of a sequence from the pose net's windows, in TUM format, and a top-down plot.

Convention (as training and the pose evaluation): for a window of L frames centred on c, the net gives the
target->source 6-vectors v_j = [t, rx, ry, rz] (R = Rx Ry Rz) of T_{c->j} = C_j^-1 C_c, which maps points
from camera c to camera j (C_k: camera k -> world). The motion from frame k to frame k+1 is therefore
C_k^-1 C_{k+1} = T_{c->k} T_{c->k+1}^-1, read from the window centred on k (at the ends, the first or last
window, which also holds both frames), and the trajectory is chained from C_0 = I: C_{k+1} = C_k C_k^-1 C_{k+1}.
The scale is the network's (monocular: unknown; consistent only as far as the network's is).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import cv2
import numpy as np

from sfmlearner_tf.evaluation.pose_snippets import euler_to_quaternion, matrix_to_euler, pose_vec_to_mat
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
    num_windows, num_sources = window_vecs.shape[:2]
    half = num_sources // 2
    transforms = [window_transforms(vecs) for vecs in window_vecs]
    poses = [np.eye(4)]
    for k in range(num_windows + num_sources - 1):
        w = min(max(k - half, 0), num_windows - 1)
        window = transforms[w]
        poses.append(poses[-1] @ window[k - w] @ np.linalg.inv(window[k + 1 - w]))
    return np.stack(poses)


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
    canvas = np.full((size, size, 3), 255, np.uint8)
    xz = poses[:, [0, 2], 3]
    low, high = xz.min(axis=0), xz.max(axis=0)
    span = max(float((high - low).max()), 1e-9)
    scale = (size - 2 * margin) / span
    centre = (low + high) / 2
    points = np.stack([size / 2 + (xz[:, 0] - centre[0]) * scale, size / 2 - (xz[:, 1] - centre[1]) * scale], 1)
    pixels = np.round(points).astype(np.int32)
    cv2.polylines(canvas, [pixels.reshape(-1, 1, 2)], False, (31, 119, 180), 2, cv2.LINE_AA)
    cv2.circle(canvas, tuple(int(v) for v in pixels[0]), 6, (44, 160, 44), -1, cv2.LINE_AA)
    cv2.circle(canvas, tuple(int(v) for v in pixels[-1]), 6, (214, 39, 40), -1, cv2.LINE_AA)
    text = f"top view: x right, z forward; {len(poses)} frames; width {span:.3g} (network units)"
    cv2.putText(canvas, text, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, "start", (8, size - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (44, 160, 44), 1, cv2.LINE_AA)
    cv2.putText(canvas, "end", (60, size - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (214, 39, 40), 1, cv2.LINE_AA)
    return canvas


def write_trajectory(out_dir: str | os.PathLike, poses: np.ndarray, times: Sequence[float]) -> tuple[str, str]:
    """<out_dir>/trajectory.txt (TUM) and trajectory.png (top view), atomically; returns both paths."""
    text_path, plot_path = os.path.join(out_dir, "trajectory.txt"), os.path.join(out_dir, "trajectory.png")
    atomic_write_text(text_path, tum_lines(poses, times))
    atomic_save_image(plot_path, top_down_plot(poses))
    return text_path, plot_path
