"""The synthetic data set's configuration: everything that changes the rendered bytes, and nothing else."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.settings import SEED, check_settings, setting

KITTI_WIDTH = 1242
KITTI_HEIGHT = 375
FRAME_INTERVAL_S = 0.1  # KITTI records at 10 Hz


@dataclass(frozen=True)
class SyntheticConfig:
    """What to render. Same config (and package version) -> identical bytes.

    num_drives drives of num_frames frames at width x height; the last num_test_drives drives are held out
    (Eigen-style test list, test scenes, odometry test sequences). Speeds are metres per frame at 10 Hz.
    """

    num_drives: int = setting(3, "Number of drives.", low=1)
    num_frames: int = setting(40, "Frames per drive (10 Hz).", low=3)
    width: int = setting(KITTI_WIDTH, "Image width (KITTI: 1242).", low=16)
    height: int = setting(KITTI_HEIGHT, "Image height (KITTI: 375).", low=16)
    seed: int = setting(0, "Random seed: same seed and flags give identical bytes.", rule=SEED)
    num_test_drives: int = setting(1, "The last N drives are held out (Eigen test list, odometry test).", low=0)
    date: str = "1970_01_01"
    min_speed: float = setting(0.5, "Slowest cruise speed, metres per frame.", low=0.0, high=3.0, low_open=True)
    max_speed: float = setting(1.5, "Fastest cruise speed, metres per frame.", low=0.0, high=3.0, low_open=True)
    stop_probability: float = setting(0.5, "Chance that a drive has a stop (drive 1 always has one).", low=0.0,
                                      high=1.0)
    # None: 0.16 deg at 1242 px wide, coarser for smaller images
    lidar_azimuth_step_deg: float | None = setting(None, "Lidar azimuth step, degrees.", low=0.01, high=5.0)
    test_frame_margin: int = setting(1, "Frames kept clear at each end of a test drive (3-frame snippets).", low=1)

    def __post_init__(self) -> None:
        check_settings(self)
        problems = []
        if self.num_test_drives > self.num_drives:
            problems.append(f"num_test_drives={self.num_test_drives} must be in [0, num_drives={self.num_drives}]")
        if self.min_speed > self.max_speed:
            problems.append(f"min_speed={self.min_speed}, max_speed={self.max_speed} (m/frame) must satisfy "
                            "0 < min_speed <= max_speed <= 3")
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


@dataclass(frozen=True)
class RenderRequest:
    """What sfm-render-synthetic does: render `config` into `output_dir` with `num_workers` processes."""

    output_dir: str = setting(help="Folder to render into (created; resumes a render of the same config).")
    num_workers: int = setting(os.cpu_count() or 1, "Rendering processes.", low=1)
    config: SyntheticConfig = field(default_factory=SyntheticConfig)

    def __post_init__(self) -> None:
        check_settings(self)
