"""The validation loss: the photometric (pixel) loss of the current nets on the first batches of the data set's
val split, read in order and without augmentation, so that successive points are comparable.

It reads no training RNG and no training batch, so a run's training numbers are the same with or without it.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from sfmlearner_tf.data.pipeline import make_dataset, num_samples
from sfmlearner_tf.errors import DataError, error_summary
from sfmlearner_tf.losses import LossConfig, compute_losses
from sfmlearner_tf.training.config import TrainConfig
from sfmlearner_tf.training.step import to_model_range


class ValidationLoss:
    """Callable `(depth_net, pose_exp_net) -> float`: the mean pixel loss over fixed batches (the training loss's
    pixel term, explainability-weighted when that branch is on)."""

    def __init__(self, batches: list[dict[str, tf.Tensor]], loss_config: LossConfig) -> None:
        self.batches = batches
        self.loss_config = loss_config
        self._pixel = tf.function(self._batch_pixel_loss, autograph=False)

    @property
    def num_batches(self) -> int:
        """How many batches the loss averages (losses on different numbers are not comparable)."""
        return len(self.batches)

    def __call__(self, depth_net: keras.Model, pose_exp_net: keras.Model) -> float:
        losses = [float(self._pixel(depth_net, pose_exp_net, batch)) for batch in self.batches]
        return sum(losses) / len(losses)

    def _batch_pixel_loss(self, depth_net: keras.Model, pose_exp_net: keras.Model,
                          batch: dict[str, tf.Tensor]) -> tf.Tensor:
        tgt = to_model_range(batch["tgt_image"])
        src = to_model_range(batch["src_image_stack"])
        disps = depth_net(tgt, training=False)
        poses, exp_logits = pose_exp_net(tgt, src, training=False)
        terms, _ = compute_losses(tgt, src, list(disps), poses, exp_logits, batch["intrinsics"],
                                  batch.get("boundary"), self.loss_config)
        return terms.pixel


def load_validation(config: TrainConfig) -> tuple[ValidationLoss | None, str]:
    """The validation loss of a run and a note on what it reads, or (None, why it is off)."""
    if config.val_batches == 0:
        return None, "validation off (--val_batches=0)"
    pipeline = config.pipeline("val", seed=config.seed, augment=False)
    try:
        available = num_samples(pipeline) // pipeline.batch_size
    except DataError as error:
        return None, f"no validation loss ({error})"
    if available == 0:
        return None, f"no validation loss (the val split has fewer samples than one batch of {pipeline.batch_size})"
    count = min(config.val_batches, available)
    try:
        batches = list(make_dataset(pipeline).take(count))
    except tf.errors.OpError as error:
        raise DataError(f"validation: a sample of the val split cannot be read: {error_summary(error)}") from error
    return ValidationLoss(batches, config.loss), f"validation loss on {count} val batch(es)"
