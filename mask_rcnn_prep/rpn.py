"""The region proposal network: one small Keras model named `rpn_model` shared by all pyramid levels, as in
matterport's file (its weights are one HDF5 group `rpn_model`)."""

from __future__ import annotations

import keras

from mask_rcnn_prep.fpn import FPN_CHANNELS


def build_rpn_model(anchors_per_location: int, anchor_stride: int) -> keras.Model:
    """Feature map [B, h, w, 256] -> (class logits [B, h*w*k, 2], class probs, box deltas [B, h*w*k, 4])."""
    feature_map = keras.Input(shape=(None, None, FPN_CHANNELS), name="input_rpn_feature_map")
    shared = keras.layers.Conv2D(512, 3, padding="same", activation="relu", strides=anchor_stride,
                                 name="rpn_conv_shared")(feature_map)
    class_raw = keras.layers.Conv2D(2 * anchors_per_location, 1, name="rpn_class_raw")(shared)
    logits = keras.layers.Reshape((-1, 2))(class_raw)
    probs = keras.layers.Softmax(name="rpn_class_xxx")(logits)
    bbox = keras.layers.Conv2D(4 * anchors_per_location, 1, name="rpn_bbox_pred")(shared)
    deltas = keras.layers.Reshape((-1, 4))(bbox)
    return keras.Model(feature_map, [logits, probs, deltas], name="rpn_model")
