"""Median seconds per train step after warm-up (batch 4, 128x416, 3 frames) with the boundary loss on/off, XLA
off / on for the whole forward and backward pass, and mixed precision (bfloat16 on a
CPU, float16 on a GPU), against the machine's FLOP floor measured in the same run.

    python -m benchmarks.train_step [--repeats 5] [--height 128 --width 416] [--batch_size 4]

The floor is the step's FLOPs (3 x the forward FLOPs of both nets, from TF's profiler) divided by the float32
matmul rate measured here and now (benchmarks/matmul_rate.py); `ratio_to_floor` = seconds / floor.
Prints one JSON line (see benchmarks/bench_utils.emit).
"""

from __future__ import annotations

import argparse

import numpy as np
import tensorflow as tf

from benchmarks.bench_utils import emit, median_seconds
from benchmarks.flops import forward_flops, train_step_flops
from benchmarks.matmul_rate import matmul_gflops
from sfmlearner_tf.ops.precision import DtypePolicy, precision_policy
from sfmlearner_tf.training import TrainConfig, TrainStep, build_state


def synthetic_batch(batch: int, height: int, width: int, seq_length: int, boundary: bool) -> dict[str, tf.Tensor]:
    """Random uint8 frames, KITTI-like intrinsics per scale and (optionally) a random boundary image."""
    rng = np.random.default_rng(0)
    k = np.array([[0.58 * width, 0, width / 2], [0, 1.92 * height, height / 2], [0, 0, 1]], np.float32)
    scales = np.stack([k / np.array([[2.0**s], [2.0**s], [1.0]], np.float32) for s in range(4)])
    out = {"tgt_image": tf.constant(rng.integers(0, 256, (batch, height, width, 3), dtype=np.uint8)),
           "src_image_stack": tf.constant(rng.integers(0, 256, (batch, height, width, 3 * (seq_length - 1)),
                                                       dtype=np.uint8)),
           "intrinsics": tf.constant(np.broadcast_to(scales, (batch, 4, 3, 3)).copy())}
    if boundary:
        out["boundary"] = tf.constant(rng.random((batch, height, width, 1), dtype=np.float32))
    return out


def time_step(config: TrainConfig, repeats: int) -> float:
    """Median seconds of one train step (2 untimed warm-up steps include tracing and compilation)."""
    with DtypePolicy(precision_policy(config.distribution.mixed_precision)):
        state = build_state(config)
    step = TrainStep(state.depth_net, state.pose_exp_net, state.optimizer, config.loss,
                     jit_compile=config.distribution.jit_compile)
    data = config.data
    batch = synthetic_batch(data.batch_size, data.img_height, data.img_width, data.seq_length, data.with_boundary)
    return median_seconds(lambda: float(step(batch)["total"]), warmup=2, repeats=repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=416)
    parser.add_argument("--batch_size", type=int, default=4)
    args = parser.parse_args()
    base = TrainConfig.from_settings(img_height=args.height, img_width=args.width, batch_size=args.batch_size)
    state = build_state(base)
    forward = forward_flops(state.depth_net, state.pose_exp_net, args.batch_size, args.height, args.width,
                            base.data.num_source)
    step_gflop = train_step_flops(forward) / 1e9
    gflops = matmul_gflops(2048)
    floor_s = step_gflop / gflops
    variants = {"boundary_off": {}, "boundary_on": {"lambda_seg": 2.5},
                "boundary_on_xla_all": {"lambda_seg": 2.5, "jit_compile": True},
                "boundary_on_mixed_precision": {"lambda_seg": 2.5, "mixed_precision": True}}
    seconds, ratios = {}, {}
    for key, changes in variants.items():
        seconds[key] = round(time_step(base.replace(**changes), args.repeats), 4)
        ratios[key] = round(seconds[key] / floor_s, 2)
    emit("train_step", seconds_per_step=seconds, ratio_to_floor=ratios, step_gflop=round(step_gflop, 1),
         forward_gflop={name: round(value / 1e9, 2) for name, value in forward.items()},
         matmul_gflops=round(gflops, 1), floor_seconds=round(floor_s, 3),
         precision=precision_policy(True), batch_size=args.batch_size,
         img_height=args.height, img_width=args.width, seq_length=3, repeats=args.repeats)


if __name__ == "__main__":
    main()
