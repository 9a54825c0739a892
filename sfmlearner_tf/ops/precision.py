"""Numeric precision: the Keras dtype policy of a run (float32, or mixed float16 / bfloat16), shared by training
and by inference on a restored network."""

from __future__ import annotations

import keras
import tensorflow as tf


def precision_policy(mixed_precision: bool) -> str:
    """The Keras dtype policy of a run: "float32", or with mixed precision "mixed_float16" on a GPU and
    "mixed_bfloat16" on a CPU (float16 kernels are slow there, while bfloat16 convolutions run on the AMX /
    AVX512-BF16 units of recent x86 CPUs; the README's Performance section has the figures). Variables, the
    warp and the losses stay float32 either way."""
    if not mixed_precision:
        return "float32"
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def needs_loss_scaling(policy: str) -> bool:
    """float16 gradients underflow without loss scaling; bfloat16 has float32's exponent range and needs none."""
    return policy == "mixed_float16"


class DtypePolicy:
    """Context manager setting Keras' global dtype policy for model creation, restoring the previous one."""

    def __init__(self, policy: str) -> None:
        self.policy = policy
        self._previous: keras.DTypePolicy | None = None

    def __enter__(self) -> DtypePolicy:
        self._previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.policy)
        return self

    def __exit__(self, *exc_info: object) -> None:
        keras.config.set_dtype_policy(self._previous)
