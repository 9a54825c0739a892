"""Cropping a frame before it is resized to the training size, and the matching change of the intrinsics:
a crop moves the principal point by the crop's offset (cx - left, cy - top) and leaves the focal lengths."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfmlearner_tf.errors import ConfigError


@dataclass(frozen=True)
class CropBox:
    """Rows top..top+height-1 and columns left..left+width-1 of a frame."""

    top: int
    left: int
    height: int
    width: int

    def apply(self, image: np.ndarray) -> np.ndarray:
        return image[self.top:self.top + self.height, self.left:self.left + self.width]

    def intrinsics(self, intrinsics: np.ndarray) -> np.ndarray:
        """K of the cropped frame (float64)."""
        cropped = np.array(intrinsics, dtype=np.float64)
        cropped[0, 2] -= self.left
        cropped[1, 2] -= self.top
        return cropped


def plan_crop(height: int, width: int, out_height: int, out_width: int, mode: str = "resize",
              crop_bottom: float = 0.0) -> CropBox:
    """The crop of a height x width frame: first `crop_bottom` of the rows off the bottom, then with mode
    "center" the widest centred window whose aspect ratio is out_width / out_height ("resize": no more)."""
    if mode not in ("resize", "center"):
        raise ConfigError(f"crop mode must be resize or center, got {mode!r}")
    if not 0.0 <= crop_bottom < 1.0:
        raise ConfigError(f"crop_bottom must be in [0, 1), got {crop_bottom}")
    kept = height - round(height * crop_bottom)
    if mode == "resize":
        return CropBox(0, 0, kept, width)
    aspect = out_width / out_height
    if width / kept > aspect:  # too wide: cut the sides
        crop_width = round(kept * aspect)
        return CropBox(0, (width - crop_width) // 2, kept, crop_width)
    crop_height = round(width / aspect)
    return CropBox((kept - crop_height) // 2, 0, crop_height, width)
