"""Coloured point clouds from depth maps: back-projection with K, the camera-to-first-camera transform of the
fused cloud, a voxel filter, and PLY files (x y z float32, red green blue uchar; binary little-endian or ASCII).

Pixel (u, v) is the pixel centre at integer coordinates, as the project's geometry and the synthetic
renderer use: the point of depth z is z * K^-1 [u, v, 1] (camera axes x right, y down, z forward).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.io_utils import atomic_write_bytes
from sfmlearner_tf.settings import check_settings, setting

PLY_FORMATS = ("binary", "ascii")
VERTEX_DTYPE = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")])
_PLY_FORMAT_NAMES = {"binary": "binary_little_endian", "ascii": "ascii"}


@dataclass(frozen=True)
class CloudOptions:
    """per_frame: <out>/clouds/<name>.ply for every frame; fused: <out>/cloud_fused.ply, every frame's points
    moved into the first camera's frame by the chained trajectory (needs the pose net), from every stride-th
    pixel in both directions and, with voxel_size > 0, one point per voxel of that edge. ply_format: binary
    (little-endian) or ascii. max_depth: points farther than this are left out (None: none; the clouds' units,
    metres when a metric scale is known)."""

    per_frame: bool = setting(False, "Write clouds/<frame>.ply: every pixel back-projected with its depth and "
                              "coloured by the resized input (in metres with --camera_height or --speed).")
    fused: bool = setting(False, "Write cloud_fused.ply: the points of every frame in the first camera's axes, "
                          "placed by the chained trajectory (needs --pose_ckpt_file).")
    ply_format: str = setting("binary", "PLY encoding: binary (little-endian, small) or ascii (readable).",
                              choices=PLY_FORMATS)
    max_depth: float | None = setting(None, "Leave out points farther than this (the clouds' units: metres with a "
                                      "metric scale); default: keep all (the sky's points are far).", low=0.0,
                                      low_open=True)
    stride: int = setting(4, "Fused cloud: every N-th pixel in both directions.", low=1)
    voxel_size: float = setting(0.0, "Fused cloud: keep one point per voxel of this edge (the clouds' units); 0 "
                                "keeps all.", low=0.0)

    def __post_init__(self) -> None:
        check_settings(self)

    @property
    def any(self) -> bool:
        return self.per_frame or self.fused


def back_project(depth: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    """[H, W] z-depth and 3x3 K -> [H, W, 3] float64 camera coordinates of the pixel centres."""
    height, width = depth.shape
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    rays = np.stack([u, v, np.ones_like(u)], axis=-1) @ np.linalg.inv(np.asarray(intrinsics, np.float64)).T
    return rays * np.asarray(depth, np.float64)[..., None]


def frame_cloud(depth: np.ndarray, image: np.ndarray, intrinsics: np.ndarray, max_depth: float | None = None,
                stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Points [N, 3] float32 and colours [N, 3] uint8 of every stride-th pixel (rows and columns) with a finite
    depth above 0 and, if max_depth is set, at most max_depth; `image` is the RGB frame of depth's size."""
    if image.shape[:2] != depth.shape:
        raise ValueError(f"image {image.shape[:2]} and depth {depth.shape} differ in size")
    points = back_project(depth, intrinsics)[::stride, ::stride].reshape(-1, 3)
    colors = image[::stride, ::stride].reshape(-1, 3)
    z = points[:, 2]
    keep = np.isfinite(z) & (z > 0)
    if max_depth is not None:
        keep &= z <= max_depth
    return points[keep].astype(np.float32), colors[keep].astype(np.uint8)


def transform_points(points: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """[N, 3] points through a 4x4 rigid transform (R p + t), float32."""
    pose = np.asarray(pose, np.float64)
    return (points.astype(np.float64) @ pose[:3, :3].T + pose[:3, 3]).astype(np.float32)


def voxel_filter(points: np.ndarray, colors: np.ndarray, voxel_size: float) -> tuple[np.ndarray, np.ndarray]:
    """Keeps the first point (in the given order) of every occupied voxel of edge voxel_size (0: all points)."""
    if voxel_size <= 0 or len(points) == 0:
        return points, colors
    cells = np.floor(points.astype(np.float64) / voxel_size).astype(np.int64)
    _, first = np.unique(cells, axis=0, return_index=True)
    first.sort()
    return points[first], colors[first]


def ply_bytes(points: np.ndarray, colors: np.ndarray, ply_format: str = "binary", comment: str = "") -> bytes:
    """A PLY file of the vertices (no faces): header, then one x y z red green blue record per point."""
    if ply_format not in PLY_FORMATS:
        raise ConfigError(f"PLY format must be one of {', '.join(PLY_FORMATS)}, got {ply_format!r}")
    vertices = np.empty(len(points), VERTEX_DTYPE)
    for axis, name in enumerate("xyz"):
        vertices[name] = points[:, axis]
    for channel, name in enumerate(("red", "green", "blue")):
        vertices[name] = colors[:, channel]
    header = ["ply", f"format {_PLY_FORMAT_NAMES[ply_format]} 1.0"]
    header += [f"comment {line}" for line in comment.splitlines()]
    header += [f"element vertex {len(vertices)}", *(f"property float {axis}" for axis in "xyz"),
               *(f"property uchar {name}" for name in ("red", "green", "blue")), "end_header"]
    head = ("\n".join(header) + "\n").encode("ascii", "replace")
    if ply_format == "binary":
        return head + vertices.tobytes()
    body = io.BytesIO()
    # %.9g keeps every float32 exactly (it reads back to the same float32).
    np.savetxt(body, np.column_stack([points.astype(np.float64), colors]), fmt="%.9g %.9g %.9g %d %d %d")
    return head + body.getvalue()


def write_ply(path: str | os.PathLike, points: np.ndarray, colors: np.ndarray, ply_format: str = "binary",
              comment: str = "") -> None:
    """Writes ply_bytes(...) to `path` atomically."""
    atomic_write_bytes(path, ply_bytes(points, colors, ply_format, comment))
