"""Shared start-up checks for flags: a bad value fails before any work starts, with a message naming the flag."""

from __future__ import annotations

from absl import flags

from sfmlearner_tf.models import DISP_NET_MULTIPLE


def register_range(name: str, lower: float | None = None, upper: float | None = None,
                   lower_inclusive: bool = True, flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Requires `lower <= --name <= upper` (or strict bounds); None means unbounded."""

    def check(value: float | None) -> bool:
        if value is None:
            return True
        if lower is not None and (value < lower or (not lower_inclusive and value == lower)):
            return False
        return upper is None or value <= upper

    low = "" if lower is None else (f"{'>=' if lower_inclusive else '>'} {lower}")
    high = "" if upper is None else f"<= {upper}"
    bounds = " and ".join(b for b in (low, high) if b)
    flags.register_validator(name, check, message=f"--{name} must be {bounds}", flag_values=flag_values)


def register_multiple_of(name: str, divisor: int, why: str, flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Requires `--name` to be a positive multiple of `divisor`; `why` says which part needs it."""
    flags.register_validator(
        name,
        lambda value: value is None or (value > 0 and value % divisor == 0),
        message=f"--{name} must be a positive multiple of {divisor} ({why})",
        flag_values=flag_values,
    )


def register_choice_list(name: str, choices: tuple[str, ...], flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Requires every element of a list flag to be one of `choices`."""
    flags.register_validator(
        name,
        lambda values: values is None or all(v in choices for v in values),
        message=f"--{name} elements must be among {', '.join(choices)}",
        flag_values=flag_values,
    )


def register_network_input(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """The checks every program that runs the networks shares: `--img_height`/`--img_width` multiples of
    DispNet's 16, `--seq_length` odd and >= 3 (the target frame sits in the middle)."""
    for name in ("img_height", "img_width"):
        register_multiple_of(name, DISP_NET_MULTIPLE, f"DispNet needs multiples of {DISP_NET_MULTIPLE}", flag_values)
    register_range("seq_length", 3, flag_values=flag_values)
    flags.register_validator("seq_length", lambda value: value is None or value % 2 == 1,
                             message="--seq_length must be odd (target in the middle)", flag_values=flag_values)
