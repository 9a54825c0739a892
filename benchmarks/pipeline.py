"""Samples/s of the training input pipeline at 128x416, 3 frames, batch 4, augmentation on (folder source),
and the cost of the checked decode (decode-only samples/s, checked vs plain tf.io.decode_jpeg), min/median/max over
--repeats timed runs. Prints one JSON line. Usage: python benchmarks/pipeline.py [--samples 64] [--batches 100]"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from benchmarks.bench_utils import RateCheck, emit, per_second, summarize, time_repeats
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


def rates(dataset: tf.data.Dataset, items_per_element: int, elements: int, repeats: int) -> dict[str, float]:
    """Items/s (min/median/max over `repeats` runs of `elements` elements each, after 5 warm-up elements)."""
    iterator = iter(dataset.repeat())
    for _ in range(5):
        next(iterator)
    seconds = summarize(time_repeats(lambda: [next(iterator) for _ in range(elements)], warmup=0, repeats=repeats),
                        digits=6)
    return per_second(seconds, elements * items_per_element, digits=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--batches", type=int, default=100, help="batches per timed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate_size", type=int, default=2048, help="matrix size of the matmul-rate check")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_samples(Path(tmp), args.samples)
        config = PipelineConfig(dataset_dir=tmp, batch_size=4, augment=True)
        records = _folder_records(PipelineConfig(dataset_dir=tmp, shuffle=False))
        checked = records.interleave(checked_decode, cycle_length=4, num_parallel_calls=tf.data.AUTOTUNE)
        plain = records.map(lambda n, c, k: (n, tf.io.decode_jpeg(c, channels=3), k),
                            num_parallel_calls=tf.data.AUTOTUNE)
        n = args.batches * 4
        check = RateCheck(args.rate_size).start()
        measured = {"samples_per_s": rates(make_dataset(config), 4, args.batches, args.repeats),
                    "decode_only_checked_samples_per_s": rates(checked, 1, n, args.repeats),
                    "decode_only_plain_samples_per_s": rates(plain, 1, n, args.repeats)}
        check.stop()
        emit("pipeline", img=f"{H}x{W}", seq_length=L, batch_size=4, augment=True, **measured, **check.fields(),
             repeats=args.repeats)

if __name__ == "__main__":
    main()
