"""Checking that the real COCO weights loaded: detect on one image and print every instance found.

With matterport's mask_rcnn_coco.h5 a street photo gives cars/persons with scores near 1; random or
mis-loaded weights give nothing sensible (or nothing at all at the default 0.7 confidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mask_rcnn_prep.coco_classes import COCO_CLASS_NAMES
from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.inference import MaskRcnnPredictor
from mask_rcnn_prep.masks import Detections
from mask_rcnn_prep.overlay import save_inspection
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.ops.image_files import read_rgb
from sfmlearner_tf.settings import check_settings, setting


@dataclass(frozen=True)
class ShowConfig:
    """One image to run at its own size; all COCO classes unless `keep_only` restricts to model.keep_classes."""

    weights_path: str = setting(help="matterport's mask_rcnn_coco.h5 (Keras 2 HDF5).")
    image_path: str = setting("", "show mode: the image to detect on.")
    inspect_dir: str = setting("", "If set: also write the instance masks (.npz) and an overlay PNG.")
    keep_only: bool = setting(False, "show mode: list only --keep_classes (default: every COCO class).")
    model: MaskRcnnConfig = field(default_factory=MaskRcnnConfig)

    def __post_init__(self) -> None:
        check_settings(self)
        if not self.image_path:
            raise ConfigError("show mode needs an image", fields=("image_path",))


def format_detections(detections: Detections) -> str:
    """One line per instance: class, score, box (y1, x1, y2, x2) and mask area in pixels."""
    lines = [f"{len(detections.class_ids)} instance(s)"]
    for class_id, score, box, mask in zip(detections.class_ids, detections.scores, detections.boxes,
                                          detections.masks):
        lines.append(f"  {COCO_CLASS_NAMES[class_id]:<14} score {score:.3f}  box {tuple(int(v) for v in box)}  "
                     f"mask {int(mask.sum())} px")
    return "\n".join(lines)


def show_detections(config: ShowConfig, predictor: MaskRcnnPredictor | None = None) -> str:
    """Detects on the image, writes <inspect_dir>/<stem>.npz and _overlay.png if asked, returns the listing."""
    path = Path(config.image_path)
    rgb = read_rgb(path)
    predictor = predictor or MaskRcnnPredictor(config.weights_path, config.model)
    run = predictor.detect if config.keep_only else predictor.detect_all_classes
    detections = run([rgb])[0]
    if config.inspect_dir:
        save_inspection(Path(config.inspect_dir) / path.stem, rgb, detections)
    return f"{path} ({rgb.shape[1]}x{rgb.shape[0]}), {predictor.num_loaded} weights loaded: " + format_detections(
        detections)
