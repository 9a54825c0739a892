"""sfm-train: trains SfMLearner (optionally with the boundary loss) from absl flags; see flags/train.py.

    python run_train.py --dataset_dir=/data/kitti_prepared --lambda_seg=2.5 --smooth_weight=0.75
    python run_train.py --flagfile=flags/presets/dsfm_best_seg2.5_smooth0.75_lr2e-4_restart.cfg --dataset_dir=...
"""

from __future__ import annotations

from sfmlearner_tf.apps import run_program  # first: it quiets TensorFlow before anything imports it

# isort: split
from absl import flags

from flags import train as train_flags


def _train(flag_values: flags.FlagValues) -> int | None:
    """Trains; a run stopped by a signal exits with 128 + the signal number, after saving."""
    from sfmlearner_tf.training import train

    result = train(train_flags.config_from_flags(flag_values))
    return None if result.signum is None else 128 + result.signum


def main() -> None:
    """Console-script entry point (sfm-train)."""
    run_program("sfm-train", train_flags.define_flags, _train)


if __name__ == "__main__":
    main()
