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

JOB_MODES = ("dataset", "drive")


@dataclass(frozen=True)
class BoundaryJobConfig:
    """One shard of the boundary job. `input_dir` is the dump dir (dataset) or a KITTI drive dir (drive)."""

    weights_path: str
    input_dir: str
    mode: str = "dataset"
    output_dir: str = ""
    camera: str = "02"
    seq_length: int = 3
    img_width: int = 416
    img_height: int = 128
    batch_size: int = 4
    shard_index: int = 0
    num_shards: int = 1
    inspect_dir: str = ""
    progress_every_s: float = 10.0
    manifest_every_s: float = 30.0
    model: MaskRcnnConfig = field(default_factory=MaskRcnnConfig)

    def __post_init__(self) -> None:
        if self.mode not in JOB_MODES:
            raise ConfigError(f"mode must be one of {JOB_MODES}, got {self.mode!r}")
        if self.mode == "drive" and not self.output_dir:
            raise ConfigError("drive mode needs an output_dir for the boundary PNGs")
        if not 0 <= self.shard_index < self.num_shards:
            raise ConfigError(f"shard_index must be in [0, num_shards={self.num_shards}), got {self.shard_index}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size}")


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
