"""Import of TF1 checkpoints written here in the original's format (tf.compat.v1 graph + Saver
names and shapes), error reports, and restore_models on TF1 prefixes, TF2 checkpoints and folders."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import spec_variables

from sfmlearner_tf.errors import CheckpointError
from sfmlearner_tf.models import DispNet, PoseExpNet
from sfmlearner_tf.models.tf1_checkpoint import (
    is_tf1_checkpoint,
    load_tf1_checkpoint,
    restore_models,
    tf1_variable_map,
    write_tf1_checkpoint,
)


def random_arrays(rows: list[tuple[str, tuple[int, ...]]], seed: int) -> dict[str, np.ndarray]:
    """Weights scaled by 1/sqrt(fan-in) (outputs stay finite through 30 layers), non-zero biases."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, shape in rows:
        scale = 0.1 if len(shape) == 1 else 1.0 / np.sqrt(np.prod(shape[:2]) * max(shape[2], shape[3]))
        arrays[name] = (rng.standard_normal(shape) * scale).astype(np.float32)
    return arrays


def pose_rows(num_source: int) -> list[tuple[str, tuple[int, ...]]]:
    """The original's pose rows for seq_length = num_source + 1 (cnv1 input 3(N+1), pred output 6N), no exp."""
    rows = []
    for name, shape in spec_variables():
        if not name.startswith("pose_exp_net/") or "/exp/" in name:
            continue
        if name == "pose_exp_net/cnv1/weights":
            shape = (7, 7, 3 * (num_source + 1), 16)
        elif name.startswith("pose_exp_net/pose/pred/"):
            shape = (*shape[:-1], 6 * num_source)
        rows.append((name, shape))
    return rows


def assert_loaded(model, arrays: dict[str, np.ndarray]) -> None:
    for name, variable in tf1_variable_map(model).items():
        np.testing.assert_array_equal(variable.numpy(), arrays[name], err_msg=name)


@pytest.fixture(scope="module")
def full_checkpoint(tmp_path_factory) -> tuple[str, dict[str, np.ndarray]]:
    """A 3-frame depth + pose + exp checkpoint with train_op/global_step, like a train.py run with exp on."""
    arrays = random_arrays(spec_variables(), seed=0)
    prefix = write_tf1_checkpoint(str(tmp_path_factory.mktemp("tf1") / "model-190532"), arrays, global_step=190532)
    return prefix, arrays


@pytest.fixture(scope="module")
def pose5_checkpoint(tmp_path_factory) -> tuple[str, dict[str, np.ndarray]]:
    """A 5-frame pose-only checkpoint like model-100280's pose part."""
    arrays = random_arrays(pose_rows(4), seed=1)
    prefix = write_tf1_checkpoint(str(tmp_path_factory.mktemp("tf1") / "model-100280"), arrays, global_step=100280)
    return prefix, arrays


def test_written_checkpoint_has_tf1_names_and_step(full_checkpoint):
    prefix, arrays = full_checkpoint
    listed = dict(tf.train.list_variables(prefix))
    assert listed == {**{name: list(a.shape) for name, a in arrays.items()}, "train_op/global_step": []}
    reader = tf.train.load_checkpoint(prefix)
    assert reader.get_variable_to_dtype_map()["train_op/global_step"] == tf.int32
    assert Path(prefix + ".meta").is_file() and Path(prefix + ".index").is_file()
    assert is_tf1_checkpoint(prefix)


def test_full_checkpoint_loads_every_weight(full_checkpoint):
    prefix, arrays = full_checkpoint
    depth_net, pose_exp_net = DispNet(), PoseExpNet(2, True)
    info = load_tf1_checkpoint(prefix, depth_net=depth_net, pose_exp_net=pose_exp_net)
    assert info == {"loaded": 98, "kept_initial": 0, "unused": 1, "global_step": 190532}
    assert_loaded(depth_net, arrays)
    assert_loaded(pose_exp_net, arrays)
    rng = np.random.default_rng(2)
    images = rng.uniform(-1, 1, [1, 64, 96, 9]).astype(np.float32)
    disps = depth_net(images[..., :3])
    pose, masks = pose_exp_net(images[..., :3], images[..., 3:])
    for tensor in [*disps, pose, *masks]:
        assert np.all(np.isfinite(tensor.numpy()))
    assert np.all((disps[0].numpy() > 0.01) & (disps[0].numpy() < 10.01))


def test_extra_variables_are_ignored(full_checkpoint):
    prefix, arrays = full_checkpoint
    pose_net = PoseExpNet(2, False)
    info = load_tf1_checkpoint(prefix, pose_exp_net=pose_net)
    # 64 depth + 18 exp variables and the step counter are not used.
    assert info == {"loaded": 16, "kept_initial": 0, "unused": 83, "global_step": 190532}
    assert_loaded(pose_net, arrays)


def test_five_frame_pose_checkpoint(pose5_checkpoint):
    prefix, arrays = pose5_checkpoint
    net = PoseExpNet(4, False)
    assert load_tf1_checkpoint(prefix, pose_exp_net=net)["global_step"] == 100280
    assert_loaded(net, arrays)
    assert tuple(net.cnv1.kernel.shape) == (7, 7, 15, 16) and tuple(net.pose.pred.bias.shape) == (24,)
    pose, _ = net(tf.zeros([2, 32, 64, 3]), tf.zeros([2, 32, 64, 12]))
    assert tuple(pose.shape) == (2, 4, 6) and np.all(np.isfinite(pose.numpy()))


def test_exp_branch_missing_from_checkpoint_keeps_initial_values(pose5_checkpoint, caplog):
    prefix, arrays = pose5_checkpoint
    net = PoseExpNet(4, True).ensure_built()
    before = {name: v.numpy().copy() for name, v in tf1_variable_map(net).items() if "/exp/" in name}
    with caplog.at_level(logging.WARNING):
        info = load_tf1_checkpoint(prefix, pose_exp_net=net)
    assert info["loaded"] == 16 and info["kept_initial"] == 18
    assert "exp branch keeps its initial values" in caplog.text
    for name, value in before.items():
        np.testing.assert_array_equal(tf1_variable_map(net)[name].numpy(), value)
    assert_loaded(net, {**arrays, **before})


def test_wrong_frame_count_names_every_offender_with_hint(pose5_checkpoint):
    prefix, _ = pose5_checkpoint
    with pytest.raises(CheckpointError) as error:
        load_tf1_checkpoint(prefix, pose_exp_net=PoseExpNet(2, False))
    message = str(error.value)
    assert "3 variable(s) do not match" in message
    assert "pose_exp_net/cnv1/weights: expected shape [7, 7, 9, 16], found [7, 7, 15, 16]" in message
    assert "pose_exp_net/pose/pred/weights: expected shape [1, 1, 256, 12], found [1, 1, 256, 24]" in message
    assert "pose_exp_net/pose/pred/biases: expected shape [12], found [24]" in message
    assert "its pose net takes 5 frames: pass --seq_length=5" in message


def test_missing_and_misshaped_variables_all_reported_and_nothing_assigned(tmp_path):
    arrays = random_arrays(pose_rows(2), seed=3)
    del arrays["pose_exp_net/cnv3/biases"], arrays["pose_exp_net/pose/cnv7/weights"]
    arrays["pose_exp_net/cnv2/weights"] = np.zeros((5, 5, 16, 33), np.float32)
    prefix = write_tf1_checkpoint(str(tmp_path / "broken"), arrays)
    net = PoseExpNet(2, False).ensure_built()
    before = [v.numpy().copy() for v in net.weights]
    with pytest.raises(CheckpointError) as error:
        load_tf1_checkpoint(prefix, pose_exp_net=net)
    message = str(error.value)
    assert message.startswith(f"{prefix}: 3 variable(s) do not match")
    assert "pose_exp_net/cnv3/biases: missing (expected shape [64])" in message
    assert "pose_exp_net/pose/cnv7/weights: missing (expected shape [3, 3, 256, 256])" in message
    assert "pose_exp_net/cnv2/weights: expected shape [5, 5, 16, 32], found [5, 5, 16, 33]" in message
    for variable, value in zip(net.weights, before):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_batch_norm_era_checkpoint_gets_a_hint(tmp_path):
    arrays = {name: a for name, a in random_arrays(pose_rows(2), seed=4).items() if not name.endswith("biases")}
    arrays["pose_exp_net/cnv1/BatchNorm/beta"] = np.zeros(16, np.float32)
    prefix = write_tf1_checkpoint(str(tmp_path / "model-145248"), arrays)
    with pytest.raises(CheckpointError, match=r"8 variable\(s\)(.|\n)*pre-Aug-2017"):
        load_tf1_checkpoint(prefix, pose_exp_net=PoseExpNet(2, False))


def test_variable_map_ignores_outer_scopes():
    class Wrapper(keras.Model):
        def __init__(self):
            super().__init__(name="trainer")
            self.pose_exp_net = PoseExpNet(2, False)

        def call(self, x):
            return self.pose_exp_net(x, x)[0]

    wrapper = Wrapper()
    wrapper(tf.zeros([1, 32, 32, 6]))
    mapping = tf1_variable_map(wrapper.pose_exp_net)
    assert mapping["pose_exp_net/pose/pred/biases"].path == "trainer/pose_exp_net/pose/pred/bias"
    assert sorted(mapping) == sorted(name for name, _ in pose_rows(2))


def test_restore_models_tf2_round_trip(tmp_path):
    # Fresh instances draw different Glorot weights, so equal weights after restoring prove the restore.
    depth_net, pose_net = DispNet().ensure_built(), PoseExpNet(2, False).ensure_built()
    optimizer = keras.optimizers.Adam()
    optimizer.build(pose_net.trainable_variables)  # slot variables in the checkpoint must not confuse the loader
    checkpoint = tf.train.Checkpoint(depth_net=depth_net, pose_exp_net=pose_net, optimizer=optimizer,
                                     step=tf.Variable(7, dtype=tf.int64), rng=tf.random.Generator.from_seed(1))
    saved = tf.train.CheckpointManager(checkpoint, str(tmp_path), max_to_keep=2).save()
    assert not is_tf1_checkpoint(saved)

    fresh_depth, fresh_pose = DispNet(), PoseExpNet(2, True)
    info = restore_models(tmp_path, depth_net=fresh_depth, pose_exp_net=fresh_pose)
    assert {key: info[key] for key in ("loaded", "kept_initial", "global_step", "checkpoint")} == {
        "loaded": 80, "kept_initial": 18, "global_step": 7, "checkpoint": saved}
    for old, new in zip(depth_net.weights + pose_net.weights, fresh_depth.weights + fresh_pose.weights[:16]):
        np.testing.assert_array_equal(new.numpy(), old.numpy())

    with pytest.raises(CheckpointError) as error:
        restore_models(saved, pose_exp_net=PoseExpNet(4, False))
    assert "3 variable(s)" in str(error.value)
    assert "pose_exp_net/cnv1/weights: expected shape [7, 7, 15, 16], found [7, 7, 9, 16]" in str(error.value)
    pose_only = tf.train.Checkpoint(pose_exp_net=pose_net).write(str(tmp_path / "pose_only" / "ckpt"))
    with pytest.raises(CheckpointError, match=r"64 variable\(s\) do not match(.|\n)*depth_net/cnv1/weights: missing"):
        restore_models(pose_only, depth_net=DispNet())


def test_restore_models_tf1_prefix_and_folder_without_state_file(tmp_path, pose5_checkpoint):
    _, arrays = pose5_checkpoint
    newer = write_tf1_checkpoint(str(tmp_path / "model-200"), arrays, global_step=200)
    write_tf1_checkpoint(str(tmp_path / "model-100"), random_arrays(pose_rows(4), seed=6), global_step=100)
    (tmp_path / "checkpoint").unlink()  # the Saver's state file names model-100, the last one written
    net = PoseExpNet(4, False)
    info = restore_models(tmp_path, pose_exp_net=net)
    assert info["checkpoint"] == newer and info["global_step"] == 200
    assert_loaded(net, arrays)
    assert restore_models(newer, pose_exp_net=PoseExpNet(4, False))["loaded"] == 16


def test_restore_models_reports_bad_paths(tmp_path):
    with pytest.raises(CheckpointError, match="neither a checkpoint prefix"):
        restore_models(tmp_path / "model-1", pose_exp_net=PoseExpNet(2, False))
    with pytest.raises(CheckpointError, match="folder without any checkpoint"):
        restore_models(tmp_path, pose_exp_net=PoseExpNet(2, False))
    (tmp_path / "junk.index").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read a checkpoint"):
        restore_models(tmp_path / "junk", pose_exp_net=PoseExpNet(2, False))
    assert not is_tf1_checkpoint(str(tmp_path / "model-1"))
