"""Adam as the original's tf.compat.v1.train.AdamOptimizer ran it: TensorFlow's fused ApplyAdam kernel per variable.

Keras' Adam writes the update as a dozen element-wise ops, each a pass over 33M weights; the fused kernel reads the
weight, both moments and the gradient once. Same formula (epsilon outside the root), slots and checkpoints as
Keras' Adam, of which it is a subclass.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


class FusedAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam whose per-variable update is one ResourceApplyAdam call:

        alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
        m += (g - m) * (1 - beta1);  v += (g^2 - v) * (1 - beta2);  w -= alpha * m / (sqrt(v) + epsilon)

    with t the 1-based step, and beta1, beta2 taken as float32 as the original's kernel took them (so v's rate is
    1 - float32(0.999) = 9.9998713e-4; Keras' Adam uses 1e-3, from float64). Only the plain options (no amsgrad;
    weight decay, clipping and EMA are applied by the base class around the update, as for Keras' Adam)."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs) -> None:
        if kwargs.get("amsgrad"):
            raise ValueError("FusedAdam has no amsgrad variant; use keras.optimizers.Adam")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, **kwargs)

    def update_step(self, gradient, variable, learning_rate) -> None:
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle, v=self._velocities[index].handle,
            beta1_power=ops.power(beta_1, step), beta2_power=ops.power(beta_2, step),
            lr=ops.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2, epsilon=ops.cast(self.epsilon, dtype),
            grad=ops.cast(tf.convert_to_tensor(gradient), dtype), use_locking=False)
