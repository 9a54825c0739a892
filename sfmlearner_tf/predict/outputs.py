"""What sfm-predict writes per frame (depth .npy, colour-mapped disparity PNG, point cloud PLY), the
side-by-side MP4, and the metric copies of depth and trajectory."""

from __future__ import annotations

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


class DepthFiles:
    """<out>/depth/<name>.npy (float32 depth at the network's size, up to scale) and <out>/disparity/<name>.png
    (magma-coloured disparity, the evaluation exports' normalisation)."""

    def __init__(self, out_dir: str | os.PathLike) -> None:
        self.depth_dir = Path(out_dir) / "depth"
        self.disparity_dir = Path(out_dir) / "disparity"

    def paths(self, name: str) -> tuple[Path, Path]:
        return self.depth_dir / f"{name}.npy", self.disparity_dir / f"{name}.png"

    def done(self, name: str) -> bool:
        """Both files exist (written atomically, so they are complete): a resumed run reuses them."""
        return all(path.is_file() for path in self.paths(name))

    def save(self, name: str, depth: np.ndarray) -> np.ndarray:
        """Writes both files; returns the colour image."""
        depth_path, disparity_path = self.paths(name)
        color = depth_to_color(depth)
        atomic_save_npy(depth_path, depth.astype(np.float32))
        atomic_save_image(disparity_path, color)
        return color


class CloudFiles:
    """<out>/clouds/<name>.ply. The folder is claimed by the clouds' settings (format, depth cap, K, scale), so
    a resumed run reuses only clouds made the same way; each file is written atomically."""

    def __init__(self, out_dir: str | os.PathLike, identity: dict[str, object]) -> None:
        self.folder = Path(out_dir) / "clouds"
        self.ply_format = str(identity["format"])
        claim_output_folder(self.folder, identity)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.ply"

    def done(self, name: str) -> bool:
        return self.path(name).is_file()

    def save(self, name: str, points: np.ndarray, colors: np.ndarray, comment: str) -> None:
        write_ply(self.path(name), points, colors, self.ply_format, comment)


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
