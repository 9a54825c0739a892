"""Proposal layer: the RPN's best anchors, refined by its deltas, clipped to the image, thinned by NMS."""

from __future__ import annotations

import keras
import tensorflow as tf

from mask_rcnn_prep.box_utils import apply_box_deltas, clip_boxes
from mask_rcnn_prep.config import MaskRcnnConfig


def pad_rows(rows: tf.Tensor, count: int, value: float | int = 0) -> tf.Tensor:
    """Pads (or keeps) the first axis of `rows` to exactly `count` entries with `value`."""
    missing = tf.maximum(count - tf.shape(rows)[0], 0)
    paddings = tf.concat([[[0, missing]], tf.zeros([tf.rank(rows) - 1, 2], tf.int32)], axis=0)
    return tf.pad(rows, paddings, constant_values=value)


class ProposalLayer(keras.layers.Layer):
    """(RPN probs [B, A, 2], RPN deltas [B, A, 4], anchors [A, 4]) -> proposals [B, post_nms_rois, 4].

    Per image: top `pre_nms_limit` anchors by foreground score, deltas x RPN std applied, clipped to the
    normalised image [0, 1], greedy NMS at `rpn_nms_threshold`, zero-padded to `post_nms_rois` boxes.
    """

    def __init__(self, config: MaskRcnnConfig, **kwargs) -> None:
        super().__init__(name="ROI", **kwargs)
        self.config = config

    def call(self, rpn_probs: tf.Tensor, rpn_deltas: tf.Tensor, anchors: tf.Tensor) -> tf.Tensor:
        cfg = self.config
        scores = rpn_probs[:, :, 1]
        deltas = rpn_deltas * tf.constant(cfg.rpn_bbox_std_dev, tf.float32)
        top_k = tf.minimum(cfg.pre_nms_limit, tf.shape(anchors)[0])
        scores, order = tf.math.top_k(scores, k=top_k, sorted=True)
        deltas = tf.gather(deltas, order, batch_dims=1)
        boxes = apply_box_deltas(tf.gather(anchors, order), deltas)
        boxes = clip_boxes(boxes, tf.constant([0.0, 0.0, 1.0, 1.0]))

        def nms_one(args: tuple[tf.Tensor, tf.Tensor]) -> tf.Tensor:
            image_boxes, image_scores = args
            keep = tf.image.non_max_suppression(image_boxes, image_scores, cfg.post_nms_rois, cfg.rpn_nms_threshold)
            return pad_rows(tf.gather(image_boxes, keep), cfg.post_nms_rois)

        return tf.map_fn(nms_one, (boxes, scores), fn_output_signature=tf.TensorSpec([cfg.post_nms_rois, 4]))
