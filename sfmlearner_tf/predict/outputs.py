"""What sfm-predict writes per frame (depth .npy, colour-mapped disparity PNG) and the side-by-side MP4."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.exports import depth_to_color
from sfmlearner_tf.io_utils import atomic_save_image, atomic_save_npy


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
