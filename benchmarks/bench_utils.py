"""Shared helpers for the benchmark scripts: machine description, median timing, peak memory, JSON output."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any


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


def median_seconds(fn: Callable[[], Any], warmup: int = 2, repeats: int = 5) -> float:
    """Median wall time of `fn()` over `repeats` runs after `warmup` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(name: str, **fields: Any) -> None:
    """Prints one JSON line: the benchmark's name, its fields, the machine and the peak memory."""
    record = {"benchmark": name, **fields, "peak_rss_mib": round(peak_rss_mib(), 1), "machine": machine_info()}
    print(json.dumps(record, sort_keys=False))
