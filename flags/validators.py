"""Start-up checks for hand-declared flags: a bad value fails before any work starts, with a message naming the
flag. Each is a `sfmlearner_tf.settings.Rule` (the rule generated flags take from their config field), so both
kinds are checked, worded and recorded alike (flags.config_flags.rules_of)."""

from __future__ import annotations

from absl import flags

from flags.config_flags import register_rule
from sfmlearner_tf.models import DISP_NET_MULTIPLE
from sfmlearner_tf.settings import SEQ_LENGTH, Rule


def register_range(name: str, lower: float | None = None, upper: float | None = None,
                   lower_inclusive: bool = True, flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Requires `lower <= --name <= upper` (or a strict lower bound), finite; None means unbounded."""
    register_rule(name, Rule(low=lower, high=upper, low_open=not lower_inclusive), flag_values)


def register_multiple_of(name: str, divisor: int, flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Requires `--name` to be a positive multiple of `divisor`."""
    register_rule(name, Rule(multiple_of=divisor), flag_values)


def register_network_input(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """The checks every program that runs the networks shares: `--img_height`/`--img_width` multiples of
    DispNet's 16, `--seq_length` odd and >= 3 (the target frame sits in the middle)."""
    for name in ("img_height", "img_width"):
        register_multiple_of(name, DISP_NET_MULTIPLE, flag_values)
    register_rule("seq_length", SEQ_LENGTH, flag_values)
