"""Train/test overlap of an odometry evaluation: KITTI odometry sequences 00-10 are cut from KITTI raw drives,
so a model trained on raw drives (the Eigen split's training list holds most of them) may have seen the
sequence it is scored on. The synthetic data set writes its own drive of each sequence
(`splits/odometry_sequences.json` beside `kitti_odom/`), which is used where present.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.prep.split_lists import read_split_list

# KITTI's published map of odometry sequences to raw drives (the odometry development kit's readme).
KITTI_ODOMETRY_DRIVES = {
    0: "2011_10_03_drive_0027", 1: "2011_10_03_drive_0042", 2: "2011_10_03_drive_0034", 3: "2011_09_26_drive_0067",
    4: "2011_09_30_drive_0016", 5: "2011_09_30_drive_0018", 6: "2011_09_30_drive_0020", 7: "2011_09_30_drive_0027",
    8: "2011_09_30_drive_0028", 9: "2011_09_30_drive_0033", 10: "2011_09_30_drive_0034",
}


def sequence_drive(odom_dir: str | os.PathLike, sequence: int) -> str | None:
    """The raw drive sequence `sequence` of `odom_dir` was cut from: the synthetic data set's own map where
    `<odom_dir>/../splits/odometry_sequences.json` exists, else KITTI's; None for a sequence without one."""
    path = Path(odom_dir).resolve().parent / "splits" / "odometry_sequences.json"
    if not path.is_file():
        return KITTI_ODOMETRY_DRIVES.get(sequence)
    try:
        drives = json.loads(path.read_text())["drives"]
        return drives.get(f"{sequence:02d}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{path}: malformed sequence map, expected {{'drives': {{'09': '<drive>'}}}} ({exc})") from exc


def training_overlap(train_dataset_dir: str | os.PathLike, odom_dir: str | os.PathLike, sequence: int) -> str | None:
    """One warning line when `<train_dataset_dir>/train.txt` lists samples of the drive the sequence was cut
    from (sample folders `<drive>_02` / `_03`, as prepared from KITTI raw) or of the sequence itself (folder `09`,
    prepared from odometry); a note when the list cannot be read; None when there is no overlap."""
    train_list = Path(train_dataset_dir) / "train.txt"
    try:
        folders = [folder for folder, _ in read_split_list(train_dataset_dir, "train")]
    except DataError as exc:
        return f"note: train/test overlap not checked ({exc})"
    drive = sequence_drive(odom_dir, sequence)
    name = f"{sequence:02d}"
    if drive is not None:
        prefix = drive.removesuffix("_sync") + "_"
        count = sum(folder.startswith(prefix) for folder in folders)
        if count:
            return (f"warning: sequence {name} was cut from drive {drive}, and the model's training list {train_list} "
                    f"has {count} samples of it: these pose scores are not held out")
    count = folders.count(name)
    if count:
        return (f"warning: the model's training list {train_list} has {count} samples of odometry sequence {name} "
                "itself: these pose scores are not held out")
    return None
