"""The train step: one tf.function that runs both nets, the 4-scale loss, gradients and one Adam update.

It is traced once (fixed batch shapes) and then runs without Python work; `trace_count` lets tests check that.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from sfmlearner_tf.losses import LossConfig, compute_losses
from sfmlearner_tf.training.adam import FusedAdam

SCALAR_KEYS = ("total", "pixel", "smooth", "exp", "seg", "weight_decay", "grad_norm")


def to_model_range(images: tf.Tensor) -> tf.Tensor:
    """uint8 images -> float32 in [-1, 1], as the original (convert_image_dtype, then x2 - 1)."""
    return tf.image.convert_image_dtype(images, tf.float32) * 2.0 - 1.0


def make_optimizer(learning_rate: float, beta1: float, beta2: float = 0.999, epsilon: float = 1e-8,
                   loss_scaling: bool = False) -> keras.optimizers.Optimizer:
    """Adam as tf.compat.v1.train.AdamOptimizer(lr, beta1): its fused kernel (FusedAdam), epsilon 1e-8 (Keras'
    default is 1e-7), no schedule, no clipping. With loss_scaling (float16 training) it is wrapped in a dynamic
    LossScaleOptimizer."""
    optimizer = FusedAdam(learning_rate=learning_rate, beta_1=beta1, beta_2=beta2, epsilon=epsilon)
    return keras.optimizers.LossScaleOptimizer(optimizer) if loss_scaling else optimizer


def kernel_l2(variables: Sequence[tf.Variable]) -> tf.Tensor:
    """Sum of tf.nn.l2_loss (= sum(w^2) / 2) over conv kernels, what slim's l2_regularizer would have added
    (biases excluded). The original declares it with scale 0.05 but never adds it to the loss."""
    kernels = [tf.cast(v, tf.float32) for v in variables if v.path.endswith("kernel")]
    return tf.add_n([tf.nn.l2_loss(k) for k in kernels])


class TrainStep:
    """Callable `step(batch) -> dict` running one joint update of DispNet and PoseExpNet.

    `batch` holds the pipeline's uint8 "tgt_image" [B,H,W,3], "src_image_stack" [B,H,W,3N], float32
    "intrinsics" [B,4,3,3] and, with the boundary loss, "boundary" [B,H,W,1]. Returned: scalar losses
    (SCALAR_KEYS, averaged over replicas) and, from the first replica, summary images "tgt_image", "disp",
    "projected", "exp_mask" (if exp), "boundary" (if given). Under a distribution strategy the batch must
    come from `strategy.experimental_distribute_dataset`; `batch_size` there is the global batch.
    """

    def __init__(self, depth_net: keras.Model, pose_exp_net: keras.Model, optimizer: keras.optimizers.Optimizer,
                 loss_config: LossConfig, weight_decay: float = 0.0,
                 strategy: tf.distribute.Strategy | None = None, jit_compile: bool = False) -> None:
        self.depth_net = depth_net
        self.pose_exp_net = pose_exp_net
        self.optimizer = optimizer
        self.loss_config = loss_config
        self.weight_decay = weight_decay
        self.strategy = strategy or tf.distribute.get_strategy()
        self.trace_count = 0
        # The forward and backward pass, XLA-compiled with jit_compile (the optimizer update stays outside).
        self.forward_backward = tf.function(self._losses_and_gradients, jit_compile=jit_compile, autograph=False)
        self._step = tf.function(self._distributed_step, autograph=False)

    @property
    def variables(self) -> list[tf.Variable]:
        """All trainable variables of both nets, trained jointly."""
        return self.depth_net.trainable_variables + self.pose_exp_net.trainable_variables

    def __call__(self, batch: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        return self._step(batch)

    def _losses_and_gradients(self, batch: dict[str, tf.Tensor]) -> tuple[dict, dict, list]:
        """Forward pass, loss terms and gradients on one replica's batch (XLA-compiled with jit_compile)."""
        tgt = to_model_range(batch["tgt_image"])
        src = to_model_range(batch["src_image_stack"])
        boundary = batch.get("boundary") if self.loss_config.lambda_seg > 0 else None
        variables = self.variables
        with tf.GradientTape() as tape:
            disps = [tf.cast(d, tf.float32) for d in self.depth_net(tgt, training=True)]
            poses, exp_logits = self.pose_exp_net(tgt, src, training=True)
            poses = tf.cast(poses, tf.float32)
            if exp_logits is not None:
                exp_logits = [tf.cast(m, tf.float32) for m in exp_logits]
            terms, images = compute_losses(tgt, src, disps, poses, exp_logits, batch["intrinsics"], boundary,
                                           self.loss_config)
            decay = self.weight_decay * kernel_l2(variables) if self.weight_decay > 0 else tf.constant(0.0)
            total = terms.total + decay
            # Gradients are summed over replicas by the optimizer, so each replica takes its share of the mean.
            scaled = total / self.strategy.num_replicas_in_sync
            if isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
                scaled = self.optimizer.scale_loss(scaled)
        grads = tape.gradient(scaled, variables)
        scalars = {"total": total, "pixel": terms.pixel, "smooth": terms.smooth, "exp": terms.exp,
                   "seg": terms.seg, "weight_decay": decay}
        summary_images = {"tgt_image": tgt, "disp": disps[0], "projected": images["projected"]}
        if "exp_mask" in images:
            summary_images["exp_mask"] = images["exp_mask"]
        if boundary is not None:
            summary_images["boundary"] = boundary
        return scalars, summary_images, grads

    def _replica_step(self, batch: dict[str, tf.Tensor]) -> tuple[dict, dict]:
        scalars, images, grads = self.forward_backward(batch)
        scalars["grad_norm"] = tf.linalg.global_norm(grads)
        self.optimizer.apply_gradients(zip(grads, self.variables))
        return scalars, images

    def _distributed_step(self, batch: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        self.trace_count += 1  # runs only while tracing
        scalars, images = self.strategy.run(self._replica_step, args=(batch,))
        out = {key: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
               for key, value in scalars.items()}
        out.update({key: self.strategy.experimental_local_results(value)[0] for key, value in images.items()})
        return out
