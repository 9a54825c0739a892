"""Sparse ground-truth depth from velodyne scans, exactly as the original evaluation, and a
cache so that the ground truth of a test list is computed once.

The original's `generate_depth_map` (camera 2, vel_depth=True, interp=False) does:
P = P_rect_02 . R_rect_00 . [R|T]; drop points with x < 0; project; u, v = round(u / z) - 1, round(v / z) - 1
(numpy's round-half-to-even, the "-1" mimicking KITTI's MATLAB code); keep 0 <= u < W, 0 <= v < H; the depth is
the velodyne x coordinate; write all points (the last write wins on a shared pixel), then, for every group of
points sharing the linear index row * (W - 1) + col - 1, write the group's minimum depth at the pixel of the
group's first point; finally negative depths become 0.

That linear index is a quirk: it also maps (row r, col W-1) and (row r+1, col 0) to one index, so a point in the
last column can lend its depth to column 0 of the next row (or the reverse). `fix_duplicate_index=True` uses the
true index row * W + col instead (a plain per-pixel minimum); the default reproduces the original.

A test list's ground truth is held as `SparseDepth` (the lidar pixels only: about 20,000 of a KITTI frame's
466,000), rebuilt into the dense float32 map, exactly, wherever an array is needed.
"""

from __future__ import annotations

import hashlib
import os
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.split_files import TestFrame
from sfmlearner_tf.io_utils import atomic_path, cannot_write
from sfmlearner_tf.prep.kitti_io import read_velodyne, velo_to_image_projection
from sfmlearner_tf.progress import ProgressReporter

GT_CACHE_VERSION = "gt_depths-v2"  # v2: the cache holds the sparse form


class SparseDepth:
    """A depth map that is 0 except at its lidar points, held as the flat indices and float32 depths of those
    points and the map's shape; np.asarray() rebuilds the dense float32 map. The Eigen test list's 697 maps
    take 0.11 GiB this way instead of 1.2 GiB."""

    dtype = np.dtype(np.float32)

    def __init__(self, shape: tuple[int, int], indices: np.ndarray, values: np.ndarray) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.indices = np.asarray(indices, dtype=np.int32)
        self.values = np.asarray(values, dtype=np.float32)
        size = self.shape[0] * self.shape[1]
        if self.indices.shape != self.values.shape or (self.indices.size and not
                                                       0 <= self.indices.min() <= self.indices.max() < size):
            raise ValueError(f"sparse depth: {self.indices.size} indices and {self.values.size} depths do not fit "
                             f"a {self.shape[0]}x{self.shape[1]} map")

    @classmethod
    def from_dense(cls, depth: np.ndarray) -> SparseDepth:
        flat = np.asarray(depth, dtype=np.float32).ravel()
        indices = np.flatnonzero(flat)
        return cls(np.shape(depth), indices, flat[indices])

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        dense = np.zeros(self.shape[0] * self.shape[1], np.float32)
        dense[self.indices] = self.values
        dense = dense.reshape(self.shape)
        return dense if dtype is None else dense.astype(dtype)

    @property
    def nbytes(self) -> int:
        return self.indices.nbytes + self.values.nbytes


def project_velodyne(points: np.ndarray, projection: np.ndarray, im_shape: tuple[int, int]) -> np.ndarray:
    """Velodyne points [N, 4] -> [M, 3] float64 (col, row, velodyne x) of the points that land in the image,
    in scan order, with the original's rounding (round, then minus 1)."""
    velo = np.array(points, dtype=np.float32)
    velo[:, 3] = 1.0
    velo = velo[velo[:, 0] >= 0]
    projected = (projection @ velo.T).T
    with np.errstate(divide="ignore", invalid="ignore"):
        projected[:, :2] = projected[:, :2] / projected[:, 2:3]
    projected[:, 2] = velo[:, 0]
    projected[:, :2] = np.round(projected[:, :2]) - 1
    height, width = im_shape
    inside = ((projected[:, 0] >= 0) & (projected[:, 1] >= 0)
              & (projected[:, 0] < width) & (projected[:, 1] < height))
    return projected[inside]


def splat_min_depth(projected: np.ndarray, im_shape: tuple[int, int], fix_duplicate_index: bool = False,
                    ) -> np.ndarray:
    """Writes projected points (col, row, depth) into a float64 [H, W] map with the original's duplicate rule."""
    height, width = im_shape
    depth = np.zeros((height, width), dtype=np.float64)
    if projected.shape[0] == 0:
        return depth
    cols = projected[:, 0].astype(np.int64)
    rows = projected[:, 1].astype(np.int64)
    values = projected[:, 2]
    depth[rows, cols] = values  # sequential fancy assignment: the last point wins
    linear = rows * width + cols if fix_duplicate_index else rows * (width - 1) + cols - 1
    order = np.argsort(linear, kind="stable")
    _, starts, counts = np.unique(linear[order], return_index=True, return_counts=True)
    group_min = np.minimum.reduceat(values[order], starts)
    duplicated = counts > 1
    first_point = order[starts[duplicated]]  # stable sort: the group's first point in scan order
    depth[rows[first_point], cols[first_point]] = group_min[duplicated]
    depth[depth < 0] = 0
    return depth


def generate_depth_map(calib_dir: str | os.PathLike, velo_file: str | os.PathLike, im_shape: tuple[int, int],
                       fix_duplicate_index: bool = False) -> np.ndarray:
    """The original's sparse ground truth for camera 2: float64 [H, W], 0 where no point landed."""
    projection = velo_to_image_projection(calib_dir, cam=2)
    projected = project_velodyne(read_velodyne(velo_file), projection, im_shape)
    return splat_min_depth(projected, im_shape, fix_duplicate_index)


def image_shape(path: str | os.PathLike) -> tuple[int, int]:
    """(height, width) of an image file, read from its header (the original reads the whole RGB file)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read image size ({exc})") from exc
    return height, width


def gt_cache_key(frames: Sequence[TestFrame], fix_duplicate_index: bool) -> str:
    """Identifies the ground truth of a test list: list lines, dataset paths, and size + mtime of every
    velodyne scan, calibration file and image, so a changed input invalidates the cache."""
    digest = hashlib.sha256(f"{GT_CACHE_VERSION} fix_duplicate_index={fix_duplicate_index}\n".encode())
    seen_calib: set[Path] = set()
    for frame in frames:
        paths = [frame.image, frame.velodyne]
        if frame.calib_dir not in seen_calib:
            seen_calib.add(frame.calib_dir)
            paths += [frame.calib_dir / "calib_cam_to_cam.txt", frame.calib_dir / "calib_velo_to_cam.txt"]
        for path in paths:
            stat = path.stat()
            digest.update(f"{path.resolve()} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def compute_gt_depths(frames: Sequence[TestFrame], fix_duplicate_index: bool = False,
                      progress_every_s: float = 10.0) -> list[SparseDepth]:
    """Ground truth of every test frame: float32 [H, W] maps (the original casts to float32), held sparse."""
    progress = ProgressReporter(len(frames), "ground truth from velodyne", every_s=progress_every_s, unit="images")
    depths = []
    for frame in frames:
        depth = generate_depth_map(frame.calib_dir, frame.velodyne, image_shape(frame.image), fix_duplicate_index)
        depths.append(SparseDepth.from_dense(depth.astype(np.float32)))
        progress.update()
    return depths


def load_gt_cache(path: str | os.PathLike, key: str) -> list[SparseDepth] | None:
    """The cached ground truth if `path` exists and was written for `key`, else None. A damaged cache file
    (truncated, overwritten) is a warning and None: the caller computes the ground truth again and replaces it."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            return [SparseDepth(data[f"shape_{i:05d}"], data[f"indices_{i:05d}"], data[f"values_{i:05d}"])
                    for i in range(int(data["count"]))]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        warnings.warn(f"{path}: damaged ground-truth cache ({exc}); computing the ground truth again", stacklevel=2)
        return None


def save_gt_cache(path: str | os.PathLike, key: str, depths: Sequence[SparseDepth]) -> None:
    """Writes the ground truth as an .npz (shape, point indices and depths per image; sizes may differ) atomically;
    a DataError names the file when it cannot be written."""
    arrays = {}
    for i, depth in enumerate(depths):
        arrays.update({f"shape_{i:05d}": np.array(depth.shape), f"indices_{i:05d}": depth.indices,
                       f"values_{i:05d}": depth.values})
    with atomic_path(path) as tmp:
        try:
            with open(tmp, "wb") as handle:
                np.savez(handle, key=np.array(key), count=np.array(len(depths)), **arrays)
        except OSError as error:
            raise cannot_write(path, error) from error


def gt_cache_path(cache_dir: str | os.PathLike, key: str) -> Path:
    """The cache file of a key: <cache_dir>/gt_depths_<first 16 hex digits>.npz (lists coexist in one folder)."""
    return Path(cache_dir) / f"gt_depths_{key[:16]}.npz"


def cached_gt_depths(frames: Sequence[TestFrame], cache_dir: str | os.PathLike | None,
                     fix_duplicate_index: bool = False, progress_every_s: float = 10.0) -> list[SparseDepth]:
    """Ground truth from the cache when it matches the inputs, else computed and (if a folder is given and can be
    written) cached."""
    key = gt_cache_key(frames, fix_duplicate_index)
    if cache_dir is not None:
        cached = load_gt_cache(gt_cache_path(cache_dir, key), key)
        if cached is not None:
            return cached
    depths = compute_gt_depths(frames, fix_duplicate_index, progress_every_s)
    if cache_dir is not None:
        try:
            save_gt_cache(gt_cache_path(cache_dir, key), key, depths)
        except DataError as error:  # the cache only saves time: a read-only or full cache folder is not fatal
            warnings.warn(f"{error}; the ground truth is not cached", stacklevel=2)
    return depths
