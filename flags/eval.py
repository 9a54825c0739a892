"""Flags of run_eval.py (sfm-eval): Eigen-split depth and odometry pose evaluation. Defaults = the original's."""

from __future__ import annotations

import os

from absl import flags

from flags.record_settings import settings_from_record
from flags.validators import register_network_input, register_range
from sfmlearner_tf.evaluation import DepthEvalConfig, PoseEvalConfig

DEFAULT_GT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "sfmlearner_tf", "gt_depths")

def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validators on `flag_values`."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_enum("split", "eigen", ["eigen", "odometry"],
                      "eigen: depth on the Eigen test list; odometry: pose ATE.", **fv)
    flags.DEFINE_string("dataset_dir", None, "KITTI raw root (eigen) or KITTI odometry root (odometry).", **fv)
    flags.DEFINE_string("output_dir", None, "Where results (JSON, predictions, snippets, exports, figures) go.", **fv)
    flags.DEFINE_string("ckpt_file", None, "Checkpoint: Zhou et al.'s TF1 prefix (model-190532), one of ours, or a "
                        "folder of ours (the latest is used).", **fv)
    flags.DEFINE_integer("img_height", 128, "Network input height (default: the checkpoint's run record, else 128).",
                         **fv)
    flags.DEFINE_integer("img_width", 416, "Network input width (default: the checkpoint's run record, else 416).",
                         **fv)
    flags.DEFINE_integer("batch_size", None, "Inference batch (default: 4 for eigen, 1 for odometry, as the original).",
                         **fv)
    flags.DEFINE_float("progress_every_s", 10.0, "Seconds between progress lines.", **fv)
    # Depth (eigen)
    flags.DEFINE_string("test_file_list", None,
                        "Eigen test list (the original repo's data/kitti/test_files_eigen.txt); "
                        "default: test_files_eigen.txt beside --dataset_dir or in ../splits.", **fv)
    flags.DEFINE_string("pred_file", None, "Score this predictions .npy ([N, H, W] float depths, finite and > 0; or "
                        "an .npz of one such array) instead of running a model.", **fv)
    flags.DEFINE_boolean("pred_allow_pickle", False, "Allow an object-array --pred_file (only for files you trust).",
                         **fv)
    flags.DEFINE_string("compare_ckpt_file", None, "Model B: scored too, and used in the comparison figures.", **fv)
    flags.DEFINE_integer("num_figures", 0, "Comparison figures (input | A | B | GT) for the first N test images.", **fv)
    flags.DEFINE_float("min_depth", 1e-3, "Minimum ground-truth depth scored (m).", **fv)
    flags.DEFINE_float("max_depth", 80.0, "Maximum depth (m): 80, or 50 for the 'cap 50m' rows.", **fv)
    flags.DEFINE_string("gt_cache_dir", DEFAULT_GT_CACHE, "Folder of cached velodyne ground truth ('' = no cache).",
                        **fv)
    flags.DEFINE_boolean("fix_duplicate_index", False, "Use the true pixel index for the min-depth duplicate rule "
                         "instead of the original's row*(W-1)+col-1 quirk (not comparable with published numbers).",
                         **fv)
    flags.DEFINE_boolean("boundary_metrics", True, "Depth-boundary errors / edge sharpness where data allow.", **fv)
    flags.DEFINE_enum("edge_domain", "depth", ["depth", "disparity"], "Map whose Canny edges are the predicted edges.",
                      **fv)
    flags.DEFINE_string("boundary_dir", None, "Boundary images per test line (<dir>/<line>) for edge sharpness.", **fv)
    flags.DEFINE_boolean("mixed_precision", False, "Depth inference in bfloat16 on a CPU / float16 on a GPU "
                         "(float32 weights; faster, metrics differ in the third decimal); default: the checkpoint's "
                         "run record.", **fv)
    flags.DEFINE_boolean("export_depths", False, "Write predicted depth/disparity .npy and magma PNGs.", **fv)
    flags.DEFINE_boolean("baselines", True, "Also score image-blind priors (a constant map; the median true depth of "
                         "each row over the test images) and print them beside the model.", **fv)
    # Pose (odometry)
    flags.DEFINE_integer("test_seq", 9, "Odometry sequence to evaluate.", **fv)
    flags.DEFINE_integer("seq_length", 5, "Snippet length (odd; default: the checkpoint's run record, else 5).", **fv)
    flags.DEFINE_string("pred_dir", None, "Existing predicted snippet files to score instead of running a model.", **fv)
    flags.DEFINE_string("gt_dir", None, "Existing ground-truth snippets (default: generated from poses/XX.txt).", **fv)
    flags.DEFINE_boolean("keep_zero_ate", False, "Score snippets whose ATE is exactly 0, e.g. static ground truth (the "
                         "original drops them from the mean, std and count, since 0.0 == False in Python).", **fv)

    flags.mark_flags_as_required(["dataset_dir", "output_dir"], **fv)
    register_range("min_depth", 0.0, None, lower_inclusive=False, **fv)
    register_range("max_depth", 0.0, None, lower_inclusive=False, **fv)
    register_range("batch_size", 1, None, **fv)
    register_range("num_figures", 0, None, **fv)
    register_range("test_seq", 0, None, **fv)
    register_range("progress_every_s", 0.0, None, **fv)
    register_network_input(flag_values)
    flags.register_multi_flags_validator(
        ["min_depth", "max_depth"], lambda f: f["min_depth"] < f["max_depth"], "--min_depth must be below --max_depth",
        **fv)


def config_from_flags(flag_values: flags.FlagValues) -> DepthEvalConfig | PoseEvalConfig:
    """The library config of the selected split."""
    f = flag_values
    return config_and_notes_from_flags(f)[0]


def config_and_notes_from_flags(flag_values: flags.FlagValues) -> tuple[DepthEvalConfig | PoseEvalConfig, list[str]]:
    """The library config of the selected split, with the image size, sequence length and precision taken from
    each checkpoint's run record unless given as flags, and notes saying what came from a record."""
    f = flag_values
    if f.split == "odometry":
        pose, note = settings_from_record(f, None if f.pred_dir else f.ckpt_file,
                                          ("img_height", "img_width", "seq_length"), "model")
        return PoseEvalConfig(
            dataset_dir=f.dataset_dir, output_dir=f.output_dir, test_seq=f.test_seq,
            seq_length=pose["seq_length"], ckpt_file=f.ckpt_file, pred_dir=f.pred_dir, gt_dir=f.gt_dir,
            img_height=pose["img_height"], img_width=pose["img_width"], batch_size=f.batch_size or 1,
            progress_every_s=f.progress_every_s, keep_zero_ate=f.keep_zero_ate), [note]
    model_a, note_a = settings_from_record(f, None if f.pred_file else f.ckpt_file,
                                           ("img_height", "img_width", "mixed_precision"), "model A")
    model_b, note_b = settings_from_record(f, f.compare_ckpt_file, ("img_height", "img_width"), "model B")
    return DepthEvalConfig(
        dataset_dir=f.dataset_dir, test_file_list=f.test_file_list, output_dir=f.output_dir,
        ckpt_file=f.ckpt_file, pred_file=f.pred_file, pred_allow_pickle=f.pred_allow_pickle,
        compare_ckpt_file=f.compare_ckpt_file, compare_img_height=model_b["img_height"],
        compare_img_width=model_b["img_width"], min_depth=f.min_depth, max_depth=f.max_depth,
        img_height=model_a["img_height"], img_width=model_a["img_width"], batch_size=f.batch_size or 4,
        gt_cache_dir=f.gt_cache_dir or None, fix_duplicate_index=f.fix_duplicate_index,
        boundary_metrics=f.boundary_metrics, edge_domain=f.edge_domain, boundary_dir=f.boundary_dir,
        export_depths=f.export_depths, num_figures=f.num_figures, progress_every_s=f.progress_every_s,
        mixed_precision=model_a["mixed_precision"], baselines=f.baselines), [note_a, note_b]
