"""Frames of the user's own footage: one image, a folder of images, a glob pattern, or a video file (OpenCV).

Images are read in sorted path order and named after their path (relative to the images' common folder, with
`_` for separators); a video's frames are named by their index (`000000`, `000001`, ...). Every problem (no
such path, an empty folder, a pattern that matches nothing, a video OpenCV cannot open, an unreadable frame)
is a DataError naming it.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.prep.frame_images import load_frame

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
_GLOB_CHARACTERS = ("*", "?", "[")


@dataclass(frozen=True)
class FrameSource:
    """An ordered sequence of RGB frames. `name` (the video's or folder's stem) names outputs made from it."""

    spec: str
    name: str
    image_paths: tuple[Path, ...] = ()
    video_path: Path | None = None

    @property
    def is_video(self) -> bool:
        return self.video_path is not None

    def count(self) -> int:
        """Number of frames (for a video, what its header says; the decoder may deliver a few less)."""
        if not self.is_video:
            return len(self.image_paths)
        capture = _open_video(self.video_path)
        try:
            return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        finally:
            capture.release()

    def fps(self) -> float | None:
        """A video's frame rate from its header; None for images or a header without one."""
        if not self.is_video:
            return None
        capture = _open_video(self.video_path)
        try:
            rate = float(capture.get(cv2.CAP_PROP_FPS))
        finally:
            capture.release()
        return rate if rate > 0 else None

    def names(self) -> list[str]:
        """Output names of the image frames (a video's are its frame indices)."""
        if len(self.image_paths) == 1:
            return [self.image_paths[0].stem]
        root = Path(os.path.commonpath([str(p.parent) for p in self.image_paths]))
        return ["_".join(p.relative_to(root).with_suffix("").parts) for p in self.image_paths]

    def frames(self) -> Iterator[tuple[str, np.ndarray]]:
        """(name, RGB uint8 [H, W, 3]) for every frame, in order."""
        if not self.is_video:
            for name, path in zip(self.names(), self.image_paths):
                yield name, load_frame(path)
            return
        capture = _open_video(self.video_path)
        index = 0
        try:
            while True:
                ok, bgr = capture.read()
                if not ok:
                    break
                yield f"{index:06d}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                index += 1
        finally:
            capture.release()
        if index == 0:
            raise DataError(f"{self.video_path}: OpenCV opened the video but could not decode a single frame")


def _open_video(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise DataError(f"{path}: OpenCV cannot open this as a video (and its extension is not an image's: "
                        f"{', '.join(IMAGE_EXTENSIONS)})")
    return capture


def _images_in(paths: list[Path]) -> list[Path]:
    return sorted(p for p in paths if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def open_frame_source(spec: str | os.PathLike) -> FrameSource:
    """The frames `spec` names: an image file, a folder of images (not recursive), a glob pattern (quote it in
    the shell) or a video file."""
    text = str(spec)
    path = Path(text)
    if path.is_dir():
        images = _images_in(list(path.iterdir()))
        if not images:
            raise DataError(f"{path}: a folder without images ({', '.join(IMAGE_EXTENSIONS)})")
        return FrameSource(text, path.resolve().name, image_paths=tuple(images))
    if path.is_file():
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            return FrameSource(text, path.stem, image_paths=(path,))
        _open_video(path).release()
        return FrameSource(text, path.stem, video_path=path)
    if any(character in text for character in _GLOB_CHARACTERS):
        images = _images_in([Path(p) for p in glob.glob(text)])
        if not images:
            raise DataError(f"{text}: the pattern matches no image ({', '.join(IMAGE_EXTENSIONS)})")
        return FrameSource(text, images[0].parent.resolve().name, image_paths=tuple(images))
    raise DataError(f"{text}: no such image, folder, video or glob match")
