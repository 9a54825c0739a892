"""The two networks of SfMLearner (DispNet, PoseExpNet) and the input-size rule training must respect."""

from sfmlearner_tf.models.disp_net import DISP_NET_MULTIPLE, DispNet
from sfmlearner_tf.models.pose_exp_net import EXP_MULTIPLE, PoseExpNet

__all__ = ["DISP_NET_MULTIPLE", "EXP_MULTIPLE", "DispNet", "PoseExpNet", "required_multiple"]


def required_multiple(do_exp: bool) -> int:
    """What img_height and img_width must be multiples of to train both nets: 16 for DispNet, 32 with the
    explainability branch (its masks must have the image pyramid's sizes)."""
    return EXP_MULTIPLE if do_exp else DISP_NET_MULTIPLE
