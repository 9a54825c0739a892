"""Preparation with Mask R-CNN plugged in: boundary_source=mask_rcnn gets mask_rcnn_prep's instance masks."""

from __future__ import annotations

from typing import TextIO

from sfmlearner_tf.prep.config import PrepareConfig, PrepareResult
from sfmlearner_tf.prep.mask_sources import InstanceMaskSource
from sfmlearner_tf.prep.prepare import prepare_dataset


def mask_rcnn_masks(weights_path: str) -> InstanceMaskSource:
    """Mask R-CNN's instance masks of the driving classes (mask_rcnn_prep, imported only when asked for)."""
    from mask_rcnn_prep.config import MaskRcnnConfig
    from mask_rcnn_prep.mask_source import MaskRcnnInstanceMasks

    return MaskRcnnInstanceMasks(weights_path, MaskRcnnConfig())


def prepare(config: PrepareConfig, stream: TextIO | None = None) -> PrepareResult:
    """prepare_dataset with every boundary source of --boundary_source available."""
    return prepare_dataset(config, stream=stream, mask_rcnn=mask_rcnn_masks)
