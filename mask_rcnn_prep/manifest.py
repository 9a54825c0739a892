"""The done-list that makes the boundary job resumable.

A panel or PNG counts as Mask R-CNN's only if its id is in a manifest whose fingerprint matches the current run
(weights file content + every setting that changes the output). Each shard keeps its own JSON file,
`shard-IIIII-of-NNNNN.json`, rewritten atomically at intervals and at the end; on start all manifests in the
folder with the same fingerprint are merged, so re-sharding keeps finished work. Outputs written after the last
manifest save are simply recomputed (writes are atomic and idempotent). A stale panel (e.g. from ground-truth
masks or other weights) is never in a matching manifest, so it is replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.io_utils import atomic_write_text


def file_digest(path: str | os.PathLike, chunk_bytes: int = 1 << 22) -> str:
    """sha256 of a file's content."""
    if os.path.isdir(path):
        raise DataError(f"{path}: a folder, not the Mask R-CNN weights file (e.g. mask_rcnn_coco.h5)")
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file (the Mask R-CNN weights, e.g. mask_rcnn_coco.h5)")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_bytes), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_fingerprint(weights_path: str | os.PathLike, settings: dict) -> str:
    """Fingerprint of a run: the weights' sha256 and the output-relevant settings (JSON, sorted keys)."""
    text = json.dumps({"weights_sha256": file_digest(weights_path), **settings}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf8")).hexdigest()


class DoneManifest:
    """Ids finished by runs with the same fingerprint; saved by this shard every `save_every_s` seconds."""

    def __init__(self, folder: str | os.PathLike, fingerprint: str, shard_index: int, num_shards: int,
                 save_every_s: float = 30.0) -> None:
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self.path = self.folder / f"shard-{shard_index:05d}-of-{num_shards:05d}.json"
        self.save_every_s = save_every_s
        self.done: set[str] = set()
        self.mine: set[str] = set()
        self._last_save = time.monotonic()
        for path in sorted(self.folder.glob("shard-*.json")):
            try:
                content = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as err:
                raise DataError(f"{path}: unreadable done-list ({err}); delete it to recompute its items") from err
            if content.get("fingerprint") == fingerprint:
                self.done.update(content.get("done", []))
                if path == self.path:
                    self.mine.update(content.get("done", []))

    def mark(self, ids: list[str]) -> None:
        """Records finished ids; saves if the interval has passed."""
        self.done.update(ids)
        self.mine.update(ids)
        if time.monotonic() - self._last_save >= self.save_every_s:
            self.save()

    def save(self) -> None:
        """Writes this shard's manifest atomically."""
        atomic_write_text(self.path, json.dumps({"fingerprint": self.fingerprint, "done": sorted(self.mine)}))
        self._last_save = time.monotonic()
