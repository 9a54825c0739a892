"""DispNet, the depth network of SfMLearner, as a Keras 3 model.

Layer names equal the original's variable scopes, so `depth_net/<layer>/kernel|bias` corresponds to the TF1
checkpoint's `depth_net/<layer>/weights|biases` and the released `model-190532` loads without renaming.
This module also holds the input-size check that PoseExpNet shares.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.models.layer_table import ConvRow, build_layers, up
from sfmlearner_tf.ops.legacy_resize import legacy_bilinear_resize, resize_like_crop

DISP_SCALING = 10.0
MIN_DISP = 0.01
# upcnv4..upcnv1 are concatenated with the encoder features without a resize: 2 * ceil(H / 2^k) must equal
# ceil(H / 2^(k-1)) for k = 1..4, which holds exactly when H (and W) are multiples of 2^4.
DISP_NET_MULTIPLE = 16


def disp_head(name: str) -> ConvRow:
    """A disparity head: 3x3 conv to one sigmoid channel. It computes in float32 under a mixed precision policy:
    in bfloat16 a sigmoid above 1 - 2^-9 rounds to exactly 1, whose gradient s(1 - s) is then 0, so a head that
    saturates once stays flat (seen as a training run collapsing to a constant depth). Costs nothing measurable:
    the heads are 4 of DispNet's 32 convs and produce one channel each."""
    return ConvRow(name, 1, 3, activation="sigmoid", float32=True)


# The original's variable table, in its order: name, filters, kernel (, stride); `up` rows are the stride-2
# transposed convs, disp rows the sigmoid heads.
LAYERS = (
    ConvRow("cnv1", 32, 7, 2), ConvRow("cnv1b", 32, 7),
    ConvRow("cnv2", 64, 5, 2), ConvRow("cnv2b", 64, 5),
    ConvRow("cnv3", 128, 3, 2), ConvRow("cnv3b", 128, 3),
    ConvRow("cnv4", 256, 3, 2), ConvRow("cnv4b", 256, 3),
    ConvRow("cnv5", 512, 3, 2), ConvRow("cnv5b", 512, 3),
    ConvRow("cnv6", 512, 3, 2), ConvRow("cnv6b", 512, 3),
    ConvRow("cnv7", 512, 3, 2), ConvRow("cnv7b", 512, 3),
    up("upcnv7", 512, 3), ConvRow("icnv7", 512, 3),
    up("upcnv6", 512, 3), ConvRow("icnv6", 512, 3),
    up("upcnv5", 256, 3), ConvRow("icnv5", 256, 3),
    up("upcnv4", 128, 3), ConvRow("icnv4", 128, 3), disp_head("disp4"),
    up("upcnv3", 64, 3), ConvRow("icnv3", 64, 3), disp_head("disp3"),
    up("upcnv2", 32, 3), ConvRow("icnv2", 32, 3), disp_head("disp2"),
    up("upcnv1", 16, 3), ConvRow("icnv1", 16, 3), disp_head("disp1"),
)


def check_input_size(net: str, tensor: tf.Tensor, multiple: int) -> None:
    """Raises ConfigError if a known (static) height or width of an NHWC tensor is not a multiple of `multiple`."""
    height, width = tensor.shape[1], tensor.shape[2]
    bad = [f"{label} {size}" for label, size in (("height", height), ("width", width))
           if size is not None and size % multiple != 0]
    if bad:
        raise ConfigError(f"{net}: input {' and '.join(bad)} not a multiple of {multiple} "
                          f"(input shape {tensor.shape}); choose img_height/img_width accordingly")


def spatial_size(tensor: tf.Tensor) -> tuple[int | tf.Tensor, int | tf.Tensor]:
    """(height, width) of an NHWC tensor: static ints where known, else dynamic scalars."""
    dynamic = tf.shape(tensor)
    height, width = tensor.shape[1], tensor.shape[2]
    return (dynamic[1] if height is None else height, dynamic[2] if width is None else width)


class DispNet(keras.Model):
    """Encoder-decoder from the target image ([-1, 1], NHWC) to 4 disparity maps, full resolution first.

    Faithful to the released (post batch-norm removal) graph: TF SAME padding, ReLU, the nearest `resize_like`
    that drops the last row/column (a crop), the half-pixel-free bilinear upsampling of the disparities,
    the concat order [decoder, skip, disp_up], no encoder skip at full resolution, and
    disp = sigmoid(conv) * 10 + 0.01. The original's l2(0.05) weights regulariser was never applied; none here.
    """

    SCOPE = "depth_net"
    size_multiple = DISP_NET_MULTIPLE

    def __init__(self, name: str = SCOPE, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        build_layers(self, LAYERS)

    def named_conv_layers(self) -> dict[str, keras.layers.Layer]:
        """Scope path (as in the TF1 graph, without the `depth_net/` prefix) -> conv layer, in table order."""
        return {row.name: getattr(self, row.name) for row in LAYERS}

    def ensure_built(self) -> DispNet:
        """Creates the variables (on a tiny zero input: parameter shapes do not depend on the input size)."""
        if not self.built:
            self(tf.zeros([1, DISP_NET_MULTIPLE, DISP_NET_MULTIPLE, 3]))
        return self

    def set_disp_head_bias(self, bias: float) -> None:
        """Sets the bias of the four disparity heads (built) to `bias`: a training run's starting point, where a
        negative bias starts every disparity lower (depth larger) without changing the net's output range."""
        for head in (self.disp1, self.disp2, self.disp3, self.disp4):
            head.bias.assign(tf.fill(head.bias.shape, bias))

    def build_from_config(self, config: dict) -> None:
        """Keras' rebuild after a config round trip (clone_model, deserialisation): the variables' shapes do
        not depend on the input size, so the recorded input shape is not needed."""
        self.ensure_built()

    def call(self, image: tf.Tensor, training: bool | None = None) -> list[tf.Tensor]:
        """image [B, H, W, 3] in [-1, 1], H and W multiples of 16 -> [disp1, disp2, disp3, disp4], disp_s
        [B, H/2^s, W/2^s, 1] in (0.01, 10.01). `training` is accepted and unused, as in the original."""
        check_input_size("DispNet", image, DISP_NET_MULTIPLE)
        height, width = spatial_size(image)
        cnv1b = self.cnv1b(self.cnv1(image))
        cnv2b = self.cnv2b(self.cnv2(cnv1b))
        cnv3b = self.cnv3b(self.cnv3(cnv2b))
        cnv4b = self.cnv4b(self.cnv4(cnv3b))
        cnv5b = self.cnv5b(self.cnv5(cnv4b))
        cnv6b = self.cnv6b(self.cnv6(cnv5b))
        cnv7b = self.cnv7b(self.cnv7(cnv6b))

        # Deep levels: the transposed conv may overshoot by one row/column; the original's nearest
        # resize_like then drops the last one (for an exact size it does nothing).
        upcnv7 = resize_like_crop(self.upcnv7(cnv7b), cnv6b)
        icnv7 = self.icnv7(tf.concat([upcnv7, cnv6b], axis=-1))
        upcnv6 = resize_like_crop(self.upcnv6(icnv7), cnv5b)
        icnv6 = self.icnv6(tf.concat([upcnv6, cnv5b], axis=-1))
        upcnv5 = resize_like_crop(self.upcnv5(icnv6), cnv4b)
        icnv5 = self.icnv5(tf.concat([upcnv5, cnv4b], axis=-1))

        upcnv4 = self.upcnv4(icnv5)
        icnv4 = self.icnv4(tf.concat([upcnv4, cnv3b], axis=-1))
        disp4 = self._disp_head(self.disp4, icnv4)
        disp4_up = self._upsample_like(disp4, upcnv4, height // 4, width // 4)

        upcnv3 = self.upcnv3(icnv4)
        icnv3 = self.icnv3(tf.concat([upcnv3, cnv2b, disp4_up], axis=-1))
        disp3 = self._disp_head(self.disp3, icnv3)
        disp3_up = self._upsample_like(disp3, upcnv3, height // 2, width // 2)

        upcnv2 = self.upcnv2(icnv3)
        icnv2 = self.icnv2(tf.concat([upcnv2, cnv1b, disp3_up], axis=-1))
        disp2 = self._disp_head(self.disp2, icnv2)
        disp2_up = self._upsample_like(disp2, upcnv2, height, width)

        upcnv1 = self.upcnv1(icnv2)
        icnv1 = self.icnv1(tf.concat([upcnv1, disp2_up], axis=-1))
        disp1 = self._disp_head(self.disp1, icnv1)
        return [disp1, disp2, disp3, disp4]

    @staticmethod
    def _upsample_like(disp: tf.Tensor, features: tf.Tensor, height: int | tf.Tensor,
                       width: int | tf.Tensor) -> tf.Tensor:
        """The original's bilinear upsampling of a disparity to the next level's size, in the dtype of that level's
        features: TF1's bilinear kernel always returns float32, while under a mixed precision policy the features
        are float16/bfloat16, so the upsampled disparity joins the concat in their dtype."""
        return tf.cast(legacy_bilinear_resize(disp, (height, width)), features.dtype)

    @staticmethod
    def _disp_head(layer: keras.layers.Layer, features: tf.Tensor) -> tf.Tensor:
        """sigmoid conv output (the layer's activation) scaled to a disparity in (0.01, 10.01)."""
        return layer(features) * DISP_SCALING + MIN_DISP
