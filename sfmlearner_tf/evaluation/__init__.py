"""Evaluation: Eigen-split depth (velodyne ground truth, the original's metrics), odometry pose ATE on 5-frame
snippets, depth-boundary metrics, exports and comparison figures."""

from sfmlearner_tf.evaluation.boundary_metrics import (
    depth_boundary_errors,
    edge_sharpness_ratio,
    predicted_depth_edges,
    true_depth_edges,
)
from sfmlearner_tf.evaluation.depth_eval import DepthEvalConfig, evaluate_depth
from sfmlearner_tf.evaluation.depth_gt import cached_gt_depths, generate_depth_map
from sfmlearner_tf.evaluation.depth_metrics import (
    METRIC_NAMES,
    compute_depth_errors,
    format_metrics_table,
    garg_crop,
    score_depths,
)
from sfmlearner_tf.evaluation.depth_predict import predict_depths
from sfmlearner_tf.evaluation.exports import depth_to_color, export_depths
from sfmlearner_tf.evaluation.figures import comparison_figure, interpolate_sparse_depth
from sfmlearner_tf.evaluation.pose_ate import compute_ate, directory_ate, snippet_ate
from sfmlearner_tf.evaluation.pose_eval import PoseEvalConfig, evaluate_pose, predict_pose_snippets
from sfmlearner_tf.evaluation.pose_snippets import pose_vec_to_mat, read_tum_file, write_gt_snippets, write_snippet
from sfmlearner_tf.evaluation.prediction_file import load_prediction_file
from sfmlearner_tf.evaluation.split_files import read_test_lines, resolve_test_frames

__all__ = [
    "METRIC_NAMES",
    "DepthEvalConfig",
    "PoseEvalConfig",
    "cached_gt_depths",
    "comparison_figure",
    "compute_ate",
    "compute_depth_errors",
    "depth_boundary_errors",
    "depth_to_color",
    "directory_ate",
    "edge_sharpness_ratio",
    "evaluate_depth",
    "evaluate_pose",
    "export_depths",
    "format_metrics_table",
    "garg_crop",
    "generate_depth_map",
    "interpolate_sparse_depth",
    "load_prediction_file",
    "pose_vec_to_mat",
    "predict_depths",
    "predict_pose_snippets",
    "predicted_depth_edges",
    "read_test_lines",
    "read_tum_file",
    "resolve_test_frames",
    "score_depths",
    "snippet_ate",
    "true_depth_edges",
    "write_gt_snippets",
    "write_snippet",
]
