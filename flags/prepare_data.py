"""Flags of sfm-prepare-data (sfmlearner_tf.apps.prepare_data): data set, split files, sizes, boundary panel,
sharding. Names follow the original's prepare_train_data.py where it had them."""

from __future__ import annotations

from absl import flags

from flags.validators import register_range
from sfmlearner_tf.data.kitti_odom import TRAIN_SEQUENCES
from sfmlearner_tf.data.mask_sources import BOUNDARY_SOURCES
from sfmlearner_tf.data.prepare import DATASET_NAMES, PrepareConfig

FLAGS = flags.FLAGS

flags.DEFINE_enum("dataset_name", "kitti_raw_eigen", list(DATASET_NAMES), "Which data set to prepare.")
flags.DEFINE_string("dataset_dir", None, "KITTI raw root (date folders), odometry root (sequences/), or the "
                    "synthetic data set's root (kitti_raw/, splits/).", required=True)
flags.DEFINE_string("dump_root", None, "Output folder of the prepared samples.", required=True)
flags.DEFINE_integer("seq_length", 3, "Frames per sample (odd; 3 for depth, 5 for the pose model).")
flags.DEFINE_integer("img_height", 128, "Frame height after resizing.")
flags.DEFINE_integer("img_width", 416, "Frame width after resizing.")
flags.DEFINE_string("test_scenes_file", "", "test_scenes_eigen.txt / test_scenes_stereo.txt (the original "
                    "repository's data/kitti/ folder); defaults to <dataset_dir>/splits/ for synthetic.")
flags.DEFINE_string("static_frames_file", "", "static_frames.txt (the original repository's data/kitti/); "
                    "'none' keeps all frames; defaults to <dataset_dir>/splits/ for synthetic.")
flags.DEFINE_float("min_speed", None, "Remove frames whose oxts speed is below this (m/s), for data without a "
                   "static-frames list (about 2 m/s is the PyTorch port's choice).")
flags.DEFINE_list("cameras", [], "Raw cameras to use (default: 02,03 for KITTI raw, 02 for synthetic).")
flags.DEFINE_list("odom_sequences", list(TRAIN_SEQUENCES), "Odometry sequences to prepare.")
flags.DEFINE_enum("boundary_source", "", ["", *BOUNDARY_SOURCES], "Boundary panel from instance masks: none, "
                  "synthetic (true masks) or mask_rcnn; default synthetic for synthetic drives, else none.")
flags.DEFINE_string("mask_rcnn_weights", "", "mask_rcnn_coco.h5 for --boundary_source=mask_rcnn.")
flags.DEFINE_integer("shard_index", 0, "This job's shard (samples i with i % num_shards == shard_index).")
flags.DEFINE_integer("num_shards", 1, "Number of shards.")
flags.DEFINE_integer("num_threads", 4, "Worker threads.")
flags.DEFINE_string("tfds_data_dir", "", "If set, also build the TFDS data set (sfm_prepared_samples) there once "
                    "every sample exists.")

register_range("seq_length", lower=3)
register_range("img_height", lower=1)
register_range("img_width", lower=1)
register_range("shard_index", lower=0)
register_range("num_shards", lower=1)
register_range("num_threads", lower=1)
register_range("min_speed", lower=0.0)
flags.register_validator("seq_length", lambda v: v % 2 == 1, message="--seq_length must be odd (target in the middle)")
flags.register_multi_flags_validator(
    ["shard_index", "num_shards"], lambda f: f["shard_index"] < f["num_shards"],
    message="--shard_index must be smaller than --num_shards")


def config_from_flags() -> PrepareConfig:
    """The PrepareConfig described by the parsed flags."""
    return PrepareConfig(
        dataset_name=FLAGS.dataset_name, dataset_dir=FLAGS.dataset_dir, dump_root=FLAGS.dump_root,
        seq_length=FLAGS.seq_length, img_height=FLAGS.img_height, img_width=FLAGS.img_width,
        test_scenes_file=FLAGS.test_scenes_file, static_frames_file=FLAGS.static_frames_file,
        min_speed=FLAGS.min_speed, cameras=tuple(FLAGS.cameras), odom_sequences=tuple(FLAGS.odom_sequences),
        boundary_source=FLAGS.boundary_source, mask_rcnn_weights=FLAGS.mask_rcnn_weights,
        shard_index=FLAGS.shard_index, num_shards=FLAGS.num_shards, num_threads=FLAGS.num_threads)
