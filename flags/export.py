"""Flags of sfm-export (sfmlearner_tf.apps.export): format, checkpoint, output, sizes (default: the checkpoint's
run record)."""

from __future__ import annotations

from dataclasses import dataclass

from absl import flags

from flags.record_settings import settings_from_record
from flags.validators import register_multiple_of, register_range
from sfmlearner_tf.export.tflite import TFLITE_DTYPES
from sfmlearner_tf.models import DISP_NET_MULTIPLE

FLAGS = flags.FLAGS
FORMATS = ("savedmodel", "tflite", "tf1")

flags.DEFINE_enum("format", None, list(FORMATS), "savedmodel: DispNet with a serving signature (uint8 image of any "
                  "size -> depth); tflite: DispNet at the model's size; tf1: both nets as a TF1 checkpoint for the "
                  "original code.")
flags.DEFINE_string("ckpt_file", None, "Checkpoint: one of ours, a run folder of ours (the newest is used), or TF1.")
flags.DEFINE_string("output", None, "savedmodel: a new folder; tflite: a .tflite file; tf1: a checkpoint prefix "
                    "(e.g. exported/model-1500).")
flags.DEFINE_integer("img_height", 128, "Model input height (default: the checkpoint's run record, else 128).")
flags.DEFINE_integer("img_width", 416, "Model input width (default: the checkpoint's run record, else 416).")
flags.DEFINE_enum("tflite_dtype", "float32", list(TFLITE_DTYPES), "tflite: weight precision (float16 halves the "
                  "file).")
flags.DEFINE_integer("seq_length", 3, "tf1: frames of the pose net (default: the run record, else 3).")
flags.DEFINE_boolean("do_exp", False, "tf1: export the explainability branch too (default: the run record).")

flags.mark_flags_as_required(["format", "ckpt_file", "output"])
register_multiple_of("img_height", DISP_NET_MULTIPLE, "DispNet needs multiples of 16")
register_multiple_of("img_width", DISP_NET_MULTIPLE, "DispNet needs multiples of 16")
register_range("seq_length", 3)
flags.register_validator("seq_length", lambda v: v % 2 == 1, message="--seq_length must be odd (target in the middle)")


@dataclass(frozen=True)
class ExportRequest:
    """What sfm-export does."""

    format: str
    ckpt_file: str
    output: str
    img_height: int
    img_width: int
    tflite_dtype: str
    seq_length: int
    do_exp: bool


def request_and_notes_from_flags() -> tuple[ExportRequest, list[str]]:
    """The export request, sizes and nets' shapes from the checkpoint's run record unless given."""
    values, note = settings_from_record(FLAGS, FLAGS.ckpt_file, ("img_height", "img_width", "seq_length", "do_exp"))
    return ExportRequest(format=FLAGS.format, ckpt_file=FLAGS.ckpt_file, output=FLAGS.output,
                         tflite_dtype=FLAGS.tflite_dtype, **values), [note]
