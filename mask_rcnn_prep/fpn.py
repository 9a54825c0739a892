"""Feature pyramid (256 channels) on ResNet's C2..C5: 1x1 laterals, nearest 2x top-down path, 3x3 smoothing,
P6 = stride-2 subsampling of P5 (matterport's 1x1 max-pool with stride 2)."""

from __future__ import annotations

import keras
import tensorflow as tf

FPN_CHANNELS = 256


class FeaturePyramid(keras.layers.Layer):
    """[C2, C3, C4, C5] -> [P2, P3, P4, P5, P6]; layers `fpn_c{i}p{i}` and `fpn_p{i}`."""

    def __init__(self, **kwargs) -> None:
        super().__init__(name="fpn", **kwargs)
        self.laterals = [keras.layers.Conv2D(FPN_CHANNELS, 1, name=f"fpn_c{i}p{i}") for i in (2, 3, 4, 5)]
        self.outputs_convs = [
            keras.layers.Conv2D(FPN_CHANNELS, 3, padding="same", name=f"fpn_p{i}") for i in (2, 3, 4, 5)
        ]

    def named_layers(self) -> dict[str, keras.layers.Layer]:
        """The pyramid's weighted layers by their HDF5 names."""
        return {layer.name: layer for layer in [*self.laterals, *self.outputs_convs]}

    def call(self, features: list[tf.Tensor]) -> list[tf.Tensor]:
        merged = [None] * 4
        merged[3] = self.laterals[3](features[3])
        for i in (2, 1, 0):
            upsampled = tf.repeat(tf.repeat(merged[i + 1], 2, axis=1), 2, axis=2)
            merged[i] = upsampled + self.laterals[i](features[i])
        pyramid = [conv(m) for conv, m in zip(self.outputs_convs, merged)]
        return [*pyramid, pyramid[3][:, ::2, ::2, :]]
