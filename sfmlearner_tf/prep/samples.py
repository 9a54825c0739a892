"""The prepared-sample format (docs/QUIRKS.md, "sample format"): one JPEG per sample holding seq_length frames side
by side in time order (target in the middle), optionally followed by one boundary panel, and a `_cam.txt` file.

Writing follows the original exactly: PIL's JPEG encoder at its default quality (75, 4:2:0 chroma subsampling),
as `scipy.misc.imsave` did, and the camera line `fx,0.,cx,0.,fy,cy,0.,0.,1.` with `%f` and no newline.

Each kind of file has one rule, which the training pipeline checks in its graph for every sample and the Python
readers here at start-up, on resume and before writing a boundary panel:
* the image is a JPEG (JPEG_SIGNATURE) that decodes in full to RGB: YCbCr, greyscale (R = G = B, as preparation
  converts a grey frame) or CMYK, what libjpeg converts (tf.io.decode_jpeg with channels=3); PIL agrees within
  JPEG rounding;
* `_cam.txt` is CAM_LINE_PATTERN (9 comma-separated numbers, `nan`/`inf` included so that they fail the next
  check by name) whose values pass `cam_entries_valid` (all finite, fx > 0, fy > 0, the format's fixed entries).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image, JpegImagePlugin, UnidentifiedImageError

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.io_utils import atomic_save_image, atomic_write_bytes, atomic_write_text
from sfmlearner_tf.ops.boundary import boundary_panel_rgb

ArrayOrTensor = TypeVar("ArrayOrTensor")  # a numpy array or a tf.Tensor
# A sample is a JPEG (or an MPO, a JPEG with more pictures after the first) by its Start Of Image marker, whatever
# its name: tf.io.decode_jpeg would decode a PNG as well.
JPEG_SIGNATURE = b"\xff\xd8"


def cam_path_for(jpg_path: str | os.PathLike) -> Path:
    """`<dir>/<frame>.jpg` -> `<dir>/<frame>_cam.txt`."""
    jpg_path = Path(jpg_path)
    return jpg_path.with_name(f"{jpg_path.stem}_cam.txt")


def format_cam_line(intrinsics: np.ndarray) -> str:
    """The original's camera line: `fx,0.,cx,0.,fy,cy,0.,0.,1.` with `%f` (6 decimals), no trailing newline."""
    k = intrinsics
    return "%f,0.,%f,0.,%f,%f,0.,0.,1." % (k[0, 0], k[0, 2], k[1, 1], k[1, 2])  # noqa: UP031 (the original's format)


# One number as %f writes it (nan and inf too), and the camera line: the same pattern for Python's re and TF's RE2.
_NUMBER = r"[-+]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|(?i:nan|inf(?:inity)?))"
_SPACE = r"[ \t\r\n]*"
CAM_LINE_PATTERN = rf"{_SPACE}{_NUMBER}(?:{_SPACE},{_SPACE}{_NUMBER}){{8}}{_SPACE}"
CAM_RULE = "9 finite numbers fx,0.,cx,0.,fy,cy,0.,0.,1. with fx > 0 and fy > 0"
# K's entries in row order: those the format fixes (and their values) and the focal lengths, which must be > 0.
_FIXED = np.array([False, True, False, True, False, False, True, True, True])
_FIXED_VALUES = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1], np.float32)
_FOCAL = np.array([True, False, False, False, True, False, False, False, False])


def cam_entries_valid(values: ArrayOrTensor) -> ArrayOrTensor:
    """Per entry of a camera file's 9 values (float32, row order), whether it obeys the format: finite, fx and fy
    > 0, and the fixed entries 0 or 1. Works on numpy arrays and on tensors (the pipeline checks it in its graph),
    so the start-up check and the training graph apply one rule."""
    finite = abs(values) < np.inf
    return finite & ((values == _FIXED_VALUES) | ~_FIXED) & ((values > 0) | ~_FOCAL)


def read_cam_file(path: str | os.PathLike) -> np.ndarray:
    """Reads a `_cam.txt` file: CAM_LINE_PATTERN with values obeying `cam_entries_valid` -> float32 [3, 3]."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: camera file not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read camera file ({exc.strerror})") from exc
    return _cam_values(data, f"{path}: camera file")


def _cam_values(data: bytes, label: str) -> np.ndarray:
    """A camera line's K (float32 [3, 3]) by the camera-file rule, or a DataError starting with `label`."""
    if re.fullmatch(CAM_LINE_PATTERN.encode(), data) is None:
        raise DataError(f"{label} is malformed (need {CAM_RULE}): {data[:80]!r}")
    with np.errstate(over="ignore"):  # a number beyond float32 becomes inf, refused below
        values = np.array([float(v) for v in data.split(b",")], dtype=np.float64).astype(np.float32)
    if not np.isfinite(values).all():
        raise DataError(f"{label} has non-finite values (nan or inf): {values.tolist()}")
    if not cam_entries_valid(values).all():
        raise DataError(f"{label} breaks the rule ({CAM_RULE}): {values.tolist()}")
    return values.reshape(3, 3)


def stack_sample(frames: list[np.ndarray], boundary: np.ndarray | None = None) -> np.ndarray:
    """Frames [H, W, 3] in time order, side by side, then the boundary panel ([H, W] uint8) if given."""
    panels = list(frames) + ([boundary_panel_rgb(boundary)] if boundary is not None else [])
    return np.concatenate(panels, axis=1).astype(np.uint8)


def write_sample(jpg_path: str | os.PathLike, frames: list[np.ndarray], intrinsics: np.ndarray,
                 boundary: np.ndarray | None = None) -> None:
    """Writes one sample atomically: the JPEG first, then `_cam.txt` (so a present cam file marks it finished).
    A K whose camera line would break the camera-file rule (nan, a focal length that prints as 0) is refused
    before anything is written, so preparation never leaves a sample that training refuses."""
    line = format_cam_line(intrinsics)
    _cam_values(line.encode(), f"{cam_path_for(jpg_path)}: camera line to write")
    atomic_save_image(jpg_path, stack_sample(frames, boundary))
    atomic_write_text(cam_path_for(jpg_path), line)


def panel_count(width: int, seq_length: int, img_width: int, path: str | os.PathLike) -> int:
    """Number of panels of a stacked image: seq_length (no boundary) or seq_length + 1 (with boundary)."""
    if width == seq_length * img_width:
        return seq_length
    if width == (seq_length + 1) * img_width:
        return seq_length + 1
    raise DataError(f"{path}: width {width} matches neither seq_length*img_width = {seq_length * img_width} nor "
                    f"(seq_length+1)*img_width = {(seq_length + 1) * img_width} (wrong --seq_length/--img_width?)")


def _open_jpeg(jpg_path: Path) -> Image.Image:
    """The sample image decoded in full (a truncated or corrupt file fails here), a JPEG by its first bytes
    (JPEG_SIGNATURE, what the pipeline checks too), or a DataError naming it. PIL opens a JPEG as L, RGB or CMYK,
    each of which converts to RGB as libjpeg's decode in the pipeline does."""
    if not jpg_path.is_file():
        raise DataError(f"{jpg_path}: sample image not found")
    try:
        data = jpg_path.read_bytes()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"{jpg_path}: corrupt or unreadable JPEG ({exc})") from exc
    if not data.startswith(JPEG_SIGNATURE):
        raise DataError(f"{jpg_path}: not a JPEG (a {image.format} image)")
    return image


def decoded_sample_size(jpg_path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) of a sample JPEG after decoding it in full: a DataError names a missing, truncated or
    corrupt file (which reading the header alone would miss)."""
    with _open_jpeg(Path(jpg_path)) as image:
        return image.size


def _panel_to_grey(panel: np.ndarray) -> np.ndarray:
    """A decoded RGB boundary panel back to grey: the channel mean (R, G and B differ by JPEG rounding only)."""
    return np.round(panel.astype(np.float32).mean(axis=2)).astype(np.uint8)


def read_sample(jpg_path: str | os.PathLike, seq_length: int, img_width: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Decodes a sample (PIL) -> (frames [L, H, W, 3] uint8 in time order, boundary [H, W] uint8 or None)."""
    jpg_path = Path(jpg_path)
    with _open_jpeg(jpg_path) as image:
        stacked = np.asarray(image.convert("RGB"))
    panels = panel_count(stacked.shape[1], seq_length, img_width, jpg_path)
    split = np.stack(np.split(stacked, panels, axis=1))
    boundary = _panel_to_grey(split[seq_length]) if panels > seq_length else None
    return split[:seq_length], boundary


def append_boundary_panel(jpg_path: str | os.PathLike, boundary: np.ndarray, seq_length: int, img_width: int) -> None:
    """Adds (or replaces) the boundary panel of an existing sample, atomically.

    The JPEG is re-encoded with the file's own quantisation tables and chroma subsampling (quality 75 for samples
    written by this project), so the panel is compressed as at preparation time and the frames lose as little as
    possible to the second encoding (a re-encode with identical tables changes frame pixels by a few grey levels
    at most; see tests/test_prepare_samples.py).
    """
    jpg_path = Path(jpg_path)
    with _open_jpeg(jpg_path) as image:
        stacked = np.asarray(image.convert("RGB"))
        qtables = image.quantization
        subsampling = JpegImagePlugin.get_sampling(image)
    panel_count(stacked.shape[1], seq_length, img_width, jpg_path)
    boundary = np.asarray(boundary)
    if boundary.shape != (stacked.shape[0], img_width):
        raise DataError(f"{jpg_path}: boundary of shape {boundary.shape} does not fit panels of "
                        f"{stacked.shape[0]}x{img_width}")
    frames = np.split(stacked[:, : seq_length * img_width], seq_length, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(stack_sample(frames, boundary)).save(buffer, format="JPEG", qtables=qtables,
                                                         subsampling=max(subsampling, 0))
    atomic_write_bytes(jpg_path, buffer.getvalue())
