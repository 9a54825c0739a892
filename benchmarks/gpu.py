"""GPU figures: the card's measured matmul peaks (float32, float16), the train step (float32, mixed float16, XLA)
in steps/s and achieved TFLOP/s against those peaks, DispNet inference images/s, and Mask R-CNN preparation
images/s (random weights in the COCO file's layout: speed does not depend on the values). One JSON line each.

    python -m benchmarks.gpu [--repeats 10] [--parts matmul,train_step,inference,mask_rcnn]
    python -m benchmarks.gpu --allow_cpu      # no GPU: tiny sizes on the CPU, to check that the script works

Without a GPU (and without --allow_cpu) it prints one line saying so and exits 0. On a GPU TensorFlow runs
float32 matmuls and convolutions in TF32 unless that is turned off; "tf32" in the lines says which. The train
step's FLOPs are the forward + backward convolutions of both nets (benchmarks/flops.py); float32 and XLA steps
are held against the float32 peak, the float16 step against the float16 peak.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from benchmarks.bench_utils import emit, matmul_gflops, per_second, summarize, time_repeats
from benchmarks.flops import graph_flops
from benchmarks.inference_paths import make_path
from benchmarks.train_step import make_step, step_flop, synthetic_batch
from sfmlearner_tf.models import DispNet
from sfmlearner_tf.training import TrainConfig

PARTS = ("matmul", "train_step", "inference", "mask_rcnn")


@dataclass(frozen=True)
class Sizes:
    """What is measured: the GPU sizes by default, tiny ones for --allow_cpu on a machine without a GPU."""

    matmul: int = 8192
    batch_size: int = 4
    height: int = 128
    width: int = 416
    inference_batches: tuple[int, ...] = (1, 32)
    mask_rcnn_batch: int = 1
    mask_rcnn_options: tuple[str, ...] = ("square1024", "pad64_256")


TINY = Sizes(matmul=256, batch_size=1, height=32, width=64, inference_batches=(1, 2), mask_rcnn_batch=1,
             mask_rcnn_options=("tiny",))


def peak_tflops(sizes: Sizes, repeats: int) -> dict[str, float]:
    """Measured matmul rates (TFLOP/s, best of the repeats) in float32 and float16: the card's peaks."""
    return {name: matmul_gflops(sizes.matmul, repeats, dtype)["max"] / 1e3
            for name, dtype in (("float32", tf.float32), ("float16", tf.float16))}


def time_train_steps(sizes: Sizes, repeats: int, peaks: dict[str, float], device: str) -> None:
    """float32, mixed float16 and XLA train steps (boundary loss on): one JSON line each."""
    base = TrainConfig.from_settings(img_height=sizes.height, img_width=sizes.width,
                                     batch_size=sizes.batch_size, lambda_seg=2.5)
    flop = step_flop(base)["forward_backward"]
    for name, changes, policy in (("float32", {}, "float32"), ("mixed_float16", {}, "mixed_float16"),
                                  ("xla", {"jit_compile": True}, "float32")):
        config = base.replace(**changes)
        step = make_step(config, policy=policy)  # float16 on a CPU too (--allow_cpu), where the library picks bfloat16
        batch = synthetic_batch(config.data.batch_size, config.data.img_height, config.data.img_width,
                                config.data.seq_length, True)
        seconds = summarize(time_repeats(lambda s=step, b=batch: float(s(b)["total"]), warmup=3, repeats=repeats))
        peak = peaks["float16" if policy == "mixed_float16" else "float32"]
        achieved = flop / seconds["median"] / 1e12
        emit("gpu_train_step", variant=name, device=device, policy=policy, seconds_per_step=seconds,
             steps_per_second=per_second(seconds, 1), step_gflop=round(flop / 1e9, 2),
             achieved_tflops=round(achieved, 3), fraction_of_matmul_peak=round(achieved / peak, 3),
             matmul_peak_tflops=round(peak, 2), tf32=tf.config.experimental.tensor_float_32_execution_enabled(),
             batch_size=config.data.batch_size, img_height=config.data.img_height,
             img_width=config.data.img_width, repeats=repeats)


def time_inference(sizes: Sizes, repeats: int, peaks: dict[str, float], device: str) -> None:
    """DispNet depth images/s per batch size, float32 (the library path, XLA) and mixed precision."""
    net = DispNet().ensure_built()
    for batch in sizes.inference_batches:
        images = np.random.default_rng(0).integers(0, 256, (batch, sizes.height, sizes.width, 3), dtype=np.uint8)
        flop = graph_flops(lambda x: net(x, training=False), tf.TensorSpec(images.shape, tf.float32))
        for path in ("library", "xla", "mixed_precision"):
            depth = make_path(path, net, batch, sizes.height, sizes.width)
            seconds = summarize(time_repeats(lambda d=depth, x=images: d(x), warmup=3, repeats=repeats))
            peak = peaks["float16" if path == "mixed_precision" else "float32"]
            achieved = flop / seconds["median"] / 1e12
            emit("gpu_depth_inference", path=path, device=device, batch_size=batch,
                 images_per_second=per_second(seconds, batch), achieved_tflops=round(achieved, 3),
                 fraction_of_matmul_peak=round(achieved / peak, 3), gflop=round(flop / 1e9, 3),
                 img_height=sizes.height, img_width=sizes.width, repeats=repeats)


def mask_rcnn_configs(names: tuple[str, ...]) -> dict:
    """The resizing options timed (benchmarks/mask_rcnn.py's, plus "tiny": few proposals for the CPU check)."""
    from benchmarks.mask_rcnn import OPTIONS
    from mask_rcnn_prep.config import MaskRcnnConfig

    options = {**OPTIONS, "tiny": MaskRcnnConfig(resize_mode="pad64", image_min_dim=0, post_nms_rois=50,
                                                 detection_max_instances=10)}
    return {name: options[name] for name in names}


def time_mask_rcnn(sizes: Sizes, repeats: int, device: str) -> None:
    """Mask R-CNN detection images/s on 416x128 frames, per resizing option, random COCO-layout weights."""
    from mask_rcnn_prep.h5_layout import coco_layout, random_weights, write_keras2_weights
    from mask_rcnn_prep.inference import MaskRcnnPredictor

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (128, 416, 3), dtype=np.uint8) for _ in range(sizes.mask_rcnn_batch)]
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "random_mask_rcnn_coco.h5"
        write_keras2_weights(weights, random_weights(coco_layout()))
        for name, config in mask_rcnn_configs(sizes.mask_rcnn_options).items():
            predictor = MaskRcnnPredictor(weights, config)
            seconds = summarize(time_repeats(lambda p=predictor: p.detect(frames), warmup=2, repeats=repeats))
            emit("gpu_mask_rcnn", option=name, device=device, batch_size=len(frames), frame="416x128",
                 images_per_second=per_second(seconds, len(frames)), repeats=repeats)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allow_cpu", action="store_true", help="without a GPU, run tiny sizes on the CPU")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--parts", type=lambda s: s.split(","), default=list(PARTS), help=f"subset of {PARTS}")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.parts) - set(PARTS))
    if unknown:
        raise SystemExit(f"gpu: unknown part(s) {unknown}; choose from {list(PARTS)}")
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus and not args.allow_cpu:
        print("gpu: no GPU visible to TensorFlow; nothing measured (--allow_cpu runs tiny sizes on the CPU)")
        return
    sizes, device = (Sizes(), "GPU") if gpus else (TINY, "CPU")
    peaks = peak_tflops(sizes, args.repeats)
    if "matmul" in args.parts:
        emit("gpu_matmul_peak", device=device, size=sizes.matmul, tflops={k: round(v, 2) for k, v in peaks.items()},
             tf32=tf.config.experimental.tensor_float_32_execution_enabled(), repeats=args.repeats)
    if "train_step" in args.parts:
        time_train_steps(sizes, args.repeats, peaks, device)
    if "inference" in args.parts:
        time_inference(sizes, args.repeats, peaks, device)
    if "mask_rcnn" in args.parts:
        time_mask_rcnn(sizes, args.repeats, device)


if __name__ == "__main__":
    main()
