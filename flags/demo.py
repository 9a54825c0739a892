"""Flags of sfm-demo (the CPU demo on synthetic drives); defaults are DemoConfig's."""

from __future__ import annotations

from absl import flags

from flags.validators import register_multiple_of, register_range
from sfmlearner_tf.models import required_multiple
from sfmlearner_tf.tasks.demo import DemoConfig

FLAGS = flags.FLAGS


def define_flags(flag_values: flags.FlagValues = FLAGS) -> None:
    """Defines the demo's flags and validators on `flag_values`."""
    fv = {"flag_values": flag_values}
    d = DemoConfig()
    flags.DEFINE_string("work_dir", d.work_dir, "Synthetic data, prepared samples, checkpoints and results", **fv)
    flags.DEFINE_integer("num_drives", d.num_drives, "Synthetic drives, num_test_drives of them held out", **fv)
    flags.DEFINE_integer("num_test_drives", d.num_test_drives, "Held-out drives the depth is evaluated on", **fv)
    flags.DEFINE_integer("num_frames", d.num_frames, "Frames per synthetic drive", **fv)
    flags.DEFINE_integer("data_seed", d.data_seed, "Seed of the rendered drives", **fv)
    flags.DEFINE_integer("img_height", d.img_height, "Training and evaluation image height", **fv)
    flags.DEFINE_integer("img_width", d.img_width, "Training and evaluation image width", **fv)
    flags.DEFINE_integer("steps", d.steps, "Training steps", **fv)
    flags.DEFINE_integer("seed", d.seed, "Seed of the initial weights and of the data order", **fv)
    flags.DEFINE_float("learning_rate", d.learning_rate, "Adam learning rate", **fv)
    flags.DEFINE_float("smooth_weight", d.smooth_weight, "Disparity smoothness weight", **fv)
    flags.DEFINE_float("lambda_seg", d.lambda_seg, "Boundary loss weight", **fv)
    flags.DEFINE_boolean("mixed_precision", d.mixed_precision, "bfloat16 compute on the CPU", **fv)
    flags.DEFINE_integer("curve_every", d.curve_every, "Evaluate the held-out drives every N steps (0: only "
                         "before and after training)", **fv)
    for name, lower in (("num_drives", 2), ("num_test_drives", 1), ("num_frames", 3), ("steps", 1),
                        ("curve_every", 0)):
        register_range(name, lower=lower, **fv)
    register_range("learning_rate", lower=0.0, lower_inclusive=False, **fv)
    for name in ("lambda_seg", "smooth_weight"):
        register_range(name, lower=0.0, **fv)
    for name in ("img_height", "img_width"):
        register_multiple_of(name, required_multiple(False), "DispNet", **fv)


# Every demo flag and the DemoConfig field it sets (same names).
FLAG_FIELDS = ("work_dir", "num_drives", "num_test_drives", "num_frames", "data_seed", "img_height", "img_width",
               "steps", "seed", "learning_rate", "smooth_weight", "lambda_seg", "mixed_precision", "curve_every")


def config_from_flags(flag_values: flags.FlagValues = FLAGS) -> DemoConfig:
    """The DemoConfig the parsed flags describe."""
    return DemoConfig(**{name: flag_values[name].value for name in FLAG_FIELDS})


define_flags()
