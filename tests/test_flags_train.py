"""flags/train.py: defaults equal the original's, bad values fail naming the flag, presets match the paper's table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from absl import flags

import flags.train as train_flags
from sfmlearner_tf.tasks.demo import DemoConfig
from sfmlearner_tf.training import TrainConfig

PRESETS = Path(train_flags.__file__).parent / "presets"

# Seed paper, hyperparameter table: preset -> (lambda_seg, smooth_weight, learning_rate, gradient order, restart).
PAPER_ROWS = {
    "dsfm_seg0_smooth0.5_lr2e-4": (0.0, 0.5, 2e-4, 1, False),
    "dsfm_seg0.4_smooth0.5_lr2e-4": (0.4, 0.5, 2e-4, 1, False),
    "dsfm_seg100_smooth0.5_lr2e-4": (100.0, 0.5, 2e-4, 1, False),
    "dsfm_seg7_smooth2_lr2e-4": (7.0, 2.0, 2e-4, 1, False),
    "dsfm_seg10_order2_smooth0.5_lr2e-4": (10.0, 0.5, 2e-4, 2, False),
    "dsfm_seg10_order2_smooth0.5_lr1e-4_restart": (10.0, 0.5, 1e-4, 2, True),
    "dsfm_seg5_smooth0.75_lr2e-4": (5.0, 0.75, 2e-4, 1, False),
    "dsfm_seg2.5_smooth0.75_lr4e-4": (2.5, 0.75, 4e-4, 1, False),
    "dsfm_best_seg2.5_smooth0.75_lr2e-4_restart": (2.5, 0.75, 2e-4, 1, True),
}


def parse(*argv: str) -> flags.FlagValues:
    values = flags.FlagValues()
    train_flags.define_flags(values)
    values(["run_train", *argv])
    return values


def test_defaults_are_the_originals() -> None:
    config = train_flags.config_from_flags(parse())
    assert config == TrainConfig()
    assert (config.learning_rate, config.beta1, config.beta2, config.epsilon) == (2e-4, 0.9, 0.999, 1e-8)
    assert (config.smooth_weight, config.explain_reg_weight, config.batch_size) == (0.5, 0.0, 4)
    assert (config.img_height, config.img_width, config.seq_length) == (128, 416, 3)
    assert (config.max_steps, config.last_step, config.summary_freq, config.save_latest_freq) == (200000, 199999,
                                                                                                    100, 5000)
    assert (config.lambda_seg, config.weight_decay, config.seed, config.init_checkpoint_file) == (0, 0, 8964, None)


@pytest.mark.parametrize("argv, flag", [
    ("--smooth_weight=-0.1", "--smooth_weight"),
    ("--lambda_seg=-1", "--lambda_seg"),
    ("--learning_rate=0", "--learning_rate"),
    ("--beta1=1.0", "--beta1"),
    ("--seq_length=4", "--seq_length"),
    ("--seq_length=1", "--seq_length"),
    ("--img_width=420", "--img_width"),
    ("--img_height=100", "--img_height"),
    ("--seg_gradient_order=3", "--seg_gradient_order"),
    ("--batch_size=0", "--batch_size"),
    ("--distribution_strategy=tpu", "--distribution_strategy"),
])
def test_bad_values_fail_naming_the_flag(argv: str, flag: str) -> None:
    with pytest.raises(flags.Error, match=flag.lstrip("-")):
        parse(argv)


def test_img_size_multiple_follows_the_explainability_branch() -> None:
    assert train_flags.config_from_flags(parse("--img_width=208", "--img_height=64")).img_width == 208
    with pytest.raises(flags.IllegalFlagValueError, match=r"--img_width=208.*multiple of 32"):
        parse("--img_width=208", "--explain_reg_weight=0.2")


@pytest.mark.parametrize("name", sorted(PAPER_ROWS))
def test_paper_table_presets(name: str) -> None:
    config = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / name}.cfg"))
    lambda_seg, smooth, lr, order, restart = PAPER_ROWS[name]
    assert (config.lambda_seg, config.smooth_weight, config.learning_rate) == (lambda_seg, smooth, lr)
    assert (config.seg_gradient_order, config.restart_optimizer) == (order, restart)
    assert config.last_step == 35000 and config.batch_size == 4 and config.explain_reg_weight == 0
    assert config.init_checkpoint_file.endswith("model-190532") and config.continue_train


def test_baseline_and_demo_presets() -> None:
    baseline = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / 'original_baseline.cfg'}"))
    assert baseline.replace(checkpoint_dir=TrainConfig().checkpoint_dir, continue_train=False) == TrainConfig()
    demo = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / 'cpu_demo.cfg'}"))
    demo = demo.replace(dataset_dir=os.path.normpath(demo.dataset_dir),
                        checkpoint_dir=os.path.normpath(demo.checkpoint_dir))
    assert demo == DemoConfig(work_dir="./sfm_demo").train_config().replace(progress_every_s=10.0)
    assert len(list(PRESETS.glob("*.cfg"))) == len(PAPER_ROWS) + 4  # + the two Cityscapes -> KITTI stages


def test_cityscapes_then_kitti_presets() -> None:
    """Stage 1 is the original's run on Cityscapes; stage 2 starts from it with a 10x smaller learning rate."""
    stage1 = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / 'cityscapes_pretrain.cfg'}"))
    stage2 = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / 'cityscapes_then_kitti_finetune.cfg'}"))
    assert stage1.replace(checkpoint_dir=TrainConfig().checkpoint_dir, continue_train=False) == TrainConfig()
    assert stage2.learning_rate == pytest.approx(stage1.learning_rate / 10)
    assert stage2.init_checkpoint_file == stage1.checkpoint_dir and stage2.restart_optimizer
    assert stage2.replace(learning_rate=stage1.learning_rate, init_checkpoint_file=None, restart_optimizer=False,
                          checkpoint_dir=stage1.checkpoint_dir) == stage1
