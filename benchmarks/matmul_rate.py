"""The machine's float32 matmul rate in TensorFlow: the yardstick for the FLOP floors of the other benchmarks.

Usage: python -m benchmarks.matmul_rate [--size 2048] [--repeats 5] [--dtype float32]
Prints one JSON line with min/median/max GFLOP/s over the repeats.
"""

from __future__ import annotations

import argparse

import tensorflow as tf

from benchmarks.bench_utils import emit, matmul_gflops


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
