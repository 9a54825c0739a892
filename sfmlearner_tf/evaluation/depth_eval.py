"""Eigen-split depth evaluation of a network in hand: test list -> ground truth (cached) -> predictions -> the
original's metrics, boundary metrics, exports, image-blind baselines, JSON. The steps are public so that the
sfm-eval program (sfmlearner_tf/tasks/evaluate.py) can score a checkpoint or a predictions file, and compare two
models, with the same steps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.evaluation.boundary_eval import boundary_scores
from sfmlearner_tf.evaluation.depth_gt import SparseDepth, cached_gt_depths
from sfmlearner_tf.evaluation.depth_metrics import format_labelled_table, format_metrics_table, score_depths
from sfmlearner_tf.evaluation.depth_predict import predict_depths
from sfmlearner_tf.evaluation.exports import export_depths, export_name
from sfmlearner_tf.evaluation.prediction_file import check_one_source
from sfmlearner_tf.evaluation.priors import PRIOR_NAMES, prior_depths
from sfmlearner_tf.evaluation.result_json import result_json
from sfmlearner_tf.evaluation.split_files import (
    find_test_file_list,
    read_test_lines,
    resolve_test_frames,
    warn_if_not_standard,
)
from sfmlearner_tf.io_utils import atomic_write_text, check_writable_folder
from sfmlearner_tf.settings import PROGRESS_EVERY, check_settings, setting


@dataclass(frozen=True)
class DepthEvalConfig:
    """Eigen-split depth evaluation (defaults = the original's). Exactly one prediction source is used: the
    in-memory DispNet passed to evaluate_depth, else `pred_file` or `ckpt_file`, never both (those two, and the
    model B of compare_ckpt_file, are read by sfmlearner_tf/tasks/evaluate.py)."""

    dataset_dir: str = setting(help="KITTI raw root (<date>/<drive>/...).")
    test_file_list: str | None = setting(None, "Eigen test list (the original repo's data/kitti/test_files_eigen.txt); "
                                         "default: test_files_eigen.txt beside --dataset_dir or in ../splits.")
    output_dir: str | None = setting(None, "Where results go (None: write nothing, for in-memory use).")
    ckpt_file: str | None = setting(None, "The model's checkpoint.")
    pred_file: str | None = setting(None, "Score this predictions .npy ([N, H, W] float depths, finite and > 0; or "
                                    "an .npz of one such array) instead of running a model.")
    pred_allow_pickle: bool = setting(False, "Allow an object-array --pred_file (only for files you trust).")
    compare_ckpt_file: str | None = setting(None, "Model B: scored too, and used in the comparison figures.")
    compare_img_height: int | None = setting(None, "Model B's input height (None: img_height).", multiple_of=16)
    compare_img_width: int | None = setting(None, "Model B's input width (None: img_width).", multiple_of=16)
    min_depth: float = setting(1e-3, "Minimum ground-truth depth scored (m).", low=0.0, low_open=True)
    max_depth: float = setting(80.0, "Maximum depth (m): 80, or 50 for the 'cap 50m' rows.", low=0.0, low_open=True)
    img_height: int = setting(128, "Network input height.", multiple_of=16)
    img_width: int = setting(416, "Network input width.", multiple_of=16)
    batch_size: int = setting(4, "Inference batch.", low=1)
    gt_cache_dir: str | None = setting(None, "Folder of cached velodyne ground truth (None: no cache).")
    fix_duplicate_index: bool = setting(False, "Use the true pixel index for the min-depth duplicate rule instead of "
                                        "the original's row*(W-1)+col-1 quirk (not comparable with published "
                                        "numbers).")
    boundary_metrics: bool = setting(True, "Depth-boundary errors / edge sharpness where data allow.")
    edge_domain: str = setting("depth", "Map whose Canny edges are the predicted edges.",
                               choices=("depth", "disparity"))
    boundary_dir: str | None = setting(None, "Boundary images per test line (<dir>/<line>) for edge sharpness.")
    mixed_precision: bool = setting(False, "Depth inference in bfloat16 on a CPU / float16 on a GPU (float32 "
                                    "weights; faster, metrics differ in the third decimal); default: the "
                                    "checkpoint's run record.")
    export_depths: bool = setting(False, "Write predicted depth/disparity .npy and magma PNGs.")
    num_figures: int = setting(0, "Comparison figures (input | A | B | GT) for the first N test images (needs "
                               "--compare_ckpt_file).", low=0)
    baselines: bool = setting(False, "Also score image-blind priors (a constant map; the median true depth of each "
                              "row over the test images) and print them beside the model.")
    progress_every_s: float = setting(10.0, "Seconds between progress lines (inf: none).", rule=PROGRESS_EVERY)

    def __post_init__(self) -> None:
        check_settings(self)
        check_one_source(self.ckpt_file, self.pred_file, "pred_file")
        if self.min_depth >= self.max_depth:
            raise ConfigError(f"DepthEvalConfig.min_depth must be below max_depth={self.max_depth}, got "
                              f"{self.min_depth}", fields=("min_depth",))


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
    """<output_dir>/depth_eval.json, strict JSON (non-finite numbers as null; nothing without an output_dir)."""
    if config.output_dir:
        atomic_write_text(Path(config.output_dir) / "depth_eval.json", result_json(result))


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
