"""Flags of sfm-predict (sfmlearner_tf.apps.predict): input, checkpoints, sizes (default: each checkpoint's run
record), batching and outputs."""

from __future__ import annotations

from absl import flags

from flags.record_settings import settings_from_record
from flags.validators import register_network_input, register_range
from sfmlearner_tf.predict import PredictConfig

_DEFAULTS = PredictConfig(input="", output_dir="", ckpt_file="")

def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validators on `flag_values`."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_string("input", None, "An image, a folder of images, a glob pattern (quoted) or a video file.", **fv)
    flags.DEFINE_string("output_dir", None,
                        "Where depth/, disparity/, the MP4, trajectory.txt/.png and predict.json go.", **fv)
    flags.DEFINE_string("ckpt_file", None, "Depth checkpoint: Zhou et al.'s TF1 prefix (model-190532), one of ours, or "
                        "a run folder of ours (the newest checkpoint is used).", **fv)
    flags.DEFINE_string("pose_ckpt_file", "", "Pose checkpoint (may be the same as --ckpt_file; ours hold both nets): "
                        "adds the chained camera trajectory (TUM text and a top-view PNG). Empty: depth only.", **fv)
    flags.DEFINE_integer("img_height", _DEFAULTS.img_height, "Depth net input height (default: the checkpoint's run "
                         "record, else 128).", **fv)
    flags.DEFINE_integer("img_width", _DEFAULTS.img_width, "Depth net input width (default: run record, else 416).",
                         **fv)
    flags.DEFINE_integer("seq_length", _DEFAULTS.seq_length, "Frames per pose window (default: the pose checkpoint's "
                         "run record, or its TF1 pose net's input, else 3).", **fv)
    flags.DEFINE_integer("batch_size", _DEFAULTS.batch_size, "Frames (depth) and windows (pose) per batch.", **fv)
    flags.DEFINE_boolean("mixed_precision", False, "bfloat16 on a CPU / float16 on a GPU (default: the depth "
                         "checkpoint's run record).", **fv)
    flags.DEFINE_boolean("write_video", True, "For a video input, also write <name>_depth.mp4 (input | depth).", **fv)
    flags.DEFINE_float("fps", None, "Frame rate for trajectory timestamps and the MP4 (default: the video's, else 10).",
                       **fv)
    flags.DEFINE_float("progress_every_s", 10.0, "Seconds between progress lines.", **fv)

    flags.mark_flags_as_required(["input", "output_dir", "ckpt_file"], **fv)
    register_network_input(flag_values)
    register_range("batch_size", 1, **fv)
    register_range("fps", 0.0, lower_inclusive=False, **fv)
    register_range("progress_every_s", 0.0, **fv)


def config_and_notes_from_flags(flag_values: flags.FlagValues) -> tuple[PredictConfig, list[str]]:
    """The PredictConfig of the flags, sizes and precision from the checkpoints' run records unless given, and
    notes saying what came from a record."""
    f = flag_values
    depth, note_depth = settings_from_record(f, f.ckpt_file, ("img_height", "img_width", "mixed_precision"),
                                             "depth model")
    pose, note_pose = settings_from_record(f, f.pose_ckpt_file or None,
                                           ("img_height", "img_width", "seq_length"), "pose model")
    config = PredictConfig(
        input=f.input, output_dir=f.output_dir, ckpt_file=f.ckpt_file,
        img_height=depth["img_height"], img_width=depth["img_width"], pose_ckpt_file=f.pose_ckpt_file or None,
        seq_length=pose["seq_length"], pose_img_height=pose["img_height"], pose_img_width=pose["img_width"],
        batch_size=f.batch_size, mixed_precision=depth["mixed_precision"], write_video=f.write_video,
        fps=f.fps, progress_every_s=f.progress_every_s)
    return config, [note_depth, note_pose]
