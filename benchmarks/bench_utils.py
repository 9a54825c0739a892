"""Shared helpers for the benchmark scripts: machine description, repeated timing with min/median/max, the
matmul-rate check that flags a disturbed run, the ratio to the FLOP floor, peak memory, JSON output.

On a shared machine one figure can be off by 2x, so every timing is reported as min/median/max over its repeats,
and the float32 matmul rate is measured before and after the timings: when the two differ by more than
DISTURBANCE_TOLERANCE the run says `"disturbed": true` (something else took the cores meanwhile).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

DISTURBANCE_TOLERANCE = 0.10  # matmul rates before / after the timings may differ by this fraction


def machine_info() -> dict[str, Any]:
    """CPU model, core count, TF version and visible GPUs, so every figure says where it was taken."""
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return {"cpu": cpu, "cores": os.cpu_count(), "gpus": gpus, "tensorflow": tf.__version__,
            "python": platform.python_version()}


def time_repeats(fn: Callable[[], Any], warmup: int = 2, repeats: int = 5) -> list[float]:
    """Wall seconds of each of `repeats` calls of `fn()`, after `warmup` untimed calls (tracing, compilation)."""
    return time_interleaved({"fn": fn}, warmup, repeats)["fn"]


def time_interleaved(fns: dict[str, Callable[[], Any]], warmup: int = 2, repeats: int = 5) -> dict[str, list[float]]:
    """Wall seconds of `repeats` calls of each function, taken in rounds (one call of each per round) after
    `warmup` untimed calls of each: a slow spell of a shared machine then falls on every candidate alike
    instead of on whichever ran during it."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def summarize(values: Sequence[float], digits: int = 4) -> dict[str, float]:
    """{"min", "median", "max"} of repeated measurements, rounded to `digits` decimals."""
    if not values:
        raise ValueError("no measurements to summarize")
    return {"min": round(min(values), digits), "median": round(statistics.median(values), digits),
            "max": round(max(values), digits)}


def per_second(seconds: dict[str, float], items: float, digits: int = 2) -> dict[str, float]:
    """A {"min", "median", "max"} of seconds per call turned into items per second (min seconds = max rate)."""
    return {"min": round(items / seconds["max"], digits), "median": round(items / seconds["median"], digits),
            "max": round(items / seconds["min"], digits)}


def floor_ratio(seconds: dict[str, float], floor_seconds: float, digits: int = 2) -> dict[str, float]:
    """Each of min/median/max seconds divided by the floor: 1.0 would run every FLOP at the matmul rate."""
    if floor_seconds <= 0:
        raise ValueError(f"the floor must be positive, got {floor_seconds}")
    return {key: round(value / floor_seconds, digits) for key, value in seconds.items()}


def is_disturbed(rate_before: float, rate_after: float, tolerance: float = DISTURBANCE_TOLERANCE) -> bool:
    """True when the larger matmul rate exceeds the smaller by more than `tolerance` (a fraction of the smaller):
    the machine's speed changed while the timings ran."""
    low, high = sorted((rate_before, rate_after))
    if low <= 0:
        return True
    return high / low - 1.0 > tolerance


def matmul_gflops(size: int, repeats: int = 5, dtype: Any = None, device: str | None = None
                  ) -> dict[str, float]:
    """{"min", "median", "max"} GFLOP/s of a [size x size] @ [size x size] product (2*size^3 FLOP) in `dtype`,
    on `device` (TF's default placement when None). `dtype` is a tf.DType, float32 when None."""
    import tensorflow as tf

    dtype = dtype or tf.float32
    with tf.device(device) if device else contextlib.nullcontext():
        a = tf.random.uniform([size, size], dtype=tf.float32)
        b = tf.random.uniform([size, size], dtype=tf.float32)
        a, b = tf.cast(a, dtype), tf.cast(b, dtype)
        # The reduce_sum brings one number back, so the time is the product's, not a copy of the result.
        product = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b), tf.float32)))
        seconds = summarize(time_repeats(lambda: product().numpy(), warmup=2, repeats=repeats), digits=6)
    return per_second(seconds, 2.0 * size**3 / 1e9, digits=1)


class RateCheck:
    """Measures the float32 matmul rate (GFLOP/s) at `start()` and `stop()`; `fields()` reports both, the
    disturbance flag, and `floor_seconds(flop)` uses the higher rate (the machine's best shown speed)."""

    def __init__(self, size: int = 2048, repeats: int = 5) -> None:
        self.size, self.repeats = size, repeats
        self.before: float | None = None
        self.after: float | None = None

    def _measure(self) -> float:
        return matmul_gflops(self.size, self.repeats)["median"]

    def start(self) -> RateCheck:
        self.before = self._measure()
        return self

    def stop(self) -> RateCheck:
        self.after = self._measure()
        return self

    @property
    def gflops(self) -> float:
        """The higher of the rates measured so far."""
        rates = [r for r in (self.before, self.after) if r is not None]
        if not rates:
            raise RuntimeError("RateCheck: no rate measured yet (call start() first)")
        return max(rates)

    def floor_seconds(self, flop: float) -> float:
        """Seconds `flop` floating-point operations would take at the matmul rate."""
        return flop / (self.gflops * 1e9)

    def fields(self) -> dict[str, Any]:
        """The JSON fields: rates before and after, and whether they disagree (None before stop())."""
        disturbed = None if self.before is None or self.after is None else is_disturbed(self.before, self.after)
        return {"matmul_gflops_before": None if self.before is None else round(self.before, 1),
                "matmul_gflops_after": None if self.after is None else round(self.after, 1),
                "disturbed": disturbed}


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB: Linux's VmHWM, the high-water mark of this program's
    own memory. (ru_maxrss is not used where VmHWM exists: Linux carries the parent's peak into it across fork and
    exec, so a child started by a big process would report at least the parent's size.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def failure_line(stderr: str) -> str:
    """What a failed child process said last: its stderr's last line that is not one of TensorFlow's C++ log
    records (a child's captured stderr does not pass through the programs' filter)."""
    from sfmlearner_tf.quiet import is_native_log_line

    own = [line for line in stderr.strip().splitlines() if not is_native_log_line(line.encode())]
    return own[-1] if own else "no output"


def emit(name: str, **fields: Any) -> None:
    """Prints one JSON line: the benchmark's name, its fields, the peak memory (this process's, unless the fields
    bring a child process's "peak_rss_mib") and the machine."""
    record = {"benchmark": name, **fields}
    record.setdefault("peak_rss_mib", round(peak_rss_mib(), 1))
    record["machine"] = machine_info()
    print(json.dumps(record, sort_keys=False), flush=True)
