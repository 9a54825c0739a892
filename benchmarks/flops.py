"""FLOP counts of the networks, read off their traced graphs by TensorFlow's profiler (convolutions and
transposed convolutions dominate; element-wise ops are not counted), for the train step's FLOP floor."""

from __future__ import annotations

import keras
import tensorflow as tf


def graph_flops(fn: tf.types.experimental.GenericFunction, *specs: tf.TensorSpec) -> int:
    """Floating-point operations of one call of the tf.function `fn` on inputs of the given specs."""
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    graph = fn.get_concrete_function(*specs).graph
    return int(tf.compat.v1.profiler.profile(graph, options=options).total_float_ops)


def forward_flops(depth_net: keras.Model, pose_exp_net: keras.Model, batch: int, height: int, width: int,
                  num_source: int) -> dict[str, int]:
    """Forward FLOPs of DispNet on the target and PoseExpNet on target + sources, for one batch."""
    image = tf.TensorSpec([batch, height, width, 3], tf.float32)
    sources = tf.TensorSpec([batch, height, width, 3 * num_source], tf.float32)
    depth = graph_flops(tf.function(lambda x: depth_net(x)), image)
    pose = graph_flops(tf.function(lambda x, s: pose_exp_net(x, s)), image, sources)
    return {"depth_net": depth, "pose_exp_net": pose}


def train_step_flops(forward: dict[str, int]) -> int:
    """The usual estimate of forward + backward: three times the forward (the backward pass computes the
    gradients with respect to both the activations and the weights, each about one forward)."""
    return 3 * sum(forward.values())
