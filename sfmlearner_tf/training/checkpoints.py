"""Training checkpoints: the full state (both nets, Adam, step, RNG) saved as `model.latest` every
save_latest_freq steps and as `model-<step>` at each epoch end, plus initialisation from ours or TF1 ones.

tf.train.CheckpointManager writes the data files first and then replaces its small `checkpoint` state file
atomically, so a run killed while saving still points at the previous complete checkpoint.
"""

from __future__ import annotations

import os
import re

import keras
import tensorflow as tf

from sfmlearner_tf.errors import CheckpointError

LATEST_SUBDIR = "latest"
_STEP_SUFFIX = re.compile(r"-(\d+)$")


def make_checkpoint(depth_net: keras.Model, pose_exp_net: keras.Model, optimizer: keras.optimizers.Optimizer,
                    step: tf.Variable, rng: tf.random.Generator) -> tf.train.Checkpoint:
    """The checkpoint object of ARCHITECTURE.md: depth_net, pose_exp_net, optimizer, step, rng."""
    return tf.train.Checkpoint(depth_net=depth_net, pose_exp_net=pose_exp_net, optimizer=optimizer, step=step,
                               rng=rng)


def checkpoint_step(path: str) -> int:
    """The step a checkpoint prefix was saved at (`.../model-1234` -> 1234)."""
    match = _STEP_SUFFIX.search(path)
    if match is None:
        raise CheckpointError(f"{path}: checkpoint name does not end in -<step>")
    return int(match.group(1))


class TrainCheckpoints:
    """Two CheckpointManagers over one tf.train.Checkpoint: `<dir>/model-<step>` per epoch (the newest
    `max_to_keep` kept, as the original's Saver) and `<dir>/latest/model.latest-<step>` (the newest only)."""

    def __init__(self, checkpoint: tf.train.Checkpoint, directory: str, max_to_keep: int = 10) -> None:
        self.checkpoint = checkpoint
        self.epochs = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=max_to_keep,
                                                 checkpoint_name="model")
        self.latest = tf.train.CheckpointManager(checkpoint, os.path.join(directory, LATEST_SUBDIR),
                                                 max_to_keep=1, checkpoint_name="model.latest")

    def save_latest(self, step: int) -> str:
        """Saves the full state as the rolling latest checkpoint."""
        return self.latest.save(checkpoint_number=step)

    def save_epoch(self, step: int) -> str:
        """Saves the full state as an epoch checkpoint."""
        return self.epochs.save(checkpoint_number=step)

    def newest(self) -> str | None:
        """Prefix of the newest checkpoint of either kind (by step), or None."""
        paths = [p for p in (self.latest.latest_checkpoint, self.epochs.latest_checkpoint) if p]
        return max(paths, key=checkpoint_step) if paths else None

    def restore_newest(self) -> str | None:
        """Restores the full state (weights, Adam slots and iterations, step, RNG) from the newest checkpoint;
        returns its prefix, or None when there is none."""
        path = self.newest()
        if path is not None:
            try:
                self.checkpoint.read(path).expect_partial().assert_existing_objects_matched()
            except (AssertionError, ValueError, tf.errors.OpError) as error:
                raise CheckpointError(f"{path}: cannot resume from it, it does not match this run's models and "
                                      f"optimizer (changed --seq_length or --explain_reg_weight?): {error}") from error
        return path


def init_from_checkpoint(path: str, depth_net: keras.Model, pose_exp_net: keras.Model,
                         optimizer: keras.optimizers.Optimizer | None = None) -> dict[str, int | str]:
    """Initialises the nets from `path` (a checkpoint prefix or a folder of checkpoints): Zhou et al.'s TF1 files
    or ours, through models.tf1_checkpoint.restore_models. With `optimizer`, Adam's state (slots, iteration count)
    is restored too, which only our checkpoints hold: the original's Saver stored model variables and the global
    step, never Adam's slots, so a TF1 start always has a fresh Adam. Returns restore_models' info plus "kind"."""
    from sfmlearner_tf.models.tf1_checkpoint import is_tf1_checkpoint, restore_models

    info = restore_models(path, depth_net=depth_net, pose_exp_net=pose_exp_net)
    prefix = str(info["checkpoint"])
    kind = "tf1" if is_tf1_checkpoint(prefix) else "ours"
    if optimizer is not None and kind == "ours":
        try:
            tf.train.Checkpoint(optimizer=optimizer).read(prefix).expect_partial().assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as error:
            raise CheckpointError(f"{prefix}: its Adam state does not fit these networks ({error}); "
                                  "pass --restart_optimizer to start Adam fresh") from error
    return {**info, "kind": kind}
