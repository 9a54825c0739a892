"""What decides a preparation (PrepareConfig: flags/prepare_data.py mirrors it) and what a run reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from sfmlearner_tf.prep.kitti_odom import TRAIN_SEQUENCES
from sfmlearner_tf.prep.source_options import CityscapesOptions, VideoOptions

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
    video / cityscapes: the options of those data sets (prep/source_options.py); for cityscapes img_height is
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
