"""The sfm-eval program's job: score the model(s) named by the configuration, read from checkpoints or a
predictions file, with evaluation's steps; compare depth with a model B (its scores, comparison figures) and
print the table with a legend naming the checkpoints actually read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from sfmlearner_tf.evaluation.boundary_eval import boundary_scores
from sfmlearner_tf.evaluation.depth_eval import (
    DepthEvalConfig,
    DepthTestSet,
    check_config,
    format_baselines_table,
    format_boundary_line,
    ground_truth,
    predict_test_depths,
    read_test_set,
    score_baselines,
    score_predictions,
    write_result,
)
from sfmlearner_tf.evaluation.depth_gt import SparseDepth
from sfmlearner_tf.evaluation.depth_metrics import format_metrics_table, score_depths
from sfmlearner_tf.evaluation.depth_predict import load_resized_image
from sfmlearner_tf.evaluation.figures import write_comparison_figures
from sfmlearner_tf.evaluation.odometry_leak import training_overlap
from sfmlearner_tf.evaluation.pose_eval import PoseEvalConfig, evaluate_pose
from sfmlearner_tf.evaluation.prediction_file import check_prediction_shapes, load_prediction_file
from sfmlearner_tf.io_utils import atomic_save_npy
from sfmlearner_tf.models import DISP_NET_MULTIPLE
from sfmlearner_tf.models.restore import restore_depth_net, restore_pose_net
from sfmlearner_tf.run_record import find_run_record
from sfmlearner_tf.settings import PROGRESS_EVERY, check_settings, setting
from sfmlearner_tf.training.provenance import read_run_config

SPLITS = ("eigen", "odometry")


@dataclass(frozen=True)
class EvalRequest:
    """The settings sfm-eval shares between its splits; the rest are DepthEvalConfig's (eigen) or PoseEvalConfig's
    (odometry). The sizes (and the pose snippet length, precision) default to the checkpoint's run record."""

    dataset_dir: str = setting(help="KITTI raw root (eigen) or KITTI odometry root (odometry).")
    output_dir: str = setting(help="Where results (JSON, predictions, snippets, exports, figures) go.")
    split: str = setting("eigen", "eigen: depth on the Eigen test list; odometry: pose ATE.", choices=SPLITS)
    ckpt_file: str | None = setting(None, "Checkpoint: Zhou et al.'s TF1 prefix (model-190532), one of ours, or a "
                                    "folder of ours (the latest is used).")
    img_height: int = setting(128, "Network input height (default: the checkpoint's run record, else 128).",
                              multiple_of=DISP_NET_MULTIPLE)
    img_width: int = setting(416, "Network input width (default: the checkpoint's run record, else 416).",
                             multiple_of=DISP_NET_MULTIPLE)
    batch_size: int | None = setting(None, "Inference batch (default: 4 for eigen, 1 for odometry, as the "
                                     "original).", low=1)
    progress_every_s: float = setting(10.0, "Seconds between progress lines (inf: none).", rule=PROGRESS_EVERY)

    def __post_init__(self) -> None:
        check_settings(self)


def evaluate(config: DepthEvalConfig | PoseEvalConfig) -> dict:
    """Depth or pose evaluation, as the configuration says."""
    return evaluate_depth_run(config) if isinstance(config, DepthEvalConfig) else evaluate_pose_run(config)


def evaluate_depth_run(config: DepthEvalConfig) -> dict:
    """Scores pred_file, else ckpt_file (its predictions saved as <output_dir>/<checkpoint basename>.npy, as
    test_kitti_depth.py), and model B of compare_ckpt_file; returns the result (with its printable "table") and,
    with an output_dir, writes it to <output_dir>/depth_eval.json."""
    check_config(config, have_net=False)
    test_set = read_test_set(config)
    file_depths = None
    if config.pred_file:  # read and checked before the ground truth (slow the first time)
        file_depths = load_prediction_file(config.pred_file, config.pred_allow_pickle)
    gt_depths = ground_truth(config, test_set)
    if file_depths is not None:
        check_prediction_shapes(config.pred_file, file_depths, [gt.shape for gt in gt_depths], test_set.lines)
        preds, source = file_depths, config.pred_file
    else:
        depth_net, info = restore_depth_net(config.ckpt_file, config.mixed_precision)
        depths = predict_test_depths(config, depth_net, test_set)
        if config.output_dir:
            atomic_save_npy(Path(config.output_dir) / f"{Path(config.ckpt_file).name}.npy", depths)
        preds, source = list(depths), str(info["checkpoint"])
    result = score_predictions(config, test_set, gt_depths, preds, source)
    if config.compare_ckpt_file:
        result["compare"] = _compare(config, test_set, gt_depths, preds, source)
    if config.baselines:
        result["baselines"] = score_baselines(config, gt_depths)
    result["table"] = _depth_table(config, result)
    write_result(config, result)
    return result


def _compare_size(config: DepthEvalConfig) -> tuple[int, int]:
    """Model B's input size: its own where given, else model A's."""
    return (config.compare_img_height or config.img_height, config.compare_img_width or config.img_width)


def _compare(config: DepthEvalConfig, test_set: DepthTestSet, gt_depths: list[SparseDepth],
             preds: list[np.ndarray], label_a: str) -> dict:
    """Scores model B (compare_ckpt_file) and writes the first num_figures comparison strips."""
    model_b, info = restore_depth_net(config.compare_ckpt_file, config.mixed_precision)
    height, width = _compare_size(config)
    preds_b = list(predict_test_depths(config, model_b, test_set, (height, width)))
    compared = {"checkpoint": str(info["checkpoint"]), "img_size": [height, width],
                "metrics": score_depths(gt_depths, preds_b, config.min_depth, config.max_depth)["metrics"]}
    if config.boundary_metrics:
        compared["boundary"] = boundary_scores(test_set.frames, preds_b, config.edge_domain, config.boundary_dir)
    count = min(config.num_figures, len(test_set.frames))
    full_images = [load_resized_image(p, *gt.shape) for p, gt in zip(test_set.image_paths[:count], gt_depths)]
    labels = ("input", Path(label_a).name, Path(compared["checkpoint"]).name, "ground truth (interpolated)")
    write_comparison_figures(Path(config.output_dir) / "figures", test_set.names[:count], full_images,
                             preds[:count], preds_b[:count], gt_depths[:count], labels)
    return compared


def _depth_table(config: DepthEvalConfig, result: dict) -> str:
    """The original's two printed lines (names, A's values); with a model B its values as a third line. A legend
    names the checkpoints actually read (the newest one of a folder) and their input sizes."""
    source, compared = result["prediction_source"], result.get("compare")
    label_a = source if source == config.pred_file else f"{source} ({config.img_height}x{config.img_width})"
    lines = [format_metrics_table(result["metrics"])]
    if compared is not None:
        height, width = compared["img_size"]
        lines += [format_metrics_table(compared["metrics"]).splitlines()[1],
                  f"row 1: A = {label_a}; row 2: B = {compared['checkpoint']} ({height}x{width})"]
    elif config.ckpt_file:
        lines.append(f"model: {label_a}")
    boundary_b = format_boundary_line(compared.get("boundary") if compared else None).replace(
        "boundary:", "boundary (B):")
    return ("\n".join(lines) + format_boundary_line(result.get("boundary")) + boundary_b
            + format_baselines_table(result))


def evaluate_pose_run(config: PoseEvalConfig) -> dict:
    """Pose evaluation of the predicted snippets in pred_dir, else of the network of ckpt_file; with a checkpoint
    a warning ends the table when its training list holds the evaluated sequence's drive."""
    restore = partial(restore_pose_net, config.ckpt_file, config.seq_length - 1) if config.ckpt_file else None
    overlap = _training_overlap(config.ckpt_file, config.dataset_dir, config.test_seq)
    return evaluate_pose(config, restore_net=restore, notes=[overlap] if overlap else [])


def _training_overlap(checkpoint: str | None, odom_dir: str, sequence: int) -> str | None:
    """The train/test overlap line (evaluation/odometry_leak.py) for the training data set named by the
    run_config.json beside the checkpoint's run record; None without one."""
    record = find_run_record(checkpoint) if checkpoint else None
    saved = read_run_config(record.parent) if record is not None else None
    data = saved.get("data") if saved else None
    dataset_dir = data.get("dataset_dir") if isinstance(data, dict) else None
    return training_overlap(dataset_dir, odom_dir, sequence) if dataset_dir else None
