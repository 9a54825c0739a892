"""The best checkpoint by validation loss: only new lows are saved (models only, one kept, best.json beside), a run
with it has the same training numbers as one without, a resume goes on from the saved best, and inference reads
best/ when it is named (a run folder still gives its newest checkpoint)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from helpers import config_for, fixed_data, make_batch

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.losses import LossConfig, compute_losses
from sfmlearner_tf.models import DispNet
from sfmlearner_tf.models.tf1_checkpoint import restore_models
from sfmlearner_tf.run_record import find_run_record
from sfmlearner_tf.training import TrainCheckpoints, build_state, make_checkpoint, to_model_range, train
from sfmlearner_tf.training.best import BestKeeper, BestSoFar, read_best, start_best, write_best
from sfmlearner_tf.training.validation import ValidationLoss

VAL_BATCH = make_batch(seed=5)


def val_pixel_by_hand(state: object) -> float:
    """The validation batch's pixel loss through the nets as they are now (eager, outside ValidationLoss)."""
    tgt, src = to_model_range(VAL_BATCH["tgt_image"]), to_model_range(VAL_BATCH["src_image_stack"])
    poses, _ = state.pose_exp_net(tgt, src, training=False)
    terms, _ = compute_losses(tgt, src, state.depth_net(tgt, training=False), poses, None, VAL_BATCH["intrinsics"],
                              None, LossConfig())
    return float(terms.pixel)


class ScriptedValidation(ValidationLoss):
    """A validation loss that returns given values in turn (scored on the same one batch)."""

    def __init__(self, values: list[float]) -> None:
        super().__init__([VAL_BATCH], LossConfig())
        self.values = list(values)

    def __call__(self, depth_net: object, pose_exp_net: object) -> float:
        return self.values.pop(0)


def best_files(run: Path) -> list[str]:
    return sorted(p.name for p in (run / "best").iterdir())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Steps 1 and 2 with the validation loss every step, with and without --keep_best; the first also records, after
    each step, the validation loss by hand and a kernel of each net."""
    root = tmp_path_factory.mktemp("best")
    seen: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}

    def record(step: int, state: object) -> None:
        seen[step] = (val_pixel_by_hand(state), state.depth_net.cnv1.kernel.numpy(),
                      state.pose_exp_net.cnv1.kernel.numpy())

    out = {"seen": seen}
    for keep in (True, False):
        config = config_for(root / f"keep_{keep}", max_steps=3, summary_freq=1, save_latest_freq=100,
                            keep_best=keep)
        out[keep] = train(config, fixed_data(), steps_per_epoch=100, log=False,
                          validation=ValidationLoss([VAL_BATCH], LossConfig()), on_step=record if keep else None)
        out[f"dir_{keep}"] = Path(config.checkpoint_dir)
        out[f"config_{keep}"] = config
    return out


def test_keeping_the_best_changes_no_training_number(runs: dict) -> None:
    with_best, without = runs[True], runs[False]
    assert with_best.step == without.step == 2 and with_best.losses == without.losses
    first, second = (tf.train.load_checkpoint(result.checkpoint) for result in (with_best, without))
    names = [name for name in first.get_variable_to_shape_map() if "OBJECT_GRAPH" not in name]
    assert len(names) > 100 and sorted(names) == sorted(n for n in second.get_variable_to_shape_map()
                                                         if "OBJECT_GRAPH" not in n)
    for name in names:  # weights, Adam's slots, the step, the trainer's RNG and the save count alike
        assert np.array_equal(first.get_tensor(name), second.get_tensor(name)), name
    assert without.best is None and not (runs["dir_False"] / "best").exists()


def test_best_holds_the_models_of_the_lowest_validation_loss(runs: dict) -> None:
    seen, result, run = runs["seen"], runs[True], runs["dir_True"]
    best_step = min(seen, key=lambda step: seen[step][0])
    best = read_best(run)
    assert best == result.best and best.step == best_step and best.val_batches == 1
    assert best.val_pixel == pytest.approx(seen[best_step][0], rel=1e-5)
    assert best_files(run) == ["best.json", "checkpoint", f"model.best-{best_step}.data-00000-of-00001",
                               f"model.best-{best_step}.index"]
    saved = tf.train.load_checkpoint(str(run / "best" / f"model.best-{best_step}"))
    assert not any(name.startswith("optimizer/") for name in saved.get_variable_to_shape_map())  # models only
    # Named explicitly, best/ gives the best step's nets; the run folder still gives its newest checkpoint.
    depth_net = DispNet()
    info = restore_models(run / "best", depth_net=depth_net)
    assert info["global_step"] == best_step and info["checkpoint"] == str(run / "best" / f"model.best-{best_step}")
    np.testing.assert_array_equal(depth_net.cnv1.kernel.numpy(), seen[best_step][1])
    assert restore_models(run, depth_net=DispNet())["checkpoint"] == result.checkpoint == str(
        run / "latest" / "model.latest-2")
    assert find_run_record(run / "best") == find_run_record(run / "best" / f"model.best-{best_step}") == (
        run / "run_record.json")


@pytest.mark.slow  # 40 s; test_resume_and_start_notes checks the same rules on BestKeeper
def test_a_resumed_run_goes_on_from_the_saved_best(runs: dict, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    shutil.copytree(runs["dir_True"], run)
    saved = read_best(run)
    config = runs["config_True"].replace(checkpoint_dir=str(run), continue_train=True, max_steps=6)
    # Step 3 scores worse than the saved best (kept), steps 4 and 5 better (each replaces it).
    result = train(config, fixed_data(), steps_per_epoch=100,
                   validation=ScriptedValidation([saved.val_pixel + 0.5, saved.val_pixel - 0.25,
                                                  saved.val_pixel - 0.5]))
    printed = capsys.readouterr().out
    assert f"going on from the best step {saved.step} (val_pixel {saved.val_pixel:.4f})" in printed
    assert result.best == BestSoFar(5, saved.val_pixel - 0.5, 1) == read_best(run)
    assert "model.best-5.index" in best_files(run) and f"model.best-{saved.step}.index" not in best_files(run)
    assert f"best step 5 (val_pixel {saved.val_pixel - 0.5:.4f})" in printed


def test_best_keeper_saves_only_new_lows(tmp_path: Path) -> None:
    state = build_state(config_for(tmp_path))
    checkpoints = TrainCheckpoints(make_checkpoint(state.depth_net, state.pose_exp_net, state.optimizer, state.step,
                                                   state.rng), str(tmp_path))
    keeper = BestKeeper(checkpoints, val_batches=3)
    kernel = state.depth_net.cnv1.kernel
    offers = [(2, 5.0, True), (4, 6.0, False), (6, float("nan"), False), (8, 4.0, True), (10, 4.0, False)]
    for step, loss, saved in offers:
        state.step.assign(step)
        kernel.assign(np.full(kernel.shape, step, np.float32))
        assert keeper.offer(step, loss) is saved, step
    assert keeper.so_far == BestSoFar(8, 4.0, 3) == read_best(tmp_path)
    assert json.loads((tmp_path / "best" / "best.json").read_text()) == {"format": 1, "step": 8, "val_pixel": 4.0,
                                                                         "val_batches": 3}
    depth_net = DispNet()
    assert restore_models(tmp_path / "best", depth_net=depth_net)["global_step"] == 8
    assert np.all(depth_net.cnv1.kernel.numpy() == 8.0)
    assert sorted(p.name for p in (tmp_path / "best").glob("*.index")) == ["model.best-8.index"]
    assert checkpoints.newest() is None  # best/ is never what a resume reads


def test_resume_and_start_notes(tmp_path: Path) -> None:
    """A resume goes on from best.json (a worse score keeps it) unless it was scored on another number of
    batches; a fresh start, --keep_best off or no validation loss start none; a bad record is named."""
    config = config_for(tmp_path, val_batches=4)
    state = build_state(config)
    checkpoints = TrainCheckpoints(make_checkpoint(state.depth_net, state.pose_exp_net, state.optimizer, state.step,
                                                   state.rng), str(tmp_path))
    validation = ValidationLoss([VAL_BATCH], LossConfig())
    write_best(tmp_path, BestSoFar(40, 0.1, 1))
    keeper, note = start_best(config, checkpoints, validation, resumed=True, chief=True)
    assert keeper.so_far == BestSoFar(40, 0.1, 1)
    assert note == f"going on from the best step 40 (val_pixel 0.1000) in {tmp_path / 'best'}"
    assert not keeper.offer(41, 0.2) and read_best(tmp_path) == BestSoFar(40, 0.1, 1)
    assert not (tmp_path / "best" / "checkpoint").exists()  # nothing saved
    write_best(tmp_path, BestSoFar(40, 0.1, 3))
    keeper, note = start_best(config, checkpoints, validation, resumed=True, chief=True)
    assert keeper.so_far is None and note == ("keeping the lowest val_pixel's models in best/; the saved best (step "
                                              "40) was scored on 3 val batch(es), this run scores 1: its first "
                                              "validation replaces it")
    assert start_best(config.replace(keep_best=False), checkpoints, validation, True, True) == (None, "")
    assert start_best(config, checkpoints, None, True, True) == (None, "")
    assert start_best(config, checkpoints, validation, resumed=False, chief=True)[0].so_far is None  # fresh start
    (tmp_path / "best" / "best.json").write_text('{"step": 3}')
    with pytest.raises(DataError, match=r"best\.json: unreadable record of the best checkpoint"):
        read_best(tmp_path)
