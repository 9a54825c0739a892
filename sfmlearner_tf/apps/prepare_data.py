"""sfm-prepare-data: turn raw drives into SfMLearner training samples (see flags/prepare_data.py)."""

from __future__ import annotations

from absl import flags

from flags import prepare_data as prepare_flags
from sfmlearner_tf.apps import run_program


def _prepare(flag_values: flags.FlagValues) -> None:
    from sfmlearner_tf.io_utils import check_writable_folder
    from sfmlearner_tf.tasks.prepare import prepare

    request = prepare_flags.config_from_flags(flag_values)
    tfds_data_dir = request.tfds_data_dir
    if tfds_data_dir:
        check_writable_folder(tfds_data_dir, "--tfds_data_dir")
    result = prepare(request.config)
    if tfds_data_dir and result.lists_written:
        from sfmlearner_tf.data.tfds_builder import build_prepared_samples

        print(f"sfm-prepare-data: TFDS data set in {tfds_data_dir}: "
              f"{build_prepared_samples(request.config.dump_root, tfds_data_dir)}")


def main() -> None:
    """Console-script entry point (sfm-prepare-data)."""
    run_program("sfm-prepare-data", prepare_flags.define_flags, _prepare)


if __name__ == "__main__":
    main()
