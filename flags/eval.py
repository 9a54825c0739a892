"""Flags of run_eval.py (sfm-eval): Eigen-split depth and odometry pose evaluation. Defaults = the original's.

One flag per setting of EvalRequest (shared by both splits), of DepthEvalConfig (eigen) and of PoseEvalConfig
(odometry), with their defaults, help texts and rules; the sizes, snippet length and precision default to each
checkpoint's run record.
"""

from __future__ import annotations

import dataclasses
import os

from absl import flags

from flags.config_flags import define_config_flags, register_config_validator, setting_names, values_with_record
from sfmlearner_tf.evaluation import DepthEvalConfig, PoseEvalConfig
from sfmlearner_tf.tasks.evaluate import EvalRequest

DEFAULT_GT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "sfmlearner_tf", "gt_depths")
_SHARED = setting_names(EvalRequest)
_DEPTH_ONLY = ("test_file_list", "pred_file", "pred_allow_pickle", "compare_ckpt_file", "num_figures", "min_depth",
               "max_depth", "gt_cache_dir", "fix_duplicate_index", "boundary_metrics", "edge_domain", "boundary_dir",
               "mixed_precision", "export_depths", "baselines")
_POSE_ONLY = ("test_seq", "seq_length", "pred_dir", "gt_dir", "keep_zero_ate", "full_trajectory",
              "trajectory_alignment")
# The program's defaults where they differ from the library's in-memory use: a cache and the priors.
_PROGRAM_DEFAULTS = {"gt_cache_dir": DEFAULT_GT_CACHE, "baselines": True}
_FLAGS = (*_SHARED, *_DEPTH_ONLY, *_POSE_ONLY)


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validator on `flag_values`."""
    flag_of_field = {**define_config_flags(EvalRequest, flag_values),
                     **define_config_flags(DepthEvalConfig, flag_values, fields=_DEPTH_ONLY,
                                           defaults=_PROGRAM_DEFAULTS),
                     **define_config_flags(PoseEvalConfig, flag_values, fields=_POSE_ONLY)}
    register_config_validator(_FLAGS, _config, flag_of_field, flag_values)


def _config(values: dict[str, object]) -> DepthEvalConfig | PoseEvalConfig:
    """The library config of the selected split."""
    request = EvalRequest(**{name: values[name] for name in _SHARED})
    shared = {name: values[name] for name in _SHARED if name not in ("split", "batch_size")}
    if request.split == "odometry":
        return PoseEvalConfig(**shared, batch_size=request.batch_size or 1,
                              **{name: values[name] for name in _POSE_ONLY})
    depth = {name: values[name] for name in _DEPTH_ONLY} | {"gt_cache_dir": values["gt_cache_dir"] or None}
    return DepthEvalConfig(**shared, **depth, batch_size=request.batch_size or 4)


def config_and_notes_from_flags(flag_values: flags.FlagValues) -> tuple[DepthEvalConfig | PoseEvalConfig, list[str]]:
    """The library config of the selected split, with the image size, sequence length and precision taken from
    each checkpoint's run record unless given as flags, and notes saying what came from a record."""
    f = flag_values
    if f.split == "odometry":
        values, note = values_with_record(f, _FLAGS, None if f.pred_dir else f.ckpt_file,
                                          ("img_height", "img_width", "seq_length"), "model")
        return _config(values), [note]
    values, note_a = values_with_record(f, _FLAGS, None if f.pred_file else f.ckpt_file,
                                        ("img_height", "img_width", "mixed_precision"), "model A")
    model_b, note_b = values_with_record(f, ("img_height", "img_width"), f.compare_ckpt_file,
                                         ("img_height", "img_width"), "model B")
    config = dataclasses.replace(_config(values), compare_img_height=model_b["img_height"],
                                 compare_img_width=model_b["img_width"])
    return config, [note_a, note_b]
