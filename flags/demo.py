"""Flags of sfm-demo (the CPU demo on synthetic drives); defaults are DemoConfig's."""

from __future__ import annotations

from absl import flags

from flags.validators import register_multiple_of, register_range
from sfmlearner_tf.models import required_multiple
from sfmlearner_tf.training.demo import DemoConfig

FLAGS = flags.FLAGS


def define_flags(flag_values: flags.FlagValues = FLAGS) -> None:
    """Defines the demo's flags and validators on `flag_values`."""
    fv = {"flag_values": flag_values}
    d = DemoConfig()
    flags.DEFINE_string("work_dir", d.work_dir, "Synthetic data, prepared samples, checkpoints and results", **fv)
    flags.DEFINE_integer("num_drives", d.num_drives, "Synthetic drives (num_test_drives of them held out)", **fv)
    flags.DEFINE_integer("num_frames", d.num_frames, "Frames per synthetic drive", **fv)
    flags.DEFINE_integer("img_height", d.img_height, "Training and evaluation image height", **fv)
    flags.DEFINE_integer("img_width", d.img_width, "Training and evaluation image width", **fv)
    flags.DEFINE_integer("steps", d.steps, "Training steps", **fv)
    flags.DEFINE_float("learning_rate", d.learning_rate, "Adam learning rate", **fv)
    flags.DEFINE_float("lambda_seg", d.lambda_seg, "Boundary loss weight", **fv)
    for name in ("num_drives", "num_frames", "steps"):
        register_range(name, lower=2 if name == "num_drives" else 1, **fv)
    register_range("learning_rate", lower=0.0, lower_inclusive=False, **fv)
    register_range("lambda_seg", lower=0.0, **fv)
    for name in ("img_height", "img_width"):
        register_multiple_of(name, required_multiple(False), "DispNet", **fv)


def config_from_flags(flag_values: flags.FlagValues = FLAGS) -> DemoConfig:
    """The DemoConfig the parsed flags describe."""
    names = ("work_dir", "num_drives", "num_frames", "img_height", "img_width", "steps", "learning_rate",
             "lambda_seg")
    return DemoConfig(**{name: flag_values[name].value for name in names})


define_flags()
