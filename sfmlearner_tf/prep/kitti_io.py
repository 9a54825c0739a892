"""Readers for the KITTI text and binary formats (raw calibration, oxts, velodyne, odometry calib/poses/times).

Every reader raises `DataError` naming the file when it is missing or malformed. These readers are the only
place that parses KITTI files: data preparation, evaluation and the synthetic data set's tests share them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import DataError

OXTS_FIELDS = (
    "lat", "lon", "alt", "roll", "pitch", "yaw", "vn", "ve", "vf", "vl", "vu", "ax", "ay", "az", "af", "al",
    "au", "wx", "wy", "wz", "wf", "wl", "wu", "pos_accuracy", "vel_accuracy", "navstat", "numsats", "posmode",
    "velmode", "orimode",
)
VELODYNE_POINT_BYTES = 16  # x, y, z, reflectance as little-endian float32


def _require_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    return path


def _read_text(path: str | os.PathLike) -> tuple[Path, str]:
    """The path and text of a text file that must exist; unreadable or not text is a DataError naming it."""
    path = _require_file(path)
    try:
        return path, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read this text file ({type(exc).__name__})") from exc


def _numbers(path: Path, fields: list[str], what: str) -> np.ndarray:
    """float64 values of text fields, every one a finite number, else a DataError naming the file."""
    try:
        values = np.array([float(v) for v in fields], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: {what} has a value that is not a number ({str(exc)[:80]})") from exc
    if not np.isfinite(values).all():
        raise DataError(f"{path}: {what} has a value that is not finite (nan or inf)")
    return values


def read_calib_file(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads a `key: v1 v2 ...` KITTI calibration file -> {key: float64 values}. An entry that is not numbers
    (calib_time, or a damaged line) is kept as a 0-d string array, so that `calib_matrix` can name its text."""
    path, text = _read_text(path)
    data: dict[str, np.ndarray] = {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if ":" not in line:
            raise DataError(f"{path}:{line_no}: expected 'key: values', got {line!r}")
        key, value = line.split(":", 1)
        try:
            data[key.strip()] = np.array([float(v) for v in value.split()], dtype=np.float64)
        except ValueError:
            data[key.strip()] = np.array(value.strip())  # e.g. 'calib_time: 09-Jan-2012 13:57:47'
    return data


def calib_matrix(calib: dict[str, np.ndarray], key: str, shape: tuple[int, int], path: str | os.PathLike) -> np.ndarray:
    """Returns calib[key] reshaped to `shape`, or a DataError naming the file and the key when the entry is
    missing, not numbers, of the wrong size, or not finite (nan/inf)."""
    if key not in calib:
        raise DataError(f"{path}: calibration entry {key!r} is missing")
    values = calib[key]
    if values.dtype.kind != "f":
        raise DataError(f"{path}: calibration entry {key!r} is malformed: {str(values)[:80]!r} is not numbers")
    if values.size != shape[0] * shape[1]:
        raise DataError(f"{path}: calibration entry {key!r} has {values.size} values, expected {shape[0] * shape[1]}")
    if not np.isfinite(values).all():
        raise DataError(f"{path}: calibration entry {key!r} has non-finite values (nan or inf): {values.tolist()}")
    return values.reshape(shape)


def read_raw_intrinsics(calib_dir: str | os.PathLike, cam: str = "02") -> np.ndarray:
    """K = P_rect_<cam>[:3, :3] from `<date>/calib_cam_to_cam.txt` (as the original's raw loader)."""
    path = Path(calib_dir) / "calib_cam_to_cam.txt"
    calib = read_calib_file(path)
    return calib_matrix(calib, f"P_rect_{cam}", (3, 4), path)[:, :3]


def velo_to_image_projection(calib_dir: str | os.PathLike, cam: int = 2) -> np.ndarray:
    """P_velo2im = P_rect_0<cam> . R_rect_00 (4x4) . [R|T; 0 0 0 1] (the original eval's formula), 3x4."""
    cam_path = Path(calib_dir) / "calib_cam_to_cam.txt"
    velo_path = Path(calib_dir) / "calib_velo_to_cam.txt"
    cam2cam = read_calib_file(cam_path)
    velo2cam_calib = read_calib_file(velo_path)
    rotation = calib_matrix(velo2cam_calib, "R", (3, 3), velo_path)
    translation = calib_matrix(velo2cam_calib, "T", (3, 1), velo_path)
    velo2cam = np.vstack([np.hstack([rotation, translation]), [0.0, 0.0, 0.0, 1.0]])
    r_rect = np.eye(4)
    r_rect[:3, :3] = calib_matrix(cam2cam, "R_rect_00", (3, 3), cam_path)
    p_rect = calib_matrix(cam2cam, f"P_rect_0{cam}", (3, 4), cam_path)
    return p_rect @ r_rect @ velo2cam


def read_velodyne(path: str | os.PathLike) -> np.ndarray:
    """Reads a velodyne scan: float32 [N, 4] (x, y, z, reflectance) in the velodyne frame."""
    path = _require_file(path)
    size = path.stat().st_size
    if size % VELODYNE_POINT_BYTES:
        raise DataError(f"{path}: size {size} bytes is not a multiple of {VELODYNE_POINT_BYTES} (points of 4 float32 "
                        "values x, y, z, reflectance): truncated or not a velodyne scan")
    return np.fromfile(path, dtype=np.float32).reshape(-1, 4)


def read_oxts(path: str | os.PathLike) -> np.ndarray:
    """Reads one oxts packet: 30 float64 values in the order of `OXTS_FIELDS`."""
    path, text = _read_text(path)
    values = _numbers(path, text.split(), "oxts packet")
    if values.size != len(OXTS_FIELDS):
        raise DataError(f"{path}: oxts packet has {values.size} values, expected {len(OXTS_FIELDS)}")
    return values


def read_odometry_intrinsics(calib_path: str | os.PathLike, cam: int = 2) -> np.ndarray:
    """K = P<cam>[:3, :3] from an odometry `sequences/XX/calib.txt`."""
    calib = read_calib_file(_require_file(calib_path))
    return calib_matrix(calib, f"P{cam}", (3, 4), calib_path)[:, :3]


def read_odometry_poses(path: str | os.PathLike) -> np.ndarray:
    """Reads `poses/XX.txt`: one 3x4 camera-to-world matrix per line -> float64 [N, 3, 4]."""
    path, text = _read_text(path)
    rows = [_numbers(path, line.split(), "a pose line") for line in text.splitlines() if line.strip()]
    bad = [i + 1 for i, row in enumerate(rows) if len(row) != 12]
    if bad:
        raise DataError(f"{path}: lines {bad[:5]} do not have 12 values")
    return np.asarray(rows, dtype=np.float64).reshape(-1, 3, 4)


def read_times(path: str | os.PathLike) -> np.ndarray:
    """Reads an odometry `times.txt`: one timestamp in seconds per line."""
    path, text = _read_text(path)
    return _numbers(path, text.split(), "a timestamp")
