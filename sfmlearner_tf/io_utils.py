"""Safe outputs for long jobs: atomic writes (a temporary file beside the target, then a rename), so an
interrupted job never leaves a truncated file behind, and output folders claimed by one run, so a resumed job
never mixes in another run's files."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from sfmlearner_tf.errors import ConfigError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path in the target's folder; on success renames it onto `path`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` (UTF-8) to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Saves one array in .npy format atomically."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    atomic_write_bytes(path, buffer.getvalue())


def encode_image(array: np.ndarray, fmt: str, **save_kwargs: object) -> bytes:
    """Encodes a uint8/uint16 array as an image file (PNG, JPEG) in memory."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **save_kwargs)
    return buffer.getvalue()


def atomic_save_image(path: str | os.PathLike, array: np.ndarray, **save_kwargs: object) -> None:
    """Saves an image atomically; the format follows the file extension (.png, .jpg)."""
    suffix = Path(path).suffix.lower()
    fmt = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}.get(suffix)
    if fmt is None:
        raise ValueError(f"{path}: unsupported image extension {suffix!r}")
    atomic_write_bytes(path, encode_image(array, fmt, **save_kwargs))


def claim_output_folder(folder: str | os.PathLike, identity: dict[str, object]) -> None:
    """Marks `folder` as holding the outputs of the run described by `identity` (a JSON-able dict), so that a
    resumable job that skips existing files never mixes in the files of a different run: a folder claimed by
    another identity is refused with a ConfigError naming both."""
    marker = Path(folder) / "run.json"
    wanted = json.loads(json.dumps(identity, sort_keys=True, default=str))
    if marker.is_file():
        found = json.loads(marker.read_text())
        if found != wanted:
            raise ConfigError(f"{folder} holds the outputs of another run ({found}), not of this one ({wanted}): "
                              "delete it or choose another --output_dir")
        return
    atomic_write_text(marker, json.dumps(wanted, sort_keys=True, indent=1))
