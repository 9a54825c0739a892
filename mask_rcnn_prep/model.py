"""Matterport's Mask R-CNN inference graph (ResNet-101 + FPN) as a Keras 3 model whose weighted layers carry the
names of `mask_rcnn_coco.h5`, so the COCO weights load by name (see weights_h5)."""

from __future__ import annotations

import keras
import tensorflow as tf

from mask_rcnn_prep.anchors import pyramid_anchors
from mask_rcnn_prep.backbone import ResNet101
from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.detection import DetectionLayer
from mask_rcnn_prep.fpn import FeaturePyramid
from mask_rcnn_prep.heads import ClassifierHead, MaskHead
from mask_rcnn_prep.proposal import ProposalLayer
from mask_rcnn_prep.rpn import build_rpn_model


class MaskRCNN(keras.Model):
    """(molded images [B, H, W, 3] float32, windows [B, 4] normalised) -> {"detections": [B, D, 6]
    (y1, x1, y2, x2 normalised, class id, score), "masks": [B, D, 28, 28] probabilities of each detection's class}.

    H and W must be multiples of 64 (molding guarantees it). Inference only: batch norm is frozen.
    """

    def __init__(self, config: MaskRcnnConfig, **kwargs) -> None:
        super().__init__(name="mask_rcnn", **kwargs)
        self.config = config
        self.backbone = ResNet101()
        self.fpn = FeaturePyramid()
        self.rpn = build_rpn_model(config.anchors_per_location, config.anchor_stride)
        self.proposals = ProposalLayer(config)
        self.classifier = ClassifierHead(config.num_classes, config.pool_size)
        self.detection = DetectionLayer(config)
        self.mask_head = MaskHead(config.num_classes, config.mask_pool_size)

    def named_layers(self) -> dict[str, keras.layers.Layer]:
        """Every weighted layer by its HDF5 group name (the RPN is one group, `rpn_model`)."""
        return {
            **self.backbone.named_layers(),
            **self.fpn.named_layers(),
            "rpn_model": self.rpn,
            **self.classifier.named_layers(),
            **self.mask_head.named_layers(),
        }

    def call(self, images: tf.Tensor, windows: tf.Tensor) -> dict[str, tf.Tensor]:
        image_hw = tf.shape(images)[1:3]
        c2, c3, c4, c5 = self.backbone(images)
        pyramid = self.fpn([c2, c3, c4, c5])
        rpn_outputs = [self.rpn(p) for p in pyramid]
        rpn_probs = tf.concat([out[1] for out in rpn_outputs], axis=1)
        rpn_deltas = tf.concat([out[2] for out in rpn_outputs], axis=1)
        rois = self.proposals(rpn_probs, rpn_deltas, pyramid_anchors(image_hw, self.config))
        class_probs, class_deltas = self.classifier(rois, image_hw, pyramid[:4])
        detections = self.detection(rois, class_probs, class_deltas, windows)
        class_ids = tf.cast(detections[..., 4], tf.int32)
        masks = self.mask_head(detections[..., :4], class_ids, image_hw, pyramid[:4])
        return {"detections": detections, "masks": masks}


def build_model(config: MaskRcnnConfig) -> MaskRCNN:
    """A MaskRCNN with all variables created (run once on a small blank input)."""
    model = MaskRCNN(config)
    model(tf.zeros([1, 64, 64, 3]), tf.constant([[0.0, 0.0, 1.0, 1.0]]))
    return model
