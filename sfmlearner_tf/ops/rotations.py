"""Rotations about the camera axes (numpy, float64): the building block of both Euler conventions in use, the
training one (R = Rx . Ry . Rz) and the oxts / calibration one (R = Rz . Ry . Rx)."""

from __future__ import annotations

import math

import numpy as np


def axis_rotations(rx: float, ry: float, rz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Rx, Ry, Rz): the 3x3 rotations by rx, ry, rz radians about x, y and z (right-handed)."""
    cx, sx, cy, sy, cz, sz = math.cos(rx), math.sin(rx), math.cos(ry), math.sin(ry), math.cos(rz), math.sin(rz)
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rot_x, rot_y, rot_z
