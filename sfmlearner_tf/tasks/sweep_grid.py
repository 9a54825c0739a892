"""Sweep grids: the file that names the grid points (rows) and seeds sfm-sweep trains and scores.

A grid is a JSON file:

    {"name": "paper_fig9",                       # letters, digits and . _ + = - (it names the report files)
     "description": "...",                       # optional
     "base": {"img_height": 128, ...},           # training settings every row starts from (run_train's flag names)
     "init_checkpoint": "./models/model-190532", # optional: every run fine-tunes from it
     "rows": [{"label": "seg2.5", "preset": "dsfm_seg2.5_smooth0.75_lr4e-4"},   # a flags/presets flagfile
              {"label": "seg5", "settings": {"lambda_seg": 5.0}}],              # or settings (or both: they win)
     "seeds": [1, 2, 3],
     "reference": "seg2.5",                      # optional: every other row also gets its paired difference to
                                                 #   this row, seed by seed (row - reference)
     "data": {"num_drives": 11, ...},            # optional: the synthetic drives (DemoConfig's render settings)
     "eval": {"max_depth": 80.0, ...}}           # optional: depth evaluation settings (DepthEvalConfig's)

A row's settings are the base's, then its preset's, then its own. The sweep sets the settings of SWEEP_OWNED
itself, so a grid that names them is refused and a preset's are dropped. Every error names the grid file."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.training.config import SETTING_PATHS, TrainConfig

# Settings each run gets from the sweep, and from where.
SWEEP_OWNED = {
    "checkpoint_dir": "each run's folder <work_dir>/runs/<label>_seed<seed>",
    "dataset_dir": "the synthetic drives under <work_dir>, or --data_dir",
    "continue_train": "always on, so an interrupted run resumes",
    "seed": "the grid's seeds",
    "init_checkpoint_file": "the grid's init_checkpoint, or --init_checkpoint",
}
DATA_KEYS = ("num_drives", "num_test_drives", "num_frames", "render_width", "render_height", "data_seed")
EVAL_KEYS = ("test_file_list", "min_depth", "max_depth", "fix_duplicate_index", "edge_domain", "boundary_dir")
_GRID_KEYS = ("name", "description", "base", "init_checkpoint", "rows", "seeds", "reference", "data", "eval")
_ROW_KEYS = ("label", "preset", "settings")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]*")


@dataclass(frozen=True)
class GridRow:
    """One grid point: its label and its settings (its preset's, then its own; the base is kept apart)."""

    label: str
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Grid:
    """A parsed grid file (see the module's docstring)."""

    name: str
    path: str
    rows: tuple[GridRow, ...]
    seeds: tuple[int, ...]
    base: dict = field(default_factory=dict)
    init_checkpoint: str | None = None
    data: dict = field(default_factory=dict)
    eval: dict = field(default_factory=dict)
    description: str = ""
    reference: str | None = None

    def row_settings(self, row: GridRow) -> dict:
        """The row's settings on top of the base's."""
        return {**self.base, **row.settings}


def _eval_defaults() -> dict[str, object]:
    from sfmlearner_tf.evaluation import DepthEvalConfig

    defaults = DepthEvalConfig(dataset_dir="")
    return {key: getattr(defaults, key) for key in EVAL_KEYS}


def _typed(where: str, name: str, value: object, default: object) -> object:
    """`value` checked against the type of `default` (an int is taken for a float; a str where the default is
    None); a ConfigError naming `where` and the setting otherwise."""
    if isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        ok, kind = isinstance(value, int) and not isinstance(value, bool), "an integer"
    elif isinstance(default, float):
        ok, kind = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
    else:
        ok, kind = isinstance(value, str), "a string"
    if not ok:
        raise ConfigError(f"{where}: {name}={json.dumps(value)} is not {kind}")
    return float(value) if isinstance(default, float) else value


def _object(where: str, value: object, known: tuple[str, ...] | None = None) -> dict:
    """`value` as a JSON object, its keys among `known` (if given)."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a JSON object, got {json.dumps(value)}")
    for key in value:
        if known is not None and key not in known:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(known)})")
    return value


def check_settings(where: str, settings: object) -> dict:
    """Training settings of a grid (run_train's flag names), typed as TrainConfig's defaults; a ConfigError names
    `where` and the first unknown, sweep-owned or mistyped setting."""
    default = TrainConfig()
    checked = {}
    for name, value in _object(where, settings).items():
        if name not in SETTING_PATHS:
            raise ConfigError(f"{where}: unknown setting {name!r} (run_train's flag names)")
        if name in SWEEP_OWNED:
            raise ConfigError(f"{where}: {name} is set by the sweep ({SWEEP_OWNED[name]})")
        checked[name] = _typed(where, name, value, default.setting(name))
    return checked


def _label(where: str, value: object) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ConfigError(f"{where}: {json.dumps(value)} must be a string of letters, digits and . _ + = - "
                          "(it names files)")
    return value


def _row(path: str, index: int, value: object, read_preset: Callable[[str], dict]) -> GridRow:
    where = f"{path}: rows[{index}]"
    row = _object(where, value, _ROW_KEYS)
    label = _label(f"{where}: label", row.get("label"))
    where = f"{path}: row {label!r}"
    if "preset" not in row and "settings" not in row:
        raise ConfigError(f"{where}: needs a preset, settings or both")
    settings = {}
    if "preset" in row:
        try:
            preset = read_preset(row["preset"])
        except ConfigError as error:
            raise ConfigError(f"{where}: {error}") from None
        settings.update({name: value for name, value in preset.items() if name not in SWEEP_OWNED})
    settings.update(check_settings(where, row.get("settings", {})))
    return GridRow(label, settings)


def check_seeds(where: str, value: object) -> tuple[int, ...]:
    """`value` as a non-empty tuple of distinct integers; a ConfigError naming `where` otherwise."""
    if not (isinstance(value, list) and value and all(type(seed) is int for seed in value)):
        raise ConfigError(f"{where}: seeds must be a non-empty list of integers, got {json.dumps(value)}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{where}: seeds {value} repeat a seed")
    return tuple(value)


def parse_grid(path: str, grid: object, read_preset: Callable[[str], dict]) -> Grid:
    """A Grid from the parsed JSON of `path`; `read_preset(name)` gives a preset's settings (flags/sweep.py reads
    flags/presets/<name>.cfg)."""
    grid = _object(path, grid, _GRID_KEYS)
    for key in ("name", "rows", "seeds"):
        if key not in grid:
            raise ConfigError(f"{path}: missing key {key!r}")
    if not isinstance(grid["rows"], list) or not grid["rows"]:
        raise ConfigError(f"{path}: rows must be a non-empty list")
    rows = tuple(_row(path, i, row, read_preset) for i, row in enumerate(grid["rows"]))
    labels = [row.label for row in rows]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"{path}: row labels repeat: {', '.join(sorted({x for x in labels if labels.count(x) > 1}))}")
    reference = grid.get("reference")
    if reference is not None and reference not in labels:
        raise ConfigError(f"{path}: reference {json.dumps(reference)} is not a row's label ({', '.join(labels)})")
    init = grid.get("init_checkpoint")
    if init is not None and not isinstance(init, str):
        raise ConfigError(f"{path}: init_checkpoint must be a string or null, got {json.dumps(init)}")
    data = _object(f"{path}: data", grid.get("data", {}), DATA_KEYS)
    evaluation = _object(f"{path}: eval", grid.get("eval", {}), EVAL_KEYS)
    eval_defaults = _eval_defaults()
    return Grid(name=_label(f"{path}: name", grid["name"]), path=path, rows=rows,
                seeds=check_seeds(path, grid["seeds"]), init_checkpoint=init,
                base=check_settings(f"{path}: base", grid.get("base", {})),
                data={key: _typed(f"{path}: data", key, value, 0) for key, value in data.items()},
                eval={key: _typed(f"{path}: eval", key, value, eval_defaults[key])
                      for key, value in evaluation.items()},
                description=str(grid.get("description", "")), reference=reference)


def load_grid(path: str | Path, read_preset: Callable[[str], dict]) -> Grid:
    """Reads and parses a grid file (see parse_grid); a missing file or bad JSON is a DataError naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise DataError(f"{path}: cannot read the grid ({error.strerror or error})") from None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not valid JSON ({error})") from None
    return parse_grid(str(path), parsed, read_preset)

