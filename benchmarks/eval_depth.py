"""Speed of Eigen-style depth scoring: seconds per 100 test images with the velodyne ground truth computed
(uncached) and loaded from the cache, on synthetic frames rendered at KITTI size (1242x375).

A few frames are rendered once; the test list repeats them up to --num_images lines (ground truth is still
computed per line). Predictions are random 128x416 depth maps (scoring resizes them, as the original).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_utils import emit
from sfmlearner_tf.evaluation.boundary_eval import boundary_scores
from sfmlearner_tf.evaluation.depth_gt import cached_gt_depths
from sfmlearner_tf.evaluation.depth_metrics import score_depths
from sfmlearner_tf.evaluation.split_files import read_test_lines, resolve_test_frames
from sfmlearner_tf.synthetic import SyntheticConfig, render_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num_images", type=int, default=100)
    parser.add_argument("--num_frames", type=int, default=6, help="frames rendered per drive (2 drives, 1 test)")
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

        def timed(cache_dir: Path | None) -> tuple[float, list[np.ndarray]]:
            start = time.perf_counter()
            gt = cached_gt_depths(frames, cache_dir, progress_every_s=1e9)
            score_depths(gt, preds)
            return (time.perf_counter() - start) * per_100, gt

        uncached, gt = timed(None)
        timed(root / "cache")                      # fills the cache
        cached, _ = timed(root / "cache")
        start = time.perf_counter()
        boundary_scores(frames, list(preds))
        boundary = (time.perf_counter() - start) * per_100
        points = int(np.mean([np.count_nonzero(g) for g in gt]))
    emit("eval_depth", image_size=[375, 1242], num_images=len(frames), gt_points_per_image=points,
         s_per_100_uncached=round(uncached, 3), s_per_100_cached=round(cached, 3),
         s_per_100_boundary_metrics=round(boundary, 3))


if __name__ == "__main__":
    main()
