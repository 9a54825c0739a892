"""Flags of the Mask R-CNN boundary program (sfm-mask-rcnn-prep / python -m mask_rcnn_prep).

`define_flags(flag_values)` defines them (the entry point has run_program call it on absl's FLAGS; tests use
their own FlagValues). Importing this module defines nothing, as for every program's flags.
"""

from __future__ import annotations

from absl import flags

from flags import validators
from mask_rcnn_prep.boundary_job import BoundaryJobConfig
from mask_rcnn_prep.coco_classes import COCO_CLASS_NAMES, DRIVING_CLASSES
from mask_rcnn_prep.config import RESIZE_MODES, MaskRcnnConfig
from mask_rcnn_prep.show_detections import ShowConfig


def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validators on `flag_values`."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_enum("mode", "dataset", ["dataset", "drive", "show"],
                      "dataset: boundary panels of a prepared data set; drive: boundary PNGs of a KITTI drive; "
                      "show: print the detections on one --image (checks that the weights loaded)", **fv)
    flags.DEFINE_string("weights", None, "matterport's mask_rcnn_coco.h5 (Keras 2 HDF5)", **fv)
    flags.DEFINE_string("input_dir", "", "prepared data set (dump dir with train.txt) or a KITTI drive dir", **fv)
    flags.DEFINE_string("output_dir", "", "drive mode: boundary PNGs go to <output_dir>/<drive>/<frame>.png", **fv)
    flags.DEFINE_string("image", "", "show mode: the image to detect on", **fv)
    flags.DEFINE_string("camera", "02", "drive mode: frames are read from image_<camera>/data", **fv)
    flags.DEFINE_integer("seq_length", 3, "frames per prepared sample (the target is the middle one)", **fv)
    flags.DEFINE_integer("img_width", 416, "frame width of the prepared samples / of resized drive frames", **fv)
    flags.DEFINE_integer("img_height", 128, "frame height of resized drive frames", **fv)
    flags.DEFINE_integer("batch_size", 4, "frames per Mask R-CNN call", **fv)
    flags.DEFINE_integer("shard_index", 0, "this job's shard, in [0, num_shards)", **fv)
    flags.DEFINE_integer("num_shards", 1, "number of shards the frames are split into (round robin)", **fv)
    flags.DEFINE_string("inspect_dir", "", "if set: also write each frame's instance masks (.npz) and an overlay PNG",
                        **fv)
    flags.DEFINE_enum("resize_mode", "square", list(RESIZE_MODES),
                      "square: matterport's default (416x128 -> 1024x315 padded to 1024x1024); pad64: scale the "
                      "short side up to --image_min_dim, pad to multiples of 64 (cheaper)", **fv)
    flags.DEFINE_integer("image_min_dim", 800, "short side target of the resize (pad64: 0 = no scaling)", **fv)
    flags.DEFINE_integer("image_max_dim", 1024, "square mode: long side limit and padded size", **fv)
    flags.DEFINE_float("min_confidence", 0.7, "detections below this class score are dropped", **fv)
    flags.DEFINE_integer("max_instances", 100, "at most this many detections per frame", **fv)
    flags.DEFINE_list("keep_classes", list(DRIVING_CLASSES),
                      "COCO classes whose masks make the boundary ('all' = the 80 things)", **fv)
    flags.DEFINE_bool("keep_only", False, "show mode: list only --keep_classes (default: every COCO class)", **fv)
    flags.DEFINE_float("progress_every_s", 10.0, "seconds between progress lines", **fv)
    _register_validators(flag_values)


def _register_validators(flag_values: flags.FlagValues) -> None:
    fv = {"flag_values": flag_values}
    flags.mark_flag_as_required("weights", **fv)
    validators.register_range("min_confidence", 0.0, 1.0, **fv)
    for name in ("max_instances", "batch_size", "num_shards"):
        validators.register_range(name, 1, **fv)
    for name in ("shard_index", "image_min_dim"):
        validators.register_range(name, 0, **fv)
    validators.register_multiple_of("image_max_dim", 64, "the FPN halves the input 6 times", **fv)
    validators.register_choice_list("keep_classes", ("all", *COCO_CLASS_NAMES[1:]), **fv)
    flags.register_multi_flags_validator(
        ["shard_index", "num_shards"], lambda f: f["shard_index"] < f["num_shards"],
        message="--shard_index must be < --num_shards", **fv)
    flags.register_multi_flags_validator(
        ["resize_mode", "image_min_dim"], lambda f: f["resize_mode"] != "pad64" or f["image_min_dim"] % 64 == 0,
        message="--image_min_dim must be a multiple of 64 with --resize_mode=pad64", **fv)

    def inputs_given(f: dict) -> bool:
        if f["mode"] == "show":
            return bool(f["image"])
        return bool(f["input_dir"]) and (f["mode"] != "drive" or bool(f["output_dir"]))

    flags.register_multi_flags_validator(
        ["mode", "input_dir", "image", "output_dir"], inputs_given,
        message="--mode=dataset needs --input_dir; --mode=drive needs --input_dir and --output_dir; "
                "--mode=show needs --image", **fv)


def model_config_from_flags(flag_values: flags.FlagValues) -> MaskRcnnConfig:
    """The Mask R-CNN inference settings."""
    f = flag_values
    return MaskRcnnConfig(
        resize_mode=f.resize_mode, image_min_dim=f.image_min_dim, image_max_dim=f.image_max_dim,
        detection_min_confidence=f.min_confidence, detection_max_instances=f.max_instances,
        keep_classes=tuple(f.keep_classes),
    )


def config_from_flags(flag_values: flags.FlagValues) -> BoundaryJobConfig | ShowConfig:
    """The boundary job's config, or the show mode's."""
    f = flag_values
    model = model_config_from_flags(f)
    if f.mode == "show":
        return ShowConfig(weights_path=f.weights, image_path=f.image, inspect_dir=f.inspect_dir,
                          keep_only=f.keep_only, model=model)
    return BoundaryJobConfig(
        weights_path=f.weights, input_dir=f.input_dir, mode=f.mode, output_dir=f.output_dir, camera=f.camera,
        seq_length=f.seq_length, img_width=f.img_width, img_height=f.img_height, batch_size=f.batch_size,
        shard_index=f.shard_index, num_shards=f.num_shards, inspect_dir=f.inspect_dir,
        progress_every_s=f.progress_every_s, model=model,
    )
