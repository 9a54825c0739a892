"""Bilinear resizing as matterport's Mask R-CNN does it, without scikit-image: the result of
`skimage.transform.resize(image, (height, width), order=1, mode="constant", cval=0, clip=True,
anti_aliasing=False)`, which matterport uses to mold images (`utils.resize_image`, preserve_range=True) and to
unmold the 28x28 masks (`utils.unmold_mask`).

What that call computes, per axis of n_in pixels resized to n_out:
* output pixel k samples the source at c = (k + 0.5) * n_in / n_out - 0.5 (half-pixel centres);
* linear interpolation between pixels floor(c) and floor(c) + 1, weights w0 = 1 - (c - floor(c)), w1 = 1 - w0;
  a neighbour outside the image counts as 0 ("constant" mode with cval 0, which scikit-image maps to SciPy's
  "grid-constant": interpolation goes on outside the image), so when upscaling the outermost output rows
  and columns, where c lies in (-0.5, 0) or (n_in - 1, n_in - 0.5), blend with black;
* clip=True: the result is clipped to [min, max] of the whole input (scikit-image widens that range to take
  in cval only when some output equals cval, which a resize never gives: each output pixel takes more than a
  quarter of its weight from inside the image);
* float64 arithmetic; a float32 input gives a float32 result (integer input: float64, preserve_range).

The four neighbour products are summed in SciPy's order, ((a * wy) * wx) for neighbours (y0, x0), (y0, x1),
(y1, x0), (y1, x1). That order matters: matterport truncates the molded image to uint8, and where the exact
value is an integer (flat regions) another summation order can land one ulp below it and truncate to one grey
level less. scikit-image before 0.19 (SciPy before 1.6) warps with the same coordinates and zero border but
interpolates along x, then along y, so it can differ from this by one grey level at such pixels.
"""

from __future__ import annotations

import numpy as np

# Named in the boundary job's fingerprint, so that outputs molded another way (OpenCV's resize, before) are redone.
RESIZE_KIND = "skimage resize order=1 mode=constant cval=0 clip"


def _axis_taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output index: the lower neighbour's index in the axis zero-padded by one pixel, and its two weights."""
    coords = (np.arange(out_size, dtype=np.float64) + 0.5) * (in_size / out_size) - 0.5
    lower = np.floor(coords)
    weight_lower = 1.0 - (coords - lower)
    return lower.astype(np.intp) + 1, weight_lower, 1.0 - weight_lower


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """[H, W] or [H, W, C] -> [height, width(, C)], as scikit-image's resize with matterport's arguments
    (module docstring). float32 stays float32; anything else comes back as float64."""
    out_dtype = np.float32 if image.dtype == np.float32 else np.float64
    channel_axes = image.ndim - 2
    padded = np.pad(image.astype(np.float64), [(1, 1), (1, 1)] + [(0, 0)] * channel_axes)
    rows, row_w0, row_w1 = _axis_taps(image.shape[0], height)
    cols, col_w0, col_w1 = _axis_taps(image.shape[1], width)
    row_shape, col_shape = (height, 1) + (1,) * channel_axes, (1, width) + (1,) * channel_axes
    result = np.zeros((height, width, *image.shape[2:]), dtype=np.float64)
    for row_offset, row_weight in ((0, row_w0), (1, row_w1)):
        picked_rows = padded[rows + row_offset]
        for col_offset, col_weight in ((0, col_w0), (1, col_w1)):
            result += picked_rows[:, cols + col_offset] * row_weight.reshape(row_shape) * col_weight.reshape(col_shape)
    result = result.astype(out_dtype)
    return np.clip(result, image.min(), image.max(), out=result)
