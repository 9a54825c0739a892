"""Detection layer: the classifier's verdict on each proposal, refined, thresholded and thinned by per-class NMS."""

from __future__ import annotations

import keras
import tensorflow as tf

from mask_rcnn_prep.box_utils import apply_box_deltas, clip_boxes
from mask_rcnn_prep.config import MaskRcnnConfig
from mask_rcnn_prep.proposal import pad_rows


def per_class_nms(boxes: tf.Tensor, scores: tf.Tensor, class_ids: tf.Tensor, max_output: int,
                  iou_threshold: float) -> tf.Tensor:
    """Positions (int64, ascending) of the boxes kept by greedy NMS run separately within each class."""

    def nms_one_class(class_id: tf.Tensor) -> tf.Tensor:
        members = tf.where(tf.equal(class_ids, class_id))[:, 0]
        keep = tf.image.non_max_suppression(
            tf.gather(boxes, members), tf.gather(scores, members), max_output, iou_threshold
        )
        return pad_rows(tf.gather(members, keep), max_output, value=-1)

    kept = tf.map_fn(nms_one_class, tf.unique(class_ids).y,
                     fn_output_signature=tf.TensorSpec([max_output], tf.int64))
    kept = tf.reshape(kept, [-1])
    return tf.sort(tf.boolean_mask(kept, kept >= 0))


def refine_detections(rois: tf.Tensor, probs: tf.Tensor, deltas: tf.Tensor, window: tf.Tensor,
                      config: MaskRcnnConfig) -> tf.Tensor:
    """One image: rois [N, 4], class probs [N, C], class deltas [N, C, 4], window [4] (normalised) ->
    detections [max_instances, 6] = (y1, x1, y2, x2, class_id, score), best first, zero rows after the last."""
    class_ids = tf.argmax(probs, axis=1, output_type=tf.int32)
    class_scores = tf.gather(probs, class_ids, batch_dims=1)
    class_deltas = tf.gather(deltas, class_ids, batch_dims=1) * tf.constant(config.bbox_std_dev, tf.float32)
    refined = clip_boxes(apply_box_deltas(rois, class_deltas), window)
    wanted = tf.logical_and(class_ids > 0, class_scores >= config.detection_min_confidence)
    candidates = tf.where(wanted)[:, 0]
    kept = tf.gather(candidates, per_class_nms(
        tf.gather(refined, candidates), tf.gather(class_scores, candidates), tf.gather(class_ids, candidates),
        config.detection_max_instances, config.detection_nms_threshold,
    ))
    count = tf.minimum(tf.shape(kept)[0], config.detection_max_instances)
    kept = tf.gather(kept, tf.math.top_k(tf.gather(class_scores, kept), k=count, sorted=True).indices)
    detections = tf.concat(
        [
            tf.gather(refined, kept),
            tf.cast(tf.gather(class_ids, kept), tf.float32)[:, None],
            tf.gather(class_scores, kept)[:, None],
        ],
        axis=1,
    )
    return pad_rows(detections, config.detection_max_instances)


class DetectionLayer(keras.layers.Layer):
    """Batched `refine_detections`: -> [B, max_instances, 6]."""

    def __init__(self, config: MaskRcnnConfig, **kwargs) -> None:
        super().__init__(name="mrcnn_detection", **kwargs)
        self.config = config

    def call(self, rois: tf.Tensor, probs: tf.Tensor, deltas: tf.Tensor, windows: tf.Tensor) -> tf.Tensor:
        max_instances = self.config.detection_max_instances
        return tf.map_fn(
            lambda args: refine_detections(*args, config=self.config),
            (rois, probs, deltas, windows),
            fn_output_signature=tf.TensorSpec([max_instances, 6], tf.float32),
        )
