"""Training samples from the user's own footage (dataset_name=video): a video file or a folder of frames of one
camera, with its intrinsics (or a guess from the horizontal field of view), turned into the prepared-sample
format of prep/prepare.py in one pass; <dump_root>/<sequence>/camera.json records both K's.

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

import json
from collections import deque
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.io_utils import atomic_write_text
from sfmlearner_tf.ops.boundary import boundary_from_instance_masks
from sfmlearner_tf.prep.camera_calib import intrinsics_from_hfov, intrinsics_matrix, read_calibration
from sfmlearner_tf.prep.config import PrepareConfig, PrepareResult
from sfmlearner_tf.prep.frame_crop import plan_crop
from sfmlearner_tf.prep.frame_images import resize_frame, scale_intrinsics
from sfmlearner_tf.prep.frame_lists import check_seq_length
from sfmlearner_tf.prep.frame_sources import FrameSource, open_frame_source
from sfmlearner_tf.prep.mask_sources import InstanceMaskSource, MaskRcnnFactory, make_mask_source
from sfmlearner_tf.prep.sample_writer import claim_dump_root, expected_widths, is_finished
from sfmlearner_tf.prep.samples import write_sample
from sfmlearner_tf.prep.source_options import VideoOptions
from sfmlearner_tf.prep.split_lists import write_split_lists
from sfmlearner_tf.progress import ProgressReporter


def check_intrinsics_options(options: VideoOptions) -> None:
    """Exactly one way to K: the four numbers, the calibration file or the horizontal field of view."""
    if options.intrinsics is None and not options.calib_file and options.hfov_deg is None:
        raise ConfigError("dataset_name=video needs the camera's intrinsics: --fx, --fy, --cx and --cy, or "
                          "--calib_file, or --hfov_deg (one of the three)")


def camera_intrinsics(options: VideoOptions, width: int, height: int) -> np.ndarray:
    """K of the width x height frames as stored: from the four numbers, the calibration file or the field of
    view (exactly one of them)."""
    check_intrinsics_options(options)
    if options.calib_file:
        return read_calibration(options.calib_file, options.calib_name)
    if options.hfov_deg is not None:
        return intrinsics_from_hfov(options.hfov_deg, width, height)
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
    check_intrinsics_options(options)
    if config.num_shards != 1:
        raise ConfigError("dataset_name=video reads the video once in order: --num_shards must be 1 (prepare "
                          "several videos as separate jobs, each with its own --sequence_name)")
    if options.frame_step < 1:
        raise ConfigError(f"--frame_step must be >= 1, got {options.frame_step}")
    if options.min_flow < 0:
        raise ConfigError(f"--min_flow must be >= 0, got {options.min_flow}")


class _SequenceGeometry:
    """The crop of the sequence's frames, K of the frames as stored and of the resized frames, fixed by the
    first frame."""

    def __init__(self, config: PrepareConfig, first: np.ndarray, spec: str) -> None:
        height, width = first.shape[:2]
        raw_intrinsics = camera_intrinsics(config.video, width, height)
        fx, cx, cy = raw_intrinsics[0, 0], raw_intrinsics[0, 2], raw_intrinsics[1, 2]
        if not (0 <= cx <= width and 0 <= cy <= height):
            raise DataError(f"{spec}: the principal point ({cx:g}, {cy:g}) lies outside the {width}x{height} "
                            f"frames (fx {fx:g}): are the intrinsics those of another resolution?")
        self.shape = first.shape
        self.box = plan_crop(height, width, config.img_height, config.img_width, config.video.crop,
                             config.video.crop_bottom)
        self.raw_intrinsics = raw_intrinsics
        self.intrinsics = scale_intrinsics(self.box.intrinsics(raw_intrinsics), config.img_width / self.box.width,
                                           config.img_height / self.box.height)

    def describe(self) -> str:
        """The two K's in one line (fx, fy, cx, cy), for the log."""
        (height, width), (raw, net) = self.shape[:2], (self.raw_intrinsics, self.intrinsics)
        return (f"K of the {width}x{height} frames fx {raw[0, 0]:.3f} fy {raw[1, 1]:.3f} cx {raw[0, 2]:.3f} "
                f"cy {raw[1, 2]:.3f}; of the samples fx {net[0, 0]:.3f} fy {net[1, 1]:.3f} cx {net[0, 2]:.3f} "
                f"cy {net[1, 2]:.3f}")

    def record(self) -> dict[str, object]:
        """camera.json: both K's (row by row) and the crop, so the prepared data say where K came from."""
        return {"frame_size": [self.shape[1], self.shape[0]], "intrinsics": self.raw_intrinsics.tolist(),
                "crop": asdict(self.box), "sample_intrinsics": self.intrinsics.tolist()}

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
    source = open_frame_source(config.dataset_dir)
    sequence = config.video.sequence_name or source.name
    if mask_source is None:
        mask_source = make_mask_source(config.effective_boundary_source, config.mask_rcnn_weights, mask_rcnn)
    claim_dump_root(config)
    folder, widths, half = Path(config.dump_root) / sequence, expected_widths(config), config.seq_length // 2
    progress = ProgressReporter(source.count(), f"prepare video {sequence}", stream=stream, unit="frames")
    static, window = StaticFilter(config.video.min_flow), deque(maxlen=config.seq_length)
    geometry: _SequenceGeometry | None = None
    kept = planned = written = 0
    for index, (name, frame) in enumerate(source.frames()):
        progress.update()
        if index % config.video.frame_step:
            continue
        if geometry is None:
            geometry = _SequenceGeometry(config, frame, source.spec)
            _record_camera(folder, geometry, config.video, progress.stream)
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


def _record_camera(folder: Path, geometry: _SequenceGeometry, options: VideoOptions, stream: TextIO) -> None:
    """Prints the K's and writes <folder>/camera.json (with how K was given; a rerun writes it again)."""
    given = ({"hfov_deg": options.hfov_deg} if options.hfov_deg is not None
             else {"calib_file": options.calib_file, "calib_name": options.calib_name} if options.calib_file
             else {"fx_fy_cx_cy": list(options.intrinsics)})
    atomic_write_text(folder / "camera.json", json.dumps({"given": given, **geometry.record()}, indent=1))
    print(f"prepare: {folder.name}: {geometry.describe()}", file=stream, flush=True)


def _frame_path(source: FrameSource, index: int) -> Path:
    """The file a frame came from (for mask sources that read per-frame files): its image, or the video."""
    return source.video_path if source.is_video else source.image_paths[index]
