"""Predicted depth maps from a file (run_eval --pred_file), so that other implementations' predictions are scored
by the same code, and the checks that refuse what cannot be a depth prediction instead of scoring it.

Accepted: a .npy as the original's test script saves it, an [N, H, W] floating-point array, or (only with
allow_pickle) an object array of N 2-D floating-point maps, possibly of different sizes; or an .npz holding one
such array. Refused, each with a DataError naming the file: anything that is not a NumPy file, a damaged one,
integer or boolean arrays (usually a scaled export such as KITTI's uint16 depth x 256: converting them here would
guess the scale), non-finite or non-positive depths (nan, inf, zeros, negated depths), a map count other than
the test list's (missing or extra maps), and maps that cannot cover the image (under MIN_SIDE pixels a side, or a
width/height ratio more than MAX_ASPECT_FACTOR times off the image's, e.g. a transposed [N, W, H] array). A file (or
a folder of pose snippets) given together with a checkpoint is refused too (check_one_source).
"""

from __future__ import annotations

import os
import pickle
import tokenize
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import ConfigError, DataError

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
MIN_SIDE = 16
MAX_ASPECT_FACTOR = 2.0
_UNPICKLING_ERRORS = (pickle.UnpicklingError, AttributeError, ImportError, IndexError, TypeError)


def _npy_dtype(path: Path) -> np.dtype | None:
    """The dtype in a .npy header, or None when the header cannot be read."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        with open(path, "rb") as handle:
            reader = readers.get(np.lib.format.read_magic(handle))
            return reader(handle)[2] if reader else None
    except (OSError, ValueError, EOFError, SyntaxError, tokenize.TokenError):  # a damaged header dict
        return None


def _load_npy(path: Path, allow_pickle: bool) -> np.ndarray:
    dtype = _npy_dtype(path)
    if dtype is None:
        raise DataError(f"{path}: not a valid .npy file (its NumPy header cannot be read)")
    if dtype.hasobject and not allow_pickle:
        raise DataError(f"{path}: holds an object array (a list of depth maps); loading it needs "
                        "--pred_allow_pickle (only for files you trust)")
    try:
        return np.load(path, allow_pickle=allow_pickle)
    except (OSError, ValueError, EOFError, *_UNPICKLING_ERRORS) as exc:
        raise DataError(f"{path}: damaged .npy file ({exc})") from exc


def _load_npz(path: Path, allow_pickle: bool) -> np.ndarray:
    """The one array of an .npz (a file of several arrays is ambiguous and refused)."""
    try:
        with np.load(path, allow_pickle=allow_pickle) as archive:
            names = list(archive.files)
            if len(names) != 1:
                raise DataError(f"{path}: an .npz of {len(names)} arrays ({', '.join(names[:5])}); predictions "
                                "must be one array of N depth maps (save it with numpy.save)")
            return archive[names[0]]
    except ValueError as exc:
        if not allow_pickle and "allow_pickle" in str(exc):
            raise DataError(f"{path}: holds an object array (a list of depth maps); loading it needs "
                            "--pred_allow_pickle (only for files you trust)") from exc
        raise DataError(f"{path}: damaged .npz file ({exc})") from exc
    except (OSError, EOFError, zipfile.BadZipFile, *_UNPICKLING_ERRORS) as exc:
        raise DataError(f"{path}: damaged .npz file ({exc})") from exc


def _check_dtype(path: Path, dtype: np.dtype, what: str) -> None:
    if dtype.kind != "f":
        raise DataError(f"{path}: {what} has dtype {dtype}; predicted depths must be floating-point metres (an "
                        "integer array is usually a scaled export, e.g. uint16 depth x 256: convert it to float "
                        "depths first)")


def _as_depth_maps(path: Path, array: np.ndarray) -> list[np.ndarray]:
    if array.dtype != object:
        if array.ndim != 3:
            raise DataError(f"{path}: expected N depth maps ([N, H, W] or a list of 2-D arrays), got shape "
                            f"{array.shape} dtype {array.dtype}")
        _check_dtype(path, array.dtype, "the array")
        return list(array.astype(np.float32))
    if array.ndim != 1 or not all(isinstance(a, np.ndarray) and a.ndim == 2 for a in array):
        raise DataError(f"{path}: expected N depth maps ([N, H, W] or a list of 2-D arrays), got an object array "
                        f"of shape {array.shape} whose items are not all 2-D arrays")
    for index, depth in enumerate(array):
        _check_dtype(path, depth.dtype, f"map {index}")
    return [np.asarray(a, dtype=np.float32) for a in array]


def _check_values(path: Path, depths: list[np.ndarray]) -> None:
    """Every depth finite and positive: a nan/inf or a depth <= 0 has no meaning and would poison the metrics."""
    for problem, bad in (("non-finite (nan or inf)", lambda d: ~np.isfinite(d)), ("<= 0", lambda d: d <= 0)):
        counts = [int(np.count_nonzero(bad(depth))) for depth in depths]
        total = sum(counts)
        if total:
            first = next(i for i, count in enumerate(counts) if count)
            size = sum(depth.size for depth in depths)
            hint = " (all zero? negated depths? disparities?)" if problem == "<= 0" else ""
            raise DataError(f"{path}: {total} of {size} predicted depths are {problem}, the first in map {first}; "
                            f"every depth must be a finite positive number{hint}")


def load_prediction_file(path: str | os.PathLike, allow_pickle: bool = False) -> list[np.ndarray]:
    """The depth maps (float32, 2-D) of a predictions .npy/.npz, checked as the module docstring says."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: prediction file not found")
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(NPY_MAGIC))
    except OSError as exc:
        raise DataError(f"{path}: cannot read the prediction file ({exc.strerror or exc})") from exc
    if head.startswith(ZIP_MAGIC):
        array = _load_npz(path, allow_pickle)
    elif head == NPY_MAGIC:
        array = _load_npy(path, allow_pickle)
    else:
        raise DataError(f"{path}: not a valid .npy file (it does not start with the NumPy header; predictions must "
                        "be saved with numpy.save)")
    depths = _as_depth_maps(path, array)
    _check_values(path, depths)
    return depths


def check_one_source(ckpt_file: str | None, predictions: str | None, field: str) -> None:
    """Refuses a checkpoint and existing predictions (the config's `field`: a file or folder) given together:
    which one was scored would be a guess, so it is a ConfigError naming both flags (through `fields`)."""
    if ckpt_file and predictions:
        raise ConfigError(f"--ckpt_file and --{field} both given: evaluation scores one source, the checkpoint's "
                          f"predictions or those of --{field}; drop one of the two flags", fields=(field,))


def check_prediction_shapes(path: str | os.PathLike, depths: Sequence[np.ndarray],
                            image_shapes: Sequence[tuple[int, int]], names: Sequence[str]) -> None:
    """One map per test image, each big enough and of about the image's width/height ratio (it is resized to
    the image for scoring, which only makes sense if it covers the same view)."""
    if len(depths) != len(image_shapes):
        raise DataError(f"{path}: {len(depths)} predicted depth maps for {len(image_shapes)} test images")
    for depth, (height, width), name in zip(depths, image_shapes, names):
        pred_height, pred_width = depth.shape
        if min(pred_height, pred_width) < MIN_SIDE:
            raise DataError(f"{path}: the depth map of {name} is {pred_height}x{pred_width}, smaller than "
                            f"{MIN_SIDE} pixels a side: not a depth prediction of a {height}x{width} image")
        factor = (pred_width / pred_height) / (width / height)
        if not 1 / MAX_ASPECT_FACTOR <= factor <= MAX_ASPECT_FACTOR:
            raise DataError(f"{path}: the depth map of {name} is {pred_height}x{pred_width} (HxW), its width/height "
                            f"ratio {factor:.2f} times the image's ({height}x{width}): it cannot cover the image "
                            "(a transposed array?)")
