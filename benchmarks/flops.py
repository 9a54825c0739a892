"""FLOP counts for the FLOP floors, read off traced graphs by TensorFlow's profiler.

Only the matmul-class ops are counted (MATMUL_OPS: convolutions, their two gradients, matrix products): their
speed is bounded by the matmul rate, which is what the floor divides by. The profiler counts 2 FLOP per
multiply-add: Conv2D 2*N*Ho*Wo*kh*kw*Cin*Cout; a transposed convolution (Conv2DBackpropInput) and a kernel
gradient (Conv2DBackpropFilter) the same product for the convolution they belong to. Element-wise work (ReLU,
sigmoid, the warp, the losses) is left out: it is memory-bound, so the floor is a lower bound.

The forward + backward count is read off the gradient graph itself (only the gradients the step needs: no
gradient with respect to the input images), not estimated as 3x the forward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import tensorflow as tf
from tensorflow.python.framework import ops as framework_ops  # the registered FLOP formulas
from tensorflow.python.profiler.internal import flops_registry  # noqa: F401 (registers the gradients' formulas)

MATMUL_OPS = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "DepthwiseConv2dNative", "MatMul",
              "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")


def concrete_flops(concrete: tf.types.experimental.ConcreteFunction) -> int:
    """Matmul-class FLOPs of one call of a concrete function (static shapes needed), by the profiler's per-op
    formulas. Ops whose results no output needs are skipped, as TF's graph optimiser prunes them before running:
    the traced gradient of a convolution holds its input gradient even when nothing uses it (the images')."""
    needed = _needed_ops([t.op for t in tf.nest.flatten(concrete.outputs)])
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # the formulas call a deprecated TF1 shape helper, which logs a notice
    try:
        return sum(int(framework_ops.get_stats_for_node_def(concrete.graph, op.node_def, "flops").value)
                   for op in needed if op.type in MATMUL_OPS)
    finally:
        logger.setLevel(level)


def _needed_ops(outputs: list[tf.Operation]) -> set[tf.Operation]:
    """The ops the outputs depend on, through data and control inputs."""
    needed, stack = set(), list(outputs)
    while stack:
        op = stack.pop()
        if op not in needed:
            needed.add(op)
            stack.extend(tensor.op for tensor in op.inputs)
            stack.extend(op.control_inputs)
    return needed


def graph_flops(fn: Callable, *specs: tf.TensorSpec) -> int:
    """Matmul-class FLOPs of one call of `fn` (a Python callable or tf.function) on inputs of the given specs."""
    function = fn if hasattr(fn, "get_concrete_function") else tf.function(fn)
    return concrete_flops(function.get_concrete_function(*specs))


def forward_backward_flops(fn: Callable, variables: Sequence[tf.Variable], *specs: tf.TensorSpec) -> int:
    """Matmul-class FLOPs of the forward pass of `fn` plus the gradient of the sum of its outputs with respect to
    `variables` (not to the inputs), as a train step computes."""

    def forward_backward(*inputs: tf.Tensor) -> list[tf.Tensor]:
        with tf.GradientTape() as tape:
            outputs = [out for out in tf.nest.flatten(fn(*inputs)) if out is not None]
            total = tf.add_n([tf.reduce_sum(tf.cast(out, tf.float32)) for out in outputs])
        return [total, *tape.gradient(total, list(variables))]  # the total too: the forward pass is needed

    return graph_flops(forward_backward, *specs)


def net_specs(batch: int, height: int, width: int, num_source: int) -> tuple[tf.TensorSpec, tf.TensorSpec]:
    """Input specs of DispNet (the target image) and of PoseExpNet's second input (the stacked sources)."""
    return (tf.TensorSpec([batch, height, width, 3], tf.float32),
            tf.TensorSpec([batch, height, width, 3 * num_source], tf.float32))


def forward_flops(depth_net: keras.Model, pose_exp_net: keras.Model, batch: int, height: int, width: int,
                  num_source: int) -> dict[str, int]:
    """Forward FLOPs of DispNet on the target and PoseExpNet on target + sources, for one batch."""
    image, sources = net_specs(batch, height, width, num_source)
    return {"depth_net": graph_flops(lambda x: depth_net(x), image),
            "pose_exp_net": graph_flops(lambda x, s: pose_exp_net(x, s), image, sources)}


def train_step_flops(depth_net: keras.Model, pose_exp_net: keras.Model, batch: int, height: int, width: int,
                     num_source: int) -> dict[str, int]:
    """Forward + backward FLOPs of each net for one batch (gradients with respect to the weights)."""
    image, sources = net_specs(batch, height, width, num_source)
    return {"depth_net": forward_backward_flops(lambda x: depth_net(x, training=True),
                                                depth_net.trainable_variables, image),
            "pose_exp_net": forward_backward_flops(lambda x, s: pose_exp_net(x, s, training=True),
                                                   pose_exp_net.trainable_variables, image, sources)}
