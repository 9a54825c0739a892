"""Flags generated from a config's settings: each flag's type, default, help text and rule come from the config's
field (`sfmlearner_tf.settings.setting`, one home), each flag checks its own rule, and one validator builds the
config from the flags, so a bad value fails at start-up with the config's own rule, naming the flag.

Every numeric flag's rule is recorded (`rules_of(flag_values)`), whether generated here or declared by hand with
flags.validators.register_range, so that one test can try every numeric flag of every program."""

from __future__ import annotations

import dataclasses
import types
import typing
import weakref
from collections.abc import Callable, Mapping, Sequence

from absl import flags

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.run_record import settings_with_record
from sfmlearner_tf.settings import Rule, setting_of

_RULES: weakref.WeakKeyDictionary[flags.FlagValues, dict[str, Rule]] = weakref.WeakKeyDictionary()


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


def rules_of(flag_values: flags.FlagValues) -> dict[str, Rule]:
    """Flag name -> the rule its value is checked against, for every flag that declared one."""
    return _RULES.setdefault(flag_values, {})


def register_rule(name: str, rule: Rule, flag_values: flags.FlagValues) -> None:
    """Checks `--name` against `rule` at start-up (Rule.problem: finite, in range, among the choices); a bad value
    fails with `--name must be ..., got ...`."""

    def check(value: object) -> bool:
        problem = rule.problem(value)
        if problem:
            raise flags.ValidationError(f"--{name} {problem}")
        return True

    rules_of(flag_values)[name] = rule
    flags.register_validator(name, check, flag_values=flag_values)


def setting_names(config_cls: type) -> tuple[str, ...]:
    """The names of a dataclass's setting fields, in field order."""
    return tuple(field.name for field in dataclasses.fields(config_cls) if setting_of(field))


def _flag_type(hint: object) -> object:
    """The flag type of a field's type hint: bool, int, float, str or tuple (a list flag); Optional unwrapped."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return tuple if typing.get_origin(hint) is tuple else hint


def _help_with_rule(help_text: str, rule: Rule, kind: object) -> str:
    """The help text and, for a number or a list of names, the values it takes (an enum lists its own)."""
    if kind is tuple and rule.choices:
        return f"{help_text} Names: {', '.join(map(str, rule.choices))}."
    if kind in (int, float) and rule != Rule():
        return f"{help_text} ({rule.describe()})"
    return help_text


def define_config_flags(config_cls: type, flag_values: flags.FlagValues, *, fields: Sequence[str] | None = None,
                        flag_names: Mapping[str, str] | None = None, prefix: str = "",
                        defaults: Mapping[str, object] | None = None) -> dict[str, str]:
    """Defines one flag per setting field of the dataclass `config_cls` (or per name of `fields`, in that order):
    its name is the field's (or `flag_names[field]`), its type the field's, its default the field's (or
    `defaults[field]`; a field without a default makes a required flag), its help text and rule the field's
    `setting`. `prefix` is the dotted path of a nested config, for the returned map. Returns {dotted field path:
    flag name}."""
    flag_of_field = {}
    for name in fields if fields is not None else setting_names(config_cls):
        field, hint = _field_at(config_cls, name)
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        default = None if required else (field.default if field.default is not dataclasses.MISSING
                                         else field.default_factory())
        flag = (flag_names or {}).get(name, name)
        _define_flag(flag, field, hint, (defaults or {}).get(name, default), flag_values)
        if required:
            flags.mark_flag_as_required(flag, flag_values=flag_values)
        flag_of_field[f"{prefix}{name}"] = flag
    return flag_of_field


def define_path_flags(config: object, paths: Mapping[str, str], flag_values: flags.FlagValues,
                      help_texts: Mapping[str, str] | None = None) -> dict[str, str]:
    """Defines one flag per entry of `paths` (flag name -> dotted field path inside the dataclass instance
    `config`, e.g. "smooth_weight" -> "loss.smooth_weight"): help text (unless `help_texts` has one for the
    flag) and rule from that field's `setting`, type from its type hint, default from `config`'s value there.
    Returns {dotted field path: flag name}."""
    for flag, path in paths.items():
        value = config
        for part in path.split("."):
            value = getattr(value, part)
        _define_flag(flag, *_field_at(type(config), path), value, flag_values, (help_texts or {}).get(flag))
    return {path: flag for flag, path in paths.items()}


def field_help(config_cls: type, path: str) -> str:
    """The help text of the setting at a dotted path from `config_cls` (e.g. "run.loss.smooth_weight")."""
    return setting_of(_field_at(config_cls, path)[0]).help


def _field_at(config_cls: type, path: str) -> tuple[dataclasses.Field, object]:
    """The dataclass field at a dotted path from `config_cls` (through nested config fields) and its type hint."""
    owner, (*heads, name) = config_cls, path.split(".")
    for head in heads:
        owner = typing.get_type_hints(owner)[head]
    field = {field.name: field for field in dataclasses.fields(owner)}[name]
    if setting_of(field) is None:
        raise ConfigError(f"{owner.__name__}.{name} is not a setting (no help text and rule)")
    return field, typing.get_type_hints(owner)[name]


def _define_flag(flag: str, field: dataclasses.Field, hint: object, default: object,
                 flag_values: flags.FlagValues, help_text: str | None = None) -> None:
    """One flag of the field's type (an enum for names with choices, a list for tuples), checked by its rule."""
    declared, kind = setting_of(field), _flag_type(hint)
    help_text = _help_with_rule(help_text or declared.help, declared.rule, kind)
    args = {"flag_values": flag_values}
    if declared.rule.choices and kind is str:
        flags.DEFINE_enum(flag, default, [str(c) for c in declared.rule.choices], help_text, **args)
    elif kind is tuple:
        flags.DEFINE_list(flag, None if default is None else list(default), help_text, **args)
    else:
        define = {bool: flags.DEFINE_boolean, int: flags.DEFINE_integer, float: flags.DEFINE_float}.get(
            kind, flags.DEFINE_string)
        define(flag, default, help_text, **args)
    register_rule(flag, declared.rule, flag_values)


def values_with_record(flag_values: flags.FlagValues, names: Sequence[str], checkpoint: str | None,
                       recorded: Sequence[str], label: str = "model") -> tuple[dict[str, object], str]:
    """The values of the flags `names`, those of `recorded` taken from the checkpoint's run record unless given
    on the command line (sfmlearner_tf.run_record.settings_with_record), and the note saying so."""
    values = {name: flag_values[name].value for name in names}
    given = {name for name in recorded if flag_values[name].present}
    from_record, note = settings_with_record(checkpoint, {name: values[name] for name in recorded}, given, label)
    return {**values, **from_record}, note
