"""The synthetic data set's configuration: everything that changes the rendered bytes, and nothing else."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sfmlearner_tf.errors import ConfigError

KITTI_WIDTH = 1242
KITTI_HEIGHT = 375
FRAME_INTERVAL_S = 0.1  # KITTI records at 10 Hz


@dataclass(frozen=True)
class SyntheticConfig:
    """What to render. Same config (and package version) -> identical bytes.

    num_drives drives of num_frames frames at width x height; the last num_test_drives drives are held out
    (Eigen-style test list, test scenes, odometry test sequences). Speeds are metres per frame at 10 Hz.
    """

    num_drives: int = 3
    num_frames: int = 40
    width: int = KITTI_WIDTH
    height: int = KITTI_HEIGHT
    seed: int = 0
    num_test_drives: int = 1
    date: str = "1970_01_01"
    min_speed: float = 0.5
    max_speed: float = 1.5
    stop_probability: float = 0.5
    lidar_azimuth_step_deg: float | None = None  # None: 0.16 deg at 1242 px wide, coarser for smaller images
    test_frame_margin: int = 1

    def __post_init__(self) -> None:
        problems = []
        if self.num_drives < 1:
            problems.append(f"num_drives={self.num_drives} must be >= 1")
        if not 0 <= self.num_test_drives <= self.num_drives:
            problems.append(f"num_test_drives={self.num_test_drives} must be in [0, num_drives={self.num_drives}]")
        if self.num_frames < 3:
            problems.append(f"num_frames={self.num_frames} must be >= 3 (a 3-frame snippet)")
        if self.width < 16 or self.height < 16:
            problems.append(f"width x height = {self.width} x {self.height} must be at least 16 x 16")
        if not 0 < self.min_speed <= self.max_speed <= 3.0:
            problems.append(f"min_speed={self.min_speed}, max_speed={self.max_speed} (m/frame) must satisfy "
                            "0 < min_speed <= max_speed <= 3")
        if not 0.0 <= self.stop_probability <= 1.0:
            problems.append(f"stop_probability={self.stop_probability} must be in [0, 1]")
        if self.lidar_azimuth_step_deg is not None and not 0.01 <= self.lidar_azimuth_step_deg <= 5.0:
            problems.append(f"lidar_azimuth_step_deg={self.lidar_azimuth_step_deg} must be in [0.01, 5]")
        if self.test_frame_margin < 1:
            problems.append(f"test_frame_margin={self.test_frame_margin} must be >= 1 (3-frame snippets)")
        parts = self.date.split("_")
        if len(parts) != 3 or [len(p) for p in parts] != [4, 2, 2] or not all(p.isdigit() for p in parts):
            problems.append(f"date={self.date!r} must look like YYYY_MM_DD")
        if problems:
            raise ConfigError("SyntheticConfig: " + "; ".join(problems))

    @property
    def azimuth_step_deg(self) -> float:
        """Lidar azimuth step: the configured one, or KITTI-like density scaled to the image width."""
        if self.lidar_azimuth_step_deg is not None:
            return self.lidar_azimuth_step_deg
        return min(0.16 * KITTI_WIDTH / self.width, 1.0)

    def to_dict(self) -> dict[str, object]:
        """Plain dict (for manifest.json)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, object]) -> SyntheticConfig:
        """Inverse of `to_dict`; unknown keys are a ConfigError."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"SyntheticConfig: unknown keys {unknown}")
        return cls(**values)  # type: ignore[arg-type]
