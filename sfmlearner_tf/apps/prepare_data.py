"""sfm-prepare-data: turn raw drives into SfMLearner training samples (see flags/prepare_data.py)."""

from __future__ import annotations

from flags.prepare_data import FLAGS, config_from_flags
from sfmlearner_tf.apps import run_program


def _prepare() -> None:
    from sfmlearner_tf.io_utils import check_writable_folder
    from sfmlearner_tf.tasks.prepare import prepare

    config = config_from_flags()
    if FLAGS.tfds_data_dir:
        check_writable_folder(FLAGS.tfds_data_dir, "--tfds_data_dir")
    result = prepare(config)
    if FLAGS.tfds_data_dir and result.lists_written:
        from sfmlearner_tf.data.tfds_builder import build_prepared_samples

        print(f"sfm-prepare-data: TFDS data set in {FLAGS.tfds_data_dir}: "
              f"{build_prepared_samples(config.dump_root, FLAGS.tfds_data_dir)}")


def main() -> None:
    """Console-script entry point (sfm-prepare-data)."""
    run_program("sfm-prepare-data", _prepare)


if __name__ == "__main__":
    main()
