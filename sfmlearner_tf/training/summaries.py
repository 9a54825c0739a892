"""TensorBoard summaries of a training step: loss terms, learning rate, speed, and images.

Written with the low-level tf.summary.write and TensorBoard's own record layout (plugin "scalars": a float32
scalar; plugin "images": [width, height, png...] strings), because tf.summary.scalar/image need the tensorboard
package, which TensorFlow 2.21 no longer installs. Viewing needs it (`pip install tensorboard`); writing does not.
"""

from __future__ import annotations

from collections.abc import Mapping

import tensorflow as tf
from tensorflow.core.framework import summary_pb2


def _metadata(plugin: str, data_class: int) -> summary_pb2.SummaryMetadata:
    return summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin),
                                       data_class=data_class)


_SCALAR = _metadata("scalars", summary_pb2.DATA_CLASS_SCALAR)
_IMAGE = _metadata("images", summary_pb2.DATA_CLASS_BLOB_SEQUENCE)


def write_scalar(tag: str, value: float, step: int) -> None:
    """One scalar point as TensorBoard's scalars plugin reads it."""
    tf.summary.write(tag, tf.constant(value, tf.float32), step=step, metadata=_SCALAR)


def write_images(tag: str, images: tf.Tensor, step: int, max_outputs: int = 2) -> None:
    """Up to `max_outputs` [B, H, W, C] float images in [0, 1] as PNGs in the images plugin's layout."""
    images = tf.image.convert_image_dtype(tf.clip_by_value(images[:max_outputs], 0.0, 1.0), tf.uint8, saturate=True)
    pngs = [tf.io.encode_png(image) for image in tf.unstack(images)]
    size = [tf.as_string(tf.shape(images)[2]), tf.as_string(tf.shape(images)[1])]
    tf.summary.write(tag, tf.stack(size + pngs), step=step, metadata=_IMAGE)

# Colour stops of a perceptual dark-to-bright map (magma-like): near disparity (large) is bright.
_COLOUR_STOPS = (
    (0.001, 0.000, 0.014),
    (0.232, 0.060, 0.437),
    (0.550, 0.161, 0.506),
    (0.868, 0.288, 0.409),
    (0.994, 0.624, 0.427),
    (0.987, 0.991, 0.750),
)


def colorize_disparity(disp: tf.Tensor) -> tf.Tensor:
    """[B, H, W, 1] disparity -> [B, H, W, 3] RGB in [0, 1]: each image divided by its own maximum, then mapped
    piecewise-linearly through _COLOUR_STOPS (0 -> the first stop, the image's maximum -> the last)."""
    disp = tf.cast(disp[..., 0], tf.float32)
    peak = tf.reduce_max(disp, axis=[1, 2], keepdims=True)
    position = tf.clip_by_value(disp / tf.maximum(peak, 1e-12), 0.0, 1.0) * (len(_COLOUR_STOPS) - 1)
    lower = tf.minimum(tf.floor(position), len(_COLOUR_STOPS) - 2)
    fraction = (position - lower)[..., tf.newaxis]
    stops = tf.constant(_COLOUR_STOPS, tf.float32)
    index = tf.cast(lower, tf.int32)
    return tf.gather(stops, index) * (1.0 - fraction) + tf.gather(stops, index + 1) * fraction


def to_unit_range(images: tf.Tensor) -> tf.Tensor:
    """[-1, 1] images -> [0, 1] for display (the original's deprocess, clipped)."""
    return tf.clip_by_value((tf.cast(images, tf.float32) + 1.0) / 2.0, 0.0, 1.0)


def write_step_summaries(writer: tf.summary.SummaryWriter, step: int, scalars: Mapping[str, float],
                         learning_rate: float, steps_per_second: float, images: Mapping[str, tf.Tensor],
                         max_outputs: int = 2) -> None:
    """Writes one summary point: every scalar as `loss/<name>`, `train/learning_rate`, `train/steps_per_second`,
    and the images target, disparity (colour-mapped), each warped source, each exp mask and the boundary."""
    with writer.as_default():
        for name, value in scalars.items():
            write_scalar(f"loss/{name}", value, step)
        write_scalar("train/learning_rate", learning_rate, step)
        write_scalar("train/steps_per_second", steps_per_second, step)
        write_images("target", to_unit_range(images["tgt_image"]), step, max_outputs)
        write_images("disparity", colorize_disparity(images["disp"]), step, max_outputs)
        projected = images["projected"]
        for index in range(projected.shape[-1] // 3):
            write_images(f"projected_source_{index}", to_unit_range(projected[..., 3 * index:3 * index + 3]), step,
                         max_outputs)
        if "exp_mask" in images:
            for index in range(images["exp_mask"].shape[-1]):
                write_images(f"exp_mask_{index}", images["exp_mask"][..., index:index + 1], step, max_outputs)
        if "boundary" in images:
            write_images("boundary", images["boundary"], step, max_outputs)
    writer.flush()
