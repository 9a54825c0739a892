"""Pose snippets in the original's TUM-style files (docs/QUIRKS.md, "ATE on 5-frame snippets").

A snippet is `seq_length` consecutive frames; its file `%06d.txt` (named after the first frame) holds one line
per frame, `timestamp tx ty tz qx qy qz qw` (%f), the pose of frame k relative to the snippet's first frame:
P_0 . P_k^-1 with P_k the 4x4 matrix of the 6-vector v_k = [tx, ty, tz, rx, ry, rz], R = Rx . Ry . Rz (the
training convention). The quaternion goes through the original's route: z, y, x Euler angles of R, then the
quaternion of Rx . Ry . Rz.

Ground truth (the public recipe, GeoNet's generate_pose_snippets.py): each KITTI `poses/XX.txt` camera-to-world
matrix [R|t] is inverted to world-to-camera (R^-1, -R^-1 t), its rotation turned into Euler angles, and the
resulting 6-vectors of the snippet's frames dumped by the same function.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.io_utils import atomic_write_text
from sfmlearner_tf.ops.rotations import axis_rotations
from sfmlearner_tf.prep.kitti_io import read_odometry_poses, read_times


def euler_to_matrix(rx: float, ry: float, rz: float) -> np.ndarray:
    """R = Rx . Ry . Rz (3x3) for rotations about x, y and z in radians."""
    rot_x, rot_y, rot_z = axis_rotations(rx, ry, rz)
    return rot_x @ rot_y @ rot_z


def matrix_to_euler(rot: np.ndarray) -> tuple[float, float, float]:
    """(rz, ry, rx) with rot = Rx . Ry . Rz; near gimbal lock (cos ry ~ 0) rx is set to 0, as the original."""
    r = np.asarray(rot, dtype=np.float64)
    cos_y = math.sqrt(r[2, 2] ** 2 + r[1, 2] ** 2)
    if cos_y > 4 * np.finfo(np.float64).eps:
        return math.atan2(-r[0, 1], r[0, 0]), math.atan2(r[0, 2], cos_y), math.atan2(-r[1, 2], r[2, 2])
    return math.atan2(r[1, 0], r[1, 1]), math.atan2(r[0, 2], cos_y), 0.0


def euler_to_quaternion(rz: float, ry: float, rx: float) -> tuple[float, float, float, float]:
    """(qw, qx, qy, qz) of Rx . Ry . Rz: the product q_x * q_y * q_z of the three axis quaternions."""
    cx, sx = math.cos(rx / 2), math.sin(rx / 2)
    cy, sy = math.cos(ry / 2), math.sin(ry / 2)
    cz, sz = math.cos(rz / 2), math.sin(rz / 2)
    return (cx * cy * cz - sx * sy * sz, cx * sy * sz + cy * cz * sx,
            cx * cz * sy - sx * cy * sz, cx * cy * sz + sx * cz * sy)


def pose_vec_to_mat(vec: Sequence[float]) -> np.ndarray:
    """[tx, ty, tz, rx, ry, rz] -> 4x4 [R|t] with R = Rx . Ry . Rz."""
    mat = np.eye(4)
    mat[:3, :3] = euler_to_matrix(vec[3], vec[4], vec[5])
    mat[:3, 3] = vec[:3]
    return mat


def snippet_lines(pose_vecs: np.ndarray, times: Sequence[float]) -> str:
    """The TUM-style text of one snippet (poses relative to its first frame)."""
    first = pose_vec_to_mat(pose_vecs[0])
    lines = []
    for vec, stamp in zip(pose_vecs, times):
        rel = first @ np.linalg.inv(pose_vec_to_mat(vec))
        qw, qx, qy, qz = euler_to_quaternion(*matrix_to_euler(rel[:3, :3]))
        tx, ty, tz = rel[:3, 3]
        lines.append("%f %f %f %f %f %f %f %f\n" % (stamp, tx, ty, tz, qx, qy, qz, qw))  # noqa: UP031
    return "".join(lines)


def write_snippet(out_dir: str | os.PathLike, first_frame: int, pose_vecs: np.ndarray, times: Sequence[float],
                  ) -> Path:
    """Writes <out_dir>/<first_frame %06d>.txt atomically."""
    path = Path(out_dir) / f"{first_frame:06d}.txt"
    atomic_write_text(path, snippet_lines(np.asarray(pose_vecs, dtype=np.float64), times))
    return path


def read_tum_file(path: str | os.PathLike) -> dict[float, list[str]]:
    """{timestamp: remaining fields} of a TUM-style file, as the TUM tools read it (',' and tabs count as spaces,
    '#' lines and lines with fewer than 2 fields are skipped)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: pose file not found")
    try:
        text = path.read_text(encoding="utf-8").replace(",", " ").replace("\t", " ")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read this pose file ({type(exc).__name__})") from exc
    entries = {}
    for line_no, line in enumerate(text.split("\n"), start=1):
        fields = line.split()
        if not line or line[0] == "#" or len(fields) < 2:
            continue
        try:
            stamp = float(fields[0])
        except ValueError as exc:
            raise DataError(f"{path}:{line_no}: timestamp is not a number ({str(exc)[:80]})") from exc
        if not math.isfinite(stamp):
            raise DataError(f"{path}:{line_no}: timestamp is not finite ({fields[0]})")
        entries[stamp] = fields[1:]
    return entries


def world_to_camera_vecs(cam_to_world: np.ndarray) -> np.ndarray:
    """[N, 3, 4] camera-to-world poses -> [N, 6] world-to-camera vectors [t, rx, ry, rz] (the GT recipe)."""
    vecs = []
    for pose in cam_to_world:
        rot = np.linalg.inv(pose[:, :3])
        trans = -rot @ pose[:, 3]
        rz, ry, rx = matrix_to_euler(rot)
        vecs.append([*trans, rx, ry, rz])
    return np.asarray(vecs, dtype=np.float64)


def snippet_starts(num_frames: int, seq_length: int = 5) -> range:
    """First frames of all snippets with the whole window inside the sequence (num_frames - seq_length + 1)."""
    return range(max(num_frames - seq_length + 1, 0))


def sequence_snippet_starts(num_frames: int, seq_length: int, sequence: int, source: str | os.PathLike) -> range:
    """snippet_starts of a sequence to be scored: one too short for a single snippet has nothing to score, a
    DataError naming `source` (the file or folder its frames come from) and the sequence."""
    starts = snippet_starts(num_frames, seq_length)
    if not starts:
        raise DataError(f"{source}: sequence {sequence:02d} has {num_frames} frame(s), fewer than one "
                        f"{seq_length}-frame snippet: nothing to score")
    return starts


def name_list(names: Sequence[str], shown: int = 3) -> str:
    """The first `shown` names, comma-separated, then "..." if there are more (keeps messages one short line)."""
    return ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")


def matched_snippet_names(gt_dir: str | os.PathLike, pred_dir: str | os.PathLike, label: str) -> list[str]:
    """The sorted names of the ground-truth snippet files (*.txt) of `gt_dir`, each with a same-named prediction
    in `pred_dir`. Scoring a subset is not the sequence's score (the original skips what lacks a partner): a
    prediction missing for a ground-truth snippet, one without ground truth, or no ground truth at all is a
    DataError saying how many and naming the first few; `label` (e.g. "sequence 09") starts the message."""
    truth = sorted(path.name for path in Path(gt_dir).glob("*.txt"))
    if not truth:
        raise DataError(f"{label}: {gt_dir} holds no ground-truth snippet files (*.txt): nothing to score")
    predicted = {path.name for path in Path(pred_dir).glob("*.txt")}
    missing = [name for name in truth if name not in predicted]
    extra = sorted(predicted.difference(truth))
    if missing or extra:
        problems = [f"{len(missing)} of {len(truth)} missing ({name_list(missing)})"] if missing else []
        problems += [f"{len(extra)} extra ({name_list(extra)})"] if extra else []
        raise DataError(f"{label}: the predicted snippets in {pred_dir} do not match the ground truth in {gt_dir}: "
                        f"{'; '.join(problems)}")
    return truth


def write_gt_snippets(odom_dir: str | os.PathLike, sequence: int, out_dir: str | os.PathLike,
                      seq_length: int = 5) -> int:
    """Ground-truth snippets of `sequences/<XX>` from `poses/<XX>.txt` and `times.txt`; returns their count.
    Existing files are kept (resumable)."""
    odom_dir = Path(odom_dir)
    poses = read_odometry_poses(odom_dir / "poses" / f"{sequence:02d}.txt")
    times_path = odom_dir / "sequences" / f"{sequence:02d}" / "times.txt"
    times = read_times(times_path)
    if len(times) != len(poses):
        raise DataError(f"{times_path}: {len(times)} timestamps but {len(poses)} poses in poses/{sequence:02d}.txt")
    vecs = world_to_camera_vecs(poses)
    starts = sequence_snippet_starts(len(poses), seq_length, sequence, odom_dir / "poses" / f"{sequence:02d}.txt")
    for start in starts:
        if not (Path(out_dir) / f"{start:06d}.txt").is_file():
            write_snippet(out_dir, start, vecs[start:start + seq_length], times[start:start + seq_length])
    return len(starts)
