"""Flags of run_train.py: the original train.py's flags and defaults plus the extension's.

Importing this module defines the flags on absl's global FLAGS; `define_flags(flag_values)` defines them on
another FlagValues (tests). Presets for the paper's runs are flagfiles in flags/presets/.
"""

from __future__ import annotations

from absl import flags

from flags.validators import register_range
from sfmlearner_tf.geometry import SAMPLER_MODES
from sfmlearner_tf.models import required_multiple
from sfmlearner_tf.training.config import DATA_SOURCES, SEG_REDUCTIONS, STRATEGIES, TrainConfig

FLAGS = flags.FLAGS

_NON_NEGATIVE = ("smooth_weight", "explain_reg_weight", "lambda_seg", "weight_decay")
_AT_LEAST_ONE = ("batch_size", "max_steps", "summary_freq", "save_latest_freq")


def define_flags(flag_values: flags.FlagValues = FLAGS) -> None:
    """Defines every training flag and its start-up validator on `flag_values`."""
    fv = {"flag_values": flag_values}
    d = TrainConfig()
    # The original's flags (train.py), same names and defaults.
    flags.DEFINE_string("dataset_dir", d.dataset_dir, "Folder of prepared samples (train.txt, <folder>/<id>.jpg)", **fv)
    flags.DEFINE_string("checkpoint_dir", d.checkpoint_dir, "Checkpoints and TensorBoard events go here", **fv)
    flags.DEFINE_string("init_checkpoint_file", d.init_checkpoint_file,
                        "Start from this checkpoint: ours, or Zhou et al.'s TF1 model-190532 / model-100280", **fv)
    flags.DEFINE_float("learning_rate", d.learning_rate, "Adam learning rate", **fv)
    flags.DEFINE_float("beta1", d.beta1, "Adam beta1", **fv)
    flags.DEFINE_float("smooth_weight", d.smooth_weight, "Weight of the 2nd-order disparity smoothness", **fv)
    flags.DEFINE_float("explain_reg_weight", d.explain_reg_weight,
                       "Weight of the explainability regulariser (0 = no exp branch)", **fv)
    flags.DEFINE_integer("batch_size", d.batch_size, "Global batch size (split over replicas)", **fv)
    flags.DEFINE_integer("img_height", d.img_height, "Image height", **fv)
    flags.DEFINE_integer("img_width", d.img_width, "Image width", **fv)
    flags.DEFINE_integer("seq_length", d.seq_length, "Frames per sample (odd, target in the middle)", **fv)
    flags.DEFINE_integer("max_steps", d.max_steps,
                         "As the original: steps 1..max_steps-1 are run (199,999 for 200000)", **fv)
    flags.DEFINE_integer("summary_freq", d.summary_freq, "TensorBoard summaries every N steps", **fv)
    flags.DEFINE_integer("save_latest_freq", d.save_latest_freq, "Save the latest checkpoint every N steps", **fv)
    flags.DEFINE_boolean("continue_train", d.continue_train,
                         "Resume from the newest checkpoint in checkpoint_dir (weights, Adam, step, RNG); "
                         "without one, start as if not set", **fv)
    # Additions.
    flags.DEFINE_boolean("include_last_step", d.include_last_step,
                         "Run exactly max_steps steps (fixes the original's range(1, max_steps))", **fv)
    flags.DEFINE_integer("max_checkpoints_to_keep", d.max_checkpoints_to_keep,
                         "Epoch checkpoints kept (0: none, only the latest)", **fv)
    flags.DEFINE_boolean("full_epoch_checkpoints", d.full_epoch_checkpoints,
                         "Epoch checkpoints keep Adam's state too (3x the size); latest/ always does", **fv)
    flags.DEFINE_float("lambda_seg", d.lambda_seg, "Weight of the boundary loss (0 = the baseline)", **fv)
    flags.DEFINE_integer("seg_gradient_order", d.seg_gradient_order,
                         "Disparity gradient order in the boundary loss (1 or 2, the paper's **)", **fv)
    flags.DEFINE_enum("seg_reduction", d.seg_reduction, SEG_REDUCTIONS, "Boundary loss over pixels", **fv)
    flags.DEFINE_integer("seg_num_scales", d.seg_num_scales, "Boundary loss on scales 0..N-1", **fv)
    flags.DEFINE_enum("sampler_mode", d.sampler_mode, SAMPLER_MODES,
                      "legacy = the original's zeros outside the image; border = the fix", **fv)
    flags.DEFINE_boolean("restart_optimizer", d.restart_optimizer,
                         "With init_checkpoint_file: start Adam fresh (the paper's *); never on a resume", **fv)
    flags.DEFINE_float("weight_decay", d.weight_decay,
                       "L2 on conv kernels, sum(w^2)/2 (0 = faithful: the original's l2 0.05 is never applied)", **fv)
    flags.DEFINE_integer("seed", d.seed, "Seed of TF, numpy, random and the trainer's RNG", **fv)
    flags.DEFINE_boolean("augment", d.augment, "Random scale and crop, as the original", **fv)
    flags.DEFINE_enum("data_source", d.data_source, DATA_SOURCES, "Prepared folder or the TFDS builder", **fv)
    flags.DEFINE_string("tfds_data_dir", d.tfds_data_dir, "TFDS data_dir with data_source=tfds", **fv)
    flags.DEFINE_enum("distribution_strategy", d.distribution_strategy, STRATEGIES, "tf.distribute strategy", **fv)
    flags.DEFINE_boolean("mixed_precision", d.mixed_precision,
                         "Mixed precision: mixed_float16 on a GPU, mixed_bfloat16 on a CPU", **fv)
    flags.DEFINE_boolean("jit_compile", d.jit_compile, "XLA-compile the forward and backward pass", **fv)
    flags.DEFINE_float("progress_every_s", d.progress_every_s, "Seconds between progress lines", **fv)
    _register_validators(flag_values)


def _register_validators(flag_values: flags.FlagValues) -> None:
    fv = {"flag_values": flag_values}
    for name in _NON_NEGATIVE:
        register_range(name, lower=0.0, **fv)
    for name in _AT_LEAST_ONE:
        register_range(name, lower=1, **fv)
    register_range("learning_rate", lower=0.0, lower_inclusive=False, **fv)
    register_range("seg_gradient_order", lower=1, upper=2, **fv)
    register_range("seg_num_scales", lower=1, upper=4, **fv)
    register_range("max_checkpoints_to_keep", lower=0, **fv)
    register_range("progress_every_s", lower=0.0, **fv)
    flags.register_validator("beta1", lambda v: 0.0 <= v < 1.0, message="--beta1 must be in [0, 1)", **fv)
    flags.register_validator("seq_length", lambda v: v >= 3 and v % 2 == 1,
                             message="--seq_length must be odd and >= 3 (the target is the middle frame)", **fv)

    def sizes_fit_nets(values: dict) -> bool:
        multiple = required_multiple(values["explain_reg_weight"] > 0)
        bad = [f"--{name}={values[name]}" for name in ("img_height", "img_width")
               if values[name] < multiple or values[name] % multiple]
        if bad:
            why = "the explainability branch" if values["explain_reg_weight"] > 0 else "DispNet"
            raise flags.ValidationError(f"{' and '.join(bad)}: must be a positive multiple of {multiple} ({why})")
        return True

    flags.register_multi_flags_validator(["img_height", "img_width", "explain_reg_weight"], sizes_fit_nets, **fv)


def config_from_flags(flag_values: flags.FlagValues = FLAGS) -> TrainConfig:
    """The TrainConfig the parsed flags describe."""
    names = [name for name in TrainConfig.__dataclass_fields__ if name not in ("beta2", "epsilon")]
    values = {name: flag_values[name].value for name in names}
    values["init_checkpoint_file"] = values["init_checkpoint_file"] or None
    return TrainConfig(**values)


define_flags()
