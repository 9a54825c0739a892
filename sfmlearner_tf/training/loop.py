"""train(config): the training loop around TrainStep, with checkpoints, resume, summaries and progress lines."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import tensorflow as tf

from sfmlearner_tf.data.pipeline import PipelineConfig, check_dataset, make_dataset
from sfmlearner_tf.data.pipeline import steps_per_epoch as pipeline_steps_per_epoch
from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.losses import LossConfig
from sfmlearner_tf.models import DispNet, PoseExpNet
from sfmlearner_tf.progress import ProgressReporter
from sfmlearner_tf.run_record import training_record, write_run_record
from sfmlearner_tf.training.checkpoints import TrainCheckpoints, init_from_checkpoint, make_checkpoint
from sfmlearner_tf.training.config import TrainConfig
from sfmlearner_tf.training.distribute import (
    DtypePolicy,
    check_global_batch,
    make_strategy,
    needs_loss_scaling,
    precision_policy,
)
from sfmlearner_tf.training.guards import GracefulStop, check_finite
from sfmlearner_tf.training.step import SCALAR_KEYS, TrainStep, make_optimizer
from sfmlearner_tf.training.summaries import write_step_summaries


@dataclass(frozen=True)
class TrainResult:
    """How a run ended: `stopped_by` is "done" or "signal" (then `signum` is set); `step` is the last finished
    step, `checkpoint` the newest checkpoint written, `losses` the last step's scalars."""

    step: int
    stopped_by: str
    checkpoint: str | None
    losses: dict[str, float] = field(default_factory=dict)
    steps_per_second: float = 0.0
    signum: int | None = None


@dataclass
class TrainState:
    """The objects a run trains and checkpoints."""

    depth_net: DispNet
    pose_exp_net: PoseExpNet
    optimizer: keras.optimizers.Optimizer
    step: tf.Variable
    rng: tf.random.Generator


def loss_config(config: TrainConfig) -> LossConfig:
    """The loss settings of a run."""
    return LossConfig(smooth_weight=config.smooth_weight, explain_reg_weight=config.explain_reg_weight,
                      lambda_seg=config.lambda_seg, seg_gradient_order=config.seg_gradient_order,
                      seg_reduction=config.seg_reduction, seg_num_scales=config.seg_num_scales,
                      sampler_mode=config.sampler_mode)


def build_state(config: TrainConfig) -> TrainState:
    """Creates and builds both nets and Adam (inside the current strategy scope and dtype policy)."""
    depth_net = DispNet().ensure_built()
    pose_exp_net = PoseExpNet(num_source=config.num_source, do_exp=config.do_exp).ensure_built()
    optimizer = make_optimizer(config.learning_rate, config.beta1, config.beta2, config.epsilon,
                               needs_loss_scaling(keras.config.dtype_policy().name))
    optimizer.build(depth_net.trainable_variables + pose_exp_net.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    rng = tf.random.Generator.from_seed(config.seed)
    return TrainState(depth_net, pose_exp_net, optimizer, step, rng)


def restore_or_init(config: TrainConfig, state: TrainState, checkpoints: TrainCheckpoints) -> str:
    """Resumes (--continue_train: everything, Adam included, from the newest checkpoint in checkpoint_dir) or
    initialises from --init_checkpoint_file (weights; Adam too for our files unless --restart_optimizer).
    A resumed run never restarts Adam again. Returns a one-line description of what happened."""
    newest = checkpoints.newest()
    if newest is not None and not config.continue_train:
        raise ConfigError(f"{config.checkpoint_dir} already holds checkpoints (newest {newest}); pass "
                          "--continue_train to resume, or choose another --checkpoint_dir")
    if newest is not None:
        checkpoints.restore_newest()
        return f"resumed from {newest} at step {int(state.step.numpy())}"
    if config.init_checkpoint_file:
        optimizer = None if config.restart_optimizer else state.optimizer
        info = init_from_checkpoint(config.init_checkpoint_file, state.depth_net, state.pose_exp_net, optimizer)
        adam = "fresh Adam" if optimizer is None or info["kind"] == "tf1" else "Adam state restored"
        return f"initialised from {info['checkpoint']} ({info['kind']}, {adam})"
    return "fresh start"


def pipeline_config(config: TrainConfig, seed: int) -> PipelineConfig:
    """The input pipeline settings of a run (training split, global batch, boundary panel iff lambda_seg > 0)."""
    if config.data_source == "folder" and not config.dataset_dir:
        raise ConfigError("dataset_dir is empty: point it at a folder of prepared samples (train.txt)")
    return PipelineConfig(dataset_dir=config.dataset_dir, batch_size=config.batch_size,
                          img_height=config.img_height, img_width=config.img_width, seq_length=config.seq_length,
                          with_boundary=config.with_boundary, augment=config.augment, seed=seed, split="train",
                          source=config.data_source, tfds_data_dir=config.tfds_data_dir or "")


def _format_losses(values: dict[str, float]) -> str:
    return " ".join(f"{key} {values[key]:.4f}" for key in ("total", "pixel", "smooth", "exp", "seg")
                    if key == "total" or values[key] != 0.0)


def train(config: TrainConfig, dataset: tf.data.Dataset | None = None, steps_per_epoch: int | None = None,
          log: bool = True) -> TrainResult:
    """Trains DispNet and PoseExpNet jointly for steps (start + 1) .. config.last_step.

    Reads the prepared samples of config.dataset_dir (or `dataset`, a repeating tf.data.Dataset of batches in the
    pipeline's format, with its `steps_per_epoch`). Writes TensorBoard events and checkpoints to
    config.checkpoint_dir. A SIGINT/SIGTERM ends the current step, saves, and returns with stopped_by="signal";
    a non-finite loss raises NonFiniteLossError without saving.
    """
    if dataset is None:
        check_dataset(pipeline_config(config, config.seed))  # fail on bad data before building the nets
    elif steps_per_epoch is None:
        raise ConfigError("train: pass steps_per_epoch together with dataset")
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.distribution_strategy)
    check_global_batch(config.batch_size, strategy)
    with DtypePolicy(precision_policy(config.mixed_precision)), strategy.scope():
        state = build_state(config)
    checkpoint = make_checkpoint(state.depth_net, state.pose_exp_net, state.optimizer, state.step, state.rng)
    checkpoints = TrainCheckpoints(checkpoint, config.checkpoint_dir, config.max_checkpoints_to_keep)
    start_note = restore_or_init(config, state, checkpoints)
    write_run_record(config.checkpoint_dir, training_record(config))  # what prediction and evaluation read
    start = int(state.step.numpy())
    # A fresh draw per (re)start, so a resumed run does not replay the first batches; the RNG is checkpointed.
    data_seed = int(state.rng.uniform([], 0, 2**31 - 1, dtype=tf.int64).numpy())
    if dataset is None:
        pipeline = pipeline_config(config, data_seed)
        dataset, steps_per_epoch = make_dataset(pipeline).repeat(), pipeline_steps_per_epoch(pipeline)
    train_step = TrainStep(state.depth_net, state.pose_exp_net, state.optimizer, loss_config(config),
                           config.weight_decay, strategy, config.jit_compile)
    iterator = iter(strategy.experimental_distribute_dataset(dataset))
    writer = tf.summary.create_file_writer(config.checkpoint_dir)
    # A loss-scaled (float16) run skips steps with Inf gradients by design, so only the loss is guarded there.
    loss_scaled = isinstance(state.optimizer, keras.optimizers.LossScaleOptimizer)
    guarded = ("total",) if loss_scaled else ("total", "grad_norm")
    total_steps = max(config.last_step - start, 0)
    if log:
        print(f"train: {start_note}; steps {start + 1}..{config.last_step}, {steps_per_epoch} steps per epoch, "
              f"global batch {config.batch_size} on {strategy.num_replicas_in_sync} replica(s)", flush=True)
    progress = ProgressReporter(total_steps, "train", every_s=config.progress_every_s if log else float("inf"),
                                unit="steps")
    values: dict[str, float] = {}
    saved_step, last_path, step = start, checkpoints.newest(), start
    run_start = interval_start = time.monotonic()
    interval_steps, rate = 0, 0.0
    with GracefulStop() as stop:
        for step in range(start + 1, config.last_step + 1):
            try:
                batch = next(iterator)
            except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as error:
                if saved_step != step - 1:  # keep the steps done so far; resume after fixing the sample
                    checkpoints.save_latest(step - 1)
                raise DataError(f"train: a sample of the batch for step {step} cannot be read: {error.message}"
                                ) from error
            out = train_step(batch)
            values = {key: float(out[key]) for key in SCALAR_KEYS}
            check_finite(step, values, guarded)
            state.step.assign(step)
            interval_steps += 1
            if step % config.summary_freq == 0:
                now = time.monotonic()
                rate = interval_steps / max(now - interval_start, 1e-9)
                interval_start, interval_steps = now, 0
                write_step_summaries(writer, step, values, float(state.optimizer.learning_rate), rate, out)
            if step % steps_per_epoch == 0:
                last_path, saved_step = checkpoints.save_epoch(step), step
            elif step % config.save_latest_freq == 0 or stop.requested:
                last_path, saved_step = checkpoints.save_latest(step), step
            progress.update(1, extra=_format_losses(values))
            if stop.requested:
                break
        if saved_step != step:
            last_path = checkpoints.save_latest(step)
    writer.close()
    stopped_by = "signal" if stop.requested else "done"
    if log:
        print(f"train: {stopped_by} at step {step}; checkpoint {last_path}", flush=True)
    return TrainResult(step=step, stopped_by=stopped_by, checkpoint=last_path, losses=values,
                       steps_per_second=progress.done / max(time.monotonic() - run_start, 1e-9),
                       signum=stop.signum)

