"""Every numeric flag of every program is checked by one rule, by type: each declares its range (generated from its
config field or declared with flags.validators), and nan, inf and a value out of that range are refused at
start-up with a one-line message naming the flag (inf is accepted only by the periods of progress lines, where
it means never). The programs are found from setup.py's console scripts, so a
program or a flag added later is covered without anyone remembering to add it here."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from absl import flags

from flags.config_flags import rules_of
from sfmlearner_tf.settings import Rule

REPO = Path(__file__).resolve().parents[1]


def programs() -> dict[str, str]:
    """Console-script name -> "module:function", from setup.py."""
    return dict(re.findall(r'"(sfm-[\w-]+)=([\w.]+:\w+)"', (REPO / "setup.py").read_text()))


def program_flags(entry: str) -> flags.FlagValues:
    """The flags a program defines, on a fresh FlagValues: its main() is run with run_program replaced by a
    recorder that only calls define_flags."""
    module_name, function = entry.split(":")
    module = importlib.import_module(module_name)
    flag_values = flags.FlagValues()

    def record(name: str, define_flags, body) -> None:
        define_flags(flag_values)

    original = module.run_program
    module.run_program = record
    try:
        getattr(module, function)()
    finally:
        module.run_program = original
    return flag_values


def out_of_range(rule: Rule) -> float | int | None:
    """A value the rule refuses, or None for a rule without a bound."""
    if rule.multiple_of is not None:
        return rule.multiple_of + 1
    if rule.odd:
        low = int(rule.low or 0)
        return low + 1 if low % 2 else low
    if rule.low is not None:
        return rule.low if rule.low_open else rule.low - 1
    if rule.high is not None:
        return rule.high if rule.high_open else rule.high + 1
    return None


def parse(flag_values: flags.FlagValues, name: str, value: str) -> str | None:
    """The error message of parsing `--name=value` (the required flags given placeholders), or None."""
    argv = ["prog", f"--{name}={value}"]
    for required in flag_values:
        flag = flag_values[required]
        if required != name and flag.default is None and any(
                validator.message == f"Flag --{required} must have a value other than None."
                for validator in flag.validators):
            argv.append(f"--{required}={_placeholder(flag)}")
    try:
        flag_values(argv)
    except flags.Error as error:
        return str(error)
    finally:
        flag_values.unparse_flags()
    return None


def _placeholder(flag: flags.Flag) -> str:
    return flag.parser.enum_values[0] if hasattr(flag.parser, "enum_values") else "placeholder"


def numeric_flags(flag_values: flags.FlagValues) -> list[str]:
    return sorted(name for name in flag_values if flag_values[name].flag_type() in ("int", "float")
                  and name not in _ABSL_OWN)


# absl's own numeric flags (logging), defined on every FlagValues by absl itself, not by a program.
_ABSL_OWN = {"verbosity", "v", "stderrthreshold", "logger_levels", "log_dir", "showprefixforinfo"}


PROGRAMS = programs()


def test_setup_py_lists_every_program() -> None:
    assert {"sfm-train", "sfm-eval", "sfm-predict", "sfm-export", "sfm-demo", "sfm-prepare-data",
            "sfm-render-synthetic", "sfm-mask-rcnn-prep"} <= set(PROGRAMS)


def test_out_of_range_values_by_hand() -> None:
    assert out_of_range(Rule(low=0.0, low_open=True)) == 0.0
    assert out_of_range(Rule(low=1)) == 0
    assert out_of_range(Rule(low=0.0, high=1.0)) == -1.0
    assert out_of_range(Rule(multiple_of=16)) == 17
    assert Rule(low=3, odd=True).problem(out_of_range(Rule(low=3, odd=True)))


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_every_numeric_flag_refuses_nan_inf_and_out_of_range(program: str) -> None:
    flag_values = program_flags(PROGRAMS[program])
    rules = rules_of(flag_values)
    names = numeric_flags(flag_values)
    assert names, f"{program}: no numeric flags found"
    unruled = [name for name in names if out_of_range(rules.get(name, Rule())) is None]
    assert not unruled, f"{program}: numeric flags without a declared range: {unruled}"
    for name in names:
        refused = ["nan", "-inf", str(out_of_range(rules[name]))]
        if rules[name].infinite_ok:  # a period: inf means never (progress lines), and is accepted
            message = parse(flag_values, name, "inf") or ""
            assert f"--{name}" not in message, f"{program} --{name}=inf was refused: {message}"
        else:
            refused.append("inf")
        for value in refused:
            message = parse(flag_values, name, value)
            assert message is not None, f"{program} --{name}={value} was accepted"
            assert f"--{name}" in message and len(message) < 300 and "\n" not in message, (program, message)
