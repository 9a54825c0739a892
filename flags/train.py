"""Flags of run_train.py: the original train.py's flags and defaults plus the extension's.

One flag per TrainConfig setting (SETTING_PATHS: flag name -> field, e.g. `smooth_weight` -> `loss.smooth_weight`),
with the field's default, help text and rule; the config's own rules check the values at start-up. `--override`
also sets settings by their dotted field path (`loss.smooth_weight=0.75`), as Model Garden's `--params_override`.
`define_flags(flag_values)` defines them; nothing is defined at import. Presets for the paper's runs are flagfiles
in flags/presets/.
"""

from __future__ import annotations

from absl import flags

from flags.config_flags import define_path_flags, register_config_validator
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.training.config import SETTING_PATHS, TrainConfig, parse_overrides

SETTING_NAMES = tuple(SETTING_PATHS)  # every flag's name, but --override


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines every training flag and its start-up validators on `flag_values`."""
    flag_of_field = define_path_flags(TrainConfig(), SETTING_PATHS, flag_values)
    register_config_validator(SETTING_NAMES, lambda values: TrainConfig.from_settings(**values), flag_of_field,
                              flag_values)
    flags.DEFINE_list("override", [], "Settings by their dotted path in TrainConfig, e.g. loss.smooth_weight=0.75,"
                      "optimizer.beta2=0.99 (the flat flags name the same fields; give each field one way).",
                      flag_values=flag_values)

    def check_overrides(_: object) -> bool:
        try:
            config_from_flags(flag_values)
        except ConfigError as error:
            if "override" in error.fields:
                raise flags.ValidationError(str(error)) from None
        return True

    flags.register_validator("override", check_overrides, flag_values=flag_values)


def config_from_flags(flag_values: flags.FlagValues) -> TrainConfig:
    """The TrainConfig the parsed flags describe, --override applied last."""
    config = TrainConfig.from_settings(**{name: flag_values[name].value for name in SETTING_NAMES})
    overrides = parse_overrides(config, flag_values["override"].value or [])
    twice = [name for name, path in SETTING_PATHS.items() if path in overrides and flag_values[name].present]
    if twice:
        raise ConfigError(f"--override sets {', '.join(SETTING_PATHS[name] for name in twice)}, which "
                          f"{', '.join('--' + name for name in twice)} also set: give each one way",
                          fields=("override",))
    try:
        return config.replace(**overrides)
    except ConfigError as error:
        raise ConfigError(f"--override: {error}", fields=("override",)) from None
