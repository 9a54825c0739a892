"""The sfm-export job: a trained model as a SavedModel, a TensorFlow Lite file or a TF1 checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from sfmlearner_tf.export.tflite import TFLITE_DTYPES
from sfmlearner_tf.models import DISP_NET_MULTIPLE
from sfmlearner_tf.settings import SEQ_LENGTH, check_settings, setting

FORMATS = ("savedmodel", "tflite", "tf1")


@dataclass(frozen=True)
class ExportRequest:
    """What sfm-export does: write the model of `ckpt_file` to `output` in `format`. The sizes and the pose net's
    shape default to the checkpoint's run record (sfmlearner_tf.run_record.RECORDED_SETTINGS)."""

    format: str = setting(help="savedmodel: DispNet with a serving signature (uint8 image of any size -> depth); "
                          "tflite: DispNet at the model's size; tf1: both nets as a TF1 checkpoint for the original "
                          "code.", choices=FORMATS)
    ckpt_file: str = setting(help="Checkpoint: one of ours, a run folder of ours (the newest is used), or TF1.")
    output: str = setting(help="savedmodel: a new folder; tflite: a .tflite file; tf1: a checkpoint prefix (e.g. "
                          "exported/model-1500).")
    img_height: int = setting(128, "Model input height (default: the checkpoint's run record, else 128).",
                              multiple_of=DISP_NET_MULTIPLE)
    img_width: int = setting(416, "Model input width (default: the checkpoint's run record, else 416).",
                             multiple_of=DISP_NET_MULTIPLE)
    tflite_dtype: str = setting("float32", "tflite: weight precision (float16 halves the file).",
                                choices=TFLITE_DTYPES)
    seq_length: int = setting(3, "tf1: frames of the pose net (default: the run record, else 3).",
                              rule=SEQ_LENGTH)
    do_exp: bool = setting(False, "tf1: export the explainability branch too (default: the run record).")

    def __post_init__(self) -> None:
        check_settings(self)


def export_model(request: ExportRequest) -> str:
    """Writes the export (an existing --output is refused, whatever its format); returns one line saying what was
    written from which checkpoint."""
    from sfmlearner_tf.export import convert_to_tflite, export_savedmodel, export_tf1_checkpoint
    from sfmlearner_tf.io_utils import atomic_write_bytes, refuse_existing
    from sfmlearner_tf.models.restore import restore_depth_net

    refuse_existing(request.output, "--output")

    if request.format == "tf1":
        info = export_tf1_checkpoint(request.ckpt_file, request.output, request.seq_length, request.do_exp)
        return f"{info['variables']} variables of {info['checkpoint']} -> TF1 checkpoint {info['prefix']}"
    depth_net, info = restore_depth_net(request.ckpt_file)
    size = f"{request.img_height}x{request.img_width}"
    if request.format == "savedmodel":
        path = export_savedmodel(depth_net, request.output, request.img_height, request.img_width,
                                 {"checkpoint": str(info["checkpoint"])})
        return (f"DispNet of {info['checkpoint']} -> SavedModel {path} (signature serving_default: uint8 image of "
                f"any size -> depth {size})")
    flatbuffer = convert_to_tflite(depth_net, request.img_height, request.img_width, request.tflite_dtype)
    atomic_write_bytes(request.output, flatbuffer)
    return (f"DispNet of {info['checkpoint']} -> {request.output} ({request.tflite_dtype} weights, "
            f"{len(flatbuffer) / 2**20:.1f} MiB; input uint8 [1, {request.img_height}, {request.img_width}, 3])")
