"""Depth latency of the exported models on the CPU: TensorFlow Lite (float32 and float16 weights) next to the Keras
DispNet (a tf.function), one uint8 image at a time at img_height x img_width, as sfm-predict runs a frame.

    python -m benchmarks.export_latency [--height 128 --width 416] [--repeats 20] [--threads N]

Prints one JSON line (see benchmarks/bench_utils.emit): milliseconds per image (min/median/max), the ratio to the
FLOP floor (DispNet's forward FLOPs at batch 1 / the float32 matmul rate measured before and after), "disturbed",
and the largest relative depth difference of each TFLite model from the Keras one on the timed image.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import tensorflow as tf

from benchmarks.bench_utils import RateCheck, emit, floor_ratio, summarize, time_repeats
from benchmarks.flops import graph_flops
from sfmlearner_tf.evaluation.depth_predict import to_network_range
from sfmlearner_tf.export import TfliteDepth, convert_to_tflite
from sfmlearner_tf.models import DispNet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=416)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--rate_size", type=int, default=2048, help="matrix size of the matmul-rate check")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="TFLite interpreter threads")
    args = parser.parse_args()
    tf.keras.utils.set_random_seed(0)
    net = DispNet().ensure_built()
    image = np.random.default_rng(0).integers(0, 256, (1, args.height, args.width, 3), dtype=np.uint8)
    keras_depth = tf.function(lambda x: 1.0 / net(x, training=False)[0][..., 0])
    network_input = tf.constant(to_network_range(image))
    reference = keras_depth(network_input).numpy()[0]
    flop = graph_flops(lambda x: net(x, training=False), tf.TensorSpec(image.shape, tf.float32))
    models = {f"tflite_{dtype}": TfliteDepth(convert_to_tflite(net, args.height, args.width, dtype),
                                             num_threads=args.threads) for dtype in ("float32", "float16")}
    check = RateCheck(args.rate_size).start()
    seconds = {"keras": summarize(time_repeats(lambda: keras_depth(network_input).numpy(), warmup=2,
                                               repeats=args.repeats), digits=6)}
    for name, model in models.items():
        seconds[name] = summarize(time_repeats(lambda m=model: m(image), warmup=2, repeats=args.repeats), digits=6)
    check.stop()
    floor = check.floor_seconds(flop)
    difference = {name: float(f"{np.max(np.abs(model(image) - reference) / reference):.2e}")
                  for name, model in models.items()}
    emit("export_latency",
         milliseconds_per_image={k: {s: round(v * 1e3, 2) for s, v in t.items()} for k, t in seconds.items()},
         ratio_to_floor={k: floor_ratio(t, floor) for k, t in seconds.items()}, floor_seconds=round(floor, 5),
         **check.fields(), max_relative_depth_difference=difference,
         img_height=args.height, img_width=args.width, tflite_threads=args.threads, repeats=args.repeats)

if __name__ == "__main__":
    main()
