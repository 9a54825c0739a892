"""Samples/s of the training input pipeline at 128x416, 3 frames, batch 4, augmentation on (folder source),
and the cost of the checked decode (decode-only samples/s, checked vs plain tf.io.decode_jpeg).
Prints one JSON line. Usage: python benchmarks/pipeline.py [--samples 64] [--batches 100]"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from benchmarks.bench_utils import emit
from sfmlearner_tf.data.pipeline import PipelineConfig, _folder_records, checked_decode, make_dataset
from sfmlearner_tf.prep.samples import write_sample

H, W, L = 128, 416, 3


def textured_frame(rng: np.random.Generator, height: int = H, width: int = W) -> np.ndarray:
    """Band-limited noise, so the JPEGs have KITTI-like sizes (not the tiny files of flat images)."""
    coarse = rng.uniform(0, 255, (height // 4, width // 4, 3))
    return np.kron(coarse, np.ones((4, 4, 1))).astype(np.uint8)


def write_samples(root: Path, count: int, height: int = H, width: int = W, boundary: bool = False) -> None:
    """`count` prepared samples of L frames (and a random boundary panel) in root/bench_02, listed in train.txt."""
    rng = np.random.default_rng(0)
    k = np.array([[241.7, 0, 204.2], [0, 246.3, 59.0], [0, 0, 1]])
    for i in range(count):
        edges = (rng.random((height, width)) < 0.05).astype(np.uint8) * 255 if boundary else None
        write_sample(root / "bench_02" / f"{i:010d}.jpg", [textured_frame(rng, height, width) for _ in range(L)], k,
                     edges)
    (root / "train.txt").write_text("".join(f"bench_02 {i:010d}\n" for i in range(count)))


def rate(dataset: tf.data.Dataset, items_per_element: int, elements: int) -> float:
    iterator = iter(dataset.repeat())
    for _ in range(5):
        next(iterator)
    start = time.perf_counter()
    for _ in range(elements):
        next(iterator)
    return elements * items_per_element / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--batches", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_samples(Path(tmp), args.samples)
        config = PipelineConfig(dataset_dir=tmp, batch_size=4, augment=True)
        pipeline = rate(make_dataset(config), 4, args.batches)
        records = _folder_records(PipelineConfig(dataset_dir=tmp, shuffle=False))
        checked = records.interleave(checked_decode, cycle_length=4, num_parallel_calls=tf.data.AUTOTUNE)
        plain = records.map(lambda n, c, k: (n, tf.io.decode_jpeg(c, channels=3), k),
                            num_parallel_calls=tf.data.AUTOTUNE)
        n = args.batches * 4
        emit("pipeline", img=f"{H}x{W}", seq_length=L, batch_size=4, augment=True,
             samples_per_s=round(pipeline, 1), decode_only_checked_samples_per_s=round(rate(checked, 1, n), 1),
             decode_only_plain_samples_per_s=round(rate(plain, 1, n), 1))


if __name__ == "__main__":
    main()
