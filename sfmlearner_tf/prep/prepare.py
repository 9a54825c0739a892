"""Sample preparation (the original's prepare_train_data.py, plus the seed paper's boundary panel).

Each sample: the seq_length frames around a target resized to img_width x img_height with PIL bilinear (what
`scipy.misc.imresize` did), stacked side by side, saved as a quality-75 JPEG, plus `_cam.txt` with K of the
resized target (fx, cx scaled by W_out/W_in, fy, cy by H_out/H_in). Then train.txt / val.txt from what exists
in the dump root, each sample going to val with probability 0.1 under `np.random.seed(8964)`.

Sharded (sample i belongs to shard i % num_shards) and resumable (finished samples are skipped; every file is
written atomically; a sample whose files were truncated or damaged since is not finished and is written again).
The lists are written by whichever run finds every planned sample present, so the result does not depend on the
sharding. The original iterated `os.listdir`/`glob` order for the val draw, which is
filesystem-dependent; folders and frames are sorted here so that the draw is reproducible.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.io_utils import atomic_write_text, check_writable_folder
from sfmlearner_tf.ops.boundary import boundary_from_instance_masks
from sfmlearner_tf.prep.frame_lists import FrameLoader, SampleSpec, check_seq_length, select_samples
from sfmlearner_tf.prep.kitti_odom import TRAIN_SEQUENCES, KittiOdomLoader
from sfmlearner_tf.prep.kitti_raw import KittiRawLoader, read_static_frames, read_test_scenes
from sfmlearner_tf.prep.mask_sources import InstanceMaskSource, make_mask_source
from sfmlearner_tf.prep.samples import cam_path_for, decoded_sample_size, read_cam_file, write_sample
from sfmlearner_tf.prep.source_options import CityscapesOptions, VideoOptions
from sfmlearner_tf.progress import ProgressReporter

DATASET_NAMES = ("kitti_raw_eigen", "kitti_raw_stereo", "kitti_odom", "synthetic", "cityscapes", "video")
NO_STATIC_LIST = "none"


@dataclass(frozen=True)
class PrepareConfig:
    """Everything that decides the prepared samples (flags/prepare_data.py mirrors it).

    test_scenes_file / static_frames_file: the original's data/kitti lists (needed for kitti_raw_*; for
    `synthetic` they default to <dataset_dir>/splits/). static_frames_file="none" keeps every frame.
    min_speed: oxts speed threshold (m/s) removing static frames, the alternative for data without a list.
    cameras: () = the data set's default (02 and 03 for KITTI raw, 02 for synthetic).
    boundary_source: "" = the data set's default ("synthetic" for synthetic drives, else "none").
    video / cityscapes: the options of those data sets (data/source_options.py); for cityscapes img_height is
    the height before the bottom crop, as in the original (171 gives 128-row samples).
    """

    dataset_name: str
    dataset_dir: str
    dump_root: str
    seq_length: int = 3
    img_height: int = 128
    img_width: int = 416
    test_scenes_file: str = ""
    static_frames_file: str = ""
    min_speed: float | None = None
    cameras: tuple[str, ...] = ()
    odom_sequences: tuple[str, ...] = TRAIN_SEQUENCES
    boundary_source: str = ""
    mask_rcnn_weights: str = ""
    shard_index: int = 0
    num_shards: int = 1
    num_threads: int = 4
    val_fraction: float = 0.1
    split_seed: int = 8964
    video: VideoOptions = field(default_factory=VideoOptions)
    cityscapes: CityscapesOptions = field(default_factory=CityscapesOptions)

    @property
    def effective_boundary_source(self) -> str:
        if self.boundary_source:
            return self.boundary_source
        return "synthetic" if self.dataset_name == "synthetic" else "none"


@dataclass(frozen=True)
class PrepareResult:
    planned: int       # samples of the whole data set
    shard_samples: int  # samples of this shard
    written: int       # written by this run
    skipped: int       # already finished (resume)
    lists_written: bool
    num_train: int
    num_val: int


def _split_file(config: PrepareConfig, given: str, name: str) -> str:
    if given or config.dataset_name != "synthetic":
        return given
    return str(Path(config.dataset_dir) / "splits" / name)


def build_loader(config: PrepareConfig) -> FrameLoader:
    """The frame list of the configured data set (raw loader for kitti_raw_* and synthetic, odometry loader)."""
    if config.dataset_name not in DATASET_NAMES:
        raise ConfigError(f"dataset_name must be one of {', '.join(DATASET_NAMES)}, got {config.dataset_name!r}")
    if config.dataset_name == "kitti_odom":
        return KittiOdomLoader(config.dataset_dir, config.odom_sequences)
    if config.dataset_name == "video":
        raise ConfigError("dataset_name=video has no frame list: prepare_dataset reads the video in one pass")
    if config.dataset_name == "cityscapes":
        from sfmlearner_tf.prep.cityscapes import CityscapesLoader

        return CityscapesLoader(config.dataset_dir, config.cityscapes)
    split = "stereo" if config.dataset_name == "kitti_raw_stereo" else "eigen"
    test_scenes_file = _split_file(config, config.test_scenes_file, f"test_scenes_{split}.txt")
    static_file = _split_file(config, config.static_frames_file, "static_frames.txt")
    if not test_scenes_file:
        raise ConfigError(f"{config.dataset_name} needs --test_scenes_file (test_scenes_{split}.txt from the original "
                          "repository's data/kitti/ folder)")
    if not static_file and config.min_speed is None:
        raise ConfigError(f"{config.dataset_name} needs --static_frames_file (static_frames.txt from the original "
                          f"repository's data/kitti/ folder), or --min_speed, or --static_frames_file={NO_STATIC_LIST}")
    static = read_static_frames(static_file) if static_file and static_file != NO_STATIC_LIST else set()
    raw_dir = Path(config.dataset_dir) / "kitti_raw" if config.dataset_name == "synthetic" else config.dataset_dir
    cameras = config.cameras or (("02",) if config.dataset_name == "synthetic" else ("02", "03"))
    return KittiRawLoader(raw_dir, read_test_scenes(test_scenes_file), static, cameras, config.min_speed)


def load_frame(path: Path) -> np.ndarray:
    """A raw frame as RGB uint8 [H, W, 3] (grey or RGBA images are converted), errors naming the file."""
    if not path.is_file():
        raise DataError(f"{path}: image not found")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"{path}: corrupt or unreadable image ({exc})") from exc


def resize_frame(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """PIL bilinear resize, what `scipy.misc.imresize(image, (height, width))` did for uint8 RGB."""
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BILINEAR))


def scale_intrinsics(intrinsics: np.ndarray, zoom_x: float, zoom_y: float) -> np.ndarray:
    """fx, cx times zoom_x and fy, cy times zoom_y, computed in float64 and stored in K's dtype (as the original)."""
    scaled = intrinsics.astype(np.float64)
    scaled[0, [0, 2]] *= zoom_x
    scaled[1, [1, 2]] *= zoom_y
    return scaled.astype(intrinsics.dtype)


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


def plan_samples(config: PrepareConfig) -> tuple[list[SampleSpec], FrameLoader]:
    """All samples of the data set (before sharding) and the loader that lists them."""
    check_seq_length(config.seq_length)
    loader = build_loader(config)
    if hasattr(loader, "samples"):  # neighbours that are not list neighbours (Cityscapes' sample gap)
        return loader.samples(config.seq_length), loader
    return select_samples(loader.frames(), config.seq_length), loader


def shard_of(samples: list[SampleSpec], shard_index: int, num_shards: int) -> list[SampleSpec]:
    """Sample i belongs to shard i % num_shards."""
    if not 0 <= shard_index < num_shards:
        raise ConfigError(f"shard_index must be in [0, num_shards={num_shards}), got {shard_index}")
    return samples[shard_index::num_shards]


def write_split_lists(dump_root: str | os.PathLike, val_fraction: float = 0.1, seed: int = 8964) -> tuple[int, int]:
    """train.txt / val.txt (`<folder> <frame>` lines) from the samples in dump_root; returns (num_train, num_val).

    One uniform draw per sample in sorted folder/frame order with a legacy `RandomState(seed)` (the generator of
    the original's `np.random.seed(8964)`); a draw below val_fraction sends the sample to val.
    """
    dump_root = Path(dump_root)
    rng = np.random.RandomState(seed)
    train, val = [], []
    for folder in sorted(p for p in dump_root.iterdir() if p.is_dir()):
        for jpg in sorted(folder.glob("*.jpg")):
            (val if rng.random_sample() < val_fraction else train).append(f"{folder.name} {jpg.stem}\n")
    atomic_write_text(dump_root / "train.txt", "".join(train))
    atomic_write_text(dump_root / "val.txt", "".join(val))
    return len(train), len(val)


def prepare_dataset(config: PrepareConfig, mask_source: InstanceMaskSource | None = None,
                    stream: TextIO | None = None) -> PrepareResult:
    """Prepares this shard's samples (skipping finished ones), then the lists if every planned sample exists.

    `mask_source` overrides the one named by config.boundary_source (tests, notebooks).
    A video (dataset_name=video) is prepared in one ordered pass by data/video_prepare.py.
    """
    if config.dataset_name == "video":
        from sfmlearner_tf.prep.video_prepare import prepare_video

        return prepare_video(config, mask_source, stream)
    samples, loader = plan_samples(config)
    if not samples:
        raise DataError(f"{config.dataset_dir}: no training samples found for {config.dataset_name}")
    check_writable_folder(config.dump_root, "--dump_root")
    if mask_source is None:
        mask_source = make_mask_source(config.effective_boundary_source, config.mask_rcnn_weights)
    mine = shard_of(samples, config.shard_index, config.num_shards)
    writer = SampleWriter(config, loader, mask_source)
    progress = ProgressReporter(len(mine), f"prepare shard {config.shard_index}/{config.num_shards}",
                                stream=stream, unit="samples")
    written = 0
    with ThreadPoolExecutor(max(1, config.num_threads)) as pool:
        for was_written in pool.map(writer, mine):
            written += int(was_written)
            progress.update()
    dump_root = Path(config.dump_root)
    missing = sum(not cam_path_for(dump_root / spec.relative_jpg).is_file() for spec in samples)
    num_train = num_val = 0
    if missing == 0:
        num_train, num_val = write_split_lists(dump_root, config.val_fraction, config.split_seed)
    print(f"prepare: {written} written, {len(mine) - written} already done in this shard; "
          + (f"train.txt {num_train}, val.txt {num_val}" if missing == 0
             else f"{missing} samples of other shards missing, lists not written yet"),
          file=progress.stream, flush=True)
    return PrepareResult(len(samples), len(mine), written, len(mine) - written, missing == 0, num_train, num_val)
