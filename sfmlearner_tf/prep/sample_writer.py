"""One sample built and written (resized frames, K, the boundary panel of its target), unless a finished one
is there already: resuming rewrites only what is missing, truncated or damaged, with the bytes of a first run."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.io_utils import check_writable_folder, claim_output_folder
from sfmlearner_tf.ops.boundary import boundary_from_instance_masks
from sfmlearner_tf.prep.config import PrepareConfig
from sfmlearner_tf.prep.frame_images import load_frame, resize_frame, scale_intrinsics
from sfmlearner_tf.prep.frame_lists import FrameLoader, SampleSpec
from sfmlearner_tf.prep.mask_sources import InstanceMaskSource
from sfmlearner_tf.prep.samples import cam_path_for, decoded_sample_size, read_cam_file, write_sample


def claim_dump_root(config: PrepareConfig) -> None:
    """Checks that --dump_root can be written and claims it for samples of this kind (config.samples_identity):
    a folder prepared with another size, sequence length, data set or boundary source is refused, not mixed."""
    check_writable_folder(config.dump_root, "--dump_root")
    claim_output_folder(config.dump_root, config.samples_identity(), "--dump_root")


def expected_widths(config: PrepareConfig) -> tuple[int, ...]:
    """Widths of a finished sample: with a boundary panel when one is asked for; either width otherwise."""
    with_panel = (config.seq_length + 1) * config.img_width
    if config.effective_boundary_source != "none":
        return (with_panel,)
    return (config.seq_length * config.img_width, with_panel)


def is_finished(jpg_path: Path, height: int, widths: tuple[int, ...]) -> bool:
    """A sample is finished when its cam file (written last) holds 9 finite numbers and its JPEG decodes in full
    to the expected height and one of the expected widths. Anything else (missing, truncated, corrupt) is written
    again, with the same bytes as a first run."""
    try:
        read_cam_file(cam_path_for(jpg_path))
        width, found_height = decoded_sample_size(jpg_path)
    except DataError:
        return False
    return found_height == height and width in widths


class SampleWriter:
    """Builds and writes one sample; mask-source calls are serialised (Mask R-CNN is not thread-safe)."""

    def __init__(self, config: PrepareConfig, loader: FrameLoader, mask_source: InstanceMaskSource | None) -> None:
        self.config = config
        self.loader = loader
        self.mask_source = mask_source
        self.dump_root = Path(config.dump_root)
        self.widths = expected_widths(config)
        self._mask_lock = threading.Lock()

    def __call__(self, spec: SampleSpec) -> bool:
        """Writes the sample unless finished; True if written."""
        jpg_path = self.dump_root / spec.relative_jpg
        if is_finished(jpg_path, self.config.img_height, self.widths):
            return False
        # A loader that crops (Cityscapes) makes its own frames and K.
        make_frames = getattr(self.loader, "resized_sample", self._resized_sample)
        resized, intrinsics = make_frames(spec, self.config.img_height, self.config.img_width)
        boundary = None
        if self.mask_source is not None:
            with self._mask_lock:
                masks = self.mask_source.instance_masks(resized[len(resized) // 2], spec.target.image_path)
            boundary = boundary_from_instance_masks(masks)
        write_sample(jpg_path, resized, intrinsics, boundary)
        return True

    def _resized_sample(self, spec: SampleSpec, height: int, width: int) -> tuple[list[np.ndarray], np.ndarray]:
        """The frames resized to width x height, and K scaled by the target's zoom (the original's)."""
        raw = [load_frame(frame.image_path) for frame in spec.frames]
        target_raw = raw[len(raw) // 2]
        zoom_x, zoom_y = width / target_raw.shape[1], height / target_raw.shape[0]
        resized = [resize_frame(image, height, width) for image in raw]
        return resized, scale_intrinsics(self.loader.intrinsics(spec.target), zoom_x, zoom_y)
