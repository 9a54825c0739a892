"""Eigen-split depth evaluation of a network in hand: test list -> ground truth (cached) -> predictions -> the
original's metrics, boundary metrics, exports, image-blind baselines, JSON. The steps are public so that the
sfm-eval program (sfmlearner_tf/tasks/evaluate.py) can score a checkpoint or a predictions file, and compare two
models, with the same steps.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.evaluation.boundary_eval import boundary_scores
from sfmlearner_tf.evaluation.depth_gt import SparseDepth, cached_gt_depths
from sfmlearner_tf.evaluation.depth_metrics import format_labelled_table, format_metrics_table, score_depths
from sfmlearner_tf.evaluation.depth_predict import predict_depths
from sfmlearner_tf.evaluation.exports import export_depths, export_name
from sfmlearner_tf.evaluation.priors import PRIOR_NAMES, prior_depths
from sfmlearner_tf.evaluation.split_files import (
    find_test_file_list,
    read_test_lines,
    resolve_test_frames,
    warn_if_not_standard,
)
from sfmlearner_tf.io_utils import atomic_write_text, check_writable_folder


@dataclass(frozen=True)
class DepthEvalConfig:
    """Eigen-split depth evaluation (defaults = the original's). Exactly one prediction source is used: the
    in-memory DispNet passed to evaluate_depth, else `pred_file`, else `ckpt_file` (those two, and the model B
    of compare_ckpt_file, are read by sfmlearner_tf/tasks/evaluate.py)."""

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


def check_config(config: DepthEvalConfig, have_net: bool) -> None:
    """Refuses a configuration that cannot run, before anything is read."""
    if not (have_net or config.pred_file or config.ckpt_file):
        raise ConfigError("depth evaluation needs a prediction source: --ckpt_file or --pred_file")
    if config.num_figures and not config.compare_ckpt_file:
        raise ConfigError("--num_figures needs --compare_ckpt_file (model B of the comparison)")
    if (config.export_depths or config.num_figures) and not config.output_dir:
        raise ConfigError("exports and figures need --output_dir")
    if not 0 < config.min_depth < config.max_depth:
        raise ConfigError(f"need 0 < min_depth < max_depth, got {config.min_depth} and {config.max_depth}")
    if config.output_dir:
        check_writable_folder(config.output_dir, "--output_dir")


@dataclass(frozen=True)
class DepthTestSet:
    """The test list read and resolved: its lines, whether it is the standard Eigen list, the frames."""

    list_path: Path
    lines: list[str]
    standard: bool
    frames: list

    @property
    def image_paths(self) -> list[Path]:
        return [frame.image for frame in self.frames]

    @property
    def names(self) -> list[str]:
        """The file names of exports and figures, one per test image."""
        return [export_name(line) for line in self.lines]


def read_test_set(config: DepthEvalConfig) -> DepthTestSet:
    """The configured test list (or the one beside the data), warning when it is not the standard one."""
    list_path = config.test_file_list or find_test_file_list(config.dataset_dir)
    lines = read_test_lines(list_path)
    standard = warn_if_not_standard(lines, list_path)
    return DepthTestSet(Path(list_path), lines, standard, resolve_test_frames(config.dataset_dir, lines))


def ground_truth(config: DepthEvalConfig, test_set: DepthTestSet) -> list[SparseDepth]:
    """The velodyne depth maps of the test images (from the cache when there is one)."""
    return cached_gt_depths(test_set.frames, config.gt_cache_dir, config.fix_duplicate_index,
                            config.progress_every_s)


def predict_test_depths(config: DepthEvalConfig, depth_net, test_set: DepthTestSet,
                        size: tuple[int, int] | None = None) -> np.ndarray:
    """The depth maps of the test images by a DispNet at `size` (height, width; default img_height x img_width)."""
    height, width = size or (config.img_height, config.img_width)
    return predict_depths(depth_net, test_set.image_paths, height, width, config.batch_size, config.progress_every_s)


def score_predictions(config: DepthEvalConfig, test_set: DepthTestSet, gt_depths: list[SparseDepth],
                      preds: list[np.ndarray], source: str) -> dict:
    """The JSON-ready result of one model's predictions: metric means, per-image values, boundary scores; with
    export_depths, the coloured depth maps are written too."""
    scored = score_depths(gt_depths, preds, config.min_depth, config.max_depth, names=test_set.lines)
    result = {"split": "eigen", "test_file_list": str(test_set.list_path), "standard_eigen_list": test_set.standard,
              "num_images": len(test_set.lines), "prediction_source": source, **scored, "config": asdict(config)}
    if config.boundary_metrics:
        result["boundary"] = boundary_scores(test_set.frames, preds, config.edge_domain, config.boundary_dir)
    if config.export_depths:
        export_depths(Path(config.output_dir) / "depth_exports", test_set.names, preds, config.progress_every_s)
    return result


def score_baselines(config: DepthEvalConfig, gt_depths: list[SparseDepth]) -> dict[str, dict]:
    """The metrics of each image-blind prior (evaluation.priors) on the same ground truth."""
    return {name: score_depths(gt_depths, prior_depths(name, gt_depths, config.min_depth, config.max_depth),
                               config.min_depth, config.max_depth)["metrics"] for name in PRIOR_NAMES}


def format_boundary_line(scores: dict | None) -> str:
    """The boundary scores as one line after a newline ("" without scores)."""
    if not scores:
        return ""
    parts = []
    if "dbe_acc" in scores:
        parts.append(f"dbe_acc {scores['dbe_acc']:.3f} px, dbe_comp {scores['dbe_comp']:.3f} px "
                     f"({scores['dbe_images']} images, {scores['edge_domain']} edges)")
    if "edge_sharpness" in scores:
        parts.append(f"edge_sharpness {scores['edge_sharpness']:.3f} ({scores['sharpness_images']} images)")
    return "\nboundary: " + "; ".join(parts)


def format_baselines_table(result: dict) -> str:
    """The model (and model B) beside the image-blind priors, one labelled line each ("" without priors)."""
    if "baselines" not in result:
        return ""
    rows = {"model": result["metrics"]}
    if "compare" in result:
        rows["model B"] = result["compare"]["metrics"]
    return "\n" + format_labelled_table({**rows, **result["baselines"]})


def write_result(config: DepthEvalConfig, result: dict) -> None:
    """<output_dir>/depth_eval.json (nothing without an output_dir)."""
    if config.output_dir:
        atomic_write_text(Path(config.output_dir) / "depth_eval.json", json.dumps(result, indent=1))


def evaluate_depth(config: DepthEvalConfig, depth_net) -> dict:
    """Evaluates an in-memory DispNet (no checkpoint on disk needed); returns a JSON-ready dict (metric means,
    per-image values, boundary scores, the printable "table") and, with an output_dir, writes it to
    <output_dir>/depth_eval.json."""
    check_config(config, have_net=True)
    test_set = read_test_set(config)
    gt_depths = ground_truth(config, test_set)
    preds = list(predict_test_depths(config, depth_net, test_set))
    result = score_predictions(config, test_set, gt_depths, preds, "in-memory model")
    if config.baselines:
        result["baselines"] = score_baselines(config, gt_depths)
    result["table"] = (format_metrics_table(result["metrics"]) + format_boundary_line(result.get("boundary"))
                       + format_baselines_table(result))
    write_result(config, result)
    return result
