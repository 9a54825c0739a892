"""Procedural synthetic driving data set in the KITTI raw and odometry layouts, with true depth, instance masks
and poses (see the README, "The synthetic driving data set")."""

from sfmlearner_tf.synthetic.config import RenderRequest, SyntheticConfig
from sfmlearner_tf.synthetic.dataset import SyntheticManifest, render_dataset

__all__ = ["RenderRequest", "SyntheticConfig", "SyntheticManifest", "render_dataset"]
