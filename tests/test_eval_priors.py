"""The image-blind priors (constant map, row prior) against hand-computed metrics."""

from __future__ import annotations

import numpy as np
import pytest

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.depth_metrics import format_labelled_table, score_depths
from sfmlearner_tf.evaluation.priors import (
    constant_prior_depths,
    prior_depths,
    row_prior_depths,
    row_prior_profile,
)


def row_constant_gt() -> np.ndarray:
    """10 x 30 ground truth whose row r holds depth 10 + r. The Garg crop of 10 x 30 keeps rows 4..8 and
    columns 1..27, so the scored depths are 14..18, 27 pixels each."""
    return np.repeat((10.0 + np.arange(10, dtype=np.float32))[:, None], 30, axis=1)


def test_constant_prior_scores_the_median_depth() -> None:
    gt = [row_constant_gt()]
    scored = score_depths(gt, constant_prior_depths(gt))
    # Median scaling turns the constant map into the median scored depth, 16.
    depths = np.array([14.0, 15.0, 16.0, 17.0, 18.0])
    assert scored["scales"][0] == pytest.approx(16.0)
    assert scored["metrics"]["abs_rel"] == pytest.approx(np.mean(np.abs(depths - 16) / depths), rel=1e-6)
    assert scored["metrics"]["rms"] == pytest.approx(np.sqrt(np.mean((depths - 16) ** 2)), rel=1e-6)
    assert scored["metrics"]["a1"] == 1.0  # 18/16 and 16/14 are both below 1.25


def test_row_prior_reproduces_row_constant_depth_exactly() -> None:
    gt = [row_constant_gt(), 2.0 * row_constant_gt()]  # the pooled median of row r is 1.5 (10 + r)
    np.testing.assert_allclose(row_prior_profile(gt, 1e-3, 80.0), 1.5 * (10.0 + np.arange(10)))
    scored = score_depths(gt, row_prior_depths(gt, 1e-3, 80.0))
    assert scored["metrics"]["abs_rel"] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(scored["scales"], [1 / 1.5, 2 / 1.5], rtol=1e-6)


def test_row_prior_pools_valid_depths_and_fills_empty_rows() -> None:
    a = np.zeros((4, 3), np.float32)
    a[1] = [1.0, 1.0, 3.0]
    a[3] = [90.0, 7.0, 0.0]  # 90 is beyond max_depth, 0 is no data: only 7 counts
    b = np.zeros((4, 1), np.float32)
    b[1] = [5.0]
    profile = row_prior_profile([a, b], 1e-3, 80.0)
    # Row 1: median of [1, 1, 3, 5] = 2; row 3: 7; rows 0 and 2 are empty: constant before, linear between.
    np.testing.assert_allclose(profile, [2.0, 2.0, 4.5, 7.0])
    maps = prior_depths("row prior", [a, b], 1e-3, 80.0)
    assert maps[0].shape == (4, 3) and maps[1].shape == (4, 1)
    np.testing.assert_allclose(maps[0][:, 2], profile)


def test_row_prior_bins_rows_of_taller_images_by_relative_height() -> None:
    short = np.array([[4.0], [8.0]], np.float32)
    tall = np.array([[2.0], [2.0], [10.0], [10.0]], np.float32)
    profile = row_prior_profile([short, tall], 1e-3, 80.0)  # 2 bins: the first image's height
    np.testing.assert_allclose(profile, [2.0, 10.0])  # medians of [4, 2, 2] and [8, 10, 10]
    np.testing.assert_allclose(row_prior_depths([short, tall], 1e-3, 80.0)[1][:, 0], [2.0, 2.0, 10.0, 10.0])


def test_row_prior_without_valid_depth_is_a_data_error() -> None:
    with pytest.raises(DataError, match="no ground-truth depth"):
        row_prior_profile([np.zeros((3, 3), np.float32)], 1e-3, 80.0)


def test_labelled_table_lines_up_rows() -> None:
    metrics = {"abs_rel": 0.5, "sq_rel": 1.0, "rms": 2.0, "log_rms": 0.25, "d1_all": 0.0, "a1": 0.1, "a2": 0.2,
               "a3": 0.3}
    table = format_labelled_table({"model": metrics, "row prior": dict(metrics, abs_rel=0.25)})
    header, model, prior = table.splitlines()
    assert header.split() == ["abs_rel", "sq_rel", "rms", "log_rms", "a1", "a2", "a3"]
    assert model.split() == ["model", "0.5000", "1.0000", "2.0000", "0.2500", "0.1000", "0.2000", "0.3000"]
    assert prior.startswith("row prior") and prior.split()[2] == "0.2500" and len(model) == len(prior)
