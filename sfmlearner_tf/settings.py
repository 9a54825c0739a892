"""Settings of the library's configs: each field declares its help text and the values it takes, once, and one
function checks them all by type, so every config, and every program flag generated from it, refuses a bad
value the same way (a float must be finite; a number in its range; a name among its choices).

    @dataclass(frozen=True)
    class RenderConfig:
        num_frames: int = setting(40, "Frames per drive (10 Hz).", low=3)

        def __post_init__(self) -> None:
            check_settings(self)            # then the config's own cross-field rules
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sfmlearner_tf.errors import ConfigError

_KEY = "sfmlearner_tf.setting"


@dataclass(frozen=True)
class Rule:
    """The values a setting takes: a range (either end open or absent), a set of choices (each element of a
    tuple value), a positive multiple, oddness. Floats must be finite, except +inf where `infinite_ok` (a period
    of inf seconds: never)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] = ()
    multiple_of: int | None = None
    odd: bool = False
    infinite_ok: bool = False

    def describe(self) -> str:
        """The rule in words, e.g. "in (0, 1]", ">= 1", "one of l1, ssim_l1"."""
        if len(self.choices) > 8:  # a long list is named by its start: messages stay one short line
            return f"one of {len(self.choices)} names ({', '.join(map(str, self.choices[:4]))}, ...; see --helpfull)"
        if self.choices:
            return "one of " + ", ".join(str(choice) for choice in self.choices)
        if self.multiple_of is not None:
            return f"a positive multiple of {self.multiple_of}"
        if self.odd:
            return "odd" + (f" and >= {self.low}" if self.low is not None else "")
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low}" + (" (inf: never)" if self.infinite_ok else "")
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {self.high}"
        return "any value"

    def problem(self, value: Any) -> str | None:
        """Why `value` breaks the rule (a phrase after the setting's name), or None when it keeps it. None as a
        value (an optional setting left unset) and booleans always keep it."""
        if value is None or isinstance(value, bool):
            return None
        if isinstance(value, (tuple, list)) and self.choices:
            bad = [element for element in value if element not in self.choices]
            return f"has {', '.join(map(str, bad))}: each must be {self.describe()}" if bad else None
        if self.choices:
            return None if value in self.choices else f"must be {self.describe()}, got {value!r}"
        if not isinstance(value, (int, float)):
            return None
        if isinstance(value, float) and not math.isfinite(value):
            return None if self.infinite_ok and value == math.inf else f"must be a finite number, got {value}"
        if self.multiple_of is not None:
            return None if value > 0 and value % self.multiple_of == 0 else f"must be {self.describe()}, got {value}"
        if self.odd and value % 2 != 1:
            return f"must be {self.describe()}, got {value}"
        too_low = self.low is not None and (value < self.low or (self.low_open and value == self.low))
        too_high = self.high is not None and (value > self.high or (self.high_open and value == self.high))
        return f"must be {self.describe()}, got {value}" if too_low or too_high else None


# The frame count of a sample or a pose window: the target sits in the middle.
SEQ_LENGTH = Rule(low=3, odd=True)
# A random seed: numpy's and Keras' seeds take 0..2^32 - 1.
SEED = Rule(low=0, high=2**32 - 1)
# Seconds between progress lines; inf: none.
PROGRESS_EVERY = Rule(low=0.0, infinite_ok=True)


@dataclass(frozen=True)
class Setting:
    """What a config field says about itself: its help text, its rule, and the setting it `needs` to do anything
    ("name": that setting on; "name=value": it at that value), found in the field's own config or, nearest first,
    in the configs that hold it."""

    help: str
    rule: Rule
    needs: str | None = None


def setting(default: Any = dataclasses.MISSING, help: str = "", *, low: float | None = None,
            high: float | None = None, low_open: bool = False, high_open: bool = False,
            choices: Sequence[Any] = (), multiple_of: int | None = None, odd: bool = False,
            rule: Rule | None = None, needs: str | None = None,
            default_factory: Callable[[], Any] | Any = dataclasses.MISSING) -> Any:
    """A dataclass field with its help text and rule (see Rule; `rule` gives a shared one whole) and the setting
    it needs to take effect (see Setting)."""
    rule = rule or Rule(low, high, low_open, high_open, tuple(choices), multiple_of, odd)
    meta = {_KEY: Setting(help, rule, needs)}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def setting_of(field: dataclasses.Field) -> Setting | None:
    """The Setting a field declares, or None for a field that is not a setting."""
    return field.metadata.get(_KEY)


def check_settings(config: Any) -> None:
    """Checks every field of a dataclass instance: declared rules, and finiteness of every float (declared or
    not). Raises one ConfigError naming every offending field (`fields` holds their names)."""
    problems = []
    for field in dataclasses.fields(config):
        declared = setting_of(field)
        problem = (declared.rule if declared else Rule()).problem(getattr(config, field.name))
        if problem:
            problems.append((field.name, problem))
    if problems:
        owner = type(config).__name__
        raise ConfigError("; ".join(f"{owner}.{name} {why}" for name, why in problems),
                          fields=tuple(name for name, _ in problems))


@dataclass(frozen=True)
class IdleSetting:
    """A setting changed from its default that changes nothing, because the setting it needs is not as it needs
    (Setting.needs). Paths are dotted, from the config checked."""

    path: str
    value: Any
    needed: str
    wanted: str  # the value needed ("" = on)

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """E.g. "edge_aware_strength=10.0 does nothing without edge_aware_smoothness"; `names` renames paths
        (e.g. to flag names)."""
        names = names or {}
        needed = names.get(self.needed, self.needed) + (f"={self.wanted}" if self.wanted else "")
        return f"{names.get(self.path, self.path)}={self.value} does nothing without {needed}"


def idle_settings(config: Any) -> list[IdleSetting]:
    """The settings of a dataclass instance, nested configs included, that are changed from their defaults while
    the setting each needs is not as it needs. Programs warn of them rather than refuse them: a sweep may turn
    the needed setting off in one row and keep the rest."""
    return _idle(config, "", ())


def _idle(config: Any, prefix: str, owners: tuple[tuple[Any, str], ...]) -> list[IdleSetting]:
    chain = ((config, prefix), *owners)  # nearest first
    found = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            found += _idle(value, f"{prefix}{field.name}.", chain)
            continue
        declared = setting_of(field)
        if declared is None or declared.needs is None or value == _default(field):
            continue
        name, _, wanted = declared.needs.partition("=")
        holder = next(((owner, path) for owner, path in chain if name in {f.name for f in dataclasses.fields(owner)}),
                      None)
        if holder is None:
            raise ConfigError(f"{type(config).__name__}.{field.name} needs {name!r}, which neither its config nor "
                              "the configs holding it have")
        actual = getattr(holder[0], name)
        if (str(actual) != wanted) if wanted else not actual:
            found.append(IdleSetting(f"{prefix}{field.name}", value, f"{holder[1]}{name}", wanted))
    return found


def _default(field: dataclasses.Field) -> Any:
    return field.default if field.default_factory is dataclasses.MISSING else field.default_factory()
