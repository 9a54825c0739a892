"""ResNet-101 with matterport's layer names (`conv1`, `bn_conv1`, `res{stage}{block}_branch2a`, ...).

Batch norm is frozen (called with training=False) as in matterport's inference graph; every conv has a bias.
"""

from __future__ import annotations

import keras
import tensorflow as tf

# (filters [f1, f2, f3], number of blocks, stride of the first block) of stages 2..5 of ResNet-101.
RESNET101_STAGES: dict[int, tuple[tuple[int, int, int], int, int]] = {
    2: ((64, 64, 256), 3, 1),
    3: ((128, 128, 512), 4, 2),
    4: ((256, 256, 1024), 23, 2),
    5: ((512, 512, 2048), 3, 2),
}


def block_letters(count: int) -> list[str]:
    """Block names of a stage: 'a', 'b', ... ('a'..'w' for the 23 blocks of stage 4)."""
    return [chr(ord("a") + i) for i in range(count)]


class BottleneckBlock(keras.layers.Layer):
    """1x1 -> 3x3 -> 1x1 bottleneck with identity shortcut, or a strided 1x1 projection in a stage's first block."""

    def __init__(self, stage: int, block: str, filters: tuple[int, int, int], stride: int, projection: bool,
                 **kwargs) -> None:
        super().__init__(name=f"res{stage}{block}", **kwargs)
        base = f"{stage}{block}_branch"
        f1, f2, f3 = filters
        self.branch2 = [
            (keras.layers.Conv2D(f1, 1, strides=stride, name=f"res{base}2a"), keras.layers.BatchNormalization(
                name=f"bn{base}2a")),
            (keras.layers.Conv2D(f2, 3, padding="same", name=f"res{base}2b"), keras.layers.BatchNormalization(
                name=f"bn{base}2b")),
            (keras.layers.Conv2D(f3, 1, name=f"res{base}2c"), keras.layers.BatchNormalization(name=f"bn{base}2c")),
        ]
        self.shortcut = (
            (keras.layers.Conv2D(f3, 1, strides=stride, name=f"res{base}1"),
             keras.layers.BatchNormalization(name=f"bn{base}1"))
            if projection else None
        )

    def named_layers(self) -> dict[str, keras.layers.Layer]:
        """The block's weighted layers by their HDF5 names."""
        pairs = [*self.branch2, *([self.shortcut] if self.shortcut else [])]
        return {layer.name: layer for pair in pairs for layer in pair}

    def call(self, x: tf.Tensor) -> tf.Tensor:
        y = x
        for i, (conv, bn) in enumerate(self.branch2):
            y = bn(conv(y), training=False)
            if i < 2:
                y = tf.nn.relu(y)
        shortcut = x
        if self.shortcut:
            conv, bn = self.shortcut
            shortcut = bn(conv(x), training=False)
        return tf.nn.relu(y + shortcut)


class ResNet101(keras.layers.Layer):
    """Returns [C2, C3, C4, C5] (strides 4, 8, 16, 32) of an NHWC float32 mean-subtracted image."""

    def __init__(self, **kwargs) -> None:
        super().__init__(name="resnet101", **kwargs)
        self.conv1 = keras.layers.Conv2D(64, 7, strides=2, name="conv1")
        self.bn_conv1 = keras.layers.BatchNormalization(name="bn_conv1")
        self.stages = [
            [
                BottleneckBlock(stage, letter, filters, stride if i == 0 else 1, projection=i == 0)
                for i, letter in enumerate(block_letters(count))
            ]
            for stage, (filters, count, stride) in RESNET101_STAGES.items()
        ]

    def named_layers(self) -> dict[str, keras.layers.Layer]:
        """All weighted layers of the backbone by their HDF5 names."""
        layers = {"conv1": self.conv1, "bn_conv1": self.bn_conv1}
        for stage in self.stages:
            for block in stage:
                layers.update(block.named_layers())
        return layers

    def call(self, image: tf.Tensor) -> list[tf.Tensor]:
        x = tf.pad(image, [[0, 0], [3, 3], [3, 3], [0, 0]])
        x = tf.nn.relu(self.bn_conv1(self.conv1(x), training=False))
        x = tf.nn.max_pool2d(x, ksize=3, strides=2, padding="SAME")
        outputs = []
        for stage in self.stages:
            for block in stage:
                x = block(x)
            outputs.append(x)
        return outputs
