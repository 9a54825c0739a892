"""Depth metrics against hand-worked values and plain numpy loops."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.depth_metrics import (
    compute_depth_errors,
    evaluation_mask,
    format_metrics_table,
    garg_crop,
    score_depths,
    score_image,
)


@pytest.mark.parametrize(("height", "width", "expected"), [
    (375, 1242, (153, 371, 44, 1197)),
    (370, 1224, (151, 366, 43, 1180)),
    (374, 1238, (152, 370, 44, 1193)),
    (376, 1241, (153, 372, 44, 1196)),
])
def test_garg_crop_indices(height: int, width: int, expected: tuple[int, int, int, int]) -> None:
    assert garg_crop(height, width) == expected


def test_errors_hand_worked() -> None:
    gt = np.array([2.0, 4.0])
    pred = np.array([1.0, 4.0])
    errors = compute_depth_errors(gt, pred)
    # ratio max(gt/pred, pred/gt) = [2, 1]: only the second is under 1.25, 1.5625 and 1.953125.
    assert errors["a1"] == errors["a2"] == errors["a3"] == 0.5
    assert errors["abs_rel"] == pytest.approx(0.25)           # mean(1/2, 0)
    assert errors["sq_rel"] == pytest.approx(0.25)            # mean(1/2, 0)
    assert errors["rms"] == pytest.approx(math.sqrt(0.5))     # sqrt(mean(1, 0))
    assert errors["log_rms"] == pytest.approx(math.log(2) / math.sqrt(2))


def test_errors_match_numpy_formulas_on_random_values() -> None:
    rng = np.random.default_rng(1)
    gt = rng.uniform(1, 80, 500)
    pred = gt * rng.uniform(0.7, 1.4, 500)
    errors = compute_depth_errors(gt, pred)
    ratios = [max(g / p, p / g) for g, p in zip(gt, pred)]
    assert errors["a2"] == pytest.approx(sum(r < 1.5625 for r in ratios) / 500)
    assert errors["abs_rel"] == pytest.approx(sum(abs(g - p) / g for g, p in zip(gt, pred)) / 500)
    assert errors["sq_rel"] == pytest.approx(sum((g - p) ** 2 / g for g, p in zip(gt, pred)) / 500)
    assert errors["log_rms"] == pytest.approx(math.sqrt(sum((math.log(g / p)) ** 2 for g, p in zip(gt, pred)) / 500))


def _sparse_gt(shape=(40, 60), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    gt = np.zeros(shape, np.float32)
    picks = rng.random(shape) < 0.3
    gt[picks] = rng.uniform(2, 70, picks.sum())
    return gt


def test_known_misscaled_prediction_gives_the_expected_median_scaling() -> None:
    gt = _sparse_gt()
    dense = np.where(gt > 0, gt, 30.0).astype(np.float32)
    metrics, scale = score_image(gt, dense / 4.0)
    assert scale == pytest.approx(4.0, rel=1e-6)
    assert metrics["abs_rel"] == pytest.approx(0.0, abs=1e-6)
    assert metrics["a1"] == 1.0


def test_clamping_after_scaling() -> None:
    gt = np.zeros((40, 60), np.float32)
    top, bottom, left, right = garg_crop(40, 60)
    gt[top:bottom, left:right] = 10.0
    gt[top, left] = 70.0
    pred = np.full(gt.shape, 1.0, np.float32)
    pred[top, left] = 20.0          # median ratio 10 -> this pixel becomes 200 m, clamped to max_depth 80
    metrics, scale = score_image(gt, pred, max_depth=80.0)
    assert scale == pytest.approx(10.0)
    n = np.count_nonzero(evaluation_mask(gt, 1e-3, 80.0))
    assert metrics["abs_rel"] == pytest.approx((10.0 / 70.0) / n, rel=1e-5)


def test_cap_50_excludes_far_ground_truth() -> None:
    gt = np.zeros((40, 60), np.float32)
    top, bottom, left, right = garg_crop(40, 60)
    gt[top:bottom, left:right] = 10.0
    gt[top, left:left + 5] = 60.0   # beyond 50 m: not scored with max_depth=50
    pred = np.where(gt > 0, gt, 1.0).astype(np.float32)
    pred[top, left:left + 5] = 10.0
    assert score_image(gt, pred, max_depth=50.0)[0]["abs_rel"] == pytest.approx(0.0, abs=1e-7)
    assert score_image(gt, pred, max_depth=80.0)[0]["abs_rel"] > 0.0


def test_means_are_over_images_not_pixels() -> None:
    gts = [_sparse_gt(seed=1), _sparse_gt((30, 50), seed=2)]
    rng = np.random.default_rng(3)
    preds = [rng.uniform(5, 20, (16, 24)).astype(np.float32) for _ in gts]
    result = score_depths(gts, preds)
    per_image_abs_rel = []
    for gt, pred in zip(gts, preds):
        resized = cv2.resize(pred, (gt.shape[1], gt.shape[0]), interpolation=cv2.INTER_LINEAR)
        rows, cols = np.nonzero(evaluation_mask(gt, 1e-3, 80.0))
        g, p = gt[rows, cols], resized[rows, cols]
        p = np.clip(p * (np.median(g) / np.median(p)), 1e-3, 80.0)
        per_image_abs_rel.append(np.mean(np.abs(g - p) / g))
    np.testing.assert_allclose(result["per_image"]["abs_rel"], per_image_abs_rel, rtol=1e-5)
    assert result["metrics"]["abs_rel"] == pytest.approx(np.mean(per_image_abs_rel), rel=1e-5)
    assert result["metrics"]["d1_all"] == 0.0


def test_count_mismatch_and_empty_mask_are_errors() -> None:
    with pytest.raises(DataError, match="2 predicted depth maps for 1 test images"):
        score_depths([_sparse_gt()], [np.ones((4, 4))] * 2)
    with pytest.raises(DataError, match="img7: no ground-truth pixel"):
        score_depths([np.zeros((40, 60), np.float32)], [np.ones((4, 4))], names=["img7"])


def test_table_column_order() -> None:
    metrics = {name: i / 10 for i, name in
               enumerate(("abs_rel", "sq_rel", "rms", "log_rms", "d1_all", "a1", "a2", "a3"))}
    header, values = format_metrics_table(metrics).splitlines()
    assert [h.strip() for h in header.split(",")] == ["abs_rel", "sq_rel", "rms", "log_rms", "d1_all", "a1", "a2",
                                                      "a3"]
    assert [float(v) for v in values.split(",")] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
