"""Distribution strategy and numeric precision for a training run."""

from __future__ import annotations

import functools
import os

import keras
import tensorflow as tf

from sfmlearner_tf.errors import ConfigError


def make_strategy(name: str) -> tf.distribute.Strategy:
    """"default" (one device), "mirrored" (all local GPUs, or the CPU) or "multi_worker_mirrored" (machines
    listed in TF_CONFIG; one per process, created before TensorFlow runs anything else)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker_mirrored":
        return _multi_worker_strategy()
    raise ConfigError(f"distribution_strategy must be default, mirrored or multi_worker_mirrored, got {name!r}")


@functools.cache
def _multi_worker_strategy() -> tf.distribute.Strategy:
    """The process's MultiWorkerMirroredStrategy: its collective ops can be configured only once, at start-up."""
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as error:
        raise ConfigError(f"distribution_strategy=multi_worker_mirrored: {error} (create it with make_strategy "
                          "before any other TensorFlow call of the process)") from error


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True unless this process is a non-chief worker of a multi-worker run (the chief is task "chief", or
    worker 0 when TF_CONFIG names no chief): only the chief keeps checkpoints and writes summaries."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type or resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict()


def worker_scratch_dir(checkpoint_dir: str, strategy: tf.distribute.Strategy) -> str | None:
    """None for the chief; for another worker, the folder its share of each save goes to (and is removed from):
    under MultiWorkerMirroredStrategy every worker must take part in a save, but only the chief's copy is kept."""
    if is_chief(strategy):
        return None
    return os.path.join(checkpoint_dir, f"workertemp_{strategy.cluster_resolver.task_id}")


def check_global_batch(batch_size: int, strategy: tf.distribute.Strategy) -> int:
    """The per-replica batch; the global batch must split evenly over the replicas."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ConfigError(f"batch_size {batch_size} (the global batch) is not divisible by the {replicas} replicas "
                          "of the distribution strategy")
    return batch_size // replicas


def precision_policy(mixed_precision: bool) -> str:
    """The Keras dtype policy of a run: "float32", or with mixed precision "mixed_float16" on a GPU and
    "mixed_bfloat16" on a CPU (CPUs have no fast float16 kernels, while bfloat16 convolutions run on the AMX /
    AVX512-BF16 units of recent x86 CPUs; the README's Performance section has the measured gain).
    Variables, the warp and the losses stay float32 either way."""
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
