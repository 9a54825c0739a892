"""Mask R-CNN as an instance-mask source for data preparation (`--boundary_source=mask_rcnn`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.inference import MaskRcnnPredictor


class MaskRcnnInstanceMasks:
    """Implements `sfmlearner_tf.prep.mask_sources.InstanceMaskSource`: the masks [K, H, W] bool of the
    configured COCO classes found in a resized target frame."""

    def __init__(self, weights_path: str | os.PathLike, config: MaskRcnnConfig | None = None) -> None:
        self.predictor = MaskRcnnPredictor(weights_path, config or MaskRcnnConfig())

    def instance_masks(self, image: np.ndarray, frame_path: Path) -> np.ndarray:
        """Instance masks of `image` ([H, W, 3] uint8); `frame_path` is not needed (the image is the input)."""
        del frame_path
        return self.predictor.detect([image])[0].masks
