"""Flags of sfm-sweep (sfmlearner_tf.apps.sweep): the grid, the work folder, where the data comes from, this
process's shard and overrides of the grid's seeds, steps and initial checkpoint. Also where the shipped grids
(flags/sweeps/*.json) and presets (flags/presets/*.cfg) lie, and how a preset becomes training settings (parsed
as run_train parses it). `define_flags(flag_values)` defines the flags; nothing is defined at import."""

from __future__ import annotations

from pathlib import Path

from absl import flags

import flags.train as train_flags
from flags.config_flags import define_config_flags
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.tasks.sweep_grid import load_grid
from sfmlearner_tf.tasks.sweep_plan import SweepConfig, parse_shard

PRESETS = Path(__file__).parent / "presets"
SWEEPS = Path(__file__).parent / "sweeps"


def _shipped(folder: Path, suffix: str) -> str:
    return ", ".join(sorted(path.stem for path in folder.glob(f"*{suffix}")))


def read_preset(name: str) -> dict:
    """The training settings a preset sets (a name of flags/presets/, or a .cfg path), read as run_train reads the
    flagfile; a ConfigError names the preset and the problem."""
    path = Path(name) if name.endswith(".cfg") else PRESETS / f"{name}.cfg"
    if not path.is_file():
        raise ConfigError(f"preset {name!r}: {path} not found (shipped: {_shipped(PRESETS, '.cfg')})")
    values = flags.FlagValues()
    train_flags.define_flags(values)
    try:
        values(["preset", f"--flagfile={path}"])
    except flags.Error as error:
        raise ConfigError(f"preset {path}: {error}") from None
    return {name: values[name].value for name in train_flags.SETTING_NAMES if values[name].present}


def grid_path(text: str) -> Path:
    """A grid file: `text` as a path, else the shipped flags/sweeps/<text>.json."""
    for path in (Path(text), SWEEPS / f"{text}.json"):
        if path.is_file():
            return path
    raise ConfigError(f"--grid={text}: no such file, nor a shipped grid ({_shipped(SWEEPS, '.json')})")


def _is_shard(text: str) -> bool:
    try:
        parse_shard(text)
    except ConfigError as error:
        raise flags.ValidationError(str(error)) from None
    return True


def _are_seeds(values: list[str]) -> bool:
    if not all(value.lstrip("-").isdigit() for value in values):
        raise flags.ValidationError("must be integers separated by commas")
    if len(set(map(int, values))) != len(values):
        raise flags.ValidationError("a seed repeats")
    return True


_CONFIG_FLAGS = ("work_dir", "data_dir", "eval_dir", "steps", "init_checkpoint", "report_only", "dry_run",
                 "crops")


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validators on `flag_values`: one per setting of SweepConfig,
    and by hand the three whose text is parsed (the grid file, the seeds, the shard)."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_string("grid", None, "Grid file (JSON: rows x seeds; see sfmlearner_tf/tasks/sweep_grid.py) or the "
                        f"name of a shipped one ({_shipped(SWEEPS, '.json')})", **fv)
    flags.DEFINE_list("seeds", [], "Seeds every row runs with (overrides the grid's), e.g. 1,2,3", **fv)
    flags.DEFINE_string("shard", "0/1", "i/n: train only the runs whose index % n == i (several processes or "
                        "machines, each with its own i); the table is gathered unsharded or with --report_only", **fv)
    define_config_flags(SweepConfig, flag_values, fields=_CONFIG_FLAGS)
    flags.mark_flag_as_required("grid", **fv)
    flags.register_validator("shard", _is_shard, **fv)
    flags.register_validator("seeds", _are_seeds, **fv)
    flags.register_multi_flags_validator(
        ["data_dir", "eval_dir"], lambda values: bool(values["data_dir"]) == bool(values["eval_dir"]),
        message="--data_dir and --eval_dir go together (leave both empty for the synthetic drives)", **fv)


def config_from_flags(flag_values: flags.FlagValues) -> SweepConfig:
    """The sweep the parsed flags describe (the grid file read and checked)."""
    f = flag_values
    return SweepConfig(grid=load_grid(grid_path(f.grid), read_preset), seeds=tuple(int(seed) for seed in f.seeds),
                       shard=parse_shard(f.shard), **{name: f[name].value for name in _CONFIG_FLAGS})
