"""Flags of sfm-demo (the CPU demo on synthetic drives): one per DemoConfig setting, and one per setting of its
training run that the demo exposes (RUN_SETTINGS: `--steps` -> `run.max_steps`), each with the field's help text
and rule and DemoConfig's default; the configs' own rules check the values at start-up. `define_flags(flag_values)`
defines them; nothing is defined at import."""

from __future__ import annotations

from absl import flags

from flags.config_flags import (
    define_config_flags,
    define_path_flags,
    field_help,
    register_config_validator,
    setting_names,
)
from sfmlearner_tf.tasks.demo import RUN_SETTINGS, DemoConfig
from sfmlearner_tf.training.config import SETTING_PATHS
from sfmlearner_tf.training.recipes import RECIPES

_OWN = tuple(name for name in setting_names(DemoConfig) if name not in ("render_width", "render_height"))
_RUN_PATHS = {name: f"run.{SETTING_PATHS[setting]}" for name, setting in RUN_SETTINGS.items()}
_NAMES = (*_OWN, *_RUN_PATHS)


def _help_texts() -> dict[str, str]:
    """Help texts that differ from the fields': --steps (the demo runs exactly that many, include_last_step), and
    every run flag that a recipe also sets (improved sets smooth_weight): one given wins over the recipe's."""
    texts = {"steps": "Training steps."}
    for name, setting_name in RUN_SETTINGS.items():
        by_recipe = {recipe: settings[setting_name] for recipe, settings in RECIPES.items() if setting_name in settings}
        if by_recipe:
            values = ", ".join(f"{recipe}: {value}" for recipe, value in by_recipe.items())
            texts[name] = (f"{field_help(DemoConfig, _RUN_PATHS[name])} When not given, the recipe's ({values}) "
                           "or else this default.")
    return texts


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the demo's flags and their start-up validator on `flag_values`."""
    flag_of_field = {**define_config_flags(DemoConfig, flag_values, fields=_OWN),
                     **define_path_flags(DemoConfig(), _RUN_PATHS, flag_values, _help_texts())}
    register_config_validator(_NAMES, lambda values: DemoConfig.from_settings(**values), flag_of_field, flag_values)


def config_from_flags(flag_values: flags.FlagValues) -> DemoConfig:
    """The DemoConfig the parsed flags describe: the flags given on the command line (the rest are the defaults),
    so that a run setting given wins over the recipe's (DemoConfig.given_run_settings)."""
    return DemoConfig.from_settings(**{name: flag_values[name].value for name in _NAMES if flag_values[name].present})
