"""The boundary job: Mask R-CNN on every target frame of a shard, boundary images written, resumably.

Modes: "dataset" (post-hoc boundary panels of a prepared data set), "drive" (boundary PNGs of a KITTI drive).
With `inspect_dir` set, each frame's instance masks (.npz) and an overlay PNG are written there as well.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import tensorflow as tf

from mask_rcnn_prep.bilinear import RESIZE_KIND
from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.inference import MaskRcnnPredictor
from mask_rcnn_prep.manifest import DoneManifest, run_fingerprint
from mask_rcnn_prep.overlay import save_inspection
from mask_rcnn_prep.work_items import WorkItem, dataset_items, drive_items
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.ops.boundary import boundary_from_instance_masks
from sfmlearner_tf.progress import ProgressReporter
from sfmlearner_tf.settings import PROGRESS_EVERY, SEQ_LENGTH, check_settings, setting

JOB_MODES = ("dataset", "drive")


@dataclass(frozen=True)
class BoundaryJobConfig:
    """One shard of the boundary job. `input_dir` is the dump dir (dataset) or a KITTI drive dir (drive)."""

    weights_path: str = setting(help="matterport's mask_rcnn_coco.h5 (Keras 2 HDF5).")
    input_dir: str = setting("", "Prepared data set (dump dir with train.txt) or a KITTI drive dir.")
    mode: str = setting("dataset", "dataset: boundary panels of a prepared data set; drive: boundary PNGs of a KITTI "
                        "drive.", choices=JOB_MODES)
    output_dir: str = setting("", "drive mode: boundary PNGs go to <output_dir>/<drive>/<frame>.png.")
    camera: str = setting("02", "drive mode: frames are read from image_<camera>/data.")
    seq_length: int = setting(3, "Frames per prepared sample (the target is the middle one).", rule=SEQ_LENGTH)
    img_width: int = setting(416, "Frame width of the prepared samples / of resized drive frames.", low=1)
    img_height: int = setting(128, "Frame height of resized drive frames.", low=1)
    batch_size: int = setting(4, "Frames per Mask R-CNN call.", low=1)
    shard_index: int = setting(0, "This job's shard, in [0, num_shards).", low=0)
    num_shards: int = setting(1, "Number of shards the frames are split into (round robin).", low=1)
    inspect_dir: str = setting("", "If set: also write each frame's instance masks (.npz) and an overlay PNG.")
    progress_every_s: float = setting(10.0, "Seconds between progress lines (inf: none).", rule=PROGRESS_EVERY)
    manifest_every_s: float = 30.0
    model: MaskRcnnConfig = field(default_factory=MaskRcnnConfig)

    def __post_init__(self) -> None:
        check_settings(self)
        if not self.input_dir:
            raise ConfigError(f"{self.mode} mode needs an input_dir", fields=("input_dir",))
        if self.mode == "drive" and not self.output_dir:
            raise ConfigError("drive mode needs an output_dir for the boundary PNGs", fields=("output_dir",))
        if self.shard_index >= self.num_shards:
            raise ConfigError(f"shard_index must be in [0, num_shards={self.num_shards}), got {self.shard_index}",
                              fields=("shard_index",))


@dataclass(frozen=True)
class BoundaryJobResult:
    """What one run did: items in the shard, skipped as done, processed, and frames with at least one instance."""

    in_shard: int
    skipped: int
    processed: int
    with_instances: int


def _items(config: BoundaryJobConfig) -> list[WorkItem]:
    if config.mode == "dataset":
        return dataset_items(config.input_dir, config.seq_length, config.img_width)
    return drive_items(config.input_dir, config.output_dir, config.camera, config.img_width, config.img_height)


def _manifest_dir(config: BoundaryJobConfig) -> Path:
    base = config.input_dir if config.mode == "dataset" else config.output_dir
    return Path(base) / "mask_rcnn_done"


def run_boundary_job(config: BoundaryJobConfig, predictor: MaskRcnnPredictor | None = None) -> BoundaryJobResult:
    """Runs (or resumes) one shard; prints a progress line and a one-line summary."""
    shard = _items(config)[config.shard_index :: config.num_shards]
    settings = {"model": dataclasses.asdict(config.model), "resize": RESIZE_KIND, "mode": config.mode,
                "seq_length": config.seq_length, "img_width": config.img_width, "img_height": config.img_height}
    manifest = DoneManifest(_manifest_dir(config), run_fingerprint(config.weights_path, settings),
                            config.shard_index, config.num_shards, config.manifest_every_s)
    todo = [item for item in shard if item.item_id not in manifest.done]
    gpus = tf.config.list_physical_devices("GPU")
    print(f"mask_rcnn_prep: shard {config.shard_index}/{config.num_shards}: {len(shard)} frames, "
          f"{len(shard) - len(todo)} already done; running on {'GPU' if gpus else 'CPU'}", flush=True)
    predictor = predictor or MaskRcnnPredictor(config.weights_path, config.model)
    progress = ProgressReporter(len(todo), "mask_rcnn_prep", every_s=config.progress_every_s, unit="frames")
    with_instances = 0
    for start in range(0, len(todo), config.batch_size):
        batch = todo[start : start + config.batch_size]
        images = [item.read_image() for item in batch]
        for item, image, detections in zip(batch, images, predictor.detect(images)):
            item.write_boundary(boundary_from_instance_masks(detections.masks))
            if config.inspect_dir:
                stem = Path(config.inspect_dir) / item.item_id.replace(" ", "/")
                save_inspection(stem, image, detections)
            with_instances += int(len(detections.class_ids) > 0)
        manifest.mark([item.item_id for item in batch])
        progress.update(len(batch))
    manifest.save()
    result = BoundaryJobResult(len(shard), len(shard) - len(todo), len(todo), with_instances)
    print(f"mask_rcnn_prep: done: {result.processed} frames processed ({result.with_instances} with instances), "
          f"{result.skipped} skipped as already done", flush=True)
    return result
