"""sfm-export: a trained model as a SavedModel, a TensorFlow Lite file, or a TF1 checkpoint for the original code
(flags: flags/export.py)."""

from __future__ import annotations

from absl import flags

from flags import export as export_flags
from sfmlearner_tf.apps import run_program
from sfmlearner_tf.io_utils import output_locks


def _export(flag_values: flags.FlagValues) -> None:
    from sfmlearner_tf.tasks.export import export_model

    request, notes = export_flags.request_and_notes_from_flags(flag_values)
    for note in filter(None, notes):
        print(f"sfm-export: {note}", flush=True)
    with output_locks("sfm-export", [(request.output, "file", "--output")]):
        print(f"sfm-export: {export_model(request)}", flush=True)


def main() -> None:
    """Console-script entry point (sfm-export)."""
    run_program("sfm-export", export_flags.define_flags, _export)


if __name__ == "__main__":
    main()
