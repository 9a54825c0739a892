"""sfm-prepare-data: turn raw drives into SfMLearner training samples (see flags/prepare_data.py)."""

from __future__ import annotations

import sys

from absl import app

from sfmlearner_tf.errors import SfmLearnerError


def run(argv: list[str]) -> None:
    from flags.prepare_data import FLAGS, config_from_flags
    from sfmlearner_tf.data.prepare import prepare_dataset

    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {argv[1:]}")
    try:
        config = config_from_flags()
        result = prepare_dataset(config)
        if FLAGS.tfds_data_dir and result.lists_written:
            from sfmlearner_tf.data.tfds_builder import build_prepared_samples

            print(f"sfm-prepare-data: TFDS data set in {FLAGS.tfds_data_dir}: "
                  f"{build_prepared_samples(config.dump_root, FLAGS.tfds_data_dir)}")
    except SfmLearnerError as exc:
        sys.exit(f"sfm-prepare-data: {exc}")


def main() -> None:
    import flags.prepare_data  # noqa: F401 (defines the flags)

    app.run(run)


if __name__ == "__main__":
    main()
