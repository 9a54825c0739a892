"""Which runs a sweep has, where each lives and whether it is done: the grid's rows x seeds in a stable order (seed
by seed, rows in file order), each run's training settings, its record (what identifies it: the settings, the data
and the evaluation) and its status from the files under the work folder.

Layout under work_dir: runs/<label>_seed<seed>/ (the run's checkpoints; run.json holds its record), runs/<label>_
seed<seed>.json (its scores and record, written once it is finished), and for the synthetic drives data/synthetic,
data/prepared; gt_cache/ holds the evaluation's ground truth."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.settings import check_settings, setting
from sfmlearner_tf.tasks.demo import DemoConfig
from sfmlearner_tf.tasks.sweep_grid import DATA_KEYS, Grid, check_seeds
from sfmlearner_tf.training.config import TrainConfig

STATUSES = ("done", "resumes", "pending", "other settings")


@dataclass(frozen=True)
class SweepConfig:
    """A sweep of `grid` in `work_dir`, and this process's part of it.

    Data: the demo's synthetic drives (the grid's `data` settings) rendered and prepared once under
    work_dir/data, unless `data_dir` (prepared samples) and `eval_dir` (the KITTI raw root whose test list is
    scored) are given. `seeds`, `steps` (each run trains exactly that many steps) and `init_checkpoint` override
    the grid's when set. `shard` = (i, n): this process trains the runs whose index % n == i. `report_only` trains
    nothing and gathers the table; `dry_run` only lists the runs; `crops` adds a figure to the table
    (sweep_figure.py)."""

    grid: Grid
    work_dir: str = setting("./sfm_sweep", "Runs (runs/<row>_seed<seed>/ and .json), the data and the table "
                            "(sweep_<grid>.md / .json).")
    data_dir: str = setting("", "Prepared training samples (with boundary panels for lambda_seg > 0); empty: the "
                            "demo's synthetic drives, rendered and prepared once under <work_dir>/data.")
    eval_dir: str = setting("", "With --data_dir: the KITTI raw root whose Eigen test list is scored.")
    seeds: tuple[int, ...] = ()
    steps: int = setting(0, "Training steps of every run (overrides the grid's; 0: the grid's).", low=0)
    init_checkpoint: str = setting("", "Every run fine-tunes from this checkpoint (overrides the grid's "
                                   "init_checkpoint).")
    shard: tuple[int, int] = (0, 1)
    report_only: bool = setting(False, "Train nothing: gather the table from the results there are.")
    dry_run: bool = setting(False, "Train nothing: list the runs with their shard and status.")
    crops: bool = setting(False, "With the table, also write sweep_<grid>_crops.png: held-out frames of the "
                          "synthetic drives around their largest object, the initial checkpoint's depth and each "
                          "row's (its first seed scored).")

    def __post_init__(self) -> None:
        check_settings(self)
        if bool(self.data_dir) != bool(self.eval_dir):
            raise ConfigError("SweepConfig: data_dir (prepared samples) and eval_dir (the raw data scored) go "
                              "together; leave both empty for the synthetic drives", fields=("data_dir", "eval_dir"))
        index, count = self.shard
        if not 0 <= index < count:
            raise ConfigError(f"SweepConfig: shard {index}/{count} must be i/n with 0 <= i < n", fields=("shard",))
        if self.seeds:
            try:
                check_seeds("SweepConfig", list(self.seeds))
            except ConfigError as error:
                raise ConfigError(str(error), fields=("seeds",)) from None

    @property
    def run_seeds(self) -> tuple[int, ...]:
        """The seeds every row runs with."""
        return self.seeds or self.grid.seeds

    @property
    def runs_dir(self) -> Path:
        """The folder of the runs and of their results."""
        return Path(self.work_dir) / "runs"


def parse_shard(text: str) -> tuple[int, int]:
    """"i/n" as (i, n) with 0 <= i < n; a ConfigError otherwise."""
    index, slash, count = text.partition("/")
    try:
        shard = (int(index), int(count))
    except ValueError:
        shard = (-1, 0)
    if not slash or not 0 <= shard[0] < shard[1]:
        raise ConfigError(f"shard {text!r} must be i/n with 0 <= i < n (e.g. 0/2)", fields=("shard",))
    return shard


@dataclass(frozen=True)
class SweepRun:
    """One run: its place in the sweep's order, its row, its seed and its training settings (the row's with the
    sweep's overrides; paths and the seed apart)."""

    index: int
    label: str
    seed: int
    settings: dict

    @property
    def name(self) -> str:
        """The run's folder and result name."""
        return f"{self.label}_seed{self.seed}"


def plan_runs(config: SweepConfig) -> list[SweepRun]:
    """Every run of the sweep in its stable order (seed by seed, rows in file order; index = position). Each row's
    settings are checked here, so a bad grid fails before anything runs."""
    grid = config.grid
    overrides: dict[str, object] = {"max_steps": config.steps, "include_last_step": True} if config.steps else {}
    init = config.init_checkpoint or grid.init_checkpoint
    if init:
        overrides["init_checkpoint_file"] = init
    rows = {row.label: {**grid.row_settings(row), **overrides} for row in grid.rows}
    for label, settings in rows.items():
        try:
            TrainConfig.from_settings(**settings)
        except ConfigError as error:
            raise ConfigError(f"{grid.path}: row {label!r}: {error}") from None
    if not config.data_dir:
        sizes = {label: image_size(settings) for label, settings in rows.items()}
        if len(set(sizes.values())) > 1:
            raise ConfigError(f"{grid.path}: rows train at different image sizes ({sizes}); the synthetic drives are "
                              "prepared at one size: give --data_dir, or one size")
    return [SweepRun(i * len(rows) + j, label, seed, settings) for i, seed in enumerate(config.run_seeds)
            for j, (label, settings) in enumerate(rows.items())]


def shard_runs(config: SweepConfig) -> list[SweepRun]:
    """The runs this process trains: those whose index % n == i, for shard (i, n)."""
    index, count = config.shard
    return [run for run in plan_runs(config) if run.index % count == index]


def image_size(settings: dict) -> tuple[int, int]:
    """(height, width) the settings train at."""
    config = TrainConfig.from_settings(**settings)
    return config.data.img_height, config.data.img_width


def synthetic_data(config: SweepConfig, run: SweepRun) -> DemoConfig:
    """The demo's drives the sweep renders and prepares (under work_dir/data) at the run's image size."""
    height, width = image_size(run.settings)
    try:
        return DemoConfig.from_settings(work_dir=str(Path(config.work_dir) / "data"), img_height=height,
                                        img_width=width, **config.grid.data)
    except ConfigError as error:
        raise ConfigError(f"{config.grid.path}: data: {error}") from None


def dataset_dir(config: SweepConfig) -> str:
    """The prepared training samples."""
    return config.data_dir or str(Path(config.work_dir) / "data" / "prepared")


def eval_root(config: SweepConfig) -> str:
    """The raw data whose test list is scored."""
    return config.eval_dir or str(Path(config.work_dir) / "data" / "synthetic" / "kitti_raw")


def run_record(config: SweepConfig, run: SweepRun) -> dict:
    """What identifies a run (JSON-normalised): two runs with equal records train and score the same way."""
    if config.data_dir:
        data = {"data_dir": os.path.abspath(config.data_dir), "eval_dir": os.path.abspath(config.eval_dir)}
    else:
        data = {"synthetic": {key: synthetic_data(config, run).setting(key) for key in DATA_KEYS}}
    record = {"label": run.label, "seed": run.seed, "settings": run.settings, "data": data, "eval": config.grid.eval}
    return json.loads(json.dumps(record, sort_keys=True))


def train_config(config: SweepConfig, run: SweepRun) -> TrainConfig:
    """The run's training: its settings and seed in its own folder, resuming."""
    return TrainConfig.from_settings(**run.settings, seed=run.seed, checkpoint_dir=str(config.runs_dir / run.name),
                                     dataset_dir=dataset_dir(config), continue_train=True)


def eval_config(config: SweepConfig, run: SweepRun):
    """The depth evaluation of a run's model: the test list of eval_root at the run's image size."""
    from sfmlearner_tf.evaluation import DepthEvalConfig

    height, width = image_size(run.settings)
    return DepthEvalConfig(dataset_dir=eval_root(config), img_height=height, img_width=width,
                           gt_cache_dir=str(Path(config.work_dir) / "gt_cache"), **config.grid.eval)


def read_json(path: Path) -> dict:
    """A JSON file the sweep wrote; a DataError naming it if it does not parse."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: cannot read ({error})") from None


def _flat(record: object, prefix: str = "") -> dict[str, object]:
    if not isinstance(record, dict):
        return {prefix: record}
    out: dict[str, object] = {}
    for key, value in record.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else key))
    return out


def differences(found: dict, wanted: dict) -> str:
    """The fields of two records that differ, as "field: found X, wanted Y"."""
    old, new = _flat(found), _flat(wanted)
    return "; ".join(f"{key}: found {old.get(key, '-')}, wanted {new.get(key, '-')}"
                     for key in sorted(set(old) | set(new)) if old.get(key, "-") != new.get(key, "-"))


def run_status(config: SweepConfig, run: SweepRun) -> tuple[str, str]:
    """(status, why): "done" (its result is there, of this run), "resumes" (its folder is there, of this run),
    "pending" (nothing yet) or "other settings" (a result or folder of another run: why says which and how)."""
    record = run_record(config, run)
    result_path, marker = config.runs_dir / f"{run.name}.json", config.runs_dir / run.name / "run.json"
    for path, status in ((result_path, "done"), (marker, "resumes")):
        if path.is_file():
            found = read_json(path)
            found = found.get("run", {}) if status == "done" else found
            if found == record:
                return status, ""
            return "other settings", (f"{path} holds another run ({differences(found, record)}): delete it (and "
                                      f"{config.runs_dir / run.name}/) or choose another --work_dir")
    return "pending", ""
