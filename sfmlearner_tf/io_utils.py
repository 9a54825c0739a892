"""Safe outputs for long jobs: atomic writes (a temporary file beside the target, then a rename), so an
interrupted job never leaves a truncated file behind, output folders claimed by one run, so a resumed job never
mixes in another run's files, a lock on each output so that two jobs never write one folder at once, an existing
output never replaced unasked, and a start-up check that an output folder can be written at all.

Written files get the mode a plain `open()` would give (0666 minus the umask), so colleagues on a shared machine
can read them; a file that cannot be written (read-only folder, full disk) is a DataError naming it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from sfmlearner_tf.errors import ConfigError, DataError


def cannot_write(path: str | os.PathLike, error: OSError) -> DataError:
    """The one-line error of a failed write: the file and the system's reason (e.g. read-only, no space left)."""
    return DataError(f"{path}: cannot write ({error.strerror or error})")


# The name of an atomic write's temporary file: ".<target name>.<16 hex digits>.tmp".
_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{16}\.tmp$")


def _create_temp_beside(target: Path) -> Path:
    """Creates an empty temporary file with a random name beside `target`, with mode 0666 minus the umask (the
    kernel applies the umask; tempfile.mkstemp would give 0600 whatever the umask)."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return tmp


def remove_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Removes the temporary files that atomic writes under `folder` left when their process was killed mid-write
    (a process that ends normally, or by an exception, removes its own); returns them. Only for a folder whose
    writers have all ended."""
    leftovers = [path for path in Path(folder).rglob(".*.tmp") if _TEMP_NAME.match(path.name)]
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


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


def claim_output_folder(folder: str | os.PathLike, identity: dict[str, object], flag: str = "--output_dir") -> None:
    """Marks `folder` as holding the outputs of the run described by `identity` (a JSON-able dict), so that a
    resumable job that skips existing files never mixes in the files of a different run: a folder claimed by
    another identity is refused with a ConfigError naming both (and `flag`, the setting that chose the folder)."""
    marker = Path(folder) / "run.json"
    wanted = json.loads(json.dumps(identity, sort_keys=True, default=str))
    if marker.is_file():
        found = json.loads(marker.read_text())
        if found != wanted:
            changed = sorted(key for key in set(found) | set(wanted) if found.get(key) != wanted.get(key))
            raise ConfigError(f"{flag}={folder} holds the outputs of another run (differing in {', '.join(changed)}: "
                              f"{', '.join(f'{k} {found.get(k)} there, {wanted.get(k)} now' for k in changed)}); "
                              f"delete it or choose another {flag}")
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


def refuse_existing(path: str | os.PathLike, flag: str) -> None:
    """A ConfigError naming the flag when `path` (a file, a folder or a checkpoint prefix's index) already exists:
    a program never replaces what it did not write."""
    path = Path(path)
    if path.exists() or Path(f"{path}.index").exists():
        raise ConfigError(f"{flag}={path} already exists: choose another {flag} or delete it (nothing was replaced)")


LOCK_NAME = ".sfm.lock"


@contextlib.contextmanager
def output_lock(path: str | os.PathLike, program: str, kind: str = "folder", flag: str = "--output_dir"
                ) -> Iterator[None]:
    """Holds a lock on an output (`kind` "folder": <path>/.sfm.lock; "file": <path>.lock beside it; the folder
    is created) while a program writes it: the lock records the program, pid, host and start time, and a second
    program is refused with a ConfigError naming the holder. A lock whose holder is gone (same host, no such
    process) is taken over; one held on another host is refused (its process cannot be checked: delete the lock
    file if that job is gone). Released on every exit of the block, exceptions and signals included. `flag` names
    the setting that chose the output, for the messages."""
    path = Path(path)
    check_writable_folder(path if kind == "folder" else path.parent, flag)
    lock = path / LOCK_NAME if kind == "folder" else path.with_name(f"{path.name}.lock")
    mine = {"program": program, "pid": os.getpid(), "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    _take_lock(lock, mine)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(lock.read_text()) == mine:
                lock.unlink()


@contextlib.contextmanager
def output_locks(program: str, outputs: list[tuple[str | os.PathLike | None, str, str]]) -> Iterator[None]:
    """output_lock on each (path, kind, flag) of a program's outputs whose path is set, all held for the block:
    the one rule every program follows for the folders and files it writes."""
    with contextlib.ExitStack() as stack:
        for path, kind, flag in outputs:
            if path:
                stack.enter_context(output_lock(path, program, kind, flag))
        yield


def _take_lock(lock: Path, mine: dict[str, object]) -> None:
    text = json.dumps(mine)
    for _ in range(2):  # a stale lock is removed once, then taken like a free one
        try:
            with open(lock, "x") as handle:
                handle.write(text)
            return
        except FileExistsError:
            holder = _read_lock(lock)
            if holder is not None and _alive(holder):
                raise ConfigError(f"{lock.parent} is being written by {holder.get('program')} (pid {holder.get('pid')} "
                                  f"on {holder.get('host')} since {holder.get('since')}); wait for it, or delete "
                                  f"{lock} if that job is gone") from None
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
        except OSError as error:
            raise cannot_write(lock, error) from error
    raise ConfigError(f"{lock}: another job took this lock at the same moment; try again")


def _read_lock(lock: Path) -> dict | None:
    """The lock's record, or None when it is unreadable (a crash while writing it: stale)."""
    try:
        record = json.loads(lock.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _alive(holder: dict) -> bool:
    """Whether the lock's holder may still run: always for another host (it cannot be checked from here)."""
    if holder.get("host") != socket.gethostname():
        return True
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
