"""Flags of sfm-render-synthetic (python -m sfmlearner_tf.apps.render_synthetic)."""

from __future__ import annotations

import os

from absl import flags

from flags.validators import register_range
from sfmlearner_tf.synthetic import SyntheticConfig

flags.DEFINE_string("output_dir", None, "Folder to render into (created; resumes a render of the same config).")
flags.DEFINE_integer("num_drives", 3, "Number of drives.")
flags.DEFINE_integer("num_frames", 40, "Frames per drive (10 Hz).")
flags.DEFINE_integer("width", 1242, "Image width (KITTI: 1242).")
flags.DEFINE_integer("height", 375, "Image height (KITTI: 375).")
flags.DEFINE_integer("seed", 0, "Random seed: same seed and flags give identical bytes.")
flags.DEFINE_integer("num_test_drives", 1, "The last N drives are held out (Eigen test list, odometry test).")
flags.DEFINE_float("min_speed", 0.5, "Slowest cruise speed, metres per frame.")
flags.DEFINE_float("max_speed", 1.5, "Fastest cruise speed, metres per frame.")
flags.DEFINE_float("stop_probability", 0.5, "Chance that a drive has a stop (drive 1 always has one).")
flags.DEFINE_integer("num_workers", os.cpu_count() or 1, "Rendering processes.")
flags.mark_flag_as_required("output_dir")
register_range("num_drives", 1)
register_range("num_frames", 3)
register_range("width", 16)
register_range("height", 16)
register_range("num_test_drives", 0)
register_range("min_speed", 0.0, 3.0, lower_inclusive=False)
register_range("max_speed", 0.0, 3.0, lower_inclusive=False)
register_range("stop_probability", 0.0, 1.0)
register_range("num_workers", 1)

FLAGS = flags.FLAGS


def config_from_flags() -> SyntheticConfig:
    """The SyntheticConfig the flags describe (cross-field checks raise ConfigError)."""
    return SyntheticConfig(num_drives=FLAGS.num_drives, num_frames=FLAGS.num_frames, width=FLAGS.width,
                           height=FLAGS.height, seed=FLAGS.seed, num_test_drives=FLAGS.num_test_drives,
                           min_speed=FLAGS.min_speed, max_speed=FLAGS.max_speed,
                           stop_probability=FLAGS.stop_probability)
