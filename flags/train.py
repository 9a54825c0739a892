"""Flags of run_train.py: the original train.py's flags and defaults plus the extension's.

Each flag sets the TrainConfig setting of the same name (TrainConfig's SETTING_PATHS says which field), with the
config's default; the config's own rules check the values at start-up. `define_flags(flag_values)` defines them;
nothing is defined at import. Presets for the paper's runs are flagfiles in flags/presets/.
"""

from __future__ import annotations

from absl import flags

from flags.config_flags import SettingFlag, define_setting_flags, register_config_validator
from sfmlearner_tf.data.pipeline import SOURCES
from sfmlearner_tf.geometry import SAMPLER_MODES
from sfmlearner_tf.losses import PHOTOMETRIC_ERRORS, SEG_REDUCTIONS
from sfmlearner_tf.training.config import SETTING_PATHS, STRATEGIES, TrainConfig

TRAIN_FLAGS = (
    # The original's flags (train.py), same names and defaults.
    SettingFlag("dataset_dir", "Folder of prepared samples (train.txt, <folder>/<id>.jpg)"),
    SettingFlag("checkpoint_dir", "Checkpoints, TensorBoard events and run_config.json go here"),
    SettingFlag("init_checkpoint_file",
                "Start from this checkpoint: ours, or Zhou et al.'s TF1 model-190532 / model-100280"),
    SettingFlag("learning_rate", "Adam learning rate"),
    SettingFlag("beta1", "Adam beta1"),
    SettingFlag("smooth_weight", "Weight of the 2nd-order disparity smoothness"),
    SettingFlag("explain_reg_weight", "Weight of the explainability regulariser (0 = no exp branch)"),
    SettingFlag("batch_size", "Global batch size (split over replicas)"),
    SettingFlag("img_height", "Image height"),
    SettingFlag("img_width", "Image width"),
    SettingFlag("seq_length", "Frames per sample (odd, target in the middle)"),
    SettingFlag("max_steps", "As the original: steps 1..max_steps-1 are run (199,999 for 200000)"),
    SettingFlag("summary_freq", "TensorBoard summaries (and the validation loss) every N steps"),
    SettingFlag("save_latest_freq", "Save the latest checkpoint every N steps"),
    SettingFlag("continue_train", "Resume from the newest checkpoint in checkpoint_dir (weights, Adam, step, RNG); "
                "without one, start as if not set"),
    # Additions.
    SettingFlag("beta2", "Adam beta2"),
    SettingFlag("epsilon", "Adam epsilon (the original's 1e-8; Keras' default is 1e-7)"),
    SettingFlag("allow_config_change", "On --continue_train, go on although settings that change what is trained "
                "differ from the saved run_config.json (they are listed)"),
    SettingFlag("include_last_step", "Run exactly max_steps steps (fixes the original's range(1, max_steps))"),
    SettingFlag("max_checkpoints_to_keep", "Epoch checkpoints kept (0: none, only the latest)"),
    SettingFlag("full_epoch_checkpoints", "Epoch checkpoints keep Adam's state too (3x the size); latest/ always does"),
    SettingFlag("lambda_seg", "Weight of the boundary loss (0 = the baseline)"),
    SettingFlag("seg_gradient_order", "Disparity gradient order in the boundary loss (1 or 2, the paper's **)"),
    SettingFlag("seg_reduction", "Boundary loss over pixels", SEG_REDUCTIONS),
    SettingFlag("seg_num_scales", "Boundary loss on scales 0..N-1"),
    SettingFlag("sampler_mode", "legacy = the original's zeros outside the image; border = the fix", SAMPLER_MODES),
    SettingFlag("restart_optimizer", "With init_checkpoint_file: start Adam fresh (the paper's *); never on a resume"),
    SettingFlag("weight_decay",
                "L2 on conv kernels, sum(w^2)/2 (0 = faithful: the original's l2 0.05 is never applied)"),
    SettingFlag("seed", "Seed of TF, numpy, random and the trainer's RNG"),
    SettingFlag("val_batches", "Batches of val.txt scored (photometric loss) every summary_freq steps (0 = off)"),
    SettingFlag("augment", "Random scale and crop, as the original"),
    # Opt-in recipe switches (off = the original; flags/presets/improved.cfg turns on the measured best set).
    SettingFlag("flip", "With augment: flip each sample left-right with probability 1/2 (cx -> W - 1 - cx)"),
    SettingFlag("per_sample_augment", "With augment: draw the scale and crop per sample (the original: per batch)"),
    SettingFlag("valid_mask", "Zero weight for pixels that project outside the source frame"),
    SettingFlag("photometric", "Photometric error: l1 (the original) or 0.85 SSIM + 0.15 L1", PHOTOMETRIC_ERRORS),
    SettingFlag("min_reprojection", "Per pixel the smallest error over the sources, not their sum"),
    SettingFlag("auto_mask", "Zero weight where the unwarped source matches better than the warped one"),
    SettingFlag("depth_smoothness", "Smooth depth (1/disp), scale weights 1/2.3^s (the original: disparity, 1/2^s)"),
    SettingFlag("data_source", "Prepared folder or the TFDS builder", SOURCES),
    SettingFlag("tfds_data_dir", "TFDS data_dir with data_source=tfds"),
    SettingFlag("distribution_strategy", "tf.distribute strategy", STRATEGIES),
    SettingFlag("mixed_precision", "Mixed precision: mixed_float16 on a GPU, mixed_bfloat16 on a CPU"),
    SettingFlag("jit_compile", "XLA-compile the forward and backward pass"),
    SettingFlag("progress_every_s", "Seconds between progress lines"),
)
_NAMES = tuple(spec.name for spec in TRAIN_FLAGS)


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines every training flag and its start-up validator on `flag_values`."""
    define_setting_flags(TRAIN_FLAGS, TrainConfig().setting, flag_values)
    register_config_validator(_NAMES, lambda values: TrainConfig.from_settings(**values),
                              {SETTING_PATHS[name]: name for name in _NAMES}, flag_values)


def config_from_flags(flag_values: flags.FlagValues) -> TrainConfig:
    """The TrainConfig the parsed flags describe."""
    return TrainConfig.from_settings(**{name: flag_values[name].value for name in _NAMES})
