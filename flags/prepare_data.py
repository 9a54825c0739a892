"""Flags of sfm-prepare-data (sfmlearner_tf.apps.prepare_data): data set, split files, sizes, boundary panel,
sharding. Names follow the original's prepare_train_data.py where it had them."""

from __future__ import annotations

from dataclasses import dataclass

from absl import flags

from flags.validators import register_range
from sfmlearner_tf.prep.config import DATASET_NAMES, PrepareConfig
from sfmlearner_tf.prep.kitti_odom import TRAIN_SEQUENCES
from sfmlearner_tf.prep.mask_sources import BOUNDARY_SOURCES
from sfmlearner_tf.prep.source_options import (
    CITYSCAPES_RESIZE_HEIGHT,
    CITYSCAPES_SAMPLE_GAP,
    CROP_MODES,
    CityscapesOptions,
    VideoOptions,
)


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validators on `flag_values`."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_enum("dataset_name", "kitti_raw_eigen", list(DATASET_NAMES), "Which data set to prepare.", **fv)
    flags.DEFINE_string("dataset_dir", None, "KITTI raw root (date folders), odometry root (sequences/), the "
                        "synthetic data set's root (kitti_raw/, splits/), the Cityscapes root (leftImg8bit_sequence/, "
                        "camera/), or for video a video file or a folder of frames.", required=True, **fv)
    flags.DEFINE_string("dump_root", None, "Output folder of the prepared samples.", required=True, **fv)
    flags.DEFINE_integer("seq_length", 3, "Frames per sample (odd; 3 for depth, 5 for the pose model).", **fv)
    flags.DEFINE_integer("img_height", 128, "Frame height after resizing (cityscapes: before the bottom crop, as the "
                         f"original; default {CITYSCAPES_RESIZE_HEIGHT}, which leaves 128 rows).", **fv)
    flags.DEFINE_integer("img_width", 416, "Frame width after resizing.", **fv)
    flags.DEFINE_string("test_scenes_file", "", "test_scenes_eigen.txt / test_scenes_stereo.txt (the original "
                        "repository's data/kitti/ folder); defaults to <dataset_dir>/splits/ for synthetic.", **fv)
    flags.DEFINE_string("static_frames_file", "", "static_frames.txt (the original repository's data/kitti/); "
                        "'none' keeps all frames; defaults to <dataset_dir>/splits/ for synthetic.", **fv)
    flags.DEFINE_float("min_speed", None, "Remove frames whose oxts speed is below this (m/s), for data without a "
                       "static-frames list (about 2 m/s is the PyTorch port's choice).", **fv)
    flags.DEFINE_list("cameras", [], "Raw cameras to use (default: 02,03 for KITTI raw, 02 for synthetic).", **fv)
    flags.DEFINE_list("odom_sequences", list(TRAIN_SEQUENCES), "Odometry sequences to prepare.", **fv)
    flags.DEFINE_enum("boundary_source", "", ["", *BOUNDARY_SOURCES], "Boundary panel from instance masks: none, "
                      "synthetic (true masks) or mask_rcnn; default synthetic for synthetic drives, else none.", **fv)
    flags.DEFINE_string("mask_rcnn_weights", "", "mask_rcnn_coco.h5 for --boundary_source=mask_rcnn.", **fv)
    flags.DEFINE_integer("shard_index", 0, "This job's shard (samples i with i % num_shards == shard_index).", **fv)
    flags.DEFINE_integer("num_shards", 1, "Number of shards.", **fv)
    flags.DEFINE_integer("num_threads", 4, "Worker threads.", **fv)
    # Your own video (--dataset_name=video)
    flags.DEFINE_float("fx", None, "video: focal length in pixels (x) of the frames as stored.", **fv)
    flags.DEFINE_float("fy", None, "video: focal length in pixels (y).", **fv)
    flags.DEFINE_float("cx", None, "video: principal point x in pixels.", **fv)
    flags.DEFINE_float("cy", None, "video: principal point y in pixels.", **fv)
    flags.DEFINE_string("calib_file", "", "video: calibration file instead of --fx/--fy/--cx/--cy: 4 numbers "
                        "(fx fy cx cy), 9 (K row by row) or 12 (a KITTI-style 3x4 P); an optional 'label:' per line.",
                        **fv)
    flags.DEFINE_string("calib_name", "", "video: the label of the line to use in a calibration file with several "
                        "(e.g. P_rect_02 in KITTI's calib_cam_to_cam.txt, P2 in calib.txt).", **fv)
    flags.DEFINE_integer("frame_step", 1, "video: keep every N-th frame (30 fps footage: 3 gives KITTI's 10 Hz).", **fv)
    flags.DEFINE_float("min_flow", VideoOptions().min_flow, "video: drop a frame whose median optical flow from the "
                       "last kept frame is below this many pixels (of a 416-wide frame) (static frames); 0 keeps all.",
                       **fv)
    flags.DEFINE_enum("crop", VideoOptions().crop, list(CROP_MODES), "video: resize = scale the whole frame to the "
                      "training size (as for KITTI); center = cut the widest centred window of the training aspect "
                      "first.", **fv)
    flags.DEFINE_float("crop_bottom", 0.0, "video: fraction of rows cut off the bottom first (a car's hood).", **fv)
    flags.DEFINE_string("sequence_name", "", "video: output folder name (default: the video's or folder's name).", **fv)
    # Cityscapes (--dataset_name=cityscapes)
    flags.DEFINE_string("cityscapes_split", CityscapesOptions().split, "cityscapes: leftImg8bit_sequence/<split>.",
                        **fv)
    flags.DEFINE_integer("sample_gap", CITYSCAPES_SAMPLE_GAP, "cityscapes: frames between the frames of a sample "
                         "(2, the original's: Cityscapes' 17 Hz near KITTI's 10 Hz).", **fv)
    flags.DEFINE_string("tfds_data_dir", "", "If set, also build the TFDS data set (sfm_prepared_samples) there once "
                        "every sample exists.", **fv)

    register_range("seq_length", lower=3, **fv)
    register_range("img_height", lower=1, **fv)
    register_range("img_width", lower=1, **fv)
    register_range("shard_index", lower=0, **fv)
    register_range("num_shards", lower=1, **fv)
    register_range("num_threads", lower=1, **fv)
    register_range("min_speed", lower=0.0, **fv)
    register_range("frame_step", lower=1, **fv)
    register_range("sample_gap", lower=1, **fv)
    register_range("min_flow", lower=0.0, **fv)
    register_range("crop_bottom", lower=0.0, upper=0.9, **fv)
    flags.register_multi_flags_validator(
        ["fx", "fy", "cx", "cy"], lambda f: len({v is None for v in f.values()}) == 1,
        message="--fx, --fy, --cx and --cy go together (or use --calib_file)", **fv)
    flags.register_validator("seq_length", lambda v: v % 2 == 1,
                             message="--seq_length must be odd (target in the middle)", **fv)
    flags.register_multi_flags_validator(
        ["shard_index", "num_shards"], lambda f: f["shard_index"] < f["num_shards"],
        message="--shard_index must be smaller than --num_shards", **fv)


def _img_height(flag_values: flags.FlagValues) -> int:
    """--img_height; for cityscapes without it, the original's 171 (128 rows after the bottom crop)."""
    f = flag_values
    if f.dataset_name == "cityscapes" and not f["img_height"].present:
        return CITYSCAPES_RESIZE_HEIGHT
    return f.img_height


@dataclass(frozen=True)
class PrepareRequest:
    """What sfm-prepare-data does: prepare `config`, then build the TFDS data set in `tfds_data_dir` if set."""

    config: PrepareConfig
    tfds_data_dir: str


def config_from_flags(flag_values: flags.FlagValues) -> PrepareRequest:
    """The preparation described by the parsed flags."""
    f = flag_values
    return PrepareRequest(_prepare_config(f), tfds_data_dir=f.tfds_data_dir)


def _prepare_config(f: flags.FlagValues) -> PrepareConfig:
    intrinsics = None if f.fx is None else (f.fx, f.fy, f.cx, f.cy)
    video = VideoOptions(intrinsics=intrinsics, calib_file=f.calib_file, calib_name=f.calib_name,
                         frame_step=f.frame_step, min_flow=f.min_flow, crop=f.crop,
                         crop_bottom=f.crop_bottom, sequence_name=f.sequence_name)
    return PrepareConfig(
        dataset_name=f.dataset_name, dataset_dir=f.dataset_dir, dump_root=f.dump_root,
        seq_length=f.seq_length, img_height=_img_height(f), img_width=f.img_width,
        test_scenes_file=f.test_scenes_file, static_frames_file=f.static_frames_file,
        min_speed=f.min_speed, cameras=tuple(f.cameras), odom_sequences=tuple(f.odom_sequences),
        boundary_source=f.boundary_source, mask_rcnn_weights=f.mask_rcnn_weights,
        shard_index=f.shard_index, num_shards=f.num_shards, num_threads=f.num_threads, video=video,
        cityscapes=CityscapesOptions(split=f.cityscapes_split, sample_gap=f.sample_gap))
