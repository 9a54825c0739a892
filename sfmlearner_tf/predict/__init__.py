"""Depth and camera trajectory for the user's own images or video (sfm-predict)."""

from sfmlearner_tf.predict.run import PredictConfig, PredictResult, predict
from sfmlearner_tf.predict.trajectory import chain_trajectory, tum_lines, window_transforms

__all__ = ["PredictConfig", "PredictResult", "chain_trajectory", "predict", "tum_lines", "window_transforms"]
