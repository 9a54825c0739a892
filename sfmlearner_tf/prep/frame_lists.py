"""Frame lists and the original's neighbour rule, shared by the KITTI raw and odometry loaders.

The original keeps one flat list of frames (all drives and cameras, static frames already removed) and takes the
sample around list index i as indices i-(L-1)/2 .. i+(L-1)/2, valid only if both ends belong to the same drive and
camera. Because static frames are removed from the list first, "adjacent" source frames can skip over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from sfmlearner_tf.errors import ConfigError


@dataclass(frozen=True)
class Frame:
    """One raw frame: `sequence` is the output folder (e.g. `2011_09_26_drive_0001_sync_02` or `00`)."""

    sequence: str
    frame_id: str
    image_path: Path


@dataclass(frozen=True)
class SampleSpec:
    """One training sample: the frames in time order; the target is the middle one."""

    frames: tuple[Frame, ...]

    @property
    def target(self) -> Frame:
        return self.frames[len(self.frames) // 2]

    @property
    def relative_jpg(self) -> str:
        """`<folder>/<frame>.jpg` under the dump root."""
        return f"{self.target.sequence}/{self.target.frame_id}.jpg"


class FrameLoader(Protocol):
    """What the preparation needs from a data set: its frame list and the raw intrinsics of a frame.

    A loader may also define `samples(seq_length) -> list[SampleSpec]` when a sample's frames are not neighbours
    in the list (Cityscapes' gap of 2), and `resized_sample(spec, height, width) -> (frames, K)` when its frames
    are cropped as well as resized (Cityscapes' hood); prep/sample_writer.py uses them where present.
    """

    def frames(self) -> list[Frame]: ...

    def intrinsics(self, frame: Frame) -> np.ndarray: ...


def check_seq_length(seq_length: int) -> None:
    """The target must be the middle frame, so seq_length is odd and at least 3."""
    if seq_length < 3 or seq_length % 2 == 0:
        raise ConfigError(f"seq_length must be odd and >= 3, got {seq_length}")


def select_samples(frames: list[Frame], seq_length: int) -> list[SampleSpec]:
    """Samples around every list index whose both ends are in range and in the target's sequence (the original)."""
    check_seq_length(seq_length)
    half = (seq_length - 1) // 2
    samples = []
    for index in range(half, len(frames) - half):
        window = frames[index - half: index + half + 1]
        if window[0].sequence == window[-1].sequence == window[half].sequence:
            samples.append(SampleSpec(tuple(window)))
    return samples
