"""train(config): the training loop around TrainStep, with checkpoints, resume, summaries, the validation loss and
its best checkpoint, collapse warnings and progress lines."""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from sfmlearner_tf.data.pipeline import check_dataset, make_dataset
from sfmlearner_tf.data.pipeline import steps_per_epoch as pipeline_steps_per_epoch
from sfmlearner_tf.errors import ConfigError, DataError, error_summary
from sfmlearner_tf.io_utils import output_lock
from sfmlearner_tf.models import DispNet, PoseExpNet
from sfmlearner_tf.ops.precision import DtypePolicy, needs_loss_scaling, precision_policy
from sfmlearner_tf.progress import ProgressReporter
from sfmlearner_tf.run_record import training_record, write_run_record
from sfmlearner_tf.settings import idle_settings
from sfmlearner_tf.training.best import BestKeeper, BestSoFar, start_best
from sfmlearner_tf.training.checkpoints import (
    TrainCheckpoints,
    ensure_checkpoint_folders,
    init_from_checkpoint,
    make_checkpoint,
)
from sfmlearner_tf.training.config import SETTING_PATHS, TrainConfig
from sfmlearner_tf.training.distribute import check_global_batch, is_chief, make_strategy, worker_scratch_dir
from sfmlearner_tf.training.guards import GracefulStop, check_finite
from sfmlearner_tf.training.health import CollapseWatch
from sfmlearner_tf.training.provenance import check_resume, write_run_config
from sfmlearner_tf.training.step import SCALAR_KEYS, TrainStep, make_optimizer
from sfmlearner_tf.training.summaries import write_scalar, write_step_summaries
from sfmlearner_tf.training.validation import ValidationLoss, load_validation


@dataclass(frozen=True)
class TrainResult:
    """How a run ended: `stopped_by` is "done" or "signal" (then `signum` is set); `step` is the last finished
    step, `checkpoint` the newest checkpoint written, `losses` the last step's scalars, `best` the best step by
    validation loss so far (in best/), `warnings` the collapse warnings reported."""

    step: int
    stopped_by: str
    checkpoint: str | None
    losses: dict[str, float] = field(default_factory=dict)
    steps_per_second: float = 0.0
    signum: int | None = None
    best: BestSoFar | None = None
    warnings: tuple[str, ...] = ()


@dataclass
class TrainState:
    """The objects a run trains and checkpoints."""

    depth_net: DispNet
    pose_exp_net: PoseExpNet
    optimizer: keras.optimizers.Optimizer
    step: tf.Variable
    rng: tf.random.Generator


def build_state(config: TrainConfig) -> TrainState:
    """Creates and builds both nets and Adam (inside the current strategy scope and dtype policy)."""
    depth_net = DispNet().ensure_built()
    if config.disp_bias_init:
        depth_net.set_disp_head_bias(config.disp_bias_init)
    pose_exp_net = PoseExpNet(num_source=config.data.num_source, do_exp=config.loss.do_exp).ensure_built()
    adam = config.optimizer
    optimizer = make_optimizer(adam.learning_rate, adam.beta1, adam.beta2, adam.epsilon,
                               needs_loss_scaling(keras.config.dtype_policy().name))
    optimizer.build(depth_net.trainable_variables + pose_exp_net.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    rng = tf.random.Generator.from_seed(config.seed)
    return TrainState(depth_net, pose_exp_net, optimizer, step, rng)


def restore_or_init(config: TrainConfig, state: TrainState, checkpoints: TrainCheckpoints) -> str:
    """Resumes (--continue_train: everything, Adam included, from the newest readable checkpoint in
    checkpoint_dir) or initialises from --init_checkpoint_file (weights; Adam too for our full checkpoints unless
    --restart_optimizer). A resume first compares the run's settings with the saved run_config.json
    (provenance.check_resume). A resumed run never restarts Adam again. The run's settings win over restored state:
    the learning rate is --learning_rate's whatever Adam's restored variable held. Returns a one-line description
    of what was restored and what was overridden."""
    newest = checkpoints.newest()
    if newest is not None and not config.continue_train:
        raise ConfigError(f"{config.checkpoint_dir} already holds checkpoints (newest {newest}); pass "
                          "--continue_train to resume, or choose another --checkpoint_dir")
    changed = check_resume(config) if newest is not None else ""
    restored = checkpoints.restore_newest() if newest is not None else None
    if restored is not None:
        skipped = f", newer unreadable {', '.join(restored.skipped)} skipped" if restored.skipped else ""
        parts = "weights, Adam state, RNG" if restored.with_optimizer else \
            "weights, RNG; fresh Adam: this epoch checkpoint holds no Adam state"
        note = f"resumed from {restored.prefix} (step {int(state.step.numpy())}; {parts}{skipped})"
        note += f"; {changed}" if changed else ""
        with_optimizer = restored.with_optimizer
    elif config.init_checkpoint_file:
        optimizer = None if config.optimizer.restart else state.optimizer
        init = init_from_checkpoint(config.init_checkpoint_file, state.depth_net, state.pose_exp_net, optimizer)
        saved_at = "" if init.global_step is None else f", saved at step {init.global_step}"
        adam = "Adam state restored" if init.with_optimizer else "fresh Adam"
        note = f"initialised from {init.prefix} ({init.kind} weights{saved_at}; {adam}; starting at step 0)"
        with_optimizer = init.with_optimizer
    else:
        return "fresh start"
    if with_optimizer:
        note += _apply_run_settings(config, state.optimizer)
    return note


def _apply_run_settings(config: TrainConfig, optimizer: keras.optimizers.Optimizer) -> str:
    """Sets the restored Adam's learning rate to --learning_rate; returns "; <what was overridden>" or ""."""
    variable = optimizer.learning_rate
    restored = float(variable.numpy())
    learning_rate = config.optimizer.learning_rate
    variable.assign(learning_rate)
    if np.float32(restored) == np.float32(learning_rate):
        return ""
    return f"; --learning_rate {learning_rate:g} overrides the checkpoint's {restored:g}"


def _format_losses(values: dict[str, float], val_pixel: float | None) -> str:
    text = " ".join(f"{key} {values[key]:.4f}" for key in ("total", "pixel", "smooth", "exp", "seg")
                    if key == "total" or values[key] != 0.0)
    return text if val_pixel is None else f"{text} val_pixel {val_pixel:.4f}"


def _score_validation(validation: ValidationLoss, state: TrainState, step: int, writer: tf.summary.SummaryWriter,
                      best: BestKeeper | None, stop: GracefulStop) -> float:
    """The validation loss at `step`, written to TensorBoard; a new lowest one saves the models to best/."""
    val_pixel = validation(state.depth_net, state.pose_exp_net)
    with writer.as_default():
        write_scalar("val/pixel", val_pixel, step)
    writer.flush()
    if best is not None:
        with stop.saving():
            best.offer(step, val_pixel)
    return val_pixel


def _check_dataset_dir(config: TrainConfig) -> None:
    if config.data.source == "folder" and not config.data.dataset_dir:
        raise ConfigError("dataset_dir is empty: point it at a folder of prepared samples (train.txt)")


def train(config: TrainConfig, dataset: tf.data.Dataset | None = None, steps_per_epoch: int | None = None,
          log: bool = True, on_step: Callable[[int, TrainState], None] | None = None,
          validation: ValidationLoss | None = None) -> TrainResult:
    """Trains DispNet and PoseExpNet jointly for steps (start + 1) .. config.last_step.

    Reads the prepared samples of config.data (or `dataset`, a repeating tf.data.Dataset of batches in the
    pipeline's format, with its `steps_per_epoch`), and every summary_freq steps scores the validation loss on
    the data set's val split (with `dataset`: `validation`'s batches, if given), keeps the models of its lowest
    value in best/ (--keep_best, see best.py) and warns once per kind when training collapses (health.py).
    `on_step(step, state)`, if given, runs after every finished step (e.g. to evaluate the depth net along the
    way). Writes TensorBoard events and checkpoints to config.checkpoint_dir (checked writable first; leftovers
    of an unfinished save are removed), and the run's configuration as run_config.json; a resume first compares
    it with the saved one (see provenance.py).
    A SIGINT/SIGTERM ends the current step, saves, and returns with stopped_by="signal"; a non-finite loss raises
    NonFiniteLossError without saving; a save that fails raises CheckpointError, the previous checkpoint intact.
    A setting that does nothing because the setting it needs is off (settings.idle_settings) is warned of.
    """
    names = {path: name for name, path in SETTING_PATHS.items()}
    for idle in idle_settings(config):
        warnings.warn(idle.describe(names), stacklevel=2)
    with contextlib.ExitStack() as lock:
        run = set_up_run(config, dataset, steps_per_epoch, validation, lock)
        if log:
            print(f"train: {run.note}; steps {run.start + 1}..{config.last_step}, {run.steps_per_epoch} steps per "
                  f"epoch, global batch {config.data.batch_size} on {run.strategy.num_replicas_in_sync} replica(s)"
                  f"{run.notes}", flush=True)
        result = StepLoop(run, log, on_step).run()
    if log:
        print(f"train: {result.stopped_by} at step {result.step}; checkpoint {result.checkpoint}"
              + (f"; {run.best.describe()}" if run.best is not None else ""), flush=True)
    return result


@dataclass
class PreparedRun:
    """A run set up to train: its strategy, nets and optimizer (restored or initialised), checkpoint managers,
    training batches, validation loss and best keeper, the first step, a note on how it started and notes on
    its validation and best checkpoint ("; ..." each)."""

    config: TrainConfig
    strategy: tf.distribute.Strategy
    state: TrainState
    checkpoints: TrainCheckpoints
    dataset: tf.data.Dataset
    steps_per_epoch: int
    validation: ValidationLoss | None
    best: BestKeeper | None
    chief: bool
    start: int
    note: str
    notes: str


def set_up_run(config: TrainConfig, dataset: tf.data.Dataset | None, steps_per_epoch: int | None,
               validation: ValidationLoss | None, lock: contextlib.ExitStack) -> PreparedRun:
    """Checks the data, builds the nets, locks (the chief, in `lock`, io_utils.output_lock), cleans and claims the
    checkpoint folder, resumes or initialises, writes the run's record and configuration, and opens the data
    (train's steps before the first training step)."""
    strategy = make_strategy(config.distribution.strategy)  # first: a multi-worker one must precede any TF op
    if dataset is None:
        _check_dataset_dir(config)
        check_dataset(config.pipeline("train", config.seed))  # fail on bad data before building the nets
    elif steps_per_epoch is None:
        raise ConfigError("train: pass steps_per_epoch together with dataset")
    if validation is not None and dataset is None:
        raise ConfigError("train: pass validation together with dataset (without it the val split is scored)")
    check_global_batch(config.data.batch_size, strategy)
    keras.utils.set_random_seed(config.seed)
    chief, scratch_dir = is_chief(strategy), worker_scratch_dir(config.checkpoint_dir, strategy)
    ensure_checkpoint_folders(scratch_dir or config.checkpoint_dir)
    if chief:  # two runs never write one folder
        lock.enter_context(output_lock(config.checkpoint_dir, "sfm-train", flag="--checkpoint_dir"))
    with DtypePolicy(precision_policy(config.distribution.mixed_precision)), strategy.scope():
        state = build_state(config)
    checkpoint = make_checkpoint(state.depth_net, state.pose_exp_net, state.optimizer, state.step, state.rng)
    checkpoints = TrainCheckpoints(checkpoint, config.checkpoint_dir, max(config.max_checkpoints_to_keep, 1),
                                   config.full_epoch_checkpoints, scratch_dir)
    removed = checkpoints.clean_unfinished() if chief else []
    resumed = checkpoints.newest() is not None  # restore_or_init resumes from it (or refuses)
    note = restore_or_init(config, state, checkpoints)
    if removed:
        more = f" and {len(removed) - 1} more" if len(removed) > 1 else ""
        note = f"removed what an unfinished save left ({removed[0]}{more}); {note}"
    if chief:  # what prediction and evaluation read, and the whole configuration for the next resume
        write_run_record(config.checkpoint_dir, training_record(config))
        write_run_config(config.checkpoint_dir, config)
    # A fresh draw per (re)start, so a resumed run does not replay the first batches; the RNG is checkpointed.
    data_seed = int(state.rng.uniform([], 0, 2**31 - 1, dtype=tf.int64).numpy())
    validation_note = ""
    if dataset is None:
        pipeline = config.pipeline("train", data_seed)
        dataset, steps_per_epoch = make_dataset(pipeline).repeat(), pipeline_steps_per_epoch(pipeline)
        validation, validation_note = load_validation(config)
    best, best_note = start_best(config, checkpoints, validation, resumed, chief)
    notes = "".join(f"; {part}" for part in (validation_note, best_note) if part)
    return PreparedRun(config, strategy, state, checkpoints, dataset, steps_per_epoch, validation, best, chief,
                       int(state.step.numpy()), note, notes)


class StepLoop:
    """The steps of a prepared run: a batch, the train step and its finiteness guard, summaries (with the
    validation loss and the collapse watch) every summary_freq steps, checkpoints, progress, a graceful stop."""

    def __init__(self, run: PreparedRun, log: bool, on_step: Callable[[int, TrainState], None] | None) -> None:
        config, state = run.config, run.state
        self.run_, self.config, self.state, self.on_step = run, config, state, on_step
        self.train_step = TrainStep(state.depth_net, state.pose_exp_net, state.optimizer, config.loss,
                                    config.optimizer.weight_decay, run.strategy, config.distribution.jit_compile)
        self.iterator = iter(run.strategy.experimental_distribute_dataset(run.dataset))
        self.writer = (tf.summary.create_file_writer(config.checkpoint_dir) if run.chief
                       else tf.summary.create_noop_writer())
        # A loss-scaled (float16) run skips steps with Inf gradients by design, so only the loss is guarded there.
        loss_scaled = isinstance(state.optimizer, keras.optimizers.LossScaleOptimizer)
        self.guarded = ("total",) if loss_scaled else ("total", "grad_norm")
        self.progress = ProgressReporter(max(config.last_step - run.start, 0), "train",
                                         every_s=config.progress_every_s if log else float("inf"), unit="steps")
        self.values: dict[str, float] = {}
        self.val_pixel: float | None = None
        self.collapse = CollapseWatch()
        self.saved_step, self.last_path = run.start, run.checkpoints.newest()
        self.interval_start, self.interval_steps = time.monotonic(), 0

    def run(self) -> TrainResult:
        """Runs the steps to config.last_step or a stop signal; saves the last one."""
        run_start, step = time.monotonic(), self.run_.start
        with GracefulStop() as stop:
            for step in range(self.run_.start + 1, self.config.last_step + 1):
                self._step(step, stop)
                if stop.requested:
                    break
            if self.saved_step != step:
                with stop.saving():
                    self.last_path = self.run_.checkpoints.save_latest(step)
        self.writer.close()
        best = self.run_.best
        return TrainResult(step=step, stopped_by="signal" if stop.requested else "done", checkpoint=self.last_path,
                           losses=self.values,
                           steps_per_second=self.progress.done / max(time.monotonic() - run_start, 1e-9),
                           signum=stop.signum, best=best.so_far if best is not None else None,
                           warnings=tuple(self.collapse.warned))

    def _step(self, step: int, stop: GracefulStop) -> None:
        out = self.train_step(self._batch(step, stop))
        self.values = {key: float(out[key]) for key in SCALAR_KEYS}
        check_finite(step, self.values, self.guarded, self.last_path)
        self.state.step.assign(step)
        self.interval_steps += 1
        if step % self.config.summary_freq == 0:
            self._summaries(step, out, stop)
        self._save(step, stop)
        self.progress.update(1, extra=_format_losses(self.values, self.val_pixel))
        if self.on_step is not None:
            self.on_step(step, self.state)

    def _batch(self, step: int, stop: GracefulStop) -> dict[str, tf.Tensor]:
        """The next batch; an unreadable sample saves the steps done so far (resume after fixing it) and names it."""
        try:
            return next(self.iterator)
        except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError, tf.errors.FailedPreconditionError,
                tf.errors.PermissionDeniedError) as error:
            if self.saved_step != step - 1:
                with stop.saving():
                    self.run_.checkpoints.save_latest(step - 1)
            raise DataError(f"train: a sample of the batch for step {step} cannot be read: {error_summary(error)}"
                            ) from error

    def _summaries(self, step: int, out: dict[str, tf.Tensor], stop: GracefulStop) -> None:
        now = time.monotonic()
        rate = self.interval_steps / max(now - self.interval_start, 1e-9)
        self.interval_start, self.interval_steps = now, 0
        write_step_summaries(self.writer, step, self.values, float(self.state.optimizer.learning_rate.numpy()), rate,
                             out)
        self.collapse.check(step, out["disp"].numpy(), out["exp_mask"].numpy() if "exp_mask" in out else None)
        if self.run_.validation is not None:
            self.val_pixel = _score_validation(self.run_.validation, self.state, step, self.writer, self.run_.best,
                                               stop)

    def _save(self, step: int, stop: GracefulStop) -> None:
        """An epoch checkpoint at each epoch's end (if kept), else the latest every save_latest_freq steps or on a
        stop request."""
        checkpoints = self.run_.checkpoints
        with stop.saving():
            if step % self.run_.steps_per_epoch == 0 and self.config.max_checkpoints_to_keep > 0:
                self.last_path, self.saved_step = checkpoints.save_epoch(step), step
            elif step % self.config.save_latest_freq == 0 or stop.requested:
                self.last_path, self.saved_step = checkpoints.save_latest(step), step
