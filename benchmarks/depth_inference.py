"""Depth inference speed: DispNet images/s at 128x416 for batch 1 and batch 32 along each inference path
(benchmarks/inference_paths.py: an eager Keras call, the library path (a tf.function), XLA, a frozen graph,
TFLite, mixed precision), against the FLOP floor measured in the same run.

    python -m benchmarks.depth_inference [--repeats 5] [--batch_sizes 1 32] [--paths keras_eager,xla,...]

One JSON line per path and batch size: seconds per batch and images/s (min/median/max), the ratio to the floor
(DispNet's forward FLOPs of the batch / the float32 matmul rate, the higher of the rates measured before and after
all timings), "disturbed" when those two rates differ by more than 10 %, and the path's largest relative depth
difference from keras_eager on the timed batch. The paths are timed in rounds (one call of each per round), so a
slow spell of the machine falls on all of them alike.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import tensorflow as tf

from benchmarks.bench_utils import RateCheck, emit, floor_ratio, per_second, summarize, time_interleaved
from benchmarks.flops import graph_flops
from benchmarks.inference_paths import PATHS, make_path, max_relative_difference
from sfmlearner_tf.models import DispNet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=416)
    parser.add_argument("--batch_sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--paths", type=lambda s: s.split(","), default=list(PATHS),
                        help=f"comma-separated subset of {','.join(PATHS)}")
    parser.add_argument("--tflite_threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rate_size", type=int, default=2048, help="matrix size of the matmul-rate check")
    args = parser.parse_args()
    unknown = sorted(set(args.paths) - set(PATHS))
    if unknown:
        raise SystemExit(f"depth_inference: unknown path(s) {unknown}; choose from {list(PATHS)}")
    tf.keras.utils.set_random_seed(0)
    net = DispNet().ensure_built()
    check = RateCheck(args.rate_size).start()
    rows = []
    for batch in args.batch_sizes:
        images = np.random.default_rng(0).integers(0, 256, (batch, args.height, args.width, 3), dtype=np.uint8)
        flop = graph_flops(lambda x: net(x, training=False), tf.TensorSpec(images.shape, tf.float32))
        reference = make_path("keras_eager", net, batch, args.height, args.width)(images)
        paths = {name: make_path(name, net, batch, args.height, args.width, args.tflite_threads)
                 for name in args.paths}
        timings = time_interleaved({name: lambda d=depth, x=images: d(x) for name, depth in paths.items()},
                                   warmup=2, repeats=args.repeats)
        rows += [(name, batch, flop, summarize(timings[name]), max_relative_difference(depth(images), reference))
                 for name, depth in paths.items()]
    check.stop()
    for name, batch, flop, seconds, difference in rows:
        floor = check.floor_seconds(flop)
        emit("depth_inference", path=name, batch_size=batch, seconds_per_batch=seconds,
             images_per_second=per_second(seconds, batch), ratio_to_floor=floor_ratio(seconds, floor),
             floor_seconds=round(floor, 4), gflop=round(flop / 1e9, 2),
             max_relative_depth_difference=float(f"{difference:.2e}"), **check.fields(),
             img_height=args.height, img_width=args.width, repeats=args.repeats,
             tflite_threads=args.tflite_threads if name == "tflite" else None)


if __name__ == "__main__":
    main()
