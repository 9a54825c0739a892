"""Seconds per train step (default: batch 4, 128x416, 3 frames) for a set of variants, each against the FLOP floor
measured in the same run, and a breakdown of where the float32 step's time goes.

    python -m benchmarks.train_step [--variants boundary_off,float32,xla,mixed_precision | all] [--repeats 5]
                                    [--height 128 --width 416 --batch_size 4] [--in_process]
    python -m benchmarks.train_step --breakdown [--repeats 5]

Variants (VARIANT_NAMES; "float32" is the library's default step with the boundary loss on, lambda_seg 2.5):
boundary_off; xla (--jit_compile: forward and backward XLA-compiled); mixed_precision (bfloat16 on a CPU,
float16 on a GPU); onednn_off / onednn_on (TF_ENABLE_ONEDNN_OPTS=0 / 1); threads_<intra>x<inter> (TF's intra-
and inter-op thread pools; --threads picks the pairs); adam_keras (Keras' element-wise Adam instead of the
library's fused kernel); adam_ema (Keras' Adam with use_ema); adam_xla (Keras' Adam update XLA-compiled).
Each runs in its own subprocess (environment variables and thread pools must be set before TensorFlow starts; one
variant's memory and threads do not slow the next), unless --in_process.

The floor is the step's FLOPs (forward + backward convolutions of both nets, benchmarks/flops.py) divided by the
float32 matmul rate measured before and after all variants in this process (the higher of the two); each
variant's subprocess also measures the rate before and after its own timings, and says "disturbed": true when
they differ by more than 10 %. One JSON line per variant (its peak_rss_mib: the process that ran it), or per
part with --breakdown.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from benchmarks.bench_utils import (
    RateCheck,
    emit,
    failure_line,
    floor_ratio,
    is_disturbed,
    peak_rss_mib,
    summarize,
    time_repeats,
)
from benchmarks.flops import forward_flops, train_step_flops
from sfmlearner_tf.losses import compute_losses
from sfmlearner_tf.ops.precision import DtypePolicy, precision_policy
from sfmlearner_tf.training import TrainConfig, TrainStep, build_state, to_model_range

BOUNDARY_ON = {"lambda_seg": 2.5}
DEFAULT_VARIANTS = ("boundary_off", "float32", "xla", "mixed_precision")


@dataclass(frozen=True)
class Variant:
    """One candidate change to the float32 step: TrainConfig changes, environment variables set before TensorFlow
    starts, TF thread pools (intra, inter), and how Adam's update runs: "fused" (the library's FusedAdam), or Keras'
Adam as "keras", "keras_ema" (with use_ema) or "xla" (its update XLA-compiled)."""

    config: dict = field(default_factory=lambda: dict(BOUNDARY_ON))
    env: dict = field(default_factory=dict)
    threads: tuple[int, int] | None = None
    optimizer: str = "fused"

    @property
    def needs_subprocess(self) -> bool:
        return bool(self.env or self.threads)


def thread_pairs(cores: int) -> list[tuple[int, int]]:
    """Default (intra, inter) pairs to try: all cores with 1 and 2 inter-op threads, half the cores with 2."""
    return list(dict.fromkeys([(cores, 1), (cores, 2), (max(cores // 2, 1), 2)]))


def all_variants(threads: list[tuple[int, int]]) -> dict[str, Variant]:
    """Every variant by name (the thread variants from `threads`)."""
    variants = {
        "float32": Variant(),
        "boundary_off": Variant(config={}),
        "xla": Variant(config={**BOUNDARY_ON, "jit_compile": True}),
        "mixed_precision": Variant(config={**BOUNDARY_ON, "mixed_precision": True}),
        "onednn_off": Variant(env={"TF_ENABLE_ONEDNN_OPTS": "0"}),
        "onednn_on": Variant(env={"TF_ENABLE_ONEDNN_OPTS": "1"}),
        "adam_keras": Variant(optimizer="keras"),
        "adam_ema": Variant(optimizer="keras_ema"),
        "adam_xla": Variant(optimizer="xla"),
    }
    variants.update({f"threads_{intra}x{inter}": Variant(threads=(intra, inter)) for intra, inter in threads})
    return variants


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


def compile_optimizer_update(optimizer: keras.optimizers.Optimizer, variables: list[tf.Variable]) -> None:
    """Makes `optimizer.apply_gradients(pairs)` for `variables` one XLA-compiled function (the adam_xla variant),
    on this optimizer instance only: the train step calls it unchanged."""
    apply_gradients = optimizer.apply_gradients
    compiled = tf.function(lambda grads: apply_gradients(zip(grads, variables)), jit_compile=True)
    optimizer.apply_gradients = lambda pairs: compiled([grad for grad, _ in pairs])


def make_step(config: TrainConfig, optimizer: str = "fused", policy: str | None = None) -> TrainStep:
    """The library's train step for `config`, with Adam's update run as `optimizer` says; the nets in Keras dtype
    `policy` (default: the run's, from config.distribution.mixed_precision)."""
    with DtypePolicy(policy or precision_policy(config.distribution.mixed_precision)):
        state = build_state(config)
    adam = state.optimizer
    if optimizer != "fused":
        opt = config.optimizer
        adam = keras.optimizers.Adam(learning_rate=opt.learning_rate, beta_1=opt.beta1, beta_2=opt.beta2,
                                     epsilon=opt.epsilon, use_ema=optimizer == "keras_ema")
        adam.build(state.depth_net.trainable_variables + state.pose_exp_net.trainable_variables)
    step = TrainStep(state.depth_net, state.pose_exp_net, adam, config.loss,
                     jit_compile=config.distribution.jit_compile)
    if optimizer == "xla":
        compile_optimizer_update(adam, step.variables)
    return step


def time_variant(base: TrainConfig, variant: Variant, repeats: int, rate_size: int) -> dict:
    """Seconds of each timed step of one variant (2 untimed warm-up steps include tracing and compilation), with
    the matmul rate before and after. Thread settings must be applied before this process ran any TF op."""
    if variant.threads:
        tf.config.threading.set_intra_op_parallelism_threads(variant.threads[0])
        tf.config.threading.set_inter_op_parallelism_threads(variant.threads[1])
    config = base.replace(**variant.config)
    step = make_step(config, variant.optimizer)
    batch = synthetic_batch(config.data.batch_size, config.data.img_height, config.data.img_width,
                            config.data.seq_length, config.data.with_boundary)
    check = RateCheck(rate_size).start()
    times = time_repeats(lambda: float(step(batch)["total"]), warmup=2, repeats=repeats)
    check.stop()
    return {"times": times, "rate_before": check.before, "rate_after": check.after,
            "peak_rss_mib": round(peak_rss_mib(), 1)}


def time_variant_isolated(name: str, variant: Variant, args: argparse.Namespace) -> dict:
    """time_variant in a fresh Python process with the variant's environment; its result read from the last line."""
    command = [sys.executable, "-m", "benchmarks.train_step", "--child", name, "--repeats", str(args.repeats),
               "--height", str(args.height), "--width", str(args.width), "--batch_size", str(args.batch_size),
               "--rate_size", str(args.rate_size), "--threads", format_threads(args.threads)]
    done = subprocess.run(command, env={**os.environ, **variant.env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"train_step variant {name} failed: {failure_line(done.stderr)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse_threads(text: str) -> list[tuple[int, int]]:
    """"2x1,2x2" -> [(2, 1), (2, 2)]."""
    try:
        return [(int(a), int(b)) for a, b in (pair.split("x") for pair in text.split(",") if pair)]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--threads takes INTRAxINTER pairs like 2x1,2x2, got {text!r}") from error


def format_threads(pairs: list[tuple[int, int]]) -> str:
    return ",".join(f"{a}x{b}" for a, b in pairs)


def step_flop(base: TrainConfig) -> dict[str, int]:
    """Forward and forward + backward FLOPs of both nets for one batch (float32 nets, random weights)."""
    state = build_state(base)
    sizes = (base.data.batch_size, base.data.img_height, base.data.img_width, base.data.num_source)
    forward = forward_flops(state.depth_net, state.pose_exp_net, *sizes)
    train = train_step_flops(state.depth_net, state.pose_exp_net, *sizes)
    return {"forward": sum(forward.values()), "forward_backward": sum(train.values()),
            "forward_backward_depth_net": train["depth_net"], "forward_backward_pose_exp_net": train["pose_exp_net"]}


def run_variants(args: argparse.Namespace, base: TrainConfig) -> None:
    """Times each chosen variant and prints one JSON line each."""
    variants = all_variants(args.threads)
    names = list(variants) if args.variants == ["all"] else args.variants
    unknown = [name for name in names if name not in variants]
    if unknown:
        raise SystemExit(f"train_step: unknown variant(s) {unknown}; choose from {list(variants)} or all")
    if args.in_process and any(variants[name].needs_subprocess for name in names):
        raise SystemExit("train_step: thread and oneDNN variants need their own process; drop --in_process")
    flop = step_flop(base)
    check = RateCheck(args.rate_size).start()
    results = {}
    for name in names:
        variant = variants[name]
        results[name] = (time_variant(base, variant, args.repeats, args.rate_size) if args.in_process
                         else time_variant_isolated(name, variant, args))
    check.stop()
    floor = check.floor_seconds(flop["forward_backward"])
    for name in names:
        seconds = summarize(results[name]["times"])
        emit("train_step", variant=name, seconds_per_step=seconds, ratio_to_floor=floor_ratio(seconds, floor),
             disturbed=is_disturbed(results[name]["rate_before"], results[name]["rate_after"]),
             variant_matmul_gflops=[round(results[name]["rate_before"], 1), round(results[name]["rate_after"], 1)],
             floor_seconds=round(floor, 4), step_gflop=round(flop["forward_backward"] / 1e9, 2),
             forward_gflop=round(flop["forward"] / 1e9, 2),
             **{f"run_{key}": value for key, value in check.fields().items()}, settings=describe(variants[name]),
             precision=precision_policy(variants[name].config.get("mixed_precision", False)),
             batch_size=base.data.batch_size, img_height=base.data.img_height, img_width=base.data.img_width,
             seq_length=base.data.seq_length, repeats=args.repeats, isolated=not args.in_process,
             peak_rss_mib=results[name]["peak_rss_mib"])


def describe(variant: Variant) -> dict:
    """The variant's settings for the JSON line."""
    return {"config": variant.config, "env": variant.env, "threads": variant.threads, "optimizer": variant.optimizer}


def breakdown_parts(config: TrainConfig) -> dict:
    """The parts of the float32 step as separate callables: nets forward only, forward + backward with the losses
    (no optimizer), the optimizer update alone (fixed gradients), and the losses alone (forward + backward with
    respect to fixed disparities and poses)."""
    step = make_step(config)
    batch = synthetic_batch(config.data.batch_size, config.data.img_height, config.data.img_width,
                            config.data.seq_length, config.data.with_boundary)
    tgt, src = to_model_range(batch["tgt_image"]), to_model_range(batch["src_image_stack"])
    forward = tf.function(lambda: (step.depth_net(tgt, training=True), step.pose_exp_net(tgt, src, training=True)))
    (disps, (poses, _)) = forward()
    grads = [tf.identity(g) for g in step.forward_backward(batch)[2]]
    apply = tf.function(lambda: step.optimizer.apply_gradients(zip(grads, step.variables)))
    disps = [tf.Variable(d) for d in disps]
    poses = tf.Variable(poses)
    boundary = batch.get("boundary") if step.loss_config.lambda_seg > 0 else None

    @tf.function
    def losses() -> list[tf.Tensor]:
        with tf.GradientTape() as tape:
            terms, _ = compute_losses(tgt, src, disps, poses, None, batch["intrinsics"], boundary, step.loss_config)
        return [terms.total, *tape.gradient(terms.total, [*disps, poses])]

    return {"forward": lambda: forward()[0][0].numpy(),
            "forward_backward": lambda: step.forward_backward(batch)[0]["total"].numpy(),
            "optimizer_apply": lambda: apply().numpy(),
            "losses_forward_backward": lambda: losses()[0].numpy(),
            "whole_step": lambda: step(batch)["total"].numpy()}


def run_breakdown(args: argparse.Namespace, base: TrainConfig) -> None:
    """Times each part of the float32 step; one JSON line per part, with the floor where the part has FLOPs."""
    config = base.replace(**BOUNDARY_ON)
    flop = step_flop(config)
    part_flop = {"forward": flop["forward"], "forward_backward": flop["forward_backward"],
                 "whole_step": flop["forward_backward"]}
    parts = breakdown_parts(config)
    check = RateCheck(args.rate_size).start()
    times = {name: time_repeats(part, warmup=2, repeats=args.repeats) for name, part in parts.items()}
    check.stop()
    for name, values in times.items():
        seconds = summarize(values)
        floor = check.floor_seconds(part_flop[name]) if name in part_flop else None
        emit("train_step_breakdown", part=name, seconds=seconds,
             ratio_to_floor=None if floor is None else floor_ratio(seconds, floor),
             floor_seconds=None if floor is None else round(floor, 4),
             gflop=None if name not in part_flop else round(part_flop[name] / 1e9, 2), **check.fields(),
             batch_size=config.data.batch_size, img_height=config.data.img_height, img_width=config.data.img_width,
             repeats=args.repeats)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=lambda s: s.split(","), default=list(DEFAULT_VARIANTS),
                        help="comma-separated variant names, or all")
    parser.add_argument("--breakdown", action="store_true", help="time the parts of the float32 step instead")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=416)
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--threads", type=parse_threads, default=thread_pairs(os.cpu_count() or 1),
                        help="INTRAxINTER thread pairs of the threads_* variants, e.g. 2x1,2x2")
    parser.add_argument("--rate_size", type=int, default=2048, help="matrix size of the matmul-rate check")
    parser.add_argument("--in_process", action="store_true", help="no subprocess per variant (not for env/threads)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: time one variant, print its raw times
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    base = TrainConfig.from_settings(img_height=args.height, img_width=args.width, batch_size=args.batch_size)
    if args.child:
        print(json.dumps(time_variant(base, all_variants(args.threads)[args.child], args.repeats, args.rate_size)))
    elif args.breakdown:
        run_breakdown(args, base)
    else:
        run_variants(args, base)


if __name__ == "__main__":
    main()
