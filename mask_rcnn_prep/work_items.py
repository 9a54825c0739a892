"""What the boundary job works on: target frames of a prepared data set, or the frames of one KITTI drive."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.io_utils import atomic_save_image
from sfmlearner_tf.ops.image_files import read_rgb
from sfmlearner_tf.prep.samples import append_boundary_panel, read_sample


@dataclass(frozen=True)
class WorkItem:
    """One frame: a stable id, how to read its 416x128 RGB image, and how to store its boundary image."""

    item_id: str
    read_image: Callable[[], np.ndarray]
    write_boundary: Callable[[np.ndarray], None]


def dataset_items(dump_dir: str | Path, seq_length: int, img_width: int) -> list[WorkItem]:
    """Samples listed in `<dump>/train.txt` and `val.txt`; the target (middle frame) is detected and the
    boundary panel is added to (or replaced in) the sample JPEG."""
    dump_dir = Path(dump_dir)
    lists = [dump_dir / name for name in ("train.txt", "val.txt") if (dump_dir / name).is_file()]
    if not lists:
        raise DataError(f"{dump_dir}: neither train.txt nor val.txt found (not a prepared data set?)")
    ids = set()
    for list_path in lists:
        for number, line in enumerate(list_path.read_text().splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise DataError(f"{list_path}:{number}: expected '<folder> <frame>', got {line!r}")
            ids.add(f"{fields[0]} {fields[1]}")

    def item(item_id: str) -> WorkItem:
        folder, frame = item_id.split(" ")
        jpg = dump_dir / folder / f"{frame}.jpg"
        return WorkItem(
            item_id,
            lambda: read_sample(jpg, seq_length, img_width)[0][seq_length // 2],
            lambda boundary: append_boundary_panel(jpg, boundary, seq_length, img_width),
        )

    return [item(i) for i in sorted(ids)]


def read_resized_frame(path: Path, img_width: int, img_height: int) -> np.ndarray:
    """A raw frame resized like data preparation (PIL bilinear, as scipy.misc.imresize) to uint8 [H, W, 3]."""
    return np.asarray(Image.fromarray(read_rgb(path)).resize((img_width, img_height), Image.BILINEAR))


def drive_items(drive_dir: str | Path, output_dir: str | Path, camera: str, img_width: int,
                img_height: int) -> list[WorkItem]:
    """Frames `<date>/<drive>/image_<camera>/data/*.png`; boundary PNGs go to the same relative path under the
    output folder, `<output>/<date>/<drive>/image_<camera>/data/<frame>.png`, so that the output folder is what
    `run_eval.py --boundary_dir` reads (one boundary image per Eigen test line)."""
    drive_dir = Path(drive_dir)
    frames = sorted((drive_dir / f"image_{camera}" / "data").glob("*.png"))
    if not frames:
        raise DataError(f"{drive_dir / f'image_{camera}' / 'data'}: no PNG frames found (not a KITTI drive?)")
    out = Path(output_dir) / drive_dir.resolve().parent.name / drive_dir.name / f"image_{camera}" / "data"

    def item(frame: Path) -> WorkItem:
        return WorkItem(
            f"{drive_dir.name}/{frame.stem}",
            lambda: read_resized_frame(frame, img_width, img_height),
            lambda boundary: atomic_save_image(out / f"{frame.stem}.png", boundary),
        )

    return [item(frame) for frame in frames]
