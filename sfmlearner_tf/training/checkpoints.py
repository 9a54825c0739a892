"""Training checkpoints: `latest/model.latest-<step>` (the full state: both nets, Adam, step, RNG) every
save_latest_freq steps and `model-<step>` at each epoch end (by default only what fine-tuning and evaluation
need: both nets, the step and the RNG, a third of the size), `best/model.best-<step>` (models only) whenever the
validation loss reaches a new low (see best.py), plus initialisation from ours or TF1 ones.

Faults: tf.train.CheckpointManager writes the data files first (through a `<prefix>_temp/` folder) and then
replaces its small `checkpoint` state file atomically, so a run killed while saving still lists the previous
complete checkpoint; what the unfinished save left is removed at the next start (`clean_unfinished`) or at once
when the save fails in-process (disk full). A listed checkpoint that no longer reads back (truncated, damaged)
is skipped with a warning in favour of the next newest one.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import keras
import tensorflow as tf

from sfmlearner_tf.errors import CheckpointError, UnreadableCheckpointError, error_summary
from sfmlearner_tf.models.tf1_checkpoint import (
    check_readable,
    holds_optimizer,
    is_tf1_checkpoint,
    mismatched_variables,
    restore_models,
)

logger = logging.getLogger(__name__)

LATEST_SUBDIR = "latest"
BEST_SUBDIR = "best"
EPOCH_NAME = "model"
LATEST_NAME = "model.latest"
BEST_NAME = "model.best"
_STEP_SUFFIX = re.compile(r"-(\d+)$")


def make_checkpoint(depth_net: keras.Model, pose_exp_net: keras.Model, optimizer: keras.optimizers.Optimizer,
                    step: tf.Variable, rng: tf.random.Generator) -> tf.train.Checkpoint:
    """The checkpoint object of ARCHITECTURE.md: depth_net, pose_exp_net, optimizer, step, rng."""
    return tf.train.Checkpoint(depth_net=depth_net, pose_exp_net=pose_exp_net, optimizer=optimizer, step=step,
                               rng=rng)


def models_only(checkpoint: tf.train.Checkpoint) -> tf.train.Checkpoint:
    """The same objects without the optimizer: what fine-tuning and evaluation read (no Adam slots, which are
    two thirds of a full checkpoint)."""
    return tf.train.Checkpoint(depth_net=checkpoint.depth_net, pose_exp_net=checkpoint.pose_exp_net,
                               step=checkpoint.step, rng=checkpoint.rng)


def checkpoint_step(path: str) -> int:
    """The step a checkpoint prefix was saved at (`.../model-1234` -> 1234)."""
    match = _STEP_SUFFIX.search(path)
    if match is None:
        raise CheckpointError(f"{path}: checkpoint name does not end in -<step>")
    return int(match.group(1))


def ensure_checkpoint_folders(directory: str) -> None:
    """Creates `directory` and its `latest/` if needed and checks that files can be created in both (by creating
    one: permission bits say nothing for root or on read-only mounts), so that a run fails at start-up, not at
    its first save; CheckpointError naming the folder otherwise."""
    for folder in (directory, os.path.join(directory, LATEST_SUBDIR)):
        try:
            os.makedirs(folder, exist_ok=True)
            handle, probe = tempfile.mkstemp(dir=folder, prefix=".write_test")
            os.close(handle)
            os.remove(probe)
        except OSError as error:
            raise CheckpointError(f"{folder}: checkpoints cannot be written there ({error_summary(error)}); choose "
                                  "another --checkpoint_dir or make it writable") from error


@dataclass(frozen=True)
class Restored:
    """What `restore_newest` read: the prefix, whether Adam's state came along, the unreadable newer ones."""

    prefix: str
    with_optimizer: bool
    skipped: list[str] = field(default_factory=list)


class TrainCheckpoints:
    """Three CheckpointManagers: `<dir>/model-<step>` per epoch (the newest `max_to_keep` kept, as the original's
    Saver; models only unless `full_epochs`), `<dir>/latest/model.latest-<step>` (full, the newest only) and
    `<dir>/best/model.best-<step>` (models only, one kept; never listed, so a resume does not read it).

    With `write_directory` (a non-chief worker of a multi-worker run, which must take part in every save), saves
    go there and are removed at once; checkpoints are listed and restored from `directory`, the chief's."""

    def __init__(self, checkpoint: tf.train.Checkpoint, directory: str, max_to_keep: int = 10,
                 full_epochs: bool = False, write_directory: str | None = None) -> None:
        self.checkpoint = checkpoint
        self.models_checkpoint = models_only(checkpoint)
        self.directory = directory
        self.full_epochs = full_epochs
        self.write_directory = write_directory
        self.epochs, self.latest, self.best = self._managers(directory, max_to_keep)
        self._writers = self._managers(write_directory, 1) if write_directory else (self.epochs, self.latest,
                                                                                      self.best)

    def _managers(self, directory: str, max_to_keep: int) -> tuple[tf.train.CheckpointManager, ...]:
        epochs = self.checkpoint if self.full_epochs else self.models_checkpoint
        return (tf.train.CheckpointManager(epochs, directory, max_to_keep=max_to_keep, checkpoint_name=EPOCH_NAME),
                tf.train.CheckpointManager(self.checkpoint, os.path.join(directory, LATEST_SUBDIR), max_to_keep=1,
                                           checkpoint_name=LATEST_NAME),
                tf.train.CheckpointManager(self.models_checkpoint, os.path.join(directory, BEST_SUBDIR),
                                           max_to_keep=1, checkpoint_name=BEST_NAME))

    def save_latest(self, step: int) -> str:
        """Saves the full state as the rolling latest checkpoint."""
        return self._save(self._writers[1], LATEST_NAME, step)

    def save_epoch(self, step: int) -> str:
        """Saves an epoch checkpoint; when it holds the models only, the full state goes to `latest` too, so that
        a resume never loses Adam's state. Returns the epoch checkpoint's prefix."""
        path = self._save(self._writers[0], EPOCH_NAME, step)
        if not self.full_epochs:
            self._save(self._writers[1], LATEST_NAME, step)
        return path

    def save_best(self, step: int) -> str:
        """Saves the models (both nets, step, RNG: what inference and fine-tuning read) as `best/`'s only
        checkpoint, replacing the previous best."""
        return self._save(self._writers[2], BEST_NAME, step)

    def _save(self, manager: tf.train.CheckpointManager, name: str, step: int) -> str:
        """One save; when it fails (disk full, folder gone read-only) its partial files are removed at once and
        CheckpointError says which checkpoint is still the newest intact one. Returns the prefix in `directory`."""
        try:
            path = manager.save(checkpoint_number=step)
        except (tf.errors.OpError, OSError) as error:
            removed = _remove_unfinished(Path(manager.directory), name)
            kept = self.newest()
            intact = f"the newest intact checkpoint is {kept}" if kept else "no earlier checkpoint exists"
            cleaned = " (its partial files were removed)" if removed else ""
            raise CheckpointError(f"{os.path.join(manager.directory, name)}-{step}: the checkpoint could not be "
                                  f"written ({error_summary(error)}){cleaned}; {intact}") from error
        if self.write_directory is None:
            return path
        shutil.rmtree(self.write_directory, ignore_errors=True)
        return os.path.join(self.directory, os.path.relpath(path, self.write_directory))

    def clean_unfinished(self) -> list[str]:
        """Removes what saves that did not finish (kill -9, a full disk) left in the three folders; see
        `_remove_unfinished`. Returns the removed paths."""
        return [*_remove_unfinished(Path(self.epochs.directory), EPOCH_NAME),
                *_remove_unfinished(Path(self.latest.directory), LATEST_NAME),
                *_remove_unfinished(Path(self.best.directory), BEST_NAME)]

    def listed(self) -> list[str]:
        """Every checkpoint the state files list, newest first; at equal steps the full `latest` one first."""
        ranked = [(checkpoint_step(path), rank, path)
                  for rank, manager in enumerate((self.epochs, self.latest)) for path in manager.checkpoints]
        return [path for _, _, path in sorted(ranked, reverse=True)]

    def newest(self) -> str | None:
        """Prefix of the newest listed checkpoint of either kind (by step), or None."""
        paths = self.listed()
        return paths[0] if paths else None

    def restore_newest(self) -> Restored | None:
        """Restores from the newest listed checkpoint that reads back: the full state (weights, Adam slots and
        iterations, step, RNG), or, from a models-only epoch checkpoint, all but Adam's state. Unreadable newer
        ones are skipped with a warning. Returns what was read, or None when nothing is listed."""
        skipped = []
        for path in self.listed():
            try:
                check_readable(path)
            except UnreadableCheckpointError as error:
                logger.warning("%s; trying the next newest checkpoint", error)
                skipped.append(path)
                continue
            mismatched = mismatched_variables(path, [self.checkpoint.depth_net, self.checkpoint.pose_exp_net])
            if mismatched:
                raise CheckpointError(f"{path}: cannot resume from it, {len(mismatched)} variable(s) of this run's "
                                      f"networks differ from it (changed --seq_length or --explain_reg_weight?), "
                                      f"first {mismatched[0]}")
            with_optimizer = holds_optimizer(path)
            target = self.checkpoint if with_optimizer else self.models_checkpoint
            try:
                target.read(path).expect_partial().assert_existing_objects_matched()
            except (AssertionError, ValueError, tf.errors.OpError) as error:
                raise CheckpointError(f"{path}: cannot resume from it, it does not match this run's models and "
                                      f"optimizer: {error_summary(error)}") from error
            return Restored(path, with_optimizer, skipped)
        if skipped:
            raise CheckpointError(f"{self.directory}: none of its {len(skipped)} listed checkpoints reads back "
                                  f"(newest {skipped[0]}); resume from a copy or start in another --checkpoint_dir")
        return None


def _listed_names(folder: Path) -> set[str] | None:
    """Base names of the checkpoints a folder's state file lists, or None when it has no state file."""
    state = tf.train.get_checkpoint_state(str(folder))
    if state is None:
        return None
    return {os.path.basename(path) for path in [state.model_checkpoint_path, *state.all_model_checkpoint_paths]}


def _remove_unfinished(folder: Path, name: str) -> list[str]:
    """Removes in `folder` what a `<name>-<step>` save that did not finish left: TF's `<prefix>_temp` shard
    folders, the state file's `checkpoint.tmp<hex>` copies, data files without an index and, when the folder has
    a state file, the files of checkpoints it does not list (a save killed before it was registered, or an old
    checkpoint whose deletion was interrupted). Returns the removed paths."""
    if not folder.is_dir():
        return []
    leftover = re.compile(rf"^({re.escape(name)}-\d+_temp.*|checkpoint\.tmp[0-9a-f]{{32}})$")
    saved = re.compile(rf"^({re.escape(name)}-\d+)(\.index|\.data-\d{{5}}-of-\d{{5}})$")
    listed = _listed_names(folder)
    removed, groups = [], {}
    for path in folder.iterdir():
        if leftover.match(path.name):
            removed.append(path)
        elif match := saved.match(path.name):
            groups.setdefault(match.group(1), []).append(path)
    for prefix, paths in groups.items():
        has_index = any(path.suffix == ".index" for path in paths)
        if not has_index or (listed is not None and prefix not in listed):
            removed += paths
    for path in removed:
        _remove(path)
    return sorted(str(path) for path in removed)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Initialised:
    """What `init_from_checkpoint` read: the prefix, "tf1" or "ours", the step saved in it, and whether Adam's
    state came along."""

    prefix: str
    kind: str
    global_step: int | None
    with_optimizer: bool


def init_from_checkpoint(path: str, depth_net: keras.Model, pose_exp_net: keras.Model,
                         optimizer: keras.optimizers.Optimizer | None = None) -> Initialised:
    """Initialises the nets from `path` (a checkpoint prefix, or a folder of checkpoints whose newest readable one
    is taken): Zhou et al.'s TF1 files or ours, through models.tf1_checkpoint.restore_models. With `optimizer`,
    Adam's state (slots, iteration count, learning rate) is restored too where the checkpoint holds it: only our
    full ones do. The original's Saver stored model variables and the global step, never Adam's slots, so a TF1
    start always has a fresh Adam, as does a start from one of our models-only epoch checkpoints."""
    info = restore_models(path, depth_net=depth_net, pose_exp_net=pose_exp_net)
    prefix = str(info["checkpoint"])
    kind = "tf1" if is_tf1_checkpoint(prefix) else "ours"
    with_optimizer = optimizer is not None and kind == "ours" and holds_optimizer(prefix)
    if with_optimizer:
        try:
            tf.train.Checkpoint(optimizer=optimizer).read(prefix).expect_partial().assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as error:
            raise CheckpointError(f"{prefix}: its Adam state does not fit these networks ({error_summary(error)}); "
                                  "pass --restart_optimizer to start Adam fresh") from error
    step = info.get("global_step")
    return Initialised(prefix, kind, None if step is None else int(step), with_optimizer)
