"""The Mask R-CNN predictor: frames in, per-frame Detections of the configured classes out."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from mask_rcnn_prep.box_utils import norm_boxes
from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.masks import Detections, unmold_detections
from mask_rcnn_prep.model import MaskRCNN, build_model
from mask_rcnn_prep.molding import mold_image
from mask_rcnn_prep.weights_h5 import load_keras2_weights
from sfmlearner_tf.errors import DataError


class MaskRcnnPredictor:
    """Builds the graph, loads `mask_rcnn_coco.h5` (Keras 2 layout) and detects instances in batches of frames.

    All frames of one call must share a size (they are molded to the same input). `detect` returns the
    detections of `config.keep_classes` only; `detect_all_classes` returns every COCO class.
    """

    def __init__(self, weights_path: str | os.PathLike, config: MaskRcnnConfig) -> None:
        self.config = config
        self.model: MaskRCNN = build_model(config)
        self.num_loaded = load_keras2_weights(self.model.named_layers(), weights_path)
        self._forward = tf.function(
            self.model.call,
            input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32), tf.TensorSpec([None, 4], tf.float32)],
        )
        self._keep_ids = np.array(config.keep_class_ids, dtype=np.int32)

    def detect_all_classes(self, images: np.ndarray | list[np.ndarray]) -> list[Detections]:
        """uint8 RGB frames [B, H, W, 3] -> one Detections (all COCO classes) per frame."""
        images = [np.asarray(image) for image in images]
        if not images:
            return []
        shapes = {image.shape for image in images}
        if len(shapes) != 1:
            raise DataError(f"all frames of a batch must share a size, got {sorted(shapes)}")
        molded, plans = zip(*(mold_image(image, self.config) for image in images))
        windows = np.stack([norm_boxes(np.array(plan.window), plan.padded_hw) for plan in plans])
        outputs = self._forward(tf.constant(np.stack(molded)), tf.constant(windows))
        detections, masks = outputs["detections"].numpy(), outputs["masks"].numpy()
        image_hw = images[0].shape[:2]
        return [
            unmold_detections(detections[i], masks[i], plans[i], image_hw, self.config.mask_threshold)
            for i in range(len(images))
        ]

    def detect(self, images: np.ndarray | list[np.ndarray]) -> list[Detections]:
        """Like `detect_all_classes`, restricted to `config.keep_classes`."""
        return [d.select(np.isin(d.class_ids, self._keep_ids)) for d in self.detect_all_classes(images)]
