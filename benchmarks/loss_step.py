"""Time of `compute_losses` forward + backward (w.r.t. disparities, poses and mask logits) on random inputs.

Usage: python benchmarks/loss_step.py [--batch 4 --height 128 --width 416 --seq_length 3 --lambda_seg 2.5
       --explain_reg_weight 0 --sampler library|literal --xla]
Prints one JSON line with the min/median/max milliseconds of repeated runs after warm-up, and the matmul-rate
check (benchmarks/bench_utils.RateCheck: "disturbed" when the machine's speed changed meanwhile).
--sampler literal swaps in the first formulation tried, the original's own arithmetic (each corner index clipped,
weights from the clipped indices, four separate corner indices), kept here so that the comparison with the
library's sampler can be re-run.
"""

from __future__ import annotations

import argparse

import tensorflow as tf

from benchmarks.bench_utils import RateCheck, emit, summarize, time_repeats
from sfmlearner_tf import geometry
from sfmlearner_tf.losses import LossConfig, compute_losses


def literal_legacy_sampler(images: tf.Tensor, coords: tf.Tensor, mode: str = "legacy") -> tf.Tensor:
    """Legacy sampler as the original writes it: clipped corner indices, weights from the clipped indices."""
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    x, y = coords[..., 0], coords[..., 1]
    x_max, y_max = tf.cast(width - 1, tf.float32), tf.cast(height - 1, tf.float32)
    x0, y0 = tf.floor(x), tf.floor(y)
    x0c, x1c = tf.clip_by_value(x0, 0.0, x_max), tf.clip_by_value(x0 + 1.0, 0.0, x_max)
    y0c, y1c = tf.clip_by_value(y0, 0.0, y_max), tf.clip_by_value(y0 + 1.0, 0.0, y_max)
    wx0, wx1 = (x1c - x)[..., None], (x - x0c)[..., None]
    wy0, wy1 = (y1c - y)[..., None], (y - y0c)[..., None]
    base = tf.reshape(tf.range(batch) * height * width, [-1, 1, 1])
    row0 = base + tf.cast(y0c, tf.int32) * width
    row1 = base + tf.cast(y1c, tf.int32) * width
    col0, col1 = tf.cast(x0c, tf.int32), tf.cast(x1c, tf.int32)
    index = tf.stack([row0 + col0, row0 + col1, row1 + col0, row1 + col1], axis=-1)
    corners = tf.gather(tf.reshape(images, [-1, images.shape[-1]]), index)
    c00, c01, c10, c11 = tf.unstack(corners, axis=-2)
    top = wx0 * c00 + wx1 * c01
    bottom = wx0 * c10 + wx1 * c11
    return wy0 * top + wy1 * bottom


def make_inputs(batch: int, height: int, width: int, num_source: int) -> dict:
    rand = tf.random.stateless_uniform
    seed = [4, 2]
    # KITTI-like intrinsics at 416x128 (fx = 0.58 W, fy = 1.92 H, centred), divided by 2^s per scale.
    scaled_k = tf.constant([[[0.58 * width / 2**s, 0, width / 2 ** (s + 1)],
                             [0, 1.92 * height / 2**s, height / 2 ** (s + 1)], [0, 0, 1]] for s in range(4)])
    return {
        "tgt_image": rand([batch, height, width, 3], seed, -1, 1),
        "src_image_stack": rand([batch, height, width, 3 * num_source], seed, -1, 1),
        "disps": [tf.Variable(rand([batch, height >> s, width >> s, 1], seed, 0.05, 1.0)) for s in range(4)],
        "poses": tf.Variable(rand([batch, num_source, 6], seed, -0.01, 0.01)),
        "exp_logits": [tf.Variable(rand([batch, height >> s, width >> s, 2 * num_source], seed, -1, 1))
                       for s in range(4)],
        "intrinsics": tf.tile(scaled_k[None], [batch, 1, 1, 1]),
        "boundary": tf.clip_by_value(rand([batch, height, width, 1], seed, -3, 1), 0, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=416)
    parser.add_argument("--seq_length", type=int, default=3)
    parser.add_argument("--lambda_seg", type=float, default=2.5)
    parser.add_argument("--explain_reg_weight", type=float, default=0.0)
    parser.add_argument("--sampler", choices=["library", "literal"], default="library")
    parser.add_argument("--xla", action="store_true")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--rate_size", type=int, default=2048, help="matrix size of the matmul-rate check")
    args = parser.parse_args()
    if args.sampler == "literal":
        geometry.bilinear_sampler = literal_legacy_sampler
    inputs = make_inputs(args.batch, args.height, args.width, args.seq_length - 1)
    config = LossConfig(lambda_seg=args.lambda_seg, explain_reg_weight=args.explain_reg_weight)
    use_exp = args.explain_reg_weight > 0
    variables = [*inputs["disps"], inputs["poses"], *(inputs["exp_logits"] if use_exp else [])]

    @tf.function(jit_compile=args.xla)
    def step() -> tf.Tensor:
        with tf.GradientTape() as tape:
            terms, _ = compute_losses(inputs["tgt_image"], inputs["src_image_stack"], inputs["disps"],
                                      inputs["poses"], inputs["exp_logits"] if use_exp else None,
                                      inputs["intrinsics"], inputs["boundary"] if args.lambda_seg > 0 else None,
                                      config)
        grads = tape.gradient(terms.total, variables)
        return terms.total + tf.add_n([tf.reduce_sum(g) for g in grads])

    check = RateCheck(args.rate_size).start()
    seconds = summarize(time_repeats(lambda: step().numpy(), warmup=3, repeats=args.repeats), digits=5)
    check.stop()
    emit("loss_step", milliseconds={key: round(value * 1e3, 2) for key, value in seconds.items()}, **check.fields(),
         batch=args.batch, height=args.height, width=args.width, seq_length=args.seq_length,
         lambda_seg=args.lambda_seg, explain_reg_weight=args.explain_reg_weight, sampler=args.sampler, xla=args.xla,
         repeats=args.repeats)

if __name__ == "__main__":
    main()
