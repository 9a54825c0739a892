"""sfm-export: a trained model as a SavedModel, a TensorFlow Lite file, or a TF1 checkpoint for the original code
(flags: flags/export.py)."""

from __future__ import annotations

from absl import flags

from flags import export as export_flags
from sfmlearner_tf.apps import run_program


def _export(flag_values: flags.FlagValues) -> None:
    from sfmlearner_tf.export import convert_to_tflite, export_savedmodel, export_tf1_checkpoint
    from sfmlearner_tf.io_utils import atomic_write_bytes
    from sfmlearner_tf.models.restore import restore_depth_net

    request, notes = export_flags.request_and_notes_from_flags(flag_values)
    for note in filter(None, notes):
        print(f"sfm-export: {note}", flush=True)
    if request.format == "tf1":
        info = export_tf1_checkpoint(request.ckpt_file, request.output, request.seq_length, request.do_exp)
        print(f"sfm-export: {info['variables']} variables of {info['checkpoint']} -> TF1 checkpoint {info['prefix']}")
        return
    depth_net, info = restore_depth_net(request.ckpt_file)
    size = f"{request.img_height}x{request.img_width}"
    if request.format == "savedmodel":
        path = export_savedmodel(depth_net, request.output, request.img_height, request.img_width,
                                 {"checkpoint": str(info["checkpoint"])})
        print(f"sfm-export: DispNet of {info['checkpoint']} -> SavedModel {path} (signature serving_default: uint8 "
              f"image of any size -> depth {size})")
        return
    flatbuffer = convert_to_tflite(depth_net, request.img_height, request.img_width, request.tflite_dtype)
    atomic_write_bytes(request.output, flatbuffer)
    print(f"sfm-export: DispNet of {info['checkpoint']} -> {request.output} ({request.tflite_dtype} weights, "
          f"{len(flatbuffer) / 2**20:.1f} MiB; input uint8 [1, {request.img_height}, {request.img_width}, 3])")


def main() -> None:
    """Console-script entry point (sfm-export)."""
    run_program("sfm-export", export_flags.define_flags, _export)


if __name__ == "__main__":
    main()
