"""Training samples from the user's own footage (dataset_name=video): a video file or a folder of frames of one
camera, with its intrinsics, turned into the prepared-sample format of prep/prepare.py in one pass.

Per frame, in order: keep every frame_step-th frame; crop (prep/frame_crop.py) and resize to the training
size with PIL bilinear (as the original); drop it if it is static, i.e. if the median optical flow (OpenCV's
Farneback on grey levels at the training size, in pixels of a 416-wide frame: times 416 / img_width) from the
last kept frame is below min_flow. The original
drops KITTI's static frames (a list, or oxts speed) before choosing neighbours; without oxts the flow says
whether the camera moved, and comparing with the last *kept* frame also thins slow stretches until
neighbours are min_flow apart. On the synthetic drives, min_flow 1 px at 416x128 drops exactly the frames of
their static-frames list. Every seq_length consecutive kept frames make a sample named after the middle one.

Resumable (finished samples are skipped; files are written atomically); the selection is deterministic, so a
rerun plans the same samples. train.txt / val.txt are then written from everything in dump_root, so several
videos prepared into one dump_root (one `sequence_name` each) train together.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.ops.boundary import boundary_from_instance_masks
from sfmlearner_tf.prep.camera_calib import intrinsics_matrix, read_calibration
from sfmlearner_tf.prep.config import PrepareConfig, PrepareResult
from sfmlearner_tf.prep.frame_crop import plan_crop
from sfmlearner_tf.prep.frame_images import resize_frame, scale_intrinsics
from sfmlearner_tf.prep.frame_lists import check_seq_length
from sfmlearner_tf.prep.frame_sources import FrameSource, open_frame_source
from sfmlearner_tf.prep.mask_sources import InstanceMaskSource, MaskRcnnFactory, make_mask_source
from sfmlearner_tf.prep.sample_writer import expected_widths, is_finished
from sfmlearner_tf.prep.samples import write_sample
from sfmlearner_tf.prep.source_options import VideoOptions
from sfmlearner_tf.prep.split_lists import write_split_lists
from sfmlearner_tf.progress import ProgressReporter


def camera_intrinsics(options: VideoOptions) -> np.ndarray:
    """K of the frames as stored: from the four numbers or the calibration file (exactly one of them)."""
    if (options.intrinsics is None) == (not options.calib_file):
        raise ConfigError("dataset_name=video needs the camera's intrinsics: --fx, --fy, --cx and --cy, or "
                          "--calib_file (one of the two)")
    if options.calib_file:
        return read_calibration(options.calib_file, options.calib_name)
    return intrinsics_matrix(*options.intrinsics)


def median_flow(previous: np.ndarray, current: np.ndarray) -> float:
    """Median magnitude (pixels) of the dense optical flow between two RGB frames of the same size."""
    grey = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in (previous, current)]
    flow = cv2.calcOpticalFlowFarneback(grey[0], grey[1], None, pyr_scale=0.5, levels=3, winsize=15,
                                        iterations=3, poly_n=5, poly_sigma=1.2, flags=0)
    return float(np.median(np.linalg.norm(flow, axis=2)))


class StaticFilter:
    """Keeps a frame when the median flow from the last kept frame, in pixels of a 416-wide frame (KITTI's
    training width, so that one threshold fits every training size), reaches min_flow (0: keeps every frame)."""

    REFERENCE_WIDTH = 416

    def __init__(self, min_flow: float) -> None:
        self.min_flow = min_flow
        self._last: np.ndarray | None = None

    def keep(self, frame: np.ndarray) -> bool:
        if self._last is not None and self.min_flow > 0:
            flow = median_flow(self._last, frame) * self.REFERENCE_WIDTH / frame.shape[1]
            if flow < self.min_flow:
                return False
        self._last = frame
        return True


def _check_options(config: PrepareConfig) -> None:
    options = config.video
    check_seq_length(config.seq_length)
    if config.num_shards != 1:
        raise ConfigError("dataset_name=video reads the video once in order: --num_shards must be 1 (prepare "
                          "several videos as separate jobs, each with its own --sequence_name)")
    if options.frame_step < 1:
        raise ConfigError(f"--frame_step must be >= 1, got {options.frame_step}")
    if options.min_flow < 0:
        raise ConfigError(f"--min_flow must be >= 0, got {options.min_flow}")


class _SequenceGeometry:
    """The crop of the sequence's frames and K of the resized frames, fixed by the first frame."""

    def __init__(self, config: PrepareConfig, raw_intrinsics: np.ndarray, first: np.ndarray, spec: str) -> None:
        height, width = first.shape[:2]
        fx, cx, cy = raw_intrinsics[0, 0], raw_intrinsics[0, 2], raw_intrinsics[1, 2]
        if not (0 <= cx <= width and 0 <= cy <= height):
            raise DataError(f"{spec}: the principal point ({cx:g}, {cy:g}) lies outside the {width}x{height} "
                            f"frames (fx {fx:g}): are the intrinsics those of another resolution?")
        self.shape = first.shape
        self.box = plan_crop(height, width, config.img_height, config.img_width, config.video.crop,
                             config.video.crop_bottom)
        self.intrinsics = scale_intrinsics(self.box.intrinsics(raw_intrinsics), config.img_width / self.box.width,
                                           config.img_height / self.box.height)

    def resized(self, config: PrepareConfig, frame: np.ndarray, name: str, spec: str) -> np.ndarray:
        if frame.shape != self.shape:
            raise DataError(f"{spec}: frame {name} is {frame.shape[1]}x{frame.shape[0]} but the first frame is "
                            f"{self.shape[1]}x{self.shape[0]} (one camera, one size per sequence)")
        return resize_frame(self.box.apply(frame), config.img_height, config.img_width)


def prepare_video(config: PrepareConfig, mask_source: InstanceMaskSource | None = None,
                  stream: TextIO | None = None, mask_rcnn: MaskRcnnFactory | None = None) -> PrepareResult:
    """Prepares the samples of one video or folder of frames (config.dataset_dir) into
    <dump_root>/<sequence_name>/, then train.txt / val.txt of the whole dump_root (mask_source, mask_rcnn: as
    prepare_dataset's)."""
    _check_options(config)
    raw_intrinsics = camera_intrinsics(config.video)
    source = open_frame_source(config.dataset_dir)
    sequence = config.video.sequence_name or source.name
    if mask_source is None:
        mask_source = make_mask_source(config.effective_boundary_source, config.mask_rcnn_weights, mask_rcnn)
    folder, widths, half = Path(config.dump_root) / sequence, expected_widths(config), config.seq_length // 2
    progress = ProgressReporter(source.count(), f"prepare video {sequence}", stream=stream, unit="frames")
    static, window = StaticFilter(config.video.min_flow), deque(maxlen=config.seq_length)
    geometry: _SequenceGeometry | None = None
    kept = planned = written = 0
    for index, (name, frame) in enumerate(source.frames()):
        progress.update()
        if index % config.video.frame_step:
            continue
        geometry = geometry or _SequenceGeometry(config, raw_intrinsics, frame, source.spec)
        resized = geometry.resized(config, frame, name, source.spec)
        if not static.keep(resized):
            continue
        kept += 1
        window.append((name, resized, _frame_path(source, index)))
        if len(window) < config.seq_length:
            continue
        planned += 1
        target_name, target, target_path = window[half]
        jpg_path = folder / f"{target_name}.jpg"
        if is_finished(jpg_path, config.img_height, widths):
            continue
        boundary = None
        if mask_source is not None:
            boundary = boundary_from_instance_masks(mask_source.instance_masks(target, target_path))
        write_sample(jpg_path, [item[1] for item in window], geometry.intrinsics, boundary)
        written += 1
    if planned == 0:
        raise DataError(f"{source.spec}: {kept} frame(s) kept (frame_step {config.video.frame_step}, min_flow "
                        f"{config.video.min_flow} px), fewer than seq_length {config.seq_length}: no sample")
    num_train, num_val = write_split_lists(config.dump_root, config.val_fraction, config.split_seed)
    print(f"prepare: {sequence}: {kept} of {progress.done} frames kept (frame_step {config.video.frame_step}, "
          f"min_flow {config.video.min_flow} px); {written} samples written, {planned - written} already done; "
          f"train.txt {num_train}, val.txt {num_val}", file=progress.stream, flush=True)
    return PrepareResult(planned, planned, written, planned - written, True, num_train, num_val)


def _frame_path(source: FrameSource, index: int) -> Path:
    """The file a frame came from (for mask sources that read per-frame files): its image, or the video."""
    return source.video_path if source.is_video else source.image_paths[index]
