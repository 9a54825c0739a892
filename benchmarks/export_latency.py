"""Depth latency of the exported models on the CPU: TensorFlow Lite (float32 and float16 weights) next to the Keras
DispNet (a tf.function), one uint8 image at a time at img_height x img_width, as sfm-predict runs a frame.

    python -m benchmarks.export_latency [--height 128 --width 416] [--repeats 20] [--threads N]

Prints one JSON line (see benchmarks/bench_utils.emit): milliseconds per image (median) and the largest relative
depth difference of each TFLite model from the Keras one on the timed image.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import tensorflow as tf

from benchmarks.bench_utils import emit, median_seconds
from sfmlearner_tf.evaluation.depth_predict import to_network_range
from sfmlearner_tf.export import TfliteDepth, convert_to_tflite
from sfmlearner_tf.models import DispNet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=416)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="TFLite interpreter threads")
    args = parser.parse_args()
    tf.keras.utils.set_random_seed(0)
    net = DispNet().ensure_built()
    image = np.random.default_rng(0).integers(0, 256, (1, args.height, args.width, 3), dtype=np.uint8)
    keras_depth = tf.function(lambda x: 1.0 / net(x, training=False)[0][..., 0])
    network_input = tf.constant(to_network_range(image))
    reference = keras_depth(network_input).numpy()[0]
    milliseconds = {"keras": 1e3 * median_seconds(lambda: keras_depth(network_input).numpy(), warmup=2,
                                                  repeats=args.repeats)}
    difference = {}
    for dtype in ("float32", "float16"):
        model = TfliteDepth(convert_to_tflite(net, args.height, args.width, dtype), num_threads=args.threads)
        milliseconds[f"tflite_{dtype}"] = 1e3 * median_seconds(lambda m=model: m(image), warmup=2,
                                                               repeats=args.repeats)
        difference[f"tflite_{dtype}"] = float(np.max(np.abs(model(image) - reference) / reference))
    emit("export_latency", milliseconds_per_image={k: round(v, 2) for k, v in milliseconds.items()},
         max_relative_depth_difference={k: float(f"{v:.2e}") for k, v in difference.items()},
         img_height=args.height, img_width=args.width, tflite_threads=args.threads, repeats=args.repeats)


if __name__ == "__main__":
    main()
