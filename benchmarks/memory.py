"""Peak resident memory of training and of depth evaluation, each measured in its own subprocess, one JSON line
each. The child reports its own high-water mark (VmHWM, benchmarks/bench_utils.peak_rss_mib) as it ends: its
ru_maxrss, as os.wait4 would read it, starts from this parent's size (Linux keeps it across fork and exec).

    python -m benchmarks.memory [--runs train,train_in_memory,eval] [--steps 3] [--num_images 697]

- train: the real `train()` for --steps steps at batch 4, 128x416, 3 frames, boundary loss on, reading prepared
  samples (random textured frames and boundary panels written as JPEGs by benchmarks/pipeline.py) through the
  tf.data pipeline, checkpoints and summaries included.
- train_in_memory: the same steps fed from one constant in-memory batch instead of the pipeline: the difference
  from `train` is what the input pipeline (parallel decode, shuffle, prefetch buffers) holds.
- eval: the real `evaluate_depth` (ground truth from the velodyne scans, DispNet predictions, metrics, boundary
  metrics) of --num_images test lines with a random-weight in-memory DispNet. Stand-in data: a few synthetic
  KITTI-like frames rendered at --frame_width x --frame_height (1242x375, KITTI's size, by default); the test list
  repeats them to --num_images lines, and ground truth and predictions are still computed per line, so the
  evaluation holds as many arrays as on the Eigen split. It also reports the sizes of the arrays it holds for
  the whole split (the ground truth, sparse: a flat int32 index and a float32 depth per lidar point; the
  predictions) and what dense ground-truth maps would take.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_utils import emit, failure_line, peak_rss_mib

RUNS = ("train", "train_in_memory", "eval")
MIB = 1024.0 * 1024.0


def child_train(args: argparse.Namespace, in_memory: bool) -> dict:
    """Runs `train()` for args.steps steps on prepared samples (or one constant in-memory batch)."""
    import tensorflow as tf

    from benchmarks.pipeline import write_samples
    from benchmarks.train_step import synthetic_batch
    from sfmlearner_tf.training import TrainConfig, train

    with tempfile.TemporaryDirectory() as tmp:
        write_samples(Path(tmp) / "data", args.samples, args.height, args.width, boundary=True)
        config = TrainConfig.from_settings(dataset_dir=str(Path(tmp) / "data"), checkpoint_dir=str(Path(tmp) / "ckpt"),
                             img_height=args.height, img_width=args.width, batch_size=args.batch_size,
                             lambda_seg=2.5, max_steps=args.steps, include_last_step=True,
                             summary_freq=10**6, save_latest_freq=10**6, progress_every_s=1e9)
        dataset, steps_per_epoch = None, None
        if in_memory:
            batch = synthetic_batch(args.batch_size, args.height, args.width, config.data.seq_length, boundary=True)
            dataset, steps_per_epoch = tf.data.Dataset.from_tensors(batch).repeat(), 1000
        before = peak_rss_mib()
        train(config, dataset=dataset, steps_per_epoch=steps_per_epoch, log=False)
    return {"peak_rss_mib_before_training": round(before, 1), "steps": args.steps,
            "source": "in-memory batch" if in_memory else "prepared samples through the tf.data pipeline"}


def render_eval_data(root: Path, args: argparse.Namespace) -> None:
    """Renders the stand-in frames under root/data and writes root/test_list.txt with --num_images lines (done in
    the parent, so that the renderer's memory is not the evaluation's)."""
    from sfmlearner_tf.evaluation.split_files import read_test_lines
    from sfmlearner_tf.synthetic import SyntheticConfig, render_dataset

    render_dataset(root / "data", SyntheticConfig(num_drives=2, num_frames=args.num_frames, width=args.frame_width,
                                                  height=args.frame_height, seed=0, num_test_drives=1),
                   progress_every_s=1e9)
    lines = read_test_lines(root / "data" / "splits" / "test_files_eigen.txt")
    (root / "test_list.txt").write_text("".join(f"{lines[i % len(lines)]}\n" for i in range(args.num_images)))


def child_eval(args: argparse.Namespace) -> dict:
    """Runs `evaluate_depth` on the test list of render_eval_data (in args.eval_root) with a random DispNet."""
    import numpy as np

    from sfmlearner_tf.evaluation.depth_eval import DepthEvalConfig, evaluate_depth
    from sfmlearner_tf.evaluation.depth_gt import compute_gt_depths
    from sfmlearner_tf.evaluation.split_files import read_test_lines, resolve_test_frames
    from sfmlearner_tf.models import DispNet

    root = Path(args.eval_root)
    net = DispNet().ensure_built()
    before = peak_rss_mib()
    result = evaluate_depth(DepthEvalConfig(dataset_dir=str(root / "data" / "kitti_raw"),
                                            test_file_list=str(root / "test_list.txt"), img_height=args.height,
                                            img_width=args.width, progress_every_s=1e9),
                            depth_net=net)
    unique = sorted(set(read_test_lines(root / "test_list.txt")))
    points = float(np.mean([np.count_nonzero(gt) for gt in compute_gt_depths(
        resolve_test_frames(root / "data" / "kitti_raw", unique))]))
    n = result["num_images"]
    return {"peak_rss_mib_before_evaluation": round(before, 1), "num_images": n,
            "frame": f"{args.frame_width}x{args.frame_height}", "gt_points_per_image": round(points),
            "held_gt_mib": round(n * points * (4 + 4) / MIB, 1),  # int32 flat index + float32 depth
            "dense_gt_would_take_mib": round(n * args.frame_width * args.frame_height * 4 / MIB, 1),
            "held_predictions_mib": round(n * args.height * args.width * 4 / MIB, 1)}


def measure(run: str, args: argparse.Namespace) -> dict:
    """Runs `run` in a child process; its fields (its peak resident memory among them) and the wall seconds."""
    command = [sys.executable, "-m", "benchmarks.memory", "--child", run, *passthrough(args)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"memory: the {run} run failed: {failure_line(done.stderr)}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "wall_seconds": round(time.perf_counter() - start, 1)}


def passthrough(args: argparse.Namespace) -> list[str]:
    """The size arguments, for the child's command line."""
    return [f"--{name}={getattr(args, name)}" for name in ("height", "width", "batch_size", "steps", "samples",
                                                             "num_images", "num_frames", "frame_width",
                                                             "frame_height", "eval_root")]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=lambda s: s.split(","), default=list(RUNS), help=f"subset of {RUNS}")
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=416)
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--samples", type=int, default=16, help="prepared training samples written")
    parser.add_argument("--num_images", type=int, default=697, help="test lines evaluated (697: the Eigen split)")
    parser.add_argument("--num_frames", type=int, default=4, help="frames rendered per drive (2 drives, 1 test)")
    parser.add_argument("--frame_width", type=int, default=1242)
    parser.add_argument("--frame_height", type=int, default=375)
    parser.add_argument("--eval_root", help=argparse.SUPPRESS)  # internal: the rendered frames and test list
    parser.add_argument("--child", choices=RUNS, help=argparse.SUPPRESS)  # internal: one run, its fields as JSON
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        fields = child_eval(args) if args.child == "eval" else child_train(args, args.child == "train_in_memory")
        print(json.dumps({"peak_rss_mib": round(peak_rss_mib(), 1), **fields}))
        return
    unknown = sorted(set(args.runs) - set(RUNS))
    if unknown:
        raise SystemExit(f"memory: unknown run(s) {unknown}; choose from {list(RUNS)}")
    with tempfile.TemporaryDirectory() as tmp:
        if "eval" in args.runs:
            render_eval_data(Path(tmp), args)
            args.eval_root = tmp
        for run in args.runs:
            fields = measure(run, args)
            child_peak = fields.pop("peak_rss_mib")
            size = {"img_height": args.height, "img_width": args.width}
            size.update({"batch_size": args.batch_size} if run.startswith("train") else {})
            emit(f"memory_{run}", child_peak_rss_mib=child_peak, **fields, **size)


if __name__ == "__main__":
    main()
