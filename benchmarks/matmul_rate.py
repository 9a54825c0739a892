"""The machine's float32 matmul rate in TensorFlow: the yardstick for the FLOP floors of the other benchmarks.

Usage: python -m benchmarks.matmul_rate [--size 2048] [--repeats 5] [--dtype float32]
Prints one JSON line with min/median/max GFLOP/s over the repeats.
"""

from __future__ import annotations

import argparse
import contextlib

import tensorflow as tf

from benchmarks.bench_utils import emit, per_second, summarize, time_repeats


def matmul_gflops(size: int, repeats: int = 5, dtype: tf.DType = tf.float32, device: str | None = None
                  ) -> dict[str, float]:
    """{"min", "median", "max"} GFLOP/s of a [size x size] @ [size x size] product (2*size^3 FLOP) in `dtype`,
    on `device` (TF's default placement when None)."""
    with tf.device(device) if device else contextlib.nullcontext():
        a = tf.random.uniform([size, size], dtype=tf.float32)
        b = tf.random.uniform([size, size], dtype=tf.float32)
        a, b = tf.cast(a, dtype), tf.cast(b, dtype)
        # The reduce_sum brings one number back, so the time is the product's, not a copy of the result.
        product = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b), tf.float32)))
        seconds = summarize(time_repeats(lambda: product().numpy(), warmup=2, repeats=repeats), digits=6)
    return per_second(seconds, 2.0 * size**3 / 1e9, digits=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    args = parser.parse_args()
    emit("matmul_rate", size=args.size, dtype=args.dtype, repeats=args.repeats,
         gflops=matmul_gflops(args.size, args.repeats, tf.as_dtype(args.dtype)))


if __name__ == "__main__":
    main()
