"""KITTI odometry frame list (the original's kitti_odom_loader): sequences 00-08 by default,
images from `image_2`, K = P2[:3, :3] of `sequences/XX/calib.txt`, no static-frame filtering.

Like the original, K is kept in float32 (it parsed calib.txt with `astype(np.float32)`), so the scaled values
and the `%f` camera lines match the original's to the last digit.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.prep.frame_lists import Frame
from sfmlearner_tf.prep.kitti_io import read_odometry_intrinsics

TRAIN_SEQUENCES = tuple(f"{i:02d}" for i in range(9))


class KittiOdomLoader:
    """Frame list and intrinsics of `<dataset_dir>/sequences/<dd>/image_2/<6-digit>.png`."""

    def __init__(self, dataset_dir: str | os.PathLike, sequences: tuple[str, ...] = TRAIN_SEQUENCES) -> None:
        self.sequences_dir = Path(dataset_dir) / "sequences"
        self.sequences = sequences
        if not self.sequences_dir.is_dir():
            raise DataError(f"{self.sequences_dir}: odometry sequences folder not found")
        self._intrinsics = cache(self._read_intrinsics)

    def frames(self) -> list[Frame]:
        """Frames of every requested sequence, in order; a requested sequence without images is an error."""
        frames = []
        for sequence in self.sequences:
            image_dir = self.sequences_dir / sequence / "image_2"
            images = sorted(image_dir.glob("*.png"))
            if not images:
                raise DataError(f"{image_dir}: no PNG images for odometry sequence {sequence}")
            self._intrinsics(sequence)  # fail early on a missing or malformed calib.txt
            frames.extend(Frame(sequence, image.stem, image) for image in images)
        return frames

    def intrinsics(self, frame: Frame) -> np.ndarray:
        """K = P2[:3, :3], float32."""
        return self._intrinsics(frame.sequence)

    def _read_intrinsics(self, sequence: str) -> np.ndarray:
        return read_odometry_intrinsics(self.sequences_dir / sequence / "calib.txt", cam=2).astype(np.float32)
