"""PoseExpNet, SfMLearner's pose and explainability network, as a Keras 3 model.

The pose head and the explainability decoder are nested layers named `pose` and `exp`, so Keras variable
paths are the TF1 names up to the suffix: `pose_exp_net/pose/pred/kernel` <-> `pose_exp_net/pose/pred/weights`.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.models.disp_net import check_input_size
from sfmlearner_tf.models.layer_table import ConvRow, build_layers, up

POSE_SCALING = 0.01
# The exp decoder upsamples ceil(H / 32) five times by 2 with no resize: mask1 has the image's size only
# when H (and W) are multiples of 2^5. The pose branch alone takes any size (strided SAME convs and a mean).
EXP_MULTIPLE = 32

# The original's variable table, in its order (name, filters, kernel (, stride)); `up` rows are stride-2
# transposed convs. The heads' output widths depend on the number of sources N.
ENCODER_LAYERS = (
    ConvRow("cnv1", 16, 7, 2), ConvRow("cnv2", 32, 5, 2), ConvRow("cnv3", 64, 3, 2),
    ConvRow("cnv4", 128, 3, 2), ConvRow("cnv5", 256, 3, 2),
)


def pose_layers(num_source: int) -> tuple[ConvRow, ...]:
    """Scope `pose`: two strided convs and a linear 1x1 prediction of 6 values per source."""
    return (ConvRow("cnv6", 256, 3, 2), ConvRow("cnv7", 256, 3, 2),
            ConvRow("pred", 6 * num_source, 1, activation=None))


def exp_layers(num_source: int) -> tuple[ConvRow, ...]:
    """Scope `exp`: the transposed-conv decoder and the linear 2N-channel mask logits at 4 scales."""
    return (up("upcnv5", 256, 3), up("upcnv4", 128, 3), ConvRow("mask4", 2 * num_source, 3, activation=None),
            up("upcnv3", 64, 3), ConvRow("mask3", 2 * num_source, 3, activation=None),
            up("upcnv2", 32, 5), ConvRow("mask2", 2 * num_source, 5, activation=None),
            up("upcnv1", 16, 7), ConvRow("mask1", 2 * num_source, 7, activation=None))


class _Head(keras.layers.Layer):
    """A nested scope of PoseExpNet built from its table (`rows(num_source)`), which depends on N."""

    rows: Callable[[int], tuple[ConvRow, ...]]

    def __init__(self, num_source: int, name: str, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.num_source = num_source
        build_layers(self, self.rows(num_source))

    def get_config(self) -> dict:
        """Keras config plus `num_source`, the one architecture parameter."""
        return {**super().get_config(), "num_source": self.num_source}

    def named_conv_layers(self) -> dict[str, keras.layers.Layer]:
        """Scope path inside the head -> conv layer, in table order."""
        return {row.name: getattr(self, row.name) for row in self.rows(self.num_source)}


class PoseHead(_Head):
    """Scope `pose`: two strided convs, a 1x1 prediction of 6 values per source, spatial mean, x0.01."""

    rows = staticmethod(pose_layers)

    def __init__(self, num_source: int, name: str = "pose", **kwargs) -> None:
        super().__init__(num_source, name=name, **kwargs)

    def call(self, features: tf.Tensor) -> tf.Tensor:
        """cnv5 features [B, h, w, 256] -> poses [B, N, 6] = [tx, ty, tz, rx, ry, rz] per source, target->source."""
        cnv6 = self.cnv6(features)
        cnv7 = self.cnv7(cnv6)
        pred = self.pred(cnv7)
        mean = tf.reduce_mean(pred, axis=[1, 2])
        return POSE_SCALING * tf.reshape(mean, [-1, self.num_source, 6])


class ExplainabilityHead(_Head):
    """Scope `exp`: transposed-conv decoder from cnv5 to 2N-channel logits at 4 scales (no skips, no resize)."""

    rows = staticmethod(exp_layers)

    def __init__(self, num_source: int, name: str = "exp", **kwargs) -> None:
        super().__init__(num_source, name=name, **kwargs)

    def call(self, features: tf.Tensor) -> list[tf.Tensor]:
        """cnv5 features -> [mask1, mask2, mask3, mask4] logits; source i uses channels [2i, 2i+1], 2i+1 =
        explainable."""
        upcnv5 = self.upcnv5(features)
        upcnv4 = self.upcnv4(upcnv5)
        mask4 = self.mask4(upcnv4)
        upcnv3 = self.upcnv3(upcnv4)
        mask3 = self.mask3(upcnv3)
        upcnv2 = self.upcnv2(upcnv3)
        mask2 = self.mask2(upcnv2)
        upcnv1 = self.upcnv1(upcnv2)
        mask1 = self.mask1(upcnv1)
        return [mask1, mask2, mask3, mask4]


class PoseExpNet(keras.Model):
    """Target + N sources -> N target->source poses and, with `do_exp`, explainability logits at 4 scales.

    Input of the shared encoder: concat[target, source_1..source_N] along channels (3(N+1) channels).
    The original's l2(0.05) weights regulariser was never applied; none here.
    """

    SCOPE = "pose_exp_net"

    def __init__(self, num_source: int, do_exp: bool, name: str = SCOPE, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if num_source < 1:
            raise ConfigError(f"PoseExpNet: num_source must be >= 1 (seq_length - 1), got {num_source}")
        self.num_source = num_source
        self.do_exp = do_exp
        build_layers(self, ENCODER_LAYERS)
        self.pose = PoseHead(num_source)
        self.exp = ExplainabilityHead(num_source) if do_exp else None

    @property
    def size_multiple(self) -> int:
        """Height and width must be multiples of this (32 with the exp branch, else any size)."""
        return EXP_MULTIPLE if self.do_exp else 1

    def get_config(self) -> dict:
        """Keras config plus the architecture: `num_source` and `do_exp`."""
        return {**super().get_config(), "num_source": self.num_source, "do_exp": self.do_exp}

    def named_conv_layers(self) -> dict[str, keras.layers.Layer]:
        """Scope path (as in the TF1 graph, without `pose_exp_net/`) -> conv layer, in table order."""
        layers = {row.name: getattr(self, row.name) for row in ENCODER_LAYERS}
        for head in (self.pose, self.exp):
            if head is not None:
                layers.update({f"{head.name}/{path}": layer for path, layer in head.named_conv_layers().items()})
        return layers

    def ensure_built(self) -> PoseExpNet:
        """Creates the variables (on a tiny zero input: parameter shapes do not depend on the input size)."""
        if not self.built:
            self(tf.zeros([1, EXP_MULTIPLE, EXP_MULTIPLE, 3]), tf.zeros([1, EXP_MULTIPLE, EXP_MULTIPLE,
                                                                        3 * self.num_source]))
        return self

    def build_from_config(self, config: dict) -> None:
        """Keras' rebuild after a config round trip (clone_model, deserialisation): the variables' shapes do
        not depend on the input size, so the recorded input shape is not needed."""
        self.ensure_built()

    def call(self, target_image: tf.Tensor, source_stack: tf.Tensor,
             training: bool | None = None) -> tuple[tf.Tensor, list[tf.Tensor] | None]:
        """target [B, H, W, 3], source_stack [B, H, W, 3N] (temporal order, target removed), both in [-1, 1]
        -> (pose [B, N, 6], [mask1..mask4] logits [B, H/2^s, W/2^s, 2N] or None). `training` is unused."""
        if source_stack.shape[-1] is not None and source_stack.shape[-1] != 3 * self.num_source:
            raise ConfigError(f"PoseExpNet: source_stack has {source_stack.shape[-1]} channels, expected "
                              f"{3 * self.num_source} for num_source={self.num_source}")
        check_input_size("PoseExpNet", target_image, self.size_multiple)
        inputs = tf.concat([target_image, source_stack], axis=-1)
        cnv1 = self.cnv1(inputs)
        cnv2 = self.cnv2(cnv1)
        cnv3 = self.cnv3(cnv2)
        cnv4 = self.cnv4(cnv3)
        cnv5 = self.cnv5(cnv4)
        pose = self.pose(cnv5)
        return pose, (self.exp(cnv5) if self.exp is not None else None)
