"""Eigen-split depth evaluation end to end: test list -> ground truth (cached) -> predictions (in-memory DispNet,
checkpoint, or a predictions .npy) -> the original's metrics, boundary metrics, exports, comparison figures, JSON.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.evaluation.boundary_eval import boundary_scores
from sfmlearner_tf.evaluation.depth_gt import cached_gt_depths
from sfmlearner_tf.evaluation.depth_metrics import format_labelled_table, format_metrics_table, score_depths
from sfmlearner_tf.evaluation.depth_predict import load_resized_image, predict_depths, restore_depth_net
from sfmlearner_tf.evaluation.exports import export_depths, export_name
from sfmlearner_tf.evaluation.figures import write_comparison_figures
from sfmlearner_tf.evaluation.prediction_file import check_prediction_shapes, load_prediction_file
from sfmlearner_tf.evaluation.priors import PRIOR_NAMES, prior_depths
from sfmlearner_tf.evaluation.split_files import (
    find_test_file_list,
    read_test_lines,
    resolve_test_frames,
    warn_if_not_standard,
)
from sfmlearner_tf.io_utils import atomic_save_npy, atomic_write_text, check_writable_folder


@dataclass(frozen=True)
class DepthEvalConfig:
    """Eigen-split depth evaluation (defaults = the original's). Exactly one prediction source is used: the
    in-memory DispNet passed to evaluate_depth, else `pred_file`, else `ckpt_file`."""

    dataset_dir: str                       # KITTI raw root (<date>/<drive>/...)
    test_file_list: str | None = None      # None: test_files_eigen.txt beside the data (see find_test_file_list)
    output_dir: str | None = None          # None: write nothing (in-memory use)
    ckpt_file: str | None = None
    pred_file: str | None = None
    pred_allow_pickle: bool = False
    compare_ckpt_file: str | None = None   # model B of the comparison figures (scored too)
    compare_img_height: int | None = None  # model B's input size (None: img_height / img_width)
    compare_img_width: int | None = None
    min_depth: float = 1e-3
    max_depth: float = 80.0
    img_height: int = 128
    img_width: int = 416
    batch_size: int = 4
    gt_cache_dir: str | None = None        # None: no cache
    fix_duplicate_index: bool = False      # True: plain per-pixel minimum instead of the original's quirk
    boundary_metrics: bool = True
    edge_domain: str = "depth"
    boundary_dir: str | None = None
    mixed_precision: bool = False          # True: bfloat16 (CPU) / float16 (GPU) inference, float32 weights
    export_depths: bool = False
    num_figures: int = 0                   # comparison figures for the first N images (needs compare_ckpt_file)
    baselines: bool = False                # also score the image-blind priors (constant map, row prior)
    progress_every_s: float = 10.0


def _check(config: DepthEvalConfig, have_net: bool) -> None:
    if not (have_net or config.pred_file or config.ckpt_file):
        raise ConfigError("depth evaluation needs a prediction source: --ckpt_file or --pred_file")
    if config.num_figures and not config.compare_ckpt_file:
        raise ConfigError("--num_figures needs --compare_ckpt_file (model B of the comparison)")
    if (config.export_depths or config.num_figures) and not config.output_dir:
        raise ConfigError("exports and figures need --output_dir")
    if not 0 < config.min_depth < config.max_depth:
        raise ConfigError(f"need 0 < min_depth < max_depth, got {config.min_depth} and {config.max_depth}")


def _predictions(config: DepthEvalConfig, image_paths: list[Path], depth_net,
                 file_depths: list[np.ndarray] | None) -> tuple[list[np.ndarray], str]:
    """The predicted depth maps and where they came from (file_depths: those of pred_file; for a checkpoint
    folder: the checkpoint picked)."""
    size = dict(height=config.img_height, width=config.img_width, batch_size=config.batch_size,
                progress_every_s=config.progress_every_s)
    if depth_net is not None:
        return list(predict_depths(depth_net, image_paths, **size)), "in-memory model"
    if file_depths is not None:
        return file_depths, config.pred_file
    depth_net, info = restore_depth_net(config.ckpt_file, config.mixed_precision)
    depths = predict_depths(depth_net, image_paths, **size)
    if config.output_dir:  # as test_kitti_depth.py: <output_dir>/<checkpoint basename>.npy
        atomic_save_npy(Path(config.output_dir) / f"{Path(config.ckpt_file).name}.npy", depths)
    return list(depths), str(info["checkpoint"])


def _boundary_line(scores: dict | None) -> str:
    if not scores:
        return ""
    parts = []
    if "dbe_acc" in scores:
        parts.append(f"dbe_acc {scores['dbe_acc']:.3f} px, dbe_comp {scores['dbe_comp']:.3f} px "
                     f"({scores['dbe_images']} images, {scores['edge_domain']} edges)")
    if "edge_sharpness" in scores:
        parts.append(f"edge_sharpness {scores['edge_sharpness']:.3f} ({scores['sharpness_images']} images)")
    return "\nboundary: " + "; ".join(parts)


def _compare_size(config: DepthEvalConfig) -> tuple[int, int]:
    """Model B's input size: its own where given, else model A's."""
    return (config.compare_img_height or config.img_height, config.compare_img_width or config.img_width)


def _table(config: DepthEvalConfig, result: dict) -> str:
    """The original's two printed lines (names, A's values); with a model B its values as a third line. A legend
    names the checkpoints actually read (the newest one of a folder) and their input sizes."""
    source, compared = result["prediction_source"], result.get("compare")
    label_a = source if source == config.pred_file else f"{source} ({config.img_height}x{config.img_width})"
    lines = [format_metrics_table(result["metrics"])]
    if compared is not None:
        height, width = compared["img_size"]
        lines += [format_metrics_table(compared["metrics"]).splitlines()[1],
                  f"row 1: A = {label_a}; row 2: B = {compared['checkpoint']} ({height}x{width})"]
    elif config.ckpt_file and not config.pred_file:
        lines.append(f"model: {label_a}")
    boundary_b = _boundary_line(compared.get("boundary") if compared else None).replace("boundary:", "boundary (B):")
    return "\n".join(lines) + _boundary_line(result.get("boundary")) + boundary_b + _baselines_table(result)


def _compare(config: DepthEvalConfig, frames: list, names: list[str], gt_depths: list[np.ndarray],
             preds: list[np.ndarray], label_a: str) -> dict:
    """Scores model B (compare_ckpt_file) and writes the first num_figures comparison strips."""
    image_paths = [f.image for f in frames]
    model_b, info = restore_depth_net(config.compare_ckpt_file, config.mixed_precision)
    height, width = _compare_size(config)
    preds_b = list(predict_depths(model_b, image_paths, height, width, config.batch_size, config.progress_every_s))
    compared = {"checkpoint": str(info["checkpoint"]), "img_size": [height, width],
                "metrics": score_depths(gt_depths, preds_b, config.min_depth, config.max_depth)["metrics"]}
    if config.boundary_metrics:
        compared["boundary"] = boundary_scores(frames, preds_b, config.edge_domain, config.boundary_dir)
    count = min(config.num_figures, len(frames))
    full_images = [load_resized_image(p, *gt.shape) for p, gt in zip(image_paths[:count], gt_depths)]
    labels = ("input", Path(label_a).name, Path(compared["checkpoint"]).name, "ground truth (interpolated)")
    write_comparison_figures(Path(config.output_dir) / "figures", names[:count], full_images, preds[:count],
                             preds_b[:count], gt_depths[:count], labels)
    return compared


def _score_baselines(config: DepthEvalConfig, gt_depths: list[np.ndarray]) -> dict[str, dict]:
    """The metrics of each image-blind prior (evaluation.priors) on the same ground truth."""
    return {name: score_depths(gt_depths, prior_depths(name, gt_depths, config.min_depth, config.max_depth),
                               config.min_depth, config.max_depth)["metrics"] for name in PRIOR_NAMES}


def _baselines_table(result: dict) -> str:
    """The model (and model B) beside the image-blind priors, one labelled line each ("" without priors)."""
    if "baselines" not in result:
        return ""
    rows = {"model": result["metrics"]}
    if "compare" in result:
        rows["model B"] = result["compare"]["metrics"]
    return "\n" + format_labelled_table({**rows, **result["baselines"]})


def evaluate_depth(config: DepthEvalConfig, depth_net=None) -> dict:
    """Runs the evaluation; returns a JSON-ready dict (metric means, per-image values, boundary scores, the
    printable "table") and, with an output_dir, writes it to <output_dir>/depth_eval.json.
    `depth_net`: an in-memory DispNet (no checkpoint on disk needed)."""
    _check(config, depth_net is not None)
    if config.output_dir:
        check_writable_folder(config.output_dir, "--output_dir")
    list_path = config.test_file_list or find_test_file_list(config.dataset_dir)
    lines = read_test_lines(list_path)
    standard = warn_if_not_standard(lines, list_path)
    frames = resolve_test_frames(config.dataset_dir, lines)
    file_depths = None
    if depth_net is None and config.pred_file:  # read and checked before the ground truth (slow the first time)
        file_depths = load_prediction_file(config.pred_file, config.pred_allow_pickle)
    gt_depths = cached_gt_depths(frames, config.gt_cache_dir, config.fix_duplicate_index, config.progress_every_s)
    if file_depths is not None:
        check_prediction_shapes(config.pred_file, file_depths, [gt.shape for gt in gt_depths], lines)
    preds, source = _predictions(config, [f.image for f in frames], depth_net, file_depths)
    scored = score_depths(gt_depths, preds, config.min_depth, config.max_depth, names=lines)
    result = {"split": "eigen", "test_file_list": str(list_path), "standard_eigen_list": standard,
              "num_images": len(lines), "prediction_source": source, **scored, "config": asdict(config)}
    if config.boundary_metrics:
        result["boundary"] = boundary_scores(frames, preds, config.edge_domain, config.boundary_dir)
    names = [export_name(line) for line in lines]
    if config.export_depths:
        export_depths(Path(config.output_dir) / "depth_exports", names, preds, config.progress_every_s)
    if config.compare_ckpt_file:
        result["compare"] = _compare(config, frames, names, gt_depths, preds, source)
    if config.baselines:
        result["baselines"] = _score_baselines(config, gt_depths)
    result["table"] = _table(config, result)
    if config.output_dir:
        atomic_write_text(Path(config.output_dir) / "depth_eval.json", json.dumps(result, indent=1))
    return result
