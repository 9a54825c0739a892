"""The networks of inference (evaluation, prediction, export) filled from a checkpoint: Zhou et al.'s TF1 prefix,
one of ours, or a folder of ours (its newest readable checkpoint). A run folder gives its newest checkpoint
(epoch or latest/); its `best/` subfolder, named explicitly, gives the one with the lowest validation loss."""

from __future__ import annotations

import os

from sfmlearner_tf.models.disp_net import DispNet
from sfmlearner_tf.models.pose_exp_net import PoseExpNet
from sfmlearner_tf.models.tf1_checkpoint import restore_models
from sfmlearner_tf.ops.precision import DtypePolicy, precision_policy


def load_depth_net(checkpoint: str | os.PathLike, mixed_precision: bool = False) -> DispNet:
    """A DispNet filled from a checkpoint; with mixed_precision it computes in bfloat16 on a CPU (about 3x the
    images/s at batch 32 here) or float16 on a GPU, its weights still float32."""
    return restore_depth_net(checkpoint, mixed_precision)[0]


def restore_depth_net(checkpoint: str | os.PathLike, mixed_precision: bool = False) -> tuple[DispNet, dict]:
    """load_depth_net's DispNet and restore_models' info, whose "checkpoint" is the prefix actually read (the
    newest one when `checkpoint` is a folder)."""
    with DtypePolicy(precision_policy(mixed_precision)):
        depth_net = DispNet()
        depth_net.ensure_built()
    return depth_net, restore_models(checkpoint, depth_net=depth_net)


def restore_pose_net(checkpoint: str | os.PathLike, num_source: int) -> tuple[PoseExpNet, dict]:
    """A PoseExpNet without the explainability branch (as the original's test graph) filled from a checkpoint,
    and restore_models' info ("checkpoint": the prefix actually read, the newest one of a folder)."""
    net = PoseExpNet(num_source=num_source, do_exp=False)
    net.ensure_built()
    return net, restore_models(checkpoint, pose_exp_net=net)
