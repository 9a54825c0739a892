"""Flags of sfm-render-synthetic (python -m sfmlearner_tf.apps.render_synthetic)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from absl import flags

from flags.validators import register_range
from sfmlearner_tf.synthetic import SyntheticConfig


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validators on `flag_values`."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_string("output_dir", None, "Folder to render into (created; resumes a render of the same config).",
                        **fv)
    flags.DEFINE_integer("num_drives", 3, "Number of drives.", **fv)
    flags.DEFINE_integer("num_frames", 40, "Frames per drive (10 Hz).", **fv)
    flags.DEFINE_integer("width", 1242, "Image width (KITTI: 1242).", **fv)
    flags.DEFINE_integer("height", 375, "Image height (KITTI: 375).", **fv)
    flags.DEFINE_integer("seed", 0, "Random seed: same seed and flags give identical bytes.", **fv)
    flags.DEFINE_integer("num_test_drives", 1, "The last N drives are held out (Eigen test list, odometry test).", **fv)
    flags.DEFINE_float("min_speed", 0.5, "Slowest cruise speed, metres per frame.", **fv)
    flags.DEFINE_float("max_speed", 1.5, "Fastest cruise speed, metres per frame.", **fv)
    flags.DEFINE_float("stop_probability", 0.5, "Chance that a drive has a stop (drive 1 always has one).", **fv)
    flags.DEFINE_integer("num_workers", os.cpu_count() or 1, "Rendering processes.", **fv)
    flags.mark_flag_as_required("output_dir", **fv)
    register_range("num_drives", 1, **fv)
    register_range("num_frames", 3, **fv)
    register_range("width", 16, **fv)
    register_range("height", 16, **fv)
    register_range("num_test_drives", 0, **fv)
    register_range("min_speed", 0.0, 3.0, lower_inclusive=False, **fv)
    register_range("max_speed", 0.0, 3.0, lower_inclusive=False, **fv)
    register_range("stop_probability", 0.0, 1.0, **fv)
    register_range("num_workers", 1, **fv)


@dataclass(frozen=True)
class RenderRequest:
    """What sfm-render-synthetic does: render `config` into `output_dir` with `num_workers` processes."""

    config: SyntheticConfig
    output_dir: str
    num_workers: int


def config_from_flags(flag_values: flags.FlagValues) -> RenderRequest:
    """The render the flags describe (the SyntheticConfig's cross-field checks raise ConfigError)."""
    f = flag_values
    config = SyntheticConfig(num_drives=f.num_drives, num_frames=f.num_frames, width=f.width, height=f.height,
                             seed=f.seed, num_test_drives=f.num_test_drives, min_speed=f.min_speed,
                             max_speed=f.max_speed, stop_probability=f.stop_probability)
    return RenderRequest(config, output_dir=f.output_dir, num_workers=f.num_workers)
