"""What decides a preparation (PrepareConfig, whose settings are sfm-prepare-data's flags) and what a run reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.prep.kitti_odom import TRAIN_SEQUENCES
from sfmlearner_tf.prep.mask_sources import BOUNDARY_SOURCES
from sfmlearner_tf.prep.source_options import CITYSCAPES_RESIZE_HEIGHT, CityscapesOptions, VideoOptions
from sfmlearner_tf.settings import SEQ_LENGTH, check_settings, setting

DATASET_NAMES = ("kitti_raw_eigen", "kitti_raw_stereo", "kitti_odom", "synthetic", "cityscapes", "video")
NO_STATIC_LIST = "none"


@dataclass(frozen=True)
class PrepareConfig:
    """Everything that decides the prepared samples.

    test_scenes_file / static_frames_file: the original's data/kitti lists (needed for kitti_raw_*; for
    `synthetic` they default to <dataset_dir>/splits/). static_frames_file="none" keeps every frame.
    min_speed: oxts speed threshold (m/s) removing static frames, the alternative for data without a list.
    cameras: () = the data set's default (02 and 03 for KITTI raw, 02 for synthetic).
    boundary_source: "" = the data set's default ("synthetic" for synthetic drives, else "none").
    video / cityscapes: the options of those data sets (prep/source_options.py); for cityscapes img_height is
    the height before the bottom crop, as in the original (171 gives 128-row samples).
    """

    dataset_name: str = setting(help="Which data set to prepare.", choices=DATASET_NAMES)
    dataset_dir: str = setting(help="KITTI raw root (date folders), odometry root (sequences/), the synthetic data "
                               "set's root (kitti_raw/, splits/), the Cityscapes root (leftImg8bit_sequence/, "
                               "camera/), or for video a video file or a folder of frames.")
    dump_root: str = setting(help="Output folder of the prepared samples.")
    seq_length: int = setting(3, "Frames per sample (odd; 3 for depth, 5 for the pose model).", rule=SEQ_LENGTH)
    img_height: int = setting(128, "Frame height after resizing (cityscapes: before the bottom crop, as the "
                              f"original; default {CITYSCAPES_RESIZE_HEIGHT}, which leaves 128 rows).", low=1)
    img_width: int = setting(416, "Frame width after resizing.", low=1)
    test_scenes_file: str = setting("", "test_scenes_eigen.txt / test_scenes_stereo.txt (the original repository's "
                                    "data/kitti/ folder); defaults to <dataset_dir>/splits/ for synthetic.")
    static_frames_file: str = setting("", "static_frames.txt (the original repository's data/kitti/); 'none' keeps "
                                      "all frames; defaults to <dataset_dir>/splits/ for synthetic.")
    min_speed: float | None = setting(None, "Remove frames whose oxts speed is below this (m/s), for data without a "
                                      "static-frames list (about 2 m/s is the PyTorch port's choice).", low=0.0)
    cameras: tuple[str, ...] = setting((), "Raw cameras to use (default: 02,03 for KITTI raw, 02 for synthetic).")
    odom_sequences: tuple[str, ...] = setting(TRAIN_SEQUENCES, "Odometry sequences to prepare.")
    boundary_source: str = setting("", "Boundary panel from instance masks: none, synthetic (true masks) or "
                                   "mask_rcnn; default synthetic for synthetic drives, else none.",
                                   choices=("", *BOUNDARY_SOURCES))
    mask_rcnn_weights: str = setting("", "mask_rcnn_coco.h5 for --boundary_source=mask_rcnn.")
    shard_index: int = setting(0, "This job's shard (samples i with i % num_shards == shard_index).", low=0)
    num_shards: int = setting(1, "Number of shards.", low=1)
    num_threads: int = setting(4, "Worker threads.", low=1)
    val_fraction: float = 0.1
    split_seed: int = 8964
    video: VideoOptions = field(default_factory=VideoOptions)
    cityscapes: CityscapesOptions = field(default_factory=CityscapesOptions)

    def __post_init__(self) -> None:
        check_settings(self)
        if self.shard_index >= self.num_shards:
            raise ConfigError(f"PrepareConfig.shard_index must be smaller than num_shards={self.num_shards}, got "
                              f"{self.shard_index}", fields=("shard_index",))

    def samples_identity(self) -> dict[str, object]:
        """What makes prepared samples of one folder compatible: a rerun into a folder prepared with other values
        is refused (io_utils.claim_output_folder), never mixed. Shards, threads and the sources' paths may differ
        (several videos or shards go into one folder)."""
        return {"dataset_name": self.dataset_name, "seq_length": self.seq_length, "img_height": self.img_height,
                "img_width": self.img_width, "boundary_source": self.effective_boundary_source}

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
