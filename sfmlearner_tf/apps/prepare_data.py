"""sfm-prepare-data: turn raw drives into SfMLearner training samples (see flags/prepare_data.py)."""

from __future__ import annotations

from absl import flags

from flags import prepare_data as prepare_flags
from sfmlearner_tf.apps import run_program
from sfmlearner_tf.io_utils import output_locks


def _prepare(flag_values: flags.FlagValues) -> None:
    from sfmlearner_tf.tasks.prepare import prepare_request

    request = prepare_flags.config_from_flags(flag_values)
    with output_locks("sfm-prepare-data", [(request.config.dump_root, "folder", "--dump_root"),
                                             (request.tfds_data_dir, "folder", "--tfds_data_dir")]):
        _, tfds_line = prepare_request(request)
    if tfds_line:
        print(f"sfm-prepare-data: {tfds_line}", flush=True)


def main() -> None:
    """Console-script entry point (sfm-prepare-data)."""
    run_program("sfm-prepare-data", prepare_flags.define_flags, _prepare)


if __name__ == "__main__":
    main()
