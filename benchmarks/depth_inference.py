"""Depth inference speed: DispNet images/s at 128x416 for batch 1 and batch 32 (plain tf.function, XLA, and the
mixed precision policy: bfloat16 on a CPU, float16 on a GPU), the forward pass that `run_eval.py` runs.

    python -m benchmarks.depth_inference [--repeats 5] [--batch_sizes 1 32]

Prints one JSON line (see benchmarks/bench_utils.emit).
"""

from __future__ import annotations

import argparse

import tensorflow as tf

from benchmarks.bench_utils import emit, median_seconds
from sfmlearner_tf.models import DispNet
from sfmlearner_tf.ops.precision import DtypePolicy, precision_policy


def images_per_second(net: DispNet, batch: int, height: int, width: int, jit: bool, repeats: int) -> float:
    """Median images/s of the full-resolution disparity for a batch of random images in [-1, 1]."""
    images = tf.cast(tf.random.uniform([batch, height, width, 3], -1.0, 1.0, seed=0), net.compute_dtype)
    predict = tf.function(lambda x: tf.cast(net(x)[0], tf.float32), jit_compile=jit)
    return batch / median_seconds(lambda: predict(images).numpy(), warmup=2, repeats=repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=416)
    parser.add_argument("--batch_sizes", type=int, nargs="+", default=[1, 32])
    args = parser.parse_args()
    net = DispNet().ensure_built()
    with DtypePolicy(precision_policy(True)):
        mixed_net = DispNet().ensure_built()
    rates = {}
    for batch in args.batch_sizes:
        for key, model, jit in (("xla_off", net, False), ("xla_on", net, True), ("mixed_precision", mixed_net, False)):
            rates[f"batch_{batch}_{key}"] = round(images_per_second(model, batch, args.height, args.width, jit,
                                                                    args.repeats), 2)
    emit("depth_inference", images_per_second=rates, img_height=args.height, img_width=args.width,
         repeats=args.repeats)


if __name__ == "__main__":
    main()
