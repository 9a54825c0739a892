"""KITTI raw frame list (the original's kitti_raw_loader): drives of every date folder, cameras
02 and 03 as separate sequences, test scenes skipped, static frames removed before neighbours are chosen.

Differences from the original, none of which changes the samples on KITTI:
* date folders are discovered (any `YYYY_MM_DD` folder) instead of a hard-coded list of KITTI's five dates;
* frame ids are the sorted PNG names found in `image_<cam>/data` (the original assumed 0..N-1 from a file count);
* drives and frames are visited in sorted order (the original used `os.listdir` order).
Static frames come from the original's list (`static_frames.txt`, `date drive frame` per line) or, for other
data, from an oxts speed threshold: frames whose speed |(vf, vl, vu)| is below `min_speed` m/s are removed.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.prep.frame_lists import Frame
from sfmlearner_tf.prep.kitti_io import OXTS_FIELDS, read_oxts, read_raw_intrinsics

DATE_PATTERN = re.compile(r"^\d{4}_\d{2}_\d{2}$")
_SPEED_FIELDS = [OXTS_FIELDS.index(name) for name in ("vf", "vl", "vu")]


def _require(path: Path, what: str) -> Path:
    if not path.is_file():
        raise DataError(f"{path}: {what} not found")
    return path


def read_test_scenes(path: str | os.PathLike) -> set[str]:
    """Drive names without `_sync` (e.g. `2011_09_26_drive_0117`), one per line (test_scenes_*.txt). Any other
    line (a test *file* list passed by mistake, say) is an error: it would silently leak test drives into training."""
    path = _require(Path(path), "test scenes file")
    scenes = set()
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        name = line.strip()
        if name and not re.fullmatch(r"\d{4}_\d{2}_\d{2}_drive_\d{4}", name):
            raise DataError(f"{path}:{line_no}: expected a drive name like 2011_09_26_drive_0117, got {line!r}")
        if name:
            scenes.add(name)
    return scenes


def read_static_frames(path: str | os.PathLike) -> set[tuple[str, str]]:
    """(drive, 10-digit frame id) pairs from a `date drive frame` file (the original's static_frames.txt)."""
    path = _require(Path(path), "static frames file")
    static = set()
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 3 or not fields[2].isdigit():
            raise DataError(f"{path}:{line_no}: expected 'date drive frame_id', got {line!r}")
        static.add((fields[1], f"{int(fields[2]):010d}"))
    return static


def oxts_speed(oxts_path: str | os.PathLike) -> float:
    """Speed in m/s from one oxts packet: the norm of the forward, leftward and upward velocities."""
    return float(np.linalg.norm(read_oxts(oxts_path)[_SPEED_FIELDS]))


class KittiRawLoader:
    """Frame list and intrinsics of a KITTI raw tree `<dataset_dir>/<date>/<date>_drive_<dddd>_sync/image_<cam>`."""

    def __init__(self, dataset_dir: str | os.PathLike, test_scenes: set[str], static_frames: set[tuple[str, str]],
                 cameras: tuple[str, ...] = ("02", "03"), min_speed: float | None = None) -> None:
        self.dataset_dir = Path(dataset_dir)
        self.test_scenes = test_scenes
        self.static_frames = static_frames
        self.cameras = cameras
        self.min_speed = min_speed
        if not self.dataset_dir.is_dir():
            raise DataError(f"{self.dataset_dir}: KITTI raw folder not found")
        self._intrinsics = cache(self._read_intrinsics)

    def dates(self) -> list[Path]:
        """The date folders (`YYYY_MM_DD`), sorted."""
        dates = sorted(p for p in self.dataset_dir.iterdir() if p.is_dir() and DATE_PATTERN.match(p.name))
        if not dates:
            raise DataError(f"{self.dataset_dir}: no date folders (YYYY_MM_DD) found: is this the KITTI raw root?")
        return dates

    def training_drives(self) -> list[Path]:
        """Drive folders of every date, test scenes skipped (compared without the `_sync` suffix)."""
        drives = []
        for date in self.dates():
            for drive in sorted(p for p in date.iterdir() if p.is_dir()):
                name = drive.name[:-5] if drive.name.endswith("_sync") else drive.name
                if name not in self.test_scenes:
                    drives.append(drive)
        return drives

    def _is_static(self, drive: Path, frame_id: str) -> bool:
        if (drive.name, frame_id) in self.static_frames:
            return True
        if self.min_speed is None:
            return False
        return oxts_speed(drive / "oxts" / "data" / f"{frame_id}.txt") < self.min_speed

    def frames(self) -> list[Frame]:
        """All training frames, drive by drive and camera by camera, static frames removed."""
        frames = []
        for drive in self.training_drives():
            for cam in self.cameras:
                images = sorted((drive / f"image_{cam}" / "data").glob("*.png"))
                if images:
                    self._intrinsics(drive.parent, cam)  # fail early on a missing or malformed calibration
                frames.extend(Frame(f"{drive.name}_{cam}", image.stem, image) for image in images
                              if not self._is_static(drive, image.stem))
        return frames

    def intrinsics(self, frame: Frame) -> np.ndarray:
        """K = P_rect_<cam>[:3, :3] of the frame's date folder (float64, as the original)."""
        cam = frame.sequence.rsplit("_", 1)[1]
        return self._intrinsics(frame.image_path.parents[3], cam)

    @staticmethod
    def _read_intrinsics(date_dir: Path, cam: str) -> np.ndarray:
        return read_raw_intrinsics(date_dir, cam)
