"""Collapse warnings: signs that training has collapsed, read from the scale-0 disparity and explainability mask
that every train step already returns for its summaries (so no loss or gradient number changes):

- depth near-constant: the coefficient of variation (std / mean) of the predicted depth (1 / disparity) over all
  pixels of the batch is below `depth_cv` (a fresh DispNet gives about 0.2);
- disparity at a sigmoid end: DispNet's output is DISP_SCALING * sigmoid + MIN_DISP; more than
  `saturated_fraction` of the pixels have a sigmoid within `margin` of 0 (depth 1 / MIN_DISP) or of 1;
- explainability mask saturated: more than `saturated_fraction` of the mask values lie within `margin` of 0
  (no pixel counts in the loss: explain_reg_weight too small) or of 1 (the mask does nothing).
Each kind is reported once per run, with the step and the numbers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from sfmlearner_tf.models.disp_net import DISP_SCALING, MIN_DISP

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollapseThresholds:
    """When a statistic counts as collapse (see the module's docstring)."""

    depth_cv: float = 0.01
    margin: float = 1e-3
    saturated_fraction: float = 0.9


def collapse_stats(disp: np.ndarray, exp_mask: np.ndarray | None = None,
                   margin: float = CollapseThresholds.margin) -> dict[str, float]:
    """The statistics the warnings read: `depth_cv`, `disp_at_min` / `disp_at_max` (fractions of pixels whose
    sigmoid is within `margin` of 0 / 1) and, with a mask [B, H, W, N] of probabilities, `mask_at_0` / `mask_at_1`
    (fractions of its values within `margin` of 0 / 1). `disp` is DispNet's [B, H, W, 1] output."""
    disp = np.asarray(disp, np.float64)
    depth = 1.0 / disp
    sigmoid = (disp - MIN_DISP) / DISP_SCALING
    stats = {"depth_cv": float(np.std(depth) / np.mean(depth)),
             "disp_at_min": float(np.mean(sigmoid < margin)),
             "disp_at_max": float(np.mean(sigmoid > 1.0 - margin))}
    if exp_mask is not None:
        mask = np.asarray(exp_mask, np.float64)
        stats.update(mask_at_0=float(np.mean(mask < margin)), mask_at_1=float(np.mean(mask > 1.0 - margin)))
    return stats


def collapse_warnings(disp: np.ndarray, exp_mask: np.ndarray | None = None,
                      thresholds: CollapseThresholds = CollapseThresholds()) -> dict[str, str]:
    """Kind ("depth_constant", "disp_saturated", "exp_mask_saturated") -> a one-line warning with the numbers,
    for each sign of collapse in one step's scale-0 disparity [B, H, W, 1] and explainability mask [B, H, W, N]
    (None without the branch); empty when training looks healthy."""
    stats = collapse_stats(disp, exp_mask, thresholds.margin)
    margin, fraction = thresholds.margin, thresholds.saturated_fraction
    found = {}
    if stats["depth_cv"] < thresholds.depth_cv:
        found["depth_constant"] = (f"predicted depth is near-constant: its coefficient of variation over the batch "
                                   f"is {stats['depth_cv']:.3g} (< {thresholds.depth_cv:g}); the depth net may have "
                                   "collapsed")
    if stats["disp_at_min"] + stats["disp_at_max"] > fraction:
        found["disp_saturated"] = (f"disparity at a sigmoid end: {stats['disp_at_min']:.1%} of the pixels within "
                                   f"{margin:g} of the minimum and {stats['disp_at_max']:.1%} of the maximum (more "
                                   f"than {fraction:.0%} together); DispNet's output has saturated")
    if exp_mask is not None and stats["mask_at_0"] + stats["mask_at_1"] > fraction:
        found["exp_mask_saturated"] = (f"explainability mask saturated: {stats['mask_at_0']:.1%} of its values "
                                       f"within {margin:g} of 0 and {stats['mask_at_1']:.1%} of 1 (more than "
                                       f"{fraction:.0%} together); at 0 nothing is left in the loss "
                                       "(explain_reg_weight too small?), at 1 the mask does nothing")
    return found


@dataclass
class CollapseWatch:
    """Reports each kind of collapse warning once per run: `check` logs the new ones (as warnings) and keeps
    them in `warned`."""

    thresholds: CollapseThresholds = field(default_factory=CollapseThresholds)
    warned: list[str] = field(default_factory=list)
    _kinds: set[str] = field(default_factory=set)

    def check(self, step: int, disp: np.ndarray, exp_mask: np.ndarray | None = None) -> list[str]:
        """The warnings of `step` not reported before, each as `train: step <step>: <warning>`."""
        new = []
        for kind, text in collapse_warnings(disp, exp_mask, self.thresholds).items():
            if kind not in self._kinds:
                self._kinds.add(kind)
                new.append(f"train: step {step}: {text}")
                logger.warning("%s", new[-1])
        self.warned += new
        return new
