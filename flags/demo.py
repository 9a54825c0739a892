"""Flags of sfm-demo (the CPU demo on synthetic drives). Each flag sets the DemoConfig setting of the same name
(its own fields, or its training run's through RUN_SETTINGS), with DemoConfig's default; the configs' own rules
check the values at start-up. `define_flags(flag_values)` defines them; nothing is defined at import."""

from __future__ import annotations

from absl import flags

from flags.config_flags import SettingFlag, define_setting_flags, register_config_validator
from sfmlearner_tf.tasks.demo import RUN_SETTINGS, DemoConfig
from sfmlearner_tf.training.config import SETTING_PATHS
from sfmlearner_tf.training.recipes import RECIPES

DEMO_FLAGS = (
    SettingFlag("work_dir", "Synthetic data, prepared samples, checkpoints and results"),
    SettingFlag("num_drives", "Synthetic drives, num_test_drives of them held out"),
    SettingFlag("num_test_drives", "Held-out drives the depth is evaluated on"),
    SettingFlag("num_frames", "Frames per synthetic drive"),
    SettingFlag("data_seed", "Seed of the rendered drives"),
    SettingFlag("img_height", "Training and evaluation image height"),
    SettingFlag("img_width", "Training and evaluation image width"),
    SettingFlag("steps", "Training steps"),
    SettingFlag("seed", "Seed of the initial weights and of the data order"),
    SettingFlag("learning_rate", "Adam learning rate"),
    SettingFlag("smooth_weight", "Disparity smoothness weight"),
    SettingFlag("lambda_seg", "Boundary loss weight"),
    SettingFlag("mixed_precision", "bfloat16 compute on the CPU"),
    SettingFlag("curve_every", "Evaluate the held-out drives every N steps (0: only before and after training)"),
    SettingFlag("recipe", "Training recipe: faithful (the original's), port (SfmLearner-Pytorch's four differences) "
                "or improved (flags/presets/improved.cfg)", tuple(RECIPES)),
)
_NAMES = tuple(spec.name for spec in DEMO_FLAGS)


def _field_of(name: str) -> str:
    """The dotted DemoConfig field a demo flag sets."""
    return f"run.{SETTING_PATHS[RUN_SETTINGS[name]]}" if name in RUN_SETTINGS else name


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the demo's flags and their start-up validator on `flag_values`."""
    define_setting_flags(DEMO_FLAGS, DemoConfig().setting, flag_values)
    register_config_validator(_NAMES, lambda values: DemoConfig.from_settings(**values),
                              {_field_of(name): name for name in _NAMES}, flag_values)


def config_from_flags(flag_values: flags.FlagValues) -> DemoConfig:
    """The DemoConfig the parsed flags describe."""
    return DemoConfig.from_settings(**{name: flag_values[name].value for name in _NAMES})
