"""Inference configuration of Mask R-CNN: matterport's COCO defaults, made explicit and frozen."""

from __future__ import annotations

from dataclasses import dataclass

from mask_rcnn_prep.coco_classes import COCO_CLASS_NAMES, DRIVING_CLASSES, class_ids_for
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.settings import check_settings, setting

RESIZE_MODES = ("square", "pad64")


@dataclass(frozen=True)
class MaskRcnnConfig:
    """Everything that changes Mask R-CNN's output. Defaults are matterport's inference settings for COCO.

    Resizing ("square", the default): scale so the short side is `image_min_dim` unless the long side would
    exceed `image_max_dim`, then zero-pad to image_max_dim x image_max_dim. A 416x128 frame becomes 1024x315
    (scale 1024/416) padded to 1024x1024. "pad64": scale up so the short side is at least `image_min_dim`
    (0: no scaling; image_max_dim is ignored), then zero-pad each side to a multiple of 64; with
    image_min_dim=256 a 416x128 frame becomes 832x256 (about 5x fewer pixels than the square mode).
    """

    resize_mode: str = setting("square", "square: matterport's default (416x128 -> 1024x315 padded to 1024x1024); "
                               "pad64: scale the short side up to --image_min_dim, pad to multiples of 64 "
                               "(cheaper)", choices=RESIZE_MODES)
    image_min_dim: int = setting(800, "Short side target of the resize (pad64: 0 = no scaling).", low=0)
    image_max_dim: int = setting(1024, "square mode: long side limit and padded size (the FPN halves the input "
                                 "6 times).", multiple_of=64)
    mean_pixel: tuple[float, float, float] = (123.7, 116.8, 103.9)
    anchor_scales: tuple[int, ...] = (32, 64, 128, 256, 512)
    backbone_strides: tuple[int, ...] = (4, 8, 16, 32, 64)
    anchor_ratios: tuple[float, ...] = (0.5, 1.0, 2.0)
    anchor_stride: int = 1
    rpn_bbox_std_dev: tuple[float, float, float, float] = (0.1, 0.1, 0.2, 0.2)
    pre_nms_limit: int = 6000
    rpn_nms_threshold: float = 0.7
    post_nms_rois: int = 1000
    pool_size: int = 7
    mask_pool_size: int = 14
    bbox_std_dev: tuple[float, float, float, float] = (0.1, 0.1, 0.2, 0.2)
    detection_min_confidence: float = setting(0.7, "Detections below this class score are dropped.", low=0.0,
                                              high=1.0)
    detection_nms_threshold: float = 0.3
    detection_max_instances: int = setting(100, "At most this many detections per frame.", low=1)
    mask_threshold: float = 0.5
    keep_classes: tuple[str, ...] = setting(DRIVING_CLASSES, "COCO classes whose masks make the boundary ('all' = "
                                            "the 80 things).", choices=("all", *COCO_CLASS_NAMES[1:]))

    def __post_init__(self) -> None:
        check_settings(self)
        if self.resize_mode == "pad64" and self.image_min_dim % 64:
            raise ConfigError(f"image_min_dim must be a multiple of 64 in pad64 mode, got {self.image_min_dim}",
                              fields=("image_min_dim",))
        if len(self.anchor_scales) != len(self.backbone_strides):
            raise ConfigError("anchor_scales and backbone_strides need one entry per pyramid level")
        class_ids_for(self.keep_classes)

    @property
    def num_classes(self) -> int:
        """81: COCO's 80 things plus background."""
        return len(COCO_CLASS_NAMES)

    @property
    def keep_class_ids(self) -> tuple[int, ...]:
        """COCO ids of the classes whose masks make the boundary image."""
        return class_ids_for(self.keep_classes)

    @property
    def anchors_per_location(self) -> int:
        """Anchors at each feature-map position (one scale per level, one anchor per ratio)."""
        return len(self.anchor_ratios)
