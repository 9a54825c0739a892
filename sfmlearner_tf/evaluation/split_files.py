"""Eigen-style test file lists: reading them and resolving each line to the files the evaluation needs.

A line is `<date>/<drive>/image_02/data/<10-digit id>.png`, relative to the KITTI raw root (the original's
`data/kitti/test_files_eigen.txt`; only its first whitespace-separated field is used, as in the original).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from sfmlearner_tf.errors import DataError

# sha256 of the 697 lines of the original data/kitti/test_files_eigen.txt joined with "\n" (no trailing newline).
STANDARD_EIGEN_DIGEST = "90a51f7c50d5d6e6b8da8a2066f8ec766dc4a91def7d03d3b6b5f559a05b25de"
STANDARD_EIGEN_LINES = 697


@dataclass(frozen=True)
class TestFrame:
    """The files of one test image: the RGB image, its velodyne scan, the calibration folder (per date), and the
    synthetic drives' extras (dense true depth, instance ids), which KITTI lacks."""

    line: str
    image: Path
    velodyne: Path
    calib_dir: Path
    dense_depth: Path
    instances: Path


def find_test_file_list(dataset_dir: str | os.PathLike) -> Path:
    """The Eigen list beside the data: <dataset_dir>/test_files_eigen.txt, else <dataset_dir>/../splits/ (the
    synthetic data set's layout)."""
    candidates = [Path(dataset_dir) / "test_files_eigen.txt", Path(dataset_dir).parent / "splits" /
                  "test_files_eigen.txt"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DataError(f"no test file list found beside {dataset_dir} (looked for {', '.join(map(str, candidates))}); "
                    "pass --test_file_list (for KITTI: the original repo's data/kitti/test_files_eigen.txt)")


def read_test_lines(path: str | os.PathLike) -> list[str]:
    """Non-empty lines of a test list, first field only (the original splits on whitespace)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: test file list not found (for KITTI use the original repo's "
                        "data/kitti/test_files_eigen.txt)")
    lines = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        raise DataError(f"{path}: test file list is empty")
    return lines


def lines_digest(lines: list[str]) -> str:
    """sha256 of the lines joined with newlines: identifies a list independently of line endings."""
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def warn_if_not_standard(lines: list[str], path: str | os.PathLike) -> bool:
    """Warns (and returns False) when the list is not the standard 697-line Eigen test list."""
    if len(lines) == STANDARD_EIGEN_LINES and lines_digest(lines) == STANDARD_EIGEN_DIGEST:
        return True
    warnings.warn(f"{path}: not the standard {STANDARD_EIGEN_LINES}-line Eigen test list ({len(lines)} lines); "
                  "numbers are not comparable with published KITTI results", stacklevel=2)
    return False


def resolve_test_frame(dataset_dir: str | os.PathLike, line: str) -> TestFrame:
    """Maps one list line to its files, as the original's read_file_data (camera folder from the line)."""
    parts = line.split("/")
    if len(parts) != 5 or not parts[2].startswith("image_"):
        raise DataError(f"test list line {line!r}: expected <date>/<drive>/image_0X/data/<id>.png")
    date, drive, camera, _, name = parts
    frame_id = name[:10]
    drive_dir = Path(dataset_dir) / date / drive
    cam = camera[-2:]
    return TestFrame(
        line=line,
        image=Path(dataset_dir) / line,
        velodyne=drive_dir / "velodyne_points" / "data" / f"{frame_id}.bin",
        calib_dir=Path(dataset_dir) / date,
        dense_depth=drive_dir / f"depth_{cam}" / "data" / f"{frame_id}.npy",
        instances=drive_dir / f"instances_{cam}" / "data" / f"{frame_id}.png",
    )


def resolve_test_frames(dataset_dir: str | os.PathLike, lines: list[str], need_ground_truth: bool = True,
                        ) -> list[TestFrame]:
    """Resolves every line and checks that the image (and, if needed, velodyne scan and calibration) exist.

    Unlike the original, which prints 'missing' and skips the line (silently misaligning the predictions with
    the ground truth), any missing file is an error that names the first few missing files.
    """
    frames = [resolve_test_frame(dataset_dir, line) for line in lines]
    missing: list[Path] = []
    for frame in frames:
        required = [frame.image]
        if need_ground_truth:
            required += [frame.velodyne, frame.calib_dir / "calib_cam_to_cam.txt",
                         frame.calib_dir / "calib_velo_to_cam.txt"]
        missing += [p for p in required if not p.is_file()]
    if missing:
        unique = list(dict.fromkeys(missing))
        listed = ", ".join(str(p) for p in unique[:5])
        more = f" and {len(unique) - 5} more" if len(unique) > 5 else ""
        raise DataError(f"missing evaluation input under {dataset_dir}: {listed}{more}")
    return frames
