"""Honest baselines for a depth model: depth maps that use no image at all, scored by the same median-scaled
metrics as the model, so that a model's numbers can be read against what image-blind guesses already achieve.

- constant: one depth everywhere. After per-image median scaling it is the median true depth of the image,
  which is exactly what an untrained network with a flat output scores.
- row prior: the median true depth of each image row, pooled over all the test images given. It has seen the
  test answers (an optimistic prior), and captures the ground plane's depth-by-row structure that any
  road scene shares; a model that does not beat it has learned nothing beyond "lower rows are nearer".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sfmlearner_tf.errors import DataError

PRIOR_NAMES = ("constant", "row prior")


def constant_prior_depths(gt_depths: Sequence[np.ndarray]) -> list[np.ndarray]:
    """A map of ones at each ground truth's size (median scaling turns it into the image's median depth)."""
    return [np.ones(np.shape(gt), np.float32) for gt in gt_depths]


def _row_bins(height: int, num_bins: int) -> np.ndarray:
    """The bin of each of `height` rows when the image height is divided into `num_bins` equal bins."""
    return (np.arange(height) * num_bins) // height


def row_prior_profile(gt_depths: Sequence[np.ndarray], min_depth: float, max_depth: float,
                      num_bins: int | None = None) -> np.ndarray:
    """Median valid true depth per row bin, pooled over the images, float32 [num_bins].

    Images may differ in height (KITTI's dates do): each row goes to the bin of its relative height, with
    `num_bins` the first image's height by default. Valid = min_depth < depth < max_depth. Bins with no valid
    depth take the value of the nearest bins (linear interpolation, constant beyond the ends)."""
    if not gt_depths:
        raise DataError("row prior: no ground-truth depth maps")
    num_bins = num_bins or int(np.shape(gt_depths[0])[0])
    pooled: list[list[np.ndarray]] = [[] for _ in range(num_bins)]
    for gt in gt_depths:
        gt = np.asarray(gt, np.float32)
        for row, row_bin in enumerate(_row_bins(gt.shape[0], num_bins)):
            values = gt[row]
            pooled[row_bin].append(values[(values > min_depth) & (values < max_depth)])
    medians = np.full(num_bins, np.nan, np.float64)
    for row_bin, parts in enumerate(pooled):
        values = np.concatenate(parts)
        if values.size:
            medians[row_bin] = np.median(values)
    known = np.flatnonzero(~np.isnan(medians))
    if known.size == 0:
        raise DataError(f"row prior: no ground-truth depth within ({min_depth}, {max_depth}) m in any image")
    filled = np.interp(np.arange(num_bins), known, medians[known])
    return filled.astype(np.float32)


def row_prior_depths(gt_depths: Sequence[np.ndarray], min_depth: float, max_depth: float) -> list[np.ndarray]:
    """For each ground truth, a map whose every row holds the pooled median depth of that row's bin."""
    profile = row_prior_profile(gt_depths, min_depth, max_depth)
    maps = []
    for gt in gt_depths:
        height, width = np.shape(gt)
        rows = profile[_row_bins(height, profile.size)]
        maps.append(np.repeat(rows[:, None], width, axis=1))
    return maps


def prior_depths(name: str, gt_depths: Sequence[np.ndarray], min_depth: float, max_depth: float,
                 ) -> list[np.ndarray]:
    """The depth maps of the prior called `name` (one of PRIOR_NAMES)."""
    if name == "constant":
        return constant_prior_depths(gt_depths)
    if name == "row prior":
        return row_prior_depths(gt_depths, min_depth, max_depth)
    raise ValueError(f"unknown prior {name!r}; choose from {', '.join(PRIOR_NAMES)}")
