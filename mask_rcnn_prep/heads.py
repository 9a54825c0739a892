"""The second-stage heads on ROIAlign crops: box classifier/regressor and mask predictor.

Matterport wraps each head layer in Keras' TimeDistributed; the HDF5 groups carry the wrapper names
(`mrcnn_class_conv1`, ...). Keras 3's TimeDistributed loops in Python over the time axis (1000 convolutions
per image here), so `RoiDistributed` plays the wrapper's part instead: same name, same weights, applied once
to all ROIs folded into the batch axis.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from mask_rcnn_prep.fpn import FPN_CHANNELS
from mask_rcnn_prep.roi_align import PyramidRoiAlign

CLASSIFIER_FC_SIZE = 1024


class RoiDistributed(keras.layers.Layer):
    """Applies `inner` to every ROI: [B, N, ...] -> [B, N, ...]; named like matterport's TimeDistributed wrapper."""

    def __init__(self, inner: keras.layers.Layer, name: str, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.inner = inner

    def call(self, x: tf.Tensor) -> tf.Tensor:
        batch, count = tf.shape(x)[0], tf.shape(x)[1]
        folded = tf.reshape(x, [-1, *x.shape[2:]])
        if isinstance(self.inner, keras.layers.BatchNormalization):
            y = self.inner(folded, training=False)
        else:
            y = self.inner(folded)
        return tf.reshape(y, [batch, count, *y.shape[1:]])


def _conv_bn(index: int, filters: int, kernel: int, prefix: str, padding: str) -> tuple[RoiDistributed, ...]:
    return (
        RoiDistributed(keras.layers.Conv2D(filters, kernel, padding=padding), name=f"{prefix}_conv{index}"),
        RoiDistributed(keras.layers.BatchNormalization(), name=f"{prefix}_bn{index}"),
    )


class ClassifierHead(keras.layers.Layer):
    """(rois [B, N, 4], image size, pyramid) -> (class probs [B, N, C], box deltas [B, N, C, 4])."""

    def __init__(self, num_classes: int, pool_size: int, **kwargs) -> None:
        super().__init__(name="fpn_classifier", **kwargs)
        self.num_classes = num_classes
        self.roi_align = PyramidRoiAlign(pool_size, name="roi_align_classifier")
        self.conv_bn = [
            _conv_bn(1, CLASSIFIER_FC_SIZE, pool_size, "mrcnn_class", "valid"),
            _conv_bn(2, CLASSIFIER_FC_SIZE, 1, "mrcnn_class", "valid"),
        ]
        self.logits = RoiDistributed(keras.layers.Dense(num_classes), name="mrcnn_class_logits")
        self.bbox = RoiDistributed(keras.layers.Dense(num_classes * 4), name="mrcnn_bbox_fc")

    def named_layers(self) -> dict[str, keras.layers.Layer]:
        """The head's weighted layers by their HDF5 (wrapper) names."""
        layers = [layer for pair in self.conv_bn for layer in pair] + [self.logits, self.bbox]
        return {layer.name: layer for layer in layers}

    def call(self, rois: tf.Tensor, image_hw: tf.Tensor, feature_maps: list[tf.Tensor]) -> tuple[tf.Tensor, ...]:
        x = self.roi_align(rois, image_hw, feature_maps)
        for conv, bn in self.conv_bn:
            x = tf.nn.relu(bn(conv(x)))
        shared = x[:, :, 0, 0, :]  # [B, N, 1024] (matterport's "pool_squeeze")
        probs = tf.nn.softmax(self.logits(shared), axis=-1)
        deltas = self.bbox(shared)
        return probs, tf.reshape(deltas, [tf.shape(deltas)[0], tf.shape(deltas)[1], self.num_classes, 4])


class MaskHead(keras.layers.Layer):
    """(boxes [B, D, 4], class ids [B, D], image size, pyramid) -> mask probabilities [B, D, 28, 28] of each
    box's own class (matterport predicts all classes and picks the channel afterwards; same numbers)."""

    def __init__(self, num_classes: int, pool_size: int, **kwargs) -> None:
        super().__init__(name="fpn_mask", **kwargs)
        self.roi_align = PyramidRoiAlign(pool_size, name="roi_align_mask")
        self.conv_bn = [_conv_bn(i, FPN_CHANNELS, 3, "mrcnn_mask", "same") for i in (1, 2, 3, 4)]
        self.deconv = RoiDistributed(
            keras.layers.Conv2DTranspose(FPN_CHANNELS, 2, strides=2, activation="relu"), name="mrcnn_mask_deconv"
        )
        self.mask = RoiDistributed(keras.layers.Conv2D(num_classes, 1, activation="sigmoid"), name="mrcnn_mask")

    def named_layers(self) -> dict[str, keras.layers.Layer]:
        """The head's weighted layers by their HDF5 (wrapper) names."""
        layers = [layer for pair in self.conv_bn for layer in pair] + [self.deconv, self.mask]
        return {layer.name: layer for layer in layers}

    def call(self, boxes: tf.Tensor, class_ids: tf.Tensor, image_hw: tf.Tensor,
             feature_maps: list[tf.Tensor]) -> tf.Tensor:
        x = self.roi_align(boxes, image_hw, feature_maps)
        for conv, bn in self.conv_bn:
            x = tf.nn.relu(bn(conv(x)))
        masks = self.mask(self.deconv(x))  # [B, D, 28, 28, C]
        masks = tf.transpose(masks, [0, 1, 4, 2, 3])  # [B, D, C, 28, 28]
        return tf.gather(masks, class_ids, axis=2, batch_dims=2)
