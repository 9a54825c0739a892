"""train.txt / val.txt of a dump root: `<folder> <frame>` lines naming the prepared samples of each split,
written once every sample exists and read by the training pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.io_utils import atomic_write_text


def write_split_lists(dump_root: str | os.PathLike, val_fraction: float = 0.1, seed: int = 8964) -> tuple[int, int]:
    """train.txt / val.txt (`<folder> <frame>` lines) from the samples in dump_root; returns (num_train, num_val).

    One uniform draw per sample in sorted folder/frame order with a legacy `RandomState(seed)` (the generator of
    the original's `np.random.seed(8964)`); a draw below val_fraction sends the sample to val.
    """
    dump_root = Path(dump_root)
    rng = np.random.RandomState(seed)
    train, val = [], []
    for folder in sorted(p for p in dump_root.iterdir() if p.is_dir()):
        for jpg in sorted(folder.glob("*.jpg")):
            (val if rng.random_sample() < val_fraction else train).append(f"{folder.name} {jpg.stem}\n")
    atomic_write_text(dump_root / "train.txt", "".join(train))
    atomic_write_text(dump_root / "val.txt", "".join(val))
    return len(train), len(val)


def read_split_list(dataset_dir: str | Path, split: str) -> list[tuple[str, str]]:
    """(folder, frame) pairs of `<dataset_dir>/<split>.txt`, errors naming the file and line."""
    path = Path(dataset_dir) / f"{split}.txt"
    if not path.is_file():
        raise DataError(f"{path}: sample list not found (run sfm-prepare-data first, or check --dataset_dir)")
    entries = []
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2:
            raise DataError(f"{path}:{line_no}: expected '<folder> <frame>', got {line!r}")
        entries.append((fields[0], fields[1]))
    if not entries:
        raise DataError(f"{path}: sample list is empty")
    return entries
