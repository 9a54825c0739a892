"""The samples a preparation plans: the data set's frame list (its loader), the samples chosen from it, and
this shard's share (sample i belongs to shard i % num_shards)."""

from __future__ import annotations

from pathlib import Path

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.prep.cityscapes import CityscapesLoader
from sfmlearner_tf.prep.config import DATASET_NAMES, NO_STATIC_LIST, PrepareConfig
from sfmlearner_tf.prep.frame_lists import FrameLoader, SampleSpec, check_seq_length, select_samples
from sfmlearner_tf.prep.kitti_odom import KittiOdomLoader
from sfmlearner_tf.prep.kitti_raw import KittiRawLoader, read_static_frames, read_test_scenes


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
