"""Intrinsics of the user's own camera: four numbers (fx, fy, cx, cy), a small calibration file, or a guess
from the horizontal field of view.

Calibration file format (plain text; `#` starts a comment line; numbers separated by spaces or commas):
* 4 numbers: `fx fy cx cy`;
* 9 numbers: K row by row (`fx 0 cx 0 fy cy 0 0 1`, as a `_cam.txt` holds it);
* 12 numbers: a KITTI-style 3x4 projection matrix P row by row, K = P[:, :3].
A line may start with a label (`P_rect_02: ...`, `P2: ...`); a file with several labelled lines (KITTI's
calib_cam_to_cam.txt or calib.txt) needs the label of the wanted camera (`name`). Skew is not kept (the sample
format has none). The intrinsics are those of the frames as stored (before any crop or resize).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import ConfigError, DataError

MAX_PINHOLE_HFOV_DEG = 170.0  # wider lenses are fisheyes, which a pinhole K does not describe


def intrinsics_matrix(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """K (float64 3x3) from the four numbers; focal lengths must be positive."""
    if not all(math.isfinite(v) for v in (fx, fy, cx, cy)) or fx <= 0 or fy <= 0:
        raise ConfigError(f"focal lengths must be positive and all four numbers finite, got fx={fx}, fy={fy}, "
                          f"cx={cx}, cy={cy}")
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def intrinsics_from_hfov(hfov_deg: float, width: int, height: int) -> np.ndarray:
    """K (float64 3x3) of a width x height frame from its horizontal field of view, for footage without a
    calibration: square pixels, fx = fy = (W/2) / tan(hfov/2), principal point at the frame's centre (W/2, H/2).

    W/2 (not (W-1)/2) follows the project's K convention, in which resizing multiplies cx by the zoom
    (frame_images.scale_intrinsics, synthetic/rig.py): the centre stays the centre at every size."""
    if not 0.0 < hfov_deg <= MAX_PINHOLE_HFOV_DEG:
        raise ConfigError(f"the horizontal field of view must be > 0 and <= {MAX_PINHOLE_HFOV_DEG:g} degrees (a "
                          f"pinhole camera), got {hfov_deg}")
    focal = (width / 2.0) / np.tan(np.radians(hfov_deg) / 2.0)
    return intrinsics_matrix(focal, focal, width / 2.0, height / 2.0)


def _labelled_lines(path: Path) -> list[tuple[str, list[str]]]:
    """(label or "", number fields) per non-empty, non-comment line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read calibration file ({exc})") from exc
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        label, _, rest = line.partition(":") if ":" in line else ("", "", line)
        lines.append((label.strip(), rest.replace(",", " ").split()))
    return lines


def read_calibration(path: str | os.PathLike, name: str = "") -> np.ndarray:
    """K (float64 3x3) from a calibration file in the format of the module docstring."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: calibration file not found")
    lines = _labelled_lines(path)
    if name:
        lines = [line for line in lines if line[0] == name]
        if not lines:
            raise DataError(f"{path}: no line labelled {name!r}")
    elif len(lines) > 1 and all(label for label, _ in lines):
        labels = ", ".join(label for label, _ in lines)
        raise DataError(f"{path}: several labelled lines ({labels}); name the camera's (e.g. --calib_name=P_rect_02)")
    fields = [field for _, numbers in lines for field in numbers]
    try:
        values = np.array([float(v) for v in fields], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: a calibration value is not a number ({exc})") from exc
    if values.size == 4:
        try:
            return intrinsics_matrix(*values)
        except ConfigError as exc:
            raise DataError(f"{path}: {exc}") from exc
    if values.size not in (9, 12):
        raise DataError(f"{path}: {values.size} numbers; expected 4 (fx fy cx cy), 9 (K) or 12 (a 3x4 P)")
    matrix = values.reshape(3, -1)[:, :3]
    if not np.allclose(matrix[2], [0.0, 0.0, 1.0]) or not np.allclose(matrix[1, 0], 0.0):
        raise DataError(f"{path}: not an intrinsics matrix (its last row must be 0 0 1 and K[1,0] 0): "
                        f"{matrix.tolist()}")
    try:
        return intrinsics_matrix(matrix[0, 0], matrix[1, 1], matrix[0, 2], matrix[1, 2])
    except ConfigError as exc:
        raise DataError(f"{path}: {exc}") from exc
