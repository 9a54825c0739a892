"""The training loop on in-memory batches: refusing a used folder, TF1 init, the NaN guard, SIGTERM.
Tiny images (32x64, batch 2) keep it fast."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from helpers import config_for, fixed_data, make_batch

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.models.tf1_checkpoint import tf1_variable_map, write_tf1_checkpoint
from sfmlearner_tf.training import NonFiniteLossError, TrainCheckpoints, build_state, train
from sfmlearner_tf.training.checkpoints import make_checkpoint
from sfmlearner_tf.training.loop import restore_or_init


def test_fresh_run_refuses_a_folder_with_checkpoints(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    state = build_state(config)
    checkpoints = TrainCheckpoints(make_checkpoint(state.depth_net, state.pose_exp_net, state.optimizer,
                                                   state.step, state.rng), str(tmp_path))
    state.step.assign(7)
    checkpoints.save_latest(7)
    with pytest.raises(ConfigError, match="--continue_train"):
        restore_or_init(config, state, checkpoints)


def test_init_from_tf1_checkpoint_and_from_ours_with_or_without_adam(tmp_path: Path) -> None:
    donor = build_state(config_for(tmp_path))
    rng = np.random.default_rng(0)
    arrays = {name: rng.normal(0, 0.05, v.shape).astype(np.float32)
              for net in (donor.depth_net, donor.pose_exp_net) for name, v in tf1_variable_map(net).items()}
    prefix = write_tf1_checkpoint(str(tmp_path / "tf1" / "model-190532"), arrays, global_step=190532)
    config = config_for(tmp_path / "run", init_checkpoint_file=prefix)
    state = build_state(config)
    checkpoints = TrainCheckpoints(make_checkpoint(state.depth_net, state.pose_exp_net, state.optimizer,
                                                   state.step, state.rng), config.checkpoint_dir)
    assert "tf1" in restore_or_init(config, state, checkpoints)
    for net in (state.depth_net, state.pose_exp_net):
        for name, variable in tf1_variable_map(net).items():
            np.testing.assert_array_equal(variable.numpy(), arrays[name], err_msg=name)
    assert int(state.step.numpy()) == 0 and int(state.optimizer.iterations.numpy()) == 0

    # One of ours: Adam comes along unless restart_optimizer.
    state.optimizer.iterations.assign(41)
    ours = TrainCheckpoints(make_checkpoint(state.depth_net, state.pose_exp_net, state.optimizer, state.step,
                                            state.rng), str(tmp_path / "ours")).save_latest(41)
    for restart, iterations in ((False, 41), (True, 0)):
        config = config_for(tmp_path / f"run{restart}", init_checkpoint_file=ours, restart_optimizer=restart)
        fresh = build_state(config)
        restore_or_init(config, fresh, TrainCheckpoints(make_checkpoint(
            fresh.depth_net, fresh.pose_exp_net, fresh.optimizer, fresh.step, fresh.rng), config.checkpoint_dir))
        assert int(fresh.optimizer.iterations.numpy()) == iterations
        np.testing.assert_array_equal(fresh.depth_net.cnv1.kernel.numpy(), arrays["depth_net/cnv1/weights"])


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    good = make_batch(seed=4, boundary=True)
    bad = {**good, "boundary": good["boundary"] * np.float32("nan")}  # the boundary loss becomes NaN
    data = tf.data.Dataset.from_tensors(good).repeat(2).concatenate(tf.data.Dataset.from_tensors(bad)).repeat()
    with pytest.raises(NonFiniteLossError, match="at step 3"):
        train(config_for(tmp_path, max_steps=10, lambda_seg=1.0), data, steps_per_epoch=100)
    assert sorted(p.name for p in (tmp_path / "latest").glob("*.index")) == ["model.latest-2.index"]


def test_a_setting_whose_needed_setting_is_off_is_warned_of_and_the_run_goes_on(tmp_path: Path) -> None:
    config = config_for(tmp_path, max_steps=2, edge_aware_strength=10.0)
    with pytest.warns(UserWarning, match=r"^edge_aware_strength=10\.0 does nothing without edge_aware_smoothness$"):
        result = train(config, fixed_data(), steps_per_epoch=100, log=False)
    assert result.step == 1


def test_sigterm_saves_and_returns(tmp_path: Path) -> None:
    def send_sigterm_after_first_save() -> None:
        deadline = time.monotonic() + 120
        while not (tmp_path / "latest" / "checkpoint").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=send_sigterm_after_first_save, daemon=True)
    killer.start()
    result = train(config_for(tmp_path, max_steps=10_000, save_latest_freq=2), fixed_data(), steps_per_epoch=100)
    killer.join()
    assert result.stopped_by == "signal" and result.signum == signal.SIGTERM
    assert 2 <= result.step < 100
    assert Path(result.checkpoint + ".index").is_file() and result.checkpoint.endswith(f"-{result.step}")
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def test_unreadable_sample_mid_run_is_a_data_error_and_keeps_the_steps_done(tmp_path: Path) -> None:
    good = tf.data.Dataset.from_tensors(make_batch(seed=4)).repeat(3)
    broken = tf.data.Dataset.from_tensors(tf.constant(b"not a jpeg")).map(
        lambda data: {**make_batch(seed=4), "tgt_image": tf.io.decode_jpeg(data)[tf.newaxis]})
    config = config_for(tmp_path, max_steps=10, save_latest_freq=100, summary_freq=100)
    with pytest.raises(DataError, match="step 4 cannot be read"):
        train(config, dataset=good.concatenate(broken), steps_per_epoch=100, log=False)
    resumed = build_state(config)
    checkpoints = TrainCheckpoints(make_checkpoint(resumed.depth_net, resumed.pose_exp_net, resumed.optimizer,
                                                   resumed.step, resumed.rng), config.checkpoint_dir)
    assert checkpoints.restore_newest() is not None and int(resumed.step.numpy()) == 3
    assert int(resumed.optimizer.iterations.numpy()) == 3


def test_a_run_folder_resolves_to_its_newest_checkpoint_latest_included(tmp_path: Path) -> None:
    from sfmlearner_tf.models import DispNet
    from sfmlearner_tf.models.tf1_checkpoint import restore_models

    state = build_state(config_for(tmp_path))
    checkpoints = TrainCheckpoints(make_checkpoint(state.depth_net, state.pose_exp_net, state.optimizer,
                                                   state.step, state.rng), str(tmp_path))
    for step, save in ((30, checkpoints.save_epoch), (45, checkpoints.save_latest)):
        state.step.assign(step)
        save(step)
    info = restore_models(tmp_path, depth_net=DispNet())
    assert info["global_step"] == 45 and "latest" in info["checkpoint"]
