"""Mask R-CNN inference speed at the 416x128 target-frame size, per resizing option (images/s min/median/max over
the repeats, one warm-up call each; "disturbed" from the matmul-rate check); prints one JSON line.

Random weights in the COCO file's exact layout are written to a temporary file and loaded through the real
loader (speed does not depend on the values). Run: `python benchmarks/mask_rcnn.py [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from benchmarks.bench_utils import RateCheck, emit, per_second, summarize, time_repeats
from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.h5_layout import coco_layout, random_weights, write_keras2_weights
from mask_rcnn_prep.inference import MaskRcnnPredictor
from mask_rcnn_prep.molding import resize_plan

OPTIONS = {
    "square1024": MaskRcnnConfig(),  # matterport's default
    "square512": MaskRcnnConfig(image_max_dim=512),
    "pad64_256": MaskRcnnConfig(resize_mode="pad64", image_min_dim=256),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch_size", type=int, default=1)
    parser.add_argument("--rate_size", type=int, default=2048, help="matrix size of the matmul-rate check")
    parser.add_argument("--options", default=",".join(OPTIONS), help=f"comma-separated subset of {list(OPTIONS)}")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    batch = [rng.integers(0, 256, (128, 416, 3), dtype=np.uint8) for _ in range(args.batch_size)]
    gpus = tf.config.list_physical_devices("GPU")
    results = {}
    check = RateCheck(args.rate_size).start()
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "random_mask_rcnn_coco.h5"
        write_keras2_weights(weights, random_weights(coco_layout()))
        for name in args.options.split(","):
            config = OPTIONS[name]
            plan = resize_plan(128, 416, config)
            predictor = MaskRcnnPredictor(weights, config)
            results[name] = {
                "network_input": f"{plan.padded_hw[1]}x{plan.padded_hw[0]}",
                "images_per_s": per_second(summarize(time_repeats(lambda p=predictor: p.detect(batch), warmup=1,
                                                                  repeats=args.repeats), digits=5), len(batch), 3),
            }
    check.stop()
    emit("mask_rcnn_inference", frame="416x128", batch_size=args.batch_size, repeats=args.repeats,
         device="GPU" if gpus else "CPU", results=results, **check.fields())


if __name__ == "__main__":
    main()
