"""Collapse warnings: the statistics against hand-worked arrays (constant depth, a saturated sigmoid, a saturated
explainability mask, a healthy batch), once-per-kind reporting, and a run whose nets start collapsed."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from helpers import config_for, fixed_data

from sfmlearner_tf.models.disp_net import DISP_SCALING, MIN_DISP
from sfmlearner_tf.training import TrainCheckpoints, build_state, make_checkpoint, train
from sfmlearner_tf.training.health import CollapseThresholds, CollapseWatch, collapse_stats, collapse_warnings

SHAPE = (2, 8, 10, 1)  # 160 pixels


def disparity_of_sigmoid(sigmoid: np.ndarray) -> np.ndarray:
    return (DISP_SCALING * sigmoid + MIN_DISP).astype(np.float32)


def healthy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    disp = disparity_of_sigmoid(1 / (1 + np.exp(-rng.normal(0, 1, SHAPE))))
    return disp, rng.uniform(0.2, 0.8, (2, 8, 10, 2)).astype(np.float32)


def test_healthy_batch_gives_no_warning() -> None:
    disp, mask = healthy()
    assert collapse_warnings(disp, mask) == {}
    stats = collapse_stats(disp, mask)
    assert stats["disp_at_min"] == stats["disp_at_max"] == stats["mask_at_0"] == stats["mask_at_1"] == 0.0
    assert stats["depth_cv"] > 0.1


def test_depth_cv_by_hand_and_a_near_constant_depth() -> None:
    disp = np.full(SHAPE, 1.0, np.float32)
    disp[1] = 0.5  # depth 1 on one image, 2 on the other: mean 1.5, std 0.5
    assert collapse_stats(disp)["depth_cv"] == pytest.approx(1 / 3, rel=1e-12)
    assert collapse_warnings(disp) == {}
    disp = np.full(SHAPE, 2.0, np.float32)
    disp[0, 0, 0, 0] = 2.02  # 159 pixels at depth 0.5, one at 0.5 / 1.01
    depth = np.full(160, 0.5)
    depth[0] = 1 / np.float32(2.02)
    expected = depth.std() / depth.mean()  # about 7.8e-4
    assert collapse_stats(disp)["depth_cv"] == pytest.approx(expected, rel=1e-6)
    warnings = collapse_warnings(disp)
    assert list(warnings) == ["depth_constant"]
    assert f"{expected:.3g} (< 0.01)" in warnings["depth_constant"]


def test_disparity_at_a_sigmoid_end() -> None:
    sigmoid = np.full(160, 0.5)
    sigmoid[:128] = 0.0        # 80% at the minimum
    sigmoid[128:148] = 0.9995  # 12.5% at the maximum (within 1e-3 of 1)
    sigmoid[148:158] = 0.002   # outside the margin: not counted
    disp = disparity_of_sigmoid(sigmoid).reshape(SHAPE)
    stats = collapse_stats(disp)
    assert (stats["disp_at_min"], stats["disp_at_max"]) == (0.8, 0.125)
    warnings = collapse_warnings(disp)
    assert list(warnings) == ["disp_saturated"]  # depth 100 or <= 5: far from constant
    assert "80.0% of the pixels within 0.001 of the minimum and 12.5% of the maximum" in warnings["disp_saturated"]
    assert collapse_warnings(disp, thresholds=CollapseThresholds(saturated_fraction=0.95)) == {}  # 92.5% < 95%
    # A wider margin counts the 0.002 ones too.
    assert collapse_stats(disp, margin=0.003)["disp_at_min"] == 138 / 160


def test_collapsed_disparity_is_also_constant_depth() -> None:
    disp = np.full(SHAPE, MIN_DISP, np.float32)
    assert sorted(collapse_warnings(disp)) == ["depth_constant", "disp_saturated"]


def test_explainability_mask_saturated_at_zero_or_one() -> None:
    disp, _ = healthy()
    mask = np.full(320, 0.5, np.float32)
    mask[:192] = 1e-5      # 60% at 0
    mask[192:304] = 0.9999  # 35% at 1
    mask = mask.reshape(2, 8, 10, 2)
    stats = collapse_stats(disp, mask)
    assert (stats["mask_at_0"], stats["mask_at_1"]) == (0.6, 0.35)
    warnings = collapse_warnings(disp, mask)
    assert list(warnings) == ["exp_mask_saturated"]
    assert "60.0% of its values within 0.001 of 0 and 35.0% of 1" in warnings["exp_mask_saturated"]
    mask.reshape(-1)[:32] = 0.5  # 50% + 35% = 85%: below 90%
    assert collapse_warnings(disp, mask) == {}
    assert "mask_at_0" not in collapse_stats(disp)  # no explainability branch: no mask statistics


def test_each_kind_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    watch = CollapseWatch()
    collapsed, healthy_disp = np.full(SHAPE, MIN_DISP, np.float32), healthy()[0]
    with caplog.at_level(logging.WARNING, logger="sfmlearner_tf.training.health"):
        assert watch.check(5, healthy_disp) == []
        first = watch.check(10, collapsed)
        assert watch.check(20, collapsed) == [] and watch.check(30, healthy_disp) == []
    assert len(first) == 2 and all(line.startswith("train: step 10: ") for line in first)
    assert watch.warned == first and [record.getMessage() for record in caplog.records] == first


def test_a_run_whose_nets_start_collapsed_warns_once_per_kind(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """Disparity heads and explainability heads with zero kernels and saturating biases: the sigmoids sit at
    their ends (Adam moves the biases by ~1e-4 a step), so every summary step sees the same collapse, and each
    kind is reported at step 1 only."""
    config = config_for(tmp_path / "run", explain_reg_weight=0.2, max_steps=3, summary_freq=1,
                        save_latest_freq=100)
    donor = build_state(config)
    for head in (donor.depth_net.disp1, donor.depth_net.disp2, donor.depth_net.disp3, donor.depth_net.disp4):
        head.kernel.assign(np.zeros(head.kernel.shape, np.float32))
        head.bias.assign([-30.0])
    exp = donor.pose_exp_net.exp
    for head in (exp.mask1, exp.mask2, exp.mask3, exp.mask4):
        head.kernel.assign(np.zeros(head.kernel.shape, np.float32))
        head.bias.assign(np.tile([-30.0, 30.0], 2).astype(np.float32))  # "explainable" channels win
    prefix = TrainCheckpoints(make_checkpoint(donor.depth_net, donor.pose_exp_net, donor.optimizer, donor.step,
                                              donor.rng), str(tmp_path / "donor")).save_epoch(1)
    with caplog.at_level(logging.WARNING, logger="sfmlearner_tf.training.health"):
        result = train(config.replace(init_checkpoint_file=prefix), fixed_data(), steps_per_epoch=100, log=False)
    assert result.step == 2
    assert len(result.warnings) == 3 and all(line.startswith("train: step 1: ") for line in result.warnings)
    kinds = ("predicted depth is near-constant", "disparity at a sigmoid end: 100.0% of the pixels within 0.001 of "
             "the minimum", "explainability mask saturated: 0.0% of its values within 0.001 of 0 and 100.0% of 1")
    for kind in kinds:
        assert sum(kind in line for line in result.warnings) == 1, kind
    assert [record.getMessage() for record in caplog.records] == list(result.warnings)
