"""sfm-sweep: grid files and their errors, the shipped grids against run_train's reading of the presets, shards,
skipping and refusing runs, resuming a stopped one, and the table's mean ± sd against numpy; end to end with a
stand-in trainer (fast) and with real training (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from absl import flags

import flags.train as train_flags
from flags.sweep import PRESETS, SWEEPS, grid_path, read_preset
from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.tasks.scored_runs import SCORED_KEYS
from sfmlearner_tf.tasks.sweep import format_plan, gather, run_shard, run_sweep
from sfmlearner_tf.tasks.sweep_figure import crop_checkpoints, write_crops
from sfmlearner_tf.tasks.sweep_grid import load_grid
from sfmlearner_tf.tasks.sweep_plan import (
    SweepConfig,
    parse_shard,
    plan_runs,
    run_record,
    run_status,
    shard_runs,
    train_config,
)
from sfmlearner_tf.training.loop import TrainResult

REPO = Path(__file__).resolve().parents[1]
TOY_DATA = {"num_drives": 3, "num_test_drives": 1, "num_frames": 10, "render_width": 208, "render_height": 64}
TOY_BASE = {"img_height": 32, "img_width": 96, "batch_size": 2, "max_steps": 2, "include_last_step": True,
            "max_checkpoints_to_keep": 0, "progress_every_s": 1e9, "smooth_weight": 0.1}
TWO_ROWS = [{"label": "seg0", "settings": {"lambda_seg": 0.0}}, {"label": "seg2.5", "settings": {"lambda_seg": 2.5}}]


def _grid_file(tmp_path: Path, file: str = "grid.json", **fields: object) -> Path:
    grid = {"name": "toy", "data": TOY_DATA, "base": TOY_BASE, "rows": TWO_ROWS, "seeds": [1, 2], **fields}
    path = tmp_path / file
    path.write_text(json.dumps(grid))
    return path


def _config(tmp_path: Path, grid: dict | None = None, file: str = "grid.json", **settings: object) -> SweepConfig:
    """A sweep in tmp_path/work of the toy grid with `grid`'s fields changed."""
    return SweepConfig(grid=load_grid(_grid_file(tmp_path, file, **(grid or {})), read_preset),
                       work_dir=str(tmp_path / "work"), **settings)


def _preset_config(name: str):
    values = flags.FlagValues()
    train_flags.define_flags(values)
    values(["run_train", f"--flagfile={PRESETS / name}.cfg"])
    return train_flags.config_from_flags(values)


def test_paper_grid_rows_are_the_presets_as_run_train_reads_them(tmp_path: Path) -> None:
    grid = load_grid(grid_path("paper_fig9"), read_preset)
    assert len(grid.rows) == 9 and grid.seeds == (1, 2, 3) and grid.init_checkpoint == "./models/model-190532"
    config = SweepConfig(grid=grid, work_dir=str(tmp_path))
    for run in plan_runs(config)[:9]:
        preset = _preset_config(f"dsfm_{run.label}")
        assert train_config(config, run) == preset.replace(
            checkpoint_dir=str(tmp_path / "runs" / run.name), dataset_dir=str(tmp_path / "data" / "prepared"),
            seed=1), run.label
    best = next(row for row in grid.rows if row.label.startswith("best"))
    # Fig. 9's best row: lambda_seg 2.5, smoothness 0.75, lr 0.0002 with Adam restarted, 35,000 steps.
    assert (best.settings["lambda_seg"], best.settings["smooth_weight"], best.settings["learning_rate"],
            best.settings["restart_optimizer"], best.settings["max_steps"]) == (2.5, 0.75, 2e-4, True, 35001)
    assert not {"checkpoint_dir", "continue_train", "init_checkpoint_file"} & set(best.settings)
    assert "max_depth" in grid.eval and grid.eval["max_depth"] == 80.0


def test_scratch_grid_is_the_original_training_with_explainability_and_the_boundary_loss(tmp_path: Path) -> None:
    config = SweepConfig(grid=load_grid(grid_path("scratch_exp_boundary"), read_preset), work_dir=str(tmp_path))
    baseline = _preset_config("original_baseline")
    expected = {"baseline": (0.0, 0.0), "exp0.2": (0.2, 0.0), "seg2.5": (0.0, 2.5), "exp0.2_seg2.5": (0.2, 2.5)}
    runs = plan_runs(config)
    assert [run.label for run in runs[:4]] == list(expected) and len(runs) == 12
    for run in runs[:4]:
        exp, seg = expected[run.label]
        assert train_config(config, run) == baseline.replace(
            explain_reg_weight=exp, lambda_seg=seg, checkpoint_dir=str(tmp_path / "runs" / run.name),
            dataset_dir=str(tmp_path / "data" / "prepared"), seed=1, continue_train=True)
        assert train_config(config, run).init_checkpoint_file is None  # from scratch


def test_synthetic_boundary_grids_pair_lambda_seg_with_everything_else_equal(tmp_path: Path) -> None:
    """The shipped CPU ablation: the paper's best row's smoothness, learning rate and Adam restart at 64x208 from
    the CPU pretraining; rows differ only in the boundary loss, and both grids' seg0 is one run (reused)."""
    best, lambdas = (load_grid(SWEEPS / f"{name}.json", read_preset)
                     for name in ("synthetic_boundary_best", "synthetic_boundary_lambdas"))
    for grid in (best, lambdas):
        config = SweepConfig(grid=grid, work_dir=str(tmp_path))
        runs = plan_runs(config)
        assert grid.reference == "seg0" and grid.seeds == (1, 2, 3)
        for run in runs:
            trained = train_config(config, run)
            assert (trained.loss.smooth_weight, trained.optimizer.learning_rate, trained.optimizer.restart,
                    trained.loss.explain_reg_weight, trained.last_step) == (0.75, 2e-4, True, 0.0, 800)
            assert trained.init_checkpoint_file == "./sfm_pretrain/checkpoints/latest"
        others = {name for run in runs for name in run.settings} - {"lambda_seg", "seg_gradient_order"}
        assert all(run.settings.get(name) == runs[0].settings.get(name) for run in runs for name in others)
    assert {row.label: (row.settings["lambda_seg"], row.settings.get("seg_gradient_order", 1))
            for row in lambdas.rows} == {"seg0": (0.0, 1), "seg0.4": (0.4, 1), "seg5": (5.0, 1),
                                         "seg10_order2": (10.0, 2)}
    pair = [SweepConfig(grid=grid, work_dir=str(tmp_path)) for grid in (best, lambdas)]
    assert run_record(pair[0], plan_runs(pair[0])[0]) == run_record(pair[1], plan_runs(pair[1])[0])


@pytest.mark.parametrize(("grid", "error", "message"), [
    ('{"name": "toy", ', DataError, "not valid JSON"),
    ({"rows": [{"label": "a", "settings": {"lambda_sek": 1.0}}]}, ConfigError, "row 'a': unknown setting 'lambda_sek'"),
    ({"base": {"checkpoint_dir": "x"}}, ConfigError, "base: checkpoint_dir is set by the sweep"),
    ({"rows": [{"label": "a", "settings": {"lambda_seg": "high"}}]}, ConfigError, 'lambda_seg="high" is not a number'),
    ({"rows": [{"label": "a", "settings": {"flip": 1}}]}, ConfigError, "flip=1 is not true or false"),
    ({"rows": [{"label": "a b", "settings": {}}]}, ConfigError, "rows[0]: label"),
    ({"rows": [{"label": "a", "preset": "no_such"}]}, ConfigError, "row 'a': preset 'no_such'"),
    ({"rows": [{"label": "a"}]}, ConfigError, "needs a preset, settings or both"),
    ({"rows": TWO_ROWS + TWO_ROWS[:1]}, ConfigError, "row labels repeat: seg0"),
    ({"seeds": []}, ConfigError, "seeds must be a non-empty list"),
    ({"seeds": [1, 1]}, ConfigError, "repeat a seed"),
    ({"colour": "red"}, ConfigError, "unknown key 'colour'"),
    ({"data": {"num_cars": 3}}, ConfigError, "data: unknown key 'num_cars'"),
    ({"eval": {"max_depth": "far"}}, ConfigError, 'max_depth="far" is not a number'),
    ({"reference": "seg1"}, ConfigError, 'reference "seg1" is not a row\'s label (seg0, seg2.5)'),
])
def test_grid_errors_name_the_file_and_the_problem(tmp_path: Path, grid: object, error: type,
                                                   message: str) -> None:
    path = _grid_file(tmp_path, **grid) if isinstance(grid, dict) else tmp_path / "grid.json"
    if isinstance(grid, str):
        path.write_text(grid)
    with pytest.raises(error) as raised:
        load_grid(path, read_preset)
    assert str(raised.value).startswith(str(path)) and message in str(raised.value)


def test_rules_of_the_training_run_fail_before_anything_runs_naming_the_row(tmp_path: Path) -> None:
    config = _config(tmp_path, {"rows": [{"label": "wide", "settings": {"img_width": 100}}]})
    with pytest.raises(ConfigError, match=r"grid.json: row 'wide': TrainConfig: data.img_width must be"):
        plan_runs(config)
    two_sizes = _config(tmp_path, {"rows": [{"label": "a", "settings": {}},
                                           {"label": "b", "settings": {"img_width": 64}}]})
    with pytest.raises(ConfigError, match="different image sizes"):
        plan_runs(two_sizes)
    with pytest.raises(DataError, match="cannot read the grid"):
        load_grid(tmp_path / "missing.json", read_preset)
    with pytest.raises(ConfigError, match="no such file, nor a shipped grid"):
        grid_path(str(tmp_path / "missing.json"))
    assert sorted(path.stem for path in SWEEPS.glob("*.json")) == [
        "paper_fig9", "scratch_exp_boundary", "synthetic_boundary_best", "synthetic_boundary_lambdas"]


def test_shards_partition_the_runs_in_a_stable_order(tmp_path: Path) -> None:
    rows = [{"label": label, "settings": {"lambda_seg": value}} for label, value in (("a", 0.0), ("b", 1.0),
                                                                                     ("c", 2.0))]
    config = _config(tmp_path, {"rows": rows, "seeds": [7, 8, 9]})
    everything = [run.name for run in plan_runs(config)]
    assert everything == [f"{label}_seed{seed}" for seed in (7, 8, 9) for label in "abc"]  # seed by seed
    for count in range(1, 6):
        shards = [[run.name for run in shard_runs(SweepConfig(grid=config.grid, work_dir=config.work_dir,
                                                              shard=(index, count)))] for index in range(count)]
        # Every run in exactly one shard.
        assert sorted(name for shard in shards for name in shard) == sorted(everything), count
        for index, names in enumerate(shards):
            assert names == everything[index::count]
    assert parse_shard("2/3") == (2, 3)
    for bad in ("3/3", "-1/2", "1", "a/b", "1/0"):
        with pytest.raises(ConfigError, match="must be i/n"):
            parse_shard(bad)


def test_overrides_set_seeds_steps_and_the_initial_checkpoint(tmp_path: Path) -> None:
    config = _config(tmp_path, seeds=(4,), steps=7, init_checkpoint="/models/m")
    runs = plan_runs(config)
    assert [run.name for run in runs] == ["seg0_seed4", "seg2.5_seed4"]
    trained = train_config(config, runs[1])
    assert (trained.last_step, trained.seed, trained.init_checkpoint_file, trained.loss.lambda_seg) == (7, 4,
                                                                                                       "/models/m", 2.5)
    assert trained.continue_train and trained.checkpoint_dir == str(tmp_path / "work" / "runs" / "seg2.5_seed4")


def _write_results(config: SweepConfig, metrics: dict[str, dict[str, float]]) -> None:
    """Finished runs' result files as the sweep writes them, with the given metrics per run name."""
    for run in plan_runs(config):
        if run.name in metrics:
            path = config.runs_dir / f"{run.name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"seed": run.seed, "checkpoint": "-", "metrics": metrics[run.name],
                                        "num_images": 8, "steps_per_second": 1.0, "run": run_record(config, run)}))


class StandInTrainer:
    """Stands in for training.loop.train: writes a DispNet initialised from the run's seed and lambda_seg as its
    checkpoint (so runs score differently), or reports a stop by signal for the runs named in `stop`."""

    def __init__(self, stop: tuple[str, ...] = ()) -> None:
        self.stop, self.calls = set(stop), []

    def __call__(self, config) -> TrainResult:
        import keras
        import tensorflow as tf

        from sfmlearner_tf.models import DispNet

        self.calls.append(config)
        name = Path(config.checkpoint_dir).name
        if name in self.stop:
            self.stop.discard(name)
            return TrainResult(step=1, stopped_by="signal", checkpoint=None, signum=15)
        keras.utils.set_random_seed(config.seed * 100 + int(config.loss.lambda_seg * 10))
        prefix = tf.train.Checkpoint(depth_net=DispNet().ensure_built()).write(f"{config.checkpoint_dir}/ckpt-2")
        return TrainResult(step=config.last_step, stopped_by="done", checkpoint=prefix, steps_per_second=3.0)


def test_finished_runs_are_skipped_and_the_table_is_mean_sd_over_seeds(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path, {"seeds": [1, 2, 3], "name": "toy.v2"})  # a dot in the name: kept in file names
    rng = np.random.default_rng(0)
    metrics = {run.name: {key: float(rng.uniform(0.1, 5.0)) for key in SCORED_KEYS} for run in plan_runs(config)
               if run.name != "seg2.5_seed3"}
    _write_results(config, metrics)
    trainer = StandInTrainer()
    monkeypatch.setattr("sfmlearner_tf.training.loop.train", trainer)
    gathered = gather(config)
    assert gathered["missing"] == {"seg2.5_seed3": "pending"}
    assert run_shard(SweepConfig(grid=config.grid, work_dir=config.work_dir, shard=(0, 2))) == []  # runs 0, 2, 4
    assert not trainer.calls and not (Path(config.work_dir) / "data").exists()  # no training, no data prepared
    for row in gathered["rows"]:
        names = [f"{row['label']}_seed{seed}" for seed in (1, 2, 3) if f"{row['label']}_seed{seed}" in metrics]
        assert row["n"] == len(names) and row["seeds"] == [int(name[-1]) for name in names]
        for key in SCORED_KEYS:
            values = np.array([metrics[name][key] for name in names])
            assert row["metrics"][key]["mean"] == pytest.approx(values.mean(), rel=1e-12)
            assert row["metrics"][key]["std"] == pytest.approx(values.std(ddof=1), rel=1e-12)
    lines = gathered["table"].splitlines()
    assert lines[0].startswith("| row | lambda_seg | n | abs_rel | sq_rel | rms | log_rms | δ<1.25 | δ<1.25² |")
    seg0 = np.array([metrics[f"seg0_seed{seed}"]["abs_rel"] for seed in (1, 2, 3)])
    assert lines[2].startswith(f"| seg0 | 0 | 3 | {seg0.mean():.4f} ± {seg0.std(ddof=1):.4f} |")
    rms = np.array([metrics[f"seg2.5_seed{seed}"]["rms"] for seed in (1, 2)])
    assert f"| {rms.mean():.4f} ± {rms.std(ddof=1):.4f} |" in lines[3] and lines[3].startswith("| seg2.5 | 2.5 | 2 |")
    assert gathered["files"] == [str(Path(config.work_dir) / f"sweep_toy.v2.{ext}") for ext in ("md", "json")]
    saved = json.loads((Path(config.work_dir) / "sweep_toy.v2.json").read_text())
    assert saved["table"] == gathered["table"] and saved["rows"][1]["n"] == 2
    markdown = (Path(config.work_dir) / "sweep_toy.v2.md").read_text()
    assert gathered["table"] in markdown and "Missing runs: seg2.5_seed3 (pending)" in markdown


def test_paired_differences_to_the_reference_row_are_taken_seed_by_seed(tmp_path: Path) -> None:
    rows = [*TWO_ROWS, {"label": "seg5", "settings": {"lambda_seg": 5.0}}]
    config = _config(tmp_path, {"seeds": [1, 2, 3], "rows": rows, "reference": "seg0"})
    rng = np.random.default_rng(1)
    metrics = {run.name: {key: float(rng.uniform(0.1, 5.0)) for key in SCORED_KEYS} for run in plan_runs(config)
               if run.name not in ("seg0_seed2", "seg5_seed3")}  # seed 2 unpaired for both rows, 3 for seg5
    _write_results(config, metrics)
    report = gather(config)
    assert "paired" not in report["rows"][0]
    for row, seeds in zip(report["rows"][1:], ((1, 3), (1,)), strict=True):
        paired = row["paired"]
        assert paired["reference"] == "seg0" and paired["n"] == len(seeds)
        for key in SCORED_KEYS:
            differences = np.array([metrics[f"{row['label']}_seed{s}"][key] - metrics[f"seg0_seed{s}"][key]
                                    for s in seeds])
            assert paired["metrics"][key]["mean"] == pytest.approx(differences.mean(), rel=1e-12)
            assert paired["metrics"][key]["std"] == pytest.approx(differences.std(ddof=1) if len(seeds) > 1 else 0)
    table = report["table"].split("Paired differences to seg0")[1].splitlines()
    abs_rel = np.array([metrics[f"seg2.5_seed{s}"]["abs_rel"] - metrics[f"seg0_seed{s}"]["abs_rel"] for s in (1, 3)])
    assert table[2].startswith("| row − seg0 | n | abs_rel |")
    assert table[4].startswith(f"| seg2.5 − seg0 | 2 | {abs_rel.mean():+.4f} ± {abs_rel.std(ddof=1):.4f} |")
    seg5 = metrics["seg5_seed1"]["rms"] - metrics["seg0_seed1"]["rms"]
    assert table[5].startswith("| seg5 − seg0 | 1 |") and f"| {seg5:+.4f} |" in table[5]
    assert "Paired differences to seg0" in (Path(config.work_dir) / "sweep_toy.md").read_text()


def test_runs_of_other_settings_are_refused_not_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path, {"seeds": [1]})
    other = _config(tmp_path, {"seeds": [1], "rows": [{"label": "seg2.5", "settings": {"lambda_seg": 5.0}}]},
                    file="other.json")
    _write_results(other, {"seg2.5_seed1": {"abs_rel": 0.5}})
    result = config.runs_dir / "seg2.5_seed1.json"
    before = result.read_text()
    monkeypatch.setattr("sfmlearner_tf.training.loop.train", StandInTrainer())
    with pytest.raises(ConfigError) as refused:
        run_shard(config)
    assert str(refused.value).startswith(str(result)) and "settings.lambda_seg: found 5.0, wanted 2.5" in str(
        refused.value)
    assert result.read_text() == before
    assert run_status(config, plan_runs(config)[1])[0] == "other settings"
    assert "other settings  seg2.5_seed1" in format_plan(config)
    # A run folder (no result yet) of other settings is refused alike.
    result.unlink()
    folder = config.runs_dir / "seg2.5_seed1"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps(run_record(other, plan_runs(other)[0])))
    with pytest.raises(ConfigError, match=r"seg2.5_seed1/run.json holds another run \(settings.lambda_seg"):
        run_shard(config)


def test_stand_in_sweep_scores_resumes_a_stopped_run_and_gathers(tmp_path: Path, synthetic_root: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring, results and the table for real, training stood in for: one row x two seeds, the data given by
    --data_dir/--eval_dir (the stand-in reads no samples), the first run stopped by a signal and resumed."""
    data_dir = tmp_path / "prepared"
    data_dir.mkdir()
    config = _config(tmp_path, {"rows": TWO_ROWS[1:]}, data_dir=str(data_dir),
                     eval_dir=str(synthetic_root / "kitti_raw"))
    trainer = StandInTrainer(stop=("seg2.5_seed1",))
    monkeypatch.setattr("sfmlearner_tf.training.loop.train", trainer)
    stopped = run_sweep(config)
    assert stopped.stopped is not None and stopped.stopped.signum == 15 and stopped.report is None
    assert not (config.runs_dir / "seg2.5_seed1.json").exists()
    assert run_status(config, plan_runs(config)[0])[0] == "resumes"
    outcome = run_sweep(config)
    assert outcome.trained == ("seg2.5_seed1", "seg2.5_seed2")
    assert [Path(c.checkpoint_dir).name for c in trainer.calls] == ["seg2.5_seed1", "seg2.5_seed1", "seg2.5_seed2"]
    assert all(c.continue_train and c.data.dataset_dir == str(data_dir) for c in trainer.calls)
    results = [json.loads((config.runs_dir / f"seg2.5_seed{seed}.json").read_text()) for seed in (1, 2)]
    assert results[0]["run"]["data"]["eval_dir"] == str(synthetic_root / "kitti_raw")
    (row,) = outcome.report["rows"]
    assert row["n"] == 2 and "dbe_acc" in row["metrics"]  # the boundary errors of the true instance masks
    for key in ("abs_rel", "a1", "edge_sharpness"):
        values = np.array([result["metrics"][key] for result in results])
        assert values[0] != values[1] and row["metrics"][key]["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert f"{values.mean():.4f} ± {values.std(ddof=1):.4f}" in outcome.report["table"]
    assert run_sweep(config).trained == () and len(trainer.calls) == 3  # all done: nothing trains again
    # Crops: input, true depth and one column per net, around each frame's largest object.
    crops = SweepConfig(**{**config.__dict__, "crops": True, "report_only": True})
    files = gather(crops)["files"]
    assert files[2] == str(Path(config.work_dir) / "sweep_toy_crops.png")
    assert cv2.imread(files[2]).shape[1] == 3 * (2 * 138 + 4)  # input, true depth, seg2.5 (seed 1)
    by_name = {f"seg2.5_seed{r['seed']}": r for r in results}
    assert crop_checkpoints(SweepConfig(**{**crops.__dict__, "init_checkpoint": "/m/init"}), plan_runs(crops),
                            by_name) == {"initial": "/m/init", "seg2.5 (seed 1)": results[0]["checkpoint"]}
    columns = {"seed 1": results[0]["checkpoint"], "seed 2": results[1]["checkpoint"]}
    figure = cv2.imread(write_crops(crops, columns, (32, 96)))
    # 4 columns of 2x-enlarged (128 // 2) x (416 // 3) windows of the true depth's size, each with a 2-px margin
    assert figure.shape == (18 + 2 + 4 * (2 * 64 + 4), 4 * (2 * 138 + 4), 3)
    first, second = (figure[22:150, 2 + k * 280:2 + k * 280 + 276].astype(int) for k in (2, 3))
    assert np.abs(first - second).mean() > 1  # two different nets' depth


@pytest.mark.slow
def test_toy_sweep_trains_on_the_synthetic_drives_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """2 rows x 2 seeds, 2 real training steps each at 32x96, on drives rendered and prepared under work_dir."""
    config = _config(tmp_path)
    report = run_sweep(config).report
    results = [json.loads(path.read_text()) for path in sorted(config.runs_dir.glob("*.json"))]
    assert len(results) == 4 and not report["missing"]
    assert (Path(config.work_dir) / "data" / "prepared" / "train.txt").is_file()
    for row in report["rows"]:
        values = np.array([r["metrics"]["a1"] for r in results if r["run"]["label"] == row["label"]])
        assert len(values) == 2 and 0 < values.mean() < 1
        assert f"{values.mean():.4f} ± {values.std(ddof=1):.4f}" in report["table"]
    monkeypatch.setattr("sfmlearner_tf.training.loop.train", StandInTrainer())
    assert run_sweep(config).trained == ()  # a rerun finds every run done


def _program(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sfmlearner_tf.apps.sweep", *argv], capture_output=True, text=True,
                          cwd=REPO, check=False, timeout=300)


def test_program_lists_the_runs_of_a_shard(tmp_path: Path) -> None:
    listing = _program("--grid=scratch_exp_boundary", "--dry_run", "--seeds=1,2", "--shard=1/2",
                       f"--work_dir={tmp_path}")
    assert listing.returncode == 0, listing.stderr[-2000:]
    lines = listing.stdout.splitlines()
    assert "4 rows x 2 seeds = 8 runs; shard 1/2: 4 runs, 4 to train" in lines[0]
    assert [line.split()[-1] for line in lines[2:] if line.startswith("*")] == [
        "exp0.2_seed1", "exp0.2_seg2.5_seed1", "exp0.2_seed2", "exp0.2_seg2.5_seed2"]
    assert not (tmp_path / "runs").exists()


def test_program_names_a_bad_grid_in_one_line(tmp_path: Path) -> None:
    bad = _grid_file(tmp_path, rows=[{"label": "a", "settings": {"lambda_sek": 1.0}}])
    failed = _program(f"--grid={bad}", "--dry_run")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().splitlines()[-1] == (f"sfm-sweep: error: {bad}: row 'a': unknown setting "
                                                      "'lambda_sek' (run_train's flag names)")
