"""Flags of run_eval.py (sfm-eval): Eigen-split depth and odometry pose evaluation. Defaults = the original's."""

from __future__ import annotations

import os

from absl import flags

from flags.record_settings import settings_from_record
from flags.validators import register_multiple_of, register_range
from sfmlearner_tf.evaluation import DepthEvalConfig, PoseEvalConfig

DEFAULT_GT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "sfmlearner_tf", "gt_depths")

flags.DEFINE_enum("split", "eigen", ["eigen", "odometry"], "eigen: depth on the Eigen test list; odometry: pose ATE.")
flags.DEFINE_string("dataset_dir", None, "KITTI raw root (eigen) or KITTI odometry root (odometry).")
flags.DEFINE_string("output_dir", None, "Where results (JSON, predictions, snippets, exports, figures) go.")
flags.DEFINE_string("ckpt_file", None, "Checkpoint: Zhou et al.'s TF1 prefix (model-190532), one of ours, or a "
                    "folder of ours (the latest is used).")
flags.DEFINE_integer("img_height", 128, "Network input height (default: the checkpoint's run record, else 128).")
flags.DEFINE_integer("img_width", 416, "Network input width (default: the checkpoint's run record, else 416).")
flags.DEFINE_integer("batch_size", None, "Inference batch (default: 4 for eigen, 1 for odometry, as the original).")
flags.DEFINE_float("progress_every_s", 10.0, "Seconds between progress lines.")
# Depth (eigen)
flags.DEFINE_string("test_file_list", None, "Eigen test list (the original repo's data/kitti/test_files_eigen.txt); "
                    "default: test_files_eigen.txt beside --dataset_dir or in ../splits.")
flags.DEFINE_string("pred_file", None, "Score this predictions .npy ([N, H, W] float depths, finite and > 0; or "
                    "an .npz of one such array) instead of running a model.")
flags.DEFINE_boolean("pred_allow_pickle", False, "Allow an object-array --pred_file (only for files you trust).")
flags.DEFINE_string("compare_ckpt_file", None, "Model B: scored too, and used in the comparison figures.")
flags.DEFINE_integer("num_figures", 0, "Comparison figures (input | A | B | GT) for the first N test images.")
flags.DEFINE_float("min_depth", 1e-3, "Minimum ground-truth depth scored (m).")
flags.DEFINE_float("max_depth", 80.0, "Maximum depth (m): 80, or 50 for the 'cap 50m' rows.")
flags.DEFINE_string("gt_cache_dir", DEFAULT_GT_CACHE, "Folder of cached velodyne ground truth ('' = no cache).")
flags.DEFINE_boolean("fix_duplicate_index", False, "Use the true pixel index for the min-depth duplicate rule "
                     "instead of the original's row*(W-1)+col-1 quirk (not comparable with published numbers).")
flags.DEFINE_boolean("boundary_metrics", True, "Depth-boundary errors / edge sharpness where data allow.")
flags.DEFINE_enum("edge_domain", "depth", ["depth", "disparity"], "Map whose Canny edges are the predicted edges.")
flags.DEFINE_string("boundary_dir", None, "Boundary images per test line (<dir>/<line>) for edge sharpness.")
flags.DEFINE_boolean("mixed_precision", False, "Depth inference in bfloat16 on a CPU / float16 on a GPU "
                     "(float32 weights; faster, metrics differ in the third decimal); default: the checkpoint's "
                     "run record.")
flags.DEFINE_boolean("export_depths", False, "Write predicted depth/disparity .npy and magma PNGs.")
flags.DEFINE_boolean("baselines", True, "Also score image-blind priors (a constant map; the median true depth of "
                     "each row over the test images) and print them beside the model.")
# Pose (odometry)
flags.DEFINE_integer("test_seq", 9, "Odometry sequence to evaluate.")
flags.DEFINE_integer("seq_length", 5, "Snippet length (odd; default: the checkpoint's run record, else 5).")
flags.DEFINE_string("pred_dir", None, "Existing predicted snippet files to score instead of running a model.")
flags.DEFINE_string("gt_dir", None, "Existing ground-truth snippets (default: generated from poses/XX.txt).")
flags.DEFINE_boolean("keep_zero_ate", False, "Score snippets whose ATE is exactly 0, e.g. static ground truth (the "
                     "original drops them from the mean, std and count, since 0.0 == False in Python).")

flags.mark_flags_as_required(["dataset_dir", "output_dir"])
register_range("min_depth", 0.0, None, lower_inclusive=False)
register_range("max_depth", 0.0, None, lower_inclusive=False)
register_range("batch_size", 1, None)
register_range("num_figures", 0, None)
register_range("test_seq", 0, None)
register_range("seq_length", 3, None)
register_range("progress_every_s", 0.0, None)
register_multiple_of("img_height", 16, "DispNet needs multiples of 16")
register_multiple_of("img_width", 16, "DispNet needs multiples of 16")
flags.register_multi_flags_validator(
    ["min_depth", "max_depth"], lambda f: f["min_depth"] < f["max_depth"], "--min_depth must be below --max_depth")

FLAGS = flags.FLAGS


def config_from_flags() -> DepthEvalConfig | PoseEvalConfig:
    """The library config of the selected split."""
    return config_and_notes_from_flags()[0]


def config_and_notes_from_flags() -> tuple[DepthEvalConfig | PoseEvalConfig, list[str]]:
    """The library config of the selected split, with the image size, sequence length and precision taken from
    each checkpoint's run record unless given as flags, and notes saying what came from a record."""
    if FLAGS.split == "odometry":
        pose, note = settings_from_record(FLAGS, None if FLAGS.pred_dir else FLAGS.ckpt_file,
                                          ("img_height", "img_width", "seq_length"), "model")
        return PoseEvalConfig(
            dataset_dir=FLAGS.dataset_dir, output_dir=FLAGS.output_dir, test_seq=FLAGS.test_seq,
            seq_length=pose["seq_length"], ckpt_file=FLAGS.ckpt_file, pred_dir=FLAGS.pred_dir, gt_dir=FLAGS.gt_dir,
            img_height=pose["img_height"], img_width=pose["img_width"], batch_size=FLAGS.batch_size or 1,
            progress_every_s=FLAGS.progress_every_s, keep_zero_ate=FLAGS.keep_zero_ate), [note]
    model_a, note_a = settings_from_record(FLAGS, None if FLAGS.pred_file else FLAGS.ckpt_file,
                                           ("img_height", "img_width", "mixed_precision"), "model A")
    model_b, note_b = settings_from_record(FLAGS, FLAGS.compare_ckpt_file, ("img_height", "img_width"), "model B")
    return DepthEvalConfig(
        dataset_dir=FLAGS.dataset_dir, test_file_list=FLAGS.test_file_list, output_dir=FLAGS.output_dir,
        ckpt_file=FLAGS.ckpt_file, pred_file=FLAGS.pred_file, pred_allow_pickle=FLAGS.pred_allow_pickle,
        compare_ckpt_file=FLAGS.compare_ckpt_file, compare_img_height=model_b["img_height"],
        compare_img_width=model_b["img_width"], min_depth=FLAGS.min_depth, max_depth=FLAGS.max_depth,
        img_height=model_a["img_height"], img_width=model_a["img_width"], batch_size=FLAGS.batch_size or 4,
        gt_cache_dir=FLAGS.gt_cache_dir or None, fix_duplicate_index=FLAGS.fix_duplicate_index,
        boundary_metrics=FLAGS.boundary_metrics, edge_domain=FLAGS.edge_domain, boundary_dir=FLAGS.boundary_dir,
        export_depths=FLAGS.export_depths, num_figures=FLAGS.num_figures, progress_every_s=FLAGS.progress_every_s,
        mixed_precision=model_a["mixed_precision"], baselines=FLAGS.baselines), [note_a, note_b]
