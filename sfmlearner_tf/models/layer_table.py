"""The conv layers of the two nets as tables: one row per layer, the single source of its name and shape.

A net builds its layers from its table (in table order, so `weights` follows it) and lists them from it for
the TF1 name map (`tf1_checkpoint.tf1_variable_map`); the wiring between the layers stays in each net's
`call`. Row names are scope paths inside the net, as in the original's TF1 graph (`cnv1b`, `upcnv7`).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras


def slim_conv(filters: int, kernel: int, stride: int, name: str, activation: str | None = "relu",
              dtype: str | None = None) -> keras.layers.Conv2D:
    """A conv2d as slim built it in the original: TF SAME padding, bias, Glorot-uniform weights, zero biases.
    `dtype` overrides the global Keras dtype policy for this layer (None: follow it)."""
    return keras.layers.Conv2D(filters, kernel, strides=stride, padding="same", activation=activation, name=name,
                               dtype=dtype)


def slim_deconv(filters: int, kernel: int, name: str) -> keras.layers.Conv2DTranspose:
    """A stride-2 conv2d_transpose with ReLU and TF SAME padding (output size = 2 x input size)."""
    return keras.layers.Conv2DTranspose(filters, kernel, strides=2, padding="same", activation="relu", name=name)


@dataclass(frozen=True)
class ConvRow:
    """One conv layer: `transposed` rows are stride-2 ReLU transposed convs (slim's conv2d_transpose);
    `float32` rows compute in float32 even under a mixed precision policy."""

    name: str
    filters: int
    kernel: int
    stride: int = 1
    activation: str | None = "relu"
    transposed: bool = False
    float32: bool = False

    def build(self) -> keras.layers.Layer:
        """A fresh Keras layer for this row."""
        if self.transposed:
            return slim_deconv(self.filters, self.kernel, self.name)
        return slim_conv(self.filters, self.kernel, self.stride, self.name, activation=self.activation,
                         dtype="float32" if self.float32 else None)


def up(name: str, filters: int, kernel: int) -> ConvRow:
    """A transposed-conv row (stride 2, ReLU)."""
    return ConvRow(name, filters, kernel, stride=2, transposed=True)


def build_layers(owner: keras.layers.Layer, table: tuple[ConvRow, ...]) -> None:
    """Sets one attribute per row on `owner` (a Keras model or layer tracks them), in table order."""
    for row in table:
        setattr(owner, row.name, row.build())
