"""The machine's float32 matmul rate in TensorFlow: the yardstick for the train step's FLOP floor (issue 8).

Usage: python benchmarks/matmul_rate.py [--size 2048]
"""

from __future__ import annotations

import argparse

import tensorflow as tf

from benchmarks.bench_utils import emit, median_seconds


def matmul_gflops(size: int, repeats: int = 5) -> float:
    """Median GFLOP/s of a float32 [size x size] @ [size x size] product (2*size^3 FLOP)."""
    a = tf.random.uniform([size, size], dtype=tf.float32)
    b = tf.random.uniform([size, size], dtype=tf.float32)
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    seconds = median_seconds(lambda: product().numpy(), warmup=2, repeats=repeats)
    return 2.0 * size**3 / seconds / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=2048)
    args = parser.parse_args()
    emit("matmul_rate", size=args.size, gflops=round(matmul_gflops(args.size), 2))


if __name__ == "__main__":
    main()
