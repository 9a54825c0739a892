"""Flags generated from a config's settings: each flag's type and default come from the config's default value
(one home), and one validator builds the config from the flags, so a bad value fails at start-up with the
config's own rule, naming the flag."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from absl import flags

from sfmlearner_tf.errors import ConfigError


@dataclass(frozen=True)
class SettingFlag:
    """A flag that sets the config setting of the same name; `choices` makes it an enum flag."""

    name: str
    help: str
    choices: tuple[str, ...] = ()


def define_setting_flags(specs: Sequence[SettingFlag], default_of: Callable[[str], object],
                         flag_values: flags.FlagValues) -> None:
    """Defines one flag per spec, typed and defaulted by `default_of(name)` (the config default's type)."""
    for spec in specs:
        default = default_of(spec.name)
        args = (spec.name, default, spec.help)
        if spec.choices:
            flags.DEFINE_enum(spec.name, default, list(spec.choices), spec.help, flag_values=flag_values)
        elif isinstance(default, bool):
            flags.DEFINE_boolean(*args, flag_values=flag_values)
        elif isinstance(default, int):
            flags.DEFINE_integer(*args, flag_values=flag_values)
        elif isinstance(default, float):
            flags.DEFINE_float(*args, flag_values=flag_values)
        else:
            flags.DEFINE_string(*args, flag_values=flag_values)


def register_config_validator(names: Sequence[str], build: Callable[[dict[str, object]], object],
                              flag_of_field: Mapping[str, str], flag_values: flags.FlagValues) -> None:
    """Checks at start-up that the flags `names` build a valid config (`build(values)`): each flag's validator
    fails when a ConfigError names its field (`flag_of_field`: the config's dotted field path -> flag), so absl's
    one-line message names that flag and the config's rule. An error naming no flag surfaces when the program
    builds its config."""

    def validator_of(name: str) -> Callable[[object], bool]:
        def check(_: object) -> bool:
            try:
                build({other: flag_values[other].value for other in names})
            except ConfigError as error:
                if any(flag_of_field.get(field) == name for field in error.fields):
                    raise flags.ValidationError(str(error)) from None
            return True

        return check

    for name in names:
        flags.register_validator(name, validator_of(name), flag_values=flag_values)
