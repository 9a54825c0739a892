"""Cityscapes frame list and samples (dataset_name=cityscapes), as the original's cityscapes_loader.py:

* frames: `leftImg8bit_sequence/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png` (30-frame snippets);
* a sample: the target and its neighbours sample_gap (2) frames apart in the same snippet, all present;
  every frame is a target; nothing is removed as static;
* intrinsics: fx, fy, u0, v0 of `camera/<split>/<city>/<city>_<seq>_*_camera.json` (the first, sorted);
* size: each frame is resized (PIL bilinear) to img_width x img_height, where img_height is the height before
  the crop (171 in the original's command), then the bottom 25 % is cut (the car's hood and logo):
  int(171 * 0.75) = 128 rows stay. K is scaled by the resize (zoom 416/2048, 171/1024 for the 2048x1024
  frames); the crop keeps the top rows, so K does not change;
* output: folder = city, file = `<city>_<seq>_<frame>`.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.prep.frame_images import load_frame, resize_frame, scale_intrinsics
from sfmlearner_tf.prep.frame_lists import Frame, SampleSpec, check_seq_length
from sfmlearner_tf.prep.source_options import CITYSCAPES_KEEP_FRACTION, CityscapesOptions

FRAME_NAME = re.compile(r"^(?P<city>.+)_(?P<seq>\d+)_(?P<frame>\d+)_leftImg8bit\.png$")


def cropped_height(resize_height: int) -> int:
    """Rows left after the bottom crop of a frame resized to resize_height rows (171 -> 128)."""
    return int(resize_height * CITYSCAPES_KEEP_FRACTION)


class CityscapesLoader:
    """Frames, samples and intrinsics of a Cityscapes tree (leftImg8bit_sequence/ and camera/ under the root)."""

    def __init__(self, dataset_dir: str | os.PathLike, options: CityscapesOptions | None = None) -> None:
        self.root = Path(dataset_dir)
        self.options = options = options or CityscapesOptions()
        self.image_dir = self.root / "leftImg8bit_sequence" / options.split
        if not self.image_dir.is_dir():
            raise DataError(f"{self.image_dir}: Cityscapes frame folder not found (leftImg8bit_sequence/"
                            f"{options.split} from leftImg8bit_sequence_trainvaltest.zip)")
        if options.sample_gap < 1:
            raise ConfigError(f"--sample_gap must be >= 1, got {options.sample_gap}")
        self._intrinsics = cache(self._read_intrinsics)

    def frames(self) -> list[Frame]:
        """Every frame of every city, sorted; file names not of the Cityscapes pattern are ignored."""
        frames = []
        for city in sorted(p for p in self.image_dir.iterdir() if p.is_dir()):
            for image in sorted(city.glob("*_leftImg8bit.png")):
                match = FRAME_NAME.match(image.name)
                if match:
                    frame_id = f"{match['city']}_{match['seq']}_{match['frame']}"
                    frames.append(Frame(city.name, frame_id, image))
        if not frames:
            raise DataError(f"{self.image_dir}: no <city>/<city>_<seq>_<frame>_leftImg8bit.png frames")
        return frames

    def samples(self, seq_length: int) -> list[SampleSpec]:
        """Samples around every frame whose neighbours +-k*sample_gap (k <= (seq_length-1)/2) all exist."""
        check_seq_length(seq_length)
        snippets: dict[tuple[str, str], dict[int, Frame]] = defaultdict(dict)
        for frame in self.frames():
            city, seq, number = frame.frame_id.rsplit("_", 2)
            snippets[(city, seq)][int(number)] = frame
        reach = (seq_length - 1) // 2 * self.options.sample_gap
        offsets = range(-reach, reach + 1, self.options.sample_gap)
        samples = []
        for key in sorted(snippets):
            frames = snippets[key]
            for number in sorted(frames):
                if all(number + offset in frames for offset in offsets):
                    samples.append(SampleSpec(tuple(frames[number + offset] for offset in offsets)))
        return samples

    def intrinsics(self, frame: Frame) -> np.ndarray:
        """K (float64) of the frame's snippet, from its camera JSON."""
        city, seq, _ = frame.frame_id.rsplit("_", 2)
        return self._intrinsics(frame.sequence, city, seq)

    def resized_sample(self, spec: SampleSpec, height: int, width: int) -> tuple[list[np.ndarray], np.ndarray]:
        """The sample's frames resized to width x height and cut to cropped_height(height) rows, and K of the
        resized target (the original's order: resize, then crop; the zoom comes from the target's raw size)."""
        rows = cropped_height(height)
        raw = [load_frame(frame.image_path) for frame in spec.frames]
        target = raw[len(raw) // 2]
        resized = [resize_frame(image, height, width)[:rows] for image in raw]
        zoom_x, zoom_y = width / target.shape[1], height / target.shape[0]
        return resized, scale_intrinsics(self.intrinsics(spec.target), zoom_x, zoom_y)

    def _read_intrinsics(self, city_folder: str, city: str, seq: str) -> np.ndarray:
        camera_dir = self.root / "camera" / self.options.split / city_folder
        matches = sorted(camera_dir.glob(f"{city}_{seq}_*_camera.json"))
        if not matches:
            raise DataError(f"{camera_dir / f'{city}_{seq}_*_camera.json'}: no camera file for this snippet "
                            "(camera/ from camera_trainvaltest.zip)")
        try:
            intrinsic = json.loads(matches[0].read_text(encoding="utf-8"))["intrinsic"]
            fx, fy, u0, v0 = (float(intrinsic[key]) for key in ("fx", "fy", "u0", "v0"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{matches[0]}: not a Cityscapes camera file with intrinsic fx, fy, u0, v0 ({exc!r})"
                            ) from exc
        return np.array([[fx, 0.0, u0], [0.0, fy, v0], [0.0, 0.0, 1.0]])
