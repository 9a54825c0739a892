"""Training recipes: the original's (every switch off, the default) and opt-in changes to how SfMLearner learns.

Each switch is a set of TrainConfig settings (by their flag names). The first four are differences between the
original and the PyTorch port SfmLearner-Pytorch; the last three come from Godard et al., "Digging Into
Self-Supervised Monocular Depth Estimation" (ICCV 2019, monodepth2). `IMPROVED` is the combination the recipe
ablation (benchmarks/recipe_ablation.py) measured best; flags/presets/improved.cfg holds the same settings.
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
})

# The PyTorch port's differences from the original, together.
PORT = MappingProxyType({**SWITCHES["valid_mask"], **SWITCHES["flip"], **SWITCHES["per_sample_augment"],
                         **SWITCHES["depth_smoothness"]})

# The best measured combination (see docs/RESULTS.md, "Training recipes").
IMPROVED = MappingProxyType({**SWITCHES["valid_mask"], **SWITCHES["flip"], **SWITCHES["per_sample_augment"],
                             **SWITCHES["depth_smoothness"], **SWITCHES["ssim"], **SWITCHES["min_reprojection"],
                             **SWITCHES["auto_mask"]})

RECIPES = MappingProxyType({"faithful": MappingProxyType({}), "port": PORT, "improved": IMPROVED})
