"""Both nets back to a TF1 checkpoint with the original's variable names, readable by its train.py (as
--init_checkpoint_file), test_kitti_depth.py and test_kitti_pose.py."""

from __future__ import annotations

import os
from pathlib import Path

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.models import DispNet, PoseExpNet
from sfmlearner_tf.models.tf1_checkpoint import restore_models, tf1_variable_map, write_tf1_checkpoint


def export_tf1_checkpoint(checkpoint: str | os.PathLike, prefix: str | os.PathLike, seq_length: int = 3,
                          do_exp: bool = False) -> dict[str, object]:
    """Reads DispNet and PoseExpNet(seq_length - 1 sources, exp branch iff do_exp) from `checkpoint` (ours, a
    folder of ours, or TF1) and writes them under the TF1 names (`depth_net/cnv1/weights`, ...) with the
    checkpoint's step as `train_op/global_step`. Refuses an existing prefix. Returns restore_models' info plus
    "prefix" and "variables"."""
    if Path(f"{prefix}.index").exists():
        raise ConfigError(f"{prefix}: a checkpoint with this prefix exists: choose another --output or delete it")
    depth_net = DispNet().ensure_built()
    pose_exp_net = PoseExpNet(num_source=seq_length - 1, do_exp=do_exp).ensure_built()
    info = restore_models(checkpoint, depth_net=depth_net, pose_exp_net=pose_exp_net)
    arrays = {name: variable.numpy() for model in (depth_net, pose_exp_net)
              for name, variable in tf1_variable_map(model).items()}
    written = write_tf1_checkpoint(str(prefix), arrays, global_step=info.get("global_step"))
    return {**info, "prefix": written, "variables": len(arrays)}
