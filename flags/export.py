"""Flags of sfm-export (sfmlearner_tf.apps.export): format, checkpoint, output, sizes (default: the checkpoint's
run record)."""

from __future__ import annotations

from dataclasses import dataclass

from absl import flags

from flags.record_settings import settings_from_record
from flags.validators import register_network_input
from sfmlearner_tf.export.tflite import TFLITE_DTYPES

FORMATS = ("savedmodel", "tflite", "tf1")

def define_flags(flag_values: flags.FlagValues) -> None:
    """Defines the program's flags and their start-up validators on `flag_values`."""
    fv = {"flag_values": flag_values}
    flags.DEFINE_enum("format", None, list(FORMATS), "savedmodel: DispNet with a serving signature (uint8 image of any "
                      "size -> depth); tflite: DispNet at the model's size; tf1: both nets as a TF1 checkpoint for the "
                      "original code.", **fv)
    flags.DEFINE_string("ckpt_file", None,
                        "Checkpoint: one of ours, a run folder of ours (the newest is used), or TF1.", **fv)
    flags.DEFINE_string("output", None, "savedmodel: a new folder; tflite: a .tflite file; tf1: a checkpoint prefix "
                        "(e.g. exported/model-1500).", **fv)
    flags.DEFINE_integer("img_height", 128, "Model input height (default: the checkpoint's run record, else 128).",
                         **fv)
    flags.DEFINE_integer("img_width", 416, "Model input width (default: the checkpoint's run record, else 416).", **fv)
    flags.DEFINE_enum("tflite_dtype", "float32", list(TFLITE_DTYPES), "tflite: weight precision (float16 halves the "
                      "file).", **fv)
    flags.DEFINE_integer("seq_length", 3, "tf1: frames of the pose net (default: the run record, else 3).", **fv)
    flags.DEFINE_boolean("do_exp", False, "tf1: export the explainability branch too (default: the run record).", **fv)

    flags.mark_flags_as_required(["format", "ckpt_file", "output"], **fv)
    register_network_input(flag_values)


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


def request_and_notes_from_flags(flag_values: flags.FlagValues) -> tuple[ExportRequest, list[str]]:
    """The export request, sizes and nets' shapes from the checkpoint's run record unless given."""
    f = flag_values
    values, note = settings_from_record(f, f.ckpt_file, ("img_height", "img_width", "seq_length", "do_exp"))
    return ExportRequest(format=f.format, ckpt_file=f.ckpt_file, output=f.output,
                         tflite_dtype=f.tflite_dtype, **values), [note]
