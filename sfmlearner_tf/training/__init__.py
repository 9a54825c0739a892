"""Training: the config, the tf.function train step, checkpoints, summaries and the loop (`train`)."""

from sfmlearner_tf.training.checkpoints import TrainCheckpoints, init_from_checkpoint, make_checkpoint
from sfmlearner_tf.training.config import DistributionConfig, OptimizerConfig, TrainConfig
from sfmlearner_tf.training.guards import GracefulStop, NonFiniteLossError, check_finite
from sfmlearner_tf.training.loop import TrainResult, build_state, train
from sfmlearner_tf.training.step import TrainStep, make_optimizer, to_model_range

__all__ = [
    "DistributionConfig",
    "GracefulStop",
    "NonFiniteLossError",
    "OptimizerConfig",
    "TrainCheckpoints",
    "TrainConfig",
    "TrainResult",
    "TrainStep",
    "build_state",
    "check_finite",
    "init_from_checkpoint",
    "make_checkpoint",
    "make_optimizer",
    "to_model_range",
    "train",
]
