"""Safe outputs for long jobs: atomic writes (a temporary file beside the target, then a rename), so an
interrupted job never leaves a truncated file behind, output folders claimed by one run, so a resumed job never
mixes in another run's files, and a start-up check that an output folder can be written at all.

Written files get the mode a plain `open()` would give (0666 minus the umask), so colleagues on a shared machine
can read them; a file that cannot be written (read-only folder, full disk) is a DataError naming it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from sfmlearner_tf.errors import ConfigError, DataError


def cannot_write(path: str | os.PathLike, error: OSError) -> DataError:
    """The one-line error of a failed write: the file and the system's reason (e.g. read-only, no space left)."""
    return DataError(f"{path}: cannot write ({error.strerror or error})")


def _create_temp_beside(target: Path) -> Path:
    """Creates an empty temporary file with a random name beside `target`, with mode 0666 minus the umask (the
    kernel applies the umask; tempfile.mkstemp would give 0600 whatever the umask)."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return tmp


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path in the target's folder; on success renames it onto `path`."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _create_temp_beside(target)
    except OSError as error:
        raise cannot_write(target, error) from error
    try:
        yield tmp
        try:
            os.replace(tmp, target)
        except OSError as error:
            raise cannot_write(target, error) from error
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as error:
            raise cannot_write(path, error) from error


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


def image_is_whole(path: str | os.PathLike, size: tuple[int, int]) -> bool:
    """True if `path` is an image that decodes in full to `size` (width, height): a cheap check that an earlier
    run's output was not truncated or damaged since (resumable jobs redo what fails it)."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.size == size
    except (OSError, SyntaxError, ValueError):  # PIL reports some broken PNG chunks as SyntaxError
        return False


def npy_is_whole(path: str | os.PathLike, shape: tuple[int, ...]) -> bool:
    """True if `path` is a .npy file (no pickled objects) that loads in full with this shape."""
    try:
        return np.load(path, allow_pickle=False).shape == shape
    except (OSError, ValueError, EOFError):
        return False


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


def check_writable_folder(folder: str | os.PathLike, flag: str) -> Path:
    """Creates `folder` if needed and checks that files can be created in it (by creating and removing one), so a
    read-only output folder is one ConfigError naming the flag and the folder at start, not a failure hours later."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _create_temp_beside(folder / "write_check").unlink()
    except OSError as error:
        raise ConfigError(f"{flag}={folder}: cannot write in this folder ({error.strerror or error})") from error
    return folder
