"""Training recipes: the original's (every switch off, the default) and opt-in changes to how SfMLearner learns.

Each switch is a set of TrainConfig settings (by their flag names). The first four are the differences between
the original and the PyTorch port SfmLearner-Pytorch; the next three come from Godard et al., "Digging Into
Self-Supervised Monocular Depth Estimation" (ICCV 2019, monodepth2); the next three change the smoothness term:
log depth as the smoothed field, image-edge weighting (Godard et al., CVPR 2017) and normalization by the mean
(Wang et al., CVPR 2018); the last is monodepth2's full-resolution multi-scale photometric loss.
`IMPROVED` is the combination the recipe ablation (benchmarks/recipe_ablation.py) measured best: the port's
depth smoothness (which alone learned better than the port's four differences together) with image-edge
weighting, which lowered rms at each of four seeds against depth smoothness alone, and without the original's
random scale-and-crop (`augment` off, as monodepth2 trains), which lowered abs_rel and raised delta<1.25 at each
of four seeds, and with half the demo protocol's smoothness weight (0.05 for 0.1), which lowered rms at each of
four seeds (docs/RESULTS.md, "Training recipes"); flags/presets/improved.cfg holds the same settings. Turning
the augmentation off and the weight are the original's own settings, not switches: switches turn on what is off
by default. The weight was measured at 64x208 on the synthetic drives only; a run's own --smooth_weight after
the preset wins.
`PORT` is the port's four differences.
"""

from __future__ import annotations

from types import MappingProxyType

# switch -> the settings that turn it on (all default to off)
SWITCHES = MappingProxyType({
    "valid_mask": {"valid_mask": True},  # zero weight for pixels that project outside the source frame
    "flip": {"flip": True},  # left-right flip of each sample with probability 1/2
    "per_sample_augment": {"per_sample_augment": True},  # scale and crop drawn per sample, not per batch
    "depth_smoothness": {"depth_smoothness": True},  # smooth depth (not disparity), scale weights 1/2.3^s
    "ssim": {"photometric": "ssim_l1"},  # 0.85 (1 - SSIM) / 2 + 0.15 L1 on [0, 1] images
    "min_reprojection": {"min_reprojection": True},  # per-pixel minimum of the error over the sources
    "auto_mask": {"auto_mask": True},  # zero weight where the unwarped source matches better
    "log_depth": {"log_depth_smoothness": True},  # smooth log depth -log(disp), scale weights 1/2.3^s
    "edge_aware": {"edge_aware_smoothness": True},  # smoothness weighted by exp(-|image second difference|)
    "normalized_smoothness": {"normalized_smoothness": True},  # smoothed map divided by its per-image mean
    "full_res": {"full_res_multiscale": True},  # every scale's photometric loss at the input's size
})


def combine(*names: str) -> MappingProxyType:
    """The settings of several switches together."""
    return MappingProxyType({name: value for switch in names for name, value in SWITCHES[switch].items()})


PORT = combine("valid_mask", "flip", "per_sample_augment", "depth_smoothness")
IMPROVED = MappingProxyType({**combine("depth_smoothness", "edge_aware"), "augment": False, "smooth_weight": 0.05})

RECIPES = MappingProxyType({"faithful": MappingProxyType({}), "port": PORT, "improved": IMPROVED})
