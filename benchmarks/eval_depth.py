"""Speed of Eigen-style depth scoring: seconds per 100 test images with the velodyne ground truth computed
(uncached) and loaded from the cache, on synthetic frames rendered at KITTI size (1242x375).

A few frames are rendered once; the test list repeats them up to --num_images lines (ground truth is still
computed per line). Predictions are random 128x416 depth maps (scoring resizes them, as the original).
Prints one JSON line: min/median/max over --repeats runs of each, and the matmul-rate check ("disturbed").
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.bench_utils import RateCheck, emit, summarize, time_repeats
from sfmlearner_tf.evaluation.boundary_eval import boundary_scores
from sfmlearner_tf.evaluation.depth_gt import cached_gt_depths
from sfmlearner_tf.evaluation.depth_metrics import score_depths
from sfmlearner_tf.evaluation.split_files import read_test_lines, resolve_test_frames
from sfmlearner_tf.synthetic import SyntheticConfig, render_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num_images", type=int, default=100)
    parser.add_argument("--num_frames", type=int, default=6, help="frames rendered per drive (2 drives, 1 test)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate_size", type=int, default=2048, help="matrix size of the matmul-rate check")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        render_dataset(root / "data", SyntheticConfig(num_drives=2, num_frames=args.num_frames, width=1242,
                                                      height=375, seed=0, num_test_drives=1))
        lines = read_test_lines(root / "data" / "splits" / "test_files_eigen.txt")
        lines = [lines[i % len(lines)] for i in range(args.num_images)]
        frames = resolve_test_frames(root / "data" / "kitti_raw", lines)
        preds = np.random.default_rng(0).uniform(1, 80, (len(frames), 128, 416)).astype(np.float32)
        per_100 = 100.0 / len(frames)
        gt = cached_gt_depths(frames, root / "cache", progress_every_s=1e9)  # fills the cache
        check = RateCheck(args.rate_size).start()
        seconds = {
            "uncached": time_repeats(lambda: score_depths(cached_gt_depths(frames, None, progress_every_s=1e9),
                                                          preds), warmup=0, repeats=args.repeats),
            "cached": time_repeats(lambda: score_depths(cached_gt_depths(frames, root / "cache",
                                                                         progress_every_s=1e9), preds),
                                   warmup=0, repeats=args.repeats),
            "boundary_metrics": time_repeats(lambda: boundary_scores(frames, list(preds)), warmup=0,
                                             repeats=args.repeats)}
        check.stop()
        points = int(np.mean([np.count_nonzero(g) for g in gt]))
    emit("eval_depth", image_size=[375, 1242], num_images=len(frames), gt_points_per_image=points,
         **{f"s_per_100_{key}": summarize([t * per_100 for t in values], digits=3) for key, values in seconds.items()},
         **check.fields(), repeats=args.repeats)

if __name__ == "__main__":
    main()
