"""Sources of instance masks for the boundary panel: the synthetic data set's true instance ids, or Mask R-CNN.
Both give [K, H, W] masks at the resized target's size. Preparation does not depend on Mask R-CNN: the caller
plugs it in (a MaskRcnnFactory; sfmlearner_tf/tasks/prepare.py passes mask_rcnn_prep's).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, UnidentifiedImageError

from sfmlearner_tf.errors import ConfigError, DataError

BOUNDARY_SOURCES = ("none", "synthetic", "mask_rcnn")


class InstanceMaskSource(Protocol):
    """Instance masks of a target frame: image = resized target [H, W, 3] uint8, frame_path = its raw image file.

    Returns [K, H, W] bool at the image's size (K may be 0).
    """

    def instance_masks(self, image: np.ndarray, frame_path: Path) -> np.ndarray: ...


MaskRcnnFactory = Callable[[str], InstanceMaskSource]
"""Builds the Mask R-CNN mask source from a weights file (matterport's mask_rcnn_coco.h5)."""


def nearest_resize_ids(ids: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest resize of an id map sampling pixel centres: output (i, j) <- input (floor((i+.5)*h/H), ...)."""
    rows = np.minimum(((np.arange(height) + 0.5) * ids.shape[0] / height).astype(np.int64), ids.shape[0] - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * ids.shape[1] / width).astype(np.int64), ids.shape[1] - 1)
    return ids[rows[:, None], cols[None, :]]


def instance_id_path(frame_path: str | os.PathLike) -> Path:
    """`<drive>/image_<cam>/data/<id>.png` -> `<drive>/instances_<cam>/data/<id>.png` (synthetic layout)."""
    frame_path = Path(frame_path)
    cam = frame_path.parents[1].name.removeprefix("image_")
    return frame_path.parents[2] / f"instances_{cam}" / "data" / frame_path.name


class SyntheticInstanceMasks:
    """True instance masks of the synthetic drives (uint16 id PNGs, 0 = none), nearest-resized to the image."""

    def instance_masks(self, image: np.ndarray, frame_path: Path) -> np.ndarray:
        path = instance_id_path(frame_path)
        if not path.is_file():
            raise DataError(f"{path}: instance id image not found (needed for --boundary_source=synthetic)")
        try:
            with Image.open(path) as png:
                ids = np.asarray(png).astype(np.int64)
        except (OSError, UnidentifiedImageError) as exc:
            raise DataError(f"{path}: corrupt instance id image ({exc})") from exc
        if ids.ndim != 2:
            raise DataError(f"{path}: instance id image must be single-channel, got shape {ids.shape}")
        resized = nearest_resize_ids(ids, image.shape[0], image.shape[1])
        instance_ids = [i for i in np.unique(resized) if i != 0]
        if not instance_ids:
            return np.zeros((0, *resized.shape), dtype=bool)
        return np.stack([resized == i for i in instance_ids])


def make_mask_source(name: str, mask_rcnn_weights: str = "",
                     mask_rcnn: MaskRcnnFactory | None = None) -> InstanceMaskSource | None:
    """The mask source named by --boundary_source; None for "none". "mask_rcnn" needs the weights file and the
    factory that builds it from them."""
    if name == "none":
        return None
    if name == "synthetic":
        return SyntheticInstanceMasks()
    if name == "mask_rcnn":
        if not mask_rcnn_weights:
            raise ConfigError("--boundary_source=mask_rcnn needs --mask_rcnn_weights (matterport's mask_rcnn_coco.h5)")
        if not Path(mask_rcnn_weights).is_file():
            raise DataError(f"{mask_rcnn_weights}: Mask R-CNN weights file not found")
        if mask_rcnn is None:
            raise ConfigError("--boundary_source=mask_rcnn needs a Mask R-CNN mask source: prepare with "
                              "sfm-prepare-data or sfmlearner_tf.tasks.prepare.prepare")
        return mask_rcnn(mask_rcnn_weights)
    raise ConfigError(f"boundary source must be one of {', '.join(BOUNDARY_SOURCES)}, got {name!r}")
