"""Paths of the synthetic data set (the layout fixed in docs/ARCHITECTURE.md) and the text formats of the
per-drive and split files."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfmlearner_tf.synthetic.config import FRAME_INTERVAL_S


def drive_name(date: str, index: int) -> str:
    """`<date>_drive_<dddd>_sync`, drive numbers starting at 0001."""
    return f"{date}_drive_{index + 1:04d}_sync"


def sequence_name(index: int) -> str:
    return f"{index:02d}"


@dataclass(frozen=True)
class Layout:
    root: Path
    date: str

    @property
    def raw_date_dir(self) -> Path:
        return self.root / "kitti_raw" / self.date

    @property
    def odom_dir(self) -> Path:
        return self.root / "kitti_odom"

    @property
    def splits_dir(self) -> Path:
        return self.root / "splits"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def drive_dir(self, index: int) -> Path:
        return self.raw_date_dir / drive_name(self.date, index)

    def frame_files(self, index: int, frame: int) -> dict[str, Path]:
        """The five per-frame raw files of a drive."""
        drive, name = self.drive_dir(index), f"{frame:010d}"
        return {
            "image": drive / "image_02" / "data" / f"{name}.png",
            "oxts": drive / "oxts" / "data" / f"{name}.txt",
            "velodyne": drive / "velodyne_points" / "data" / f"{name}.bin",
            "depth": drive / "depth_02" / "data" / f"{name}.npy",
            "instances": drive / "instances_02" / "data" / f"{name}.png",
        }

    def sequence_dir(self, index: int) -> Path:
        return self.odom_dir / "sequences" / sequence_name(index)

    def odometry_image(self, index: int, frame: int) -> Path:
        return self.sequence_dir(index) / "image_2" / f"{frame:06d}.png"

    def odometry_poses(self, index: int) -> Path:
        return self.odom_dir / "poses" / f"{sequence_name(index)}.txt"


def pose_lines(poses: np.ndarray) -> str:
    """3x4 row-major matrices, 12 values per line in KITTI's %e format."""
    return "".join(" ".join(f"{v:e}" for v in pose[:3].ravel()) + "\n" for pose in poses)


def raw_timestamps(date: str, drive_index: int, num_frames: int) -> str:
    """KITTI raw `timestamps.txt` lines (`YYYY-MM-DD HH:MM:SS.nnnnnnnnn`), 10 Hz from noon + 10 min per drive."""
    day = datetime.datetime.strptime(date, "%Y_%m_%d")
    start_ns = (12 * 3600 + 600 * drive_index) * 10**9
    step_ns = round(FRAME_INTERVAL_S * 1e9)
    lines = []
    for frame in range(num_frames):
        seconds, nanos = divmod(start_ns + frame * step_ns, 10**9)
        stamp = day + datetime.timedelta(seconds=seconds)
        lines.append(f"{stamp:%Y-%m-%d %H:%M:%S}.{nanos:09d}\n")
    return "".join(lines)


def odometry_times(num_frames: int) -> str:
    """Odometry `times.txt`: seconds since the first frame, %e."""
    return "".join(f"{frame * FRAME_INTERVAL_S:e}\n" for frame in range(num_frames))
