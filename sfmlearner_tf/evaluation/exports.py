"""Exports of predicted depth: .npy (depth and disparity) and magma colour-mapped disparity PNGs.

Display normalisation as the original's normalize_depth_for_display: disparity = 1 / (depth + 1e-6), divided by
its 95th percentile (+1e-6), clipped to [0, 1]; then OpenCV's COLORMAP_MAGMA (no matplotlib needed).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from sfmlearner_tf.io_utils import atomic_save_image, atomic_save_npy
from sfmlearner_tf.progress import ProgressReporter

DISPLAY_PERCENTILE = 95.0


def normalized_disparity(depth: np.ndarray, percentile: float = DISPLAY_PERCENTILE) -> np.ndarray:
    """Disparity for display in [0, 1]; depth 0 (no data) stays 0."""
    depth = np.asarray(depth, dtype=np.float64)
    disparity = np.where(depth > 0, 1.0 / (depth + 1e-6), 0.0)
    normalizer = np.percentile(disparity, percentile)
    return np.clip(disparity / (normalizer + 1e-6), 0.0, 1.0)


def colorize(unit: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> uint8 RGB [H, W, 3] with the magma colour map."""
    grey = np.round(np.clip(unit, 0.0, 1.0) * 255.0).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(grey, cv2.COLORMAP_MAGMA), cv2.COLOR_BGR2RGB)


def depth_to_color(depth: np.ndarray) -> np.ndarray:
    """A depth map as a magma-coloured disparity image (uint8 RGB)."""
    return colorize(normalized_disparity(depth))


def export_name(test_line: str) -> str:
    """A flat file stem for a test list line: <drive>_<camera>_<frame id>."""
    parts = test_line.split("/")
    return f"{parts[1]}_{parts[2][-2:]}_{Path(parts[-1]).stem}" if len(parts) == 5 else Path(test_line).stem


def export_depths(out_dir: str | os.PathLike, names: Sequence[str], depths: Sequence[np.ndarray],
                  progress_every_s: float = 10.0) -> int:
    """Writes <name>_depth.npy, <name>_disp.npy and <name>_disp.png per map, each atomically, replacing what an
    earlier run left (the maps are recomputed by every evaluation anyway). Returns the number of maps written."""
    out_dir = Path(out_dir)
    progress = ProgressReporter(len(names), "depth export", every_s=progress_every_s, unit="images")
    written = 0
    for name, depth in zip(names, depths):
        paths = [out_dir / f"{name}_depth.npy", out_dir / f"{name}_disp.npy", out_dir / f"{name}_disp.png"]
        depth = np.asarray(depth, dtype=np.float32)
        atomic_save_npy(paths[0], depth)
        atomic_save_npy(paths[1], (1.0 / depth).astype(np.float32))
        atomic_save_image(paths[2], depth_to_color(depth))
        written += 1
        progress.update()
    return written
