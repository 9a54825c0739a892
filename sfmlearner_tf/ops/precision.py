"""Numeric precision: the Keras dtype policy of a run (float32, or mixed float16 / bfloat16), shared by training
and by inference on a restored network."""

from __future__ import annotations

import os

import keras
import tensorflow as tf

# /proc/cpuinfo flags of the x86 bfloat16 instructions (AVX512-BF16 on Cooper Lake and Zen 4 on, AMX on Sapphire
# Rapids on); $SFM_CPU_BFLOAT16=1/0 overrides the detection (the tests pin it to 0, so they compute the same
# everywhere).
NATIVE_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")
BFLOAT16_OVERRIDE = "SFM_CPU_BFLOAT16"


def cpuinfo_has_bfloat16(cpuinfo: str) -> bool:
    """True when a /proc/cpuinfo text lists one of NATIVE_BFLOAT16_FLAGS on its first processor's flags line."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return any(flag in line.split(":", 1)[-1].split() for flag in NATIVE_BFLOAT16_FLAGS)
    return False


def cpu_has_native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively ($SFM_CPU_BFLOAT16 first, then /proc/cpuinfo; False where
    neither says, e.g. off Linux)."""
    override = os.environ.get(BFLOAT16_OVERRIDE)
    if override is not None:
        return override.strip() not in ("", "0", "false", "no")
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            return cpuinfo_has_bfloat16(cpuinfo.read())
    except OSError:
        return False


def auto_mixed_precision() -> tuple[bool, str]:
    """The programs' default mixed_precision and why: on (bfloat16) on a machine without a GPU whose CPU has
    bfloat16 instructions, where it trains 1.2-1.4x faster with the same depth metrics (README, "Reduced
    precision"); off everywhere else, GPUs included (mixed float16 was not measured against float32 in training)."""
    if tf.config.list_physical_devices("GPU"):
        return False, "auto: a GPU is present; --mixed_precision for float16"
    if cpu_has_native_bfloat16():
        return True, "auto: this CPU has bfloat16 instructions; --nomixed_precision for float32"
    return False, "auto: this CPU has no bfloat16 instructions"


def precision_policy(mixed_precision: bool) -> str:
    """The Keras dtype policy of a run: "float32", or with mixed precision "mixed_float16" on a GPU and
    "mixed_bfloat16" on a CPU (float16 kernels are slow there, while bfloat16 convolutions run on the AMX /
    AVX512-BF16 units of recent x86 CPUs; the README's Performance section has the figures). Variables, the
    warp and the losses stay float32 either way."""
    if mixed_precision is None:
        raise ValueError("precision_policy: mixed_precision is None (auto); resolve it first (auto_mixed_precision)")
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
