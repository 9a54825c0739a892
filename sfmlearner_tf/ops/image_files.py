"""The one rule for reading a user's image file as RGB uint8, whatever its bit depth; every program that reads
frames (preparation, evaluation, sfm-predict, Mask R-CNN) goes through `read_rgb`.

- 8-bit images (grey, bilevel, palette, grey or RGB with alpha, CMYK, YCbCr) take PIL's conversion to RGB: grey
  repeated in R, G and B, a palette looked up, alpha dropped (not composited: a frame keeps its captured colours).
- 16-bit grey (PIL modes I;16, I;16B, ..., or I with every value in 0..65535) keeps its high byte, v >> 8: the
  map PIL itself applies to 16-bit RGB(A) PNGs and OpenCV to every 16-bit image it reads as 8 bits, so a file
  gives the same frame whichever library decodes it, and a fixed map gives every frame of a sequence the same
  brightness (scaling each image by its own maximum would make the exposure flicker from frame to frame).
- Floating-point images and integers beyond 16 bits have no agreed white level: refused, naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from sfmlearner_tf.errors import DataError

SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
SIXTEEN_BIT_MAX = 65535


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """The image file at `path` as RGB uint8 [H, W, 3] by the module's rule; a missing, unreadable or refused
    image is a DataError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: image not found")
    try:
        with Image.open(path) as image:
            return _rgb_of(image, path)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:  # PIL: SyntaxError for bad chunks
        raise DataError(f"{path}: corrupt or unreadable image ({exc})") from exc


def _rgb_of(image: Image.Image, path: Path) -> np.ndarray:
    if image.mode in SIXTEEN_BIT_MODES or image.mode == "I":
        values = np.asarray(image)
        if image.mode == "I" and values.size and (values.min() < 0 or values.max() > SIXTEEN_BIT_MAX):
            raise DataError(f"{path}: a 32-bit integer image (values {values.min()}..{values.max()}): only 8- and "
                            "16-bit images are read; save it as 8-bit RGB")
        grey = (values.astype(np.uint32) >> 8).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    if image.mode == "F":
        raise DataError(f"{path}: a floating-point image (no defined white level): only 8- and 16-bit images are "
                        "read; save it as 8-bit RGB")
    return np.asarray(image.convert("RGB"))
