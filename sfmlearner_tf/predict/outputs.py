"""What sfm-predict writes per frame (depth .npy, colour-mapped disparity PNG, point cloud PLY), the
side-by-side MP4, and the metric copies of depth and trajectory.

A per-frame output is reused by a rerun only when it is provably current: beside it, `<name>.input_sha256`
records the SHA-256 of what it was made from, the frame as the network sees it (RGB uint8 at the network's size,
see `input_digest`), and a rerun reuses the output only when the frame it decodes now has the same digest. A
content digest rather than the input file's size and mtime: the frames are decoded on every run anyway (for
the pose net, the video and the cameras), hashing one costs about 0.1 ms at 128x416, and it is exact where
size + mtime are not (an edit that keeps them, a restored copy; a re-encoded video whose frames are the same).
The record is removed before an output is replaced and written after it, so an interrupted write never leaves
a record that vouches for another frame's output."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.exports import depth_to_color
from sfmlearner_tf.io_utils import atomic_save_image, atomic_save_npy, atomic_write_text, claim_output_folder
from sfmlearner_tf.predict.metric_scale import ScaleEstimate
from sfmlearner_tf.predict.point_cloud import write_ply
from sfmlearner_tf.predict.trajectory import write_trajectory


def input_digest(image: np.ndarray) -> str:
    """SHA-256 (hex) of a frame as the network sees it (RGB uint8 [H, W, 3] at the network's size) and its shape:
    what a per-frame output records as its source."""
    digest = hashlib.sha256(f"{image.dtype} {image.shape}\n".encode())
    digest.update(np.ascontiguousarray(image).tobytes())
    return digest.hexdigest()


class _MadeFrom:
    """The record beside a per-frame output (`<folder>/<name>.input_sha256`) of the input digest it was made from."""

    SUFFIX = ".input_sha256"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def matches(self, name: str, digest: str) -> bool:
        try:
            return (self.folder / f"{name}{self.SUFFIX}").read_text().strip() == digest
        except (OSError, UnicodeDecodeError):
            return False

    def forget(self, name: str) -> None:
        (self.folder / f"{name}{self.SUFFIX}").unlink(missing_ok=True)

    def record(self, name: str, digest: str) -> None:
        atomic_write_text(self.folder / f"{name}{self.SUFFIX}", digest + "\n")


class DepthFiles:
    """<out>/depth/<name>.npy (float32 depth at the network's size, up to scale), its made-from record
    <name>.input_sha256 and <out>/disparity/<name>.png (magma-coloured disparity, the evaluation exports'
    normalisation)."""

    def __init__(self, out_dir: str | os.PathLike) -> None:
        self.depth_dir = Path(out_dir) / "depth"
        self.disparity_dir = Path(out_dir) / "disparity"
        self._made_from = _MadeFrom(self.depth_dir)

    def paths(self, name: str) -> tuple[Path, Path]:
        return self.depth_dir / f"{name}.npy", self.disparity_dir / f"{name}.png"

    def done(self, name: str, digest: str) -> bool:
        """Both files exist (written atomically, so they are complete) and were made from the input with this
        digest: a rerun reuses them."""
        return all(path.is_file() for path in self.paths(name)) and self._made_from.matches(name, digest)

    def save(self, name: str, depth: np.ndarray, digest: str) -> np.ndarray:
        """Writes both files and then the record of `digest`; returns the colour image."""
        depth_path, disparity_path = self.paths(name)
        color = depth_to_color(depth)
        self._made_from.forget(name)
        atomic_save_npy(depth_path, depth.astype(np.float32))
        atomic_save_image(disparity_path, color)
        self._made_from.record(name, digest)
        return color


class CloudFiles:
    """<out>/clouds/<name>.ply and its made-from record. The folder is claimed by the clouds' settings (format,
    depth cap, K, scale), and each cloud records the digest of its frame (whose depth it back-projects and
    whose colours it takes), so a resumed run reuses only clouds made the same way from the same frame; each
    file is written atomically."""

    def __init__(self, out_dir: str | os.PathLike, identity: dict[str, object]) -> None:
        self.folder = Path(out_dir) / "clouds"
        self.ply_format = str(identity["format"])
        claim_output_folder(self.folder, identity)
        self._made_from = _MadeFrom(self.folder)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.ply"

    def done(self, name: str, digest: str) -> bool:
        return self.path(name).is_file() and self._made_from.matches(name, digest)

    def save(self, name: str, points: np.ndarray, colors: np.ndarray, comment: str, digest: str) -> None:
        self._made_from.forget(name)
        write_ply(self.path(name), points, colors, self.ply_format, comment)
        self._made_from.record(name, digest)


def write_metric_outputs(out_dir: str | os.PathLike, names: Sequence[str], estimate: ScaleEstimate,
                         poses: np.ndarray | None, times: Sequence[float]) -> Path:
    """<out>/metric/: depth/<name>.npy (the up-to-scale depth times the scale, float32), trajectory.txt / .png
    (translations times the scale; with a pose net) and scale.json; made again on every run. Returns the folder."""
    folder = Path(out_dir) / "metric"
    depth_files = DepthFiles(out_dir)
    for name in names:
        depth = np.load(depth_files.paths(name)[0])
        atomic_save_npy(folder / "depth" / f"{name}.npy", (depth * np.float32(estimate.scale)).astype(np.float32))
    if poses is not None:
        metric_poses = poses.copy()
        metric_poses[:, :3, 3] *= estimate.scale
        write_trajectory(folder, metric_poses, times)
    summary = {"scale": estimate.scale, "method": estimate.method, "frames_used": estimate.frames_used,
               "frames": estimate.frames, **estimate.details}
    atomic_write_text(folder / "scale.json", json.dumps(summary, indent=1))
    return folder


class SideBySideVideo:
    """An MP4 (OpenCV, mp4v) of [input | depth] frames, written under a temporary name and renamed when closed
    without error, so an interrupted run leaves no truncated video under the final name."""

    def __init__(self, path: str | os.PathLike, fps: float, height: int, width: int) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.stem}.partial.mp4")
        self._writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, (2 * width, height))
        if not self._writer.isOpened():
            raise DataError(f"{self.path}: OpenCV cannot write an mp4v video here")
        self.frames = 0

    def write(self, image: np.ndarray, depth_color: np.ndarray) -> None:
        """Appends one frame: RGB input and RGB colour depth of the same size, side by side."""
        self._writer.write(cv2.cvtColor(np.concatenate([image, depth_color], axis=1), cv2.COLOR_RGB2BGR))
        self.frames += 1

    def __enter__(self) -> SideBySideVideo:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._writer.release()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        elif self._tmp.exists():
            self._tmp.unlink()
