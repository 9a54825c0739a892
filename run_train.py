"""sfm-train: trains SfMLearner (optionally with the boundary loss) from absl flags; see flags/train.py.

    python run_train.py --dataset_dir=/data/kitti_prepared --lambda_seg=2.5 --smooth_weight=0.75
    python run_train.py --flagfile=flags/presets/dsfm_best_seg2.5_smooth0.75_lr2e-4_restart.cfg --dataset_dir=...
"""

from __future__ import annotations

import sys

from absl import app

from flags import train as train_flags
from sfmlearner_tf.errors import SfmLearnerError


def run(argv: list[str]) -> None:
    """Parses flags, trains, and exits non-zero on a data/config/checkpoint error or 128+signal when stopped."""
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from sfmlearner_tf.training import train

    try:
        result = train(train_flags.config_from_flags())
    except SfmLearnerError as error:
        print(f"sfm-train: error: {error}", file=sys.stderr)
        sys.exit(1)
    if result.signum is not None:
        sys.exit(128 + result.signum)


def main() -> None:
    """Console-script entry point (sfm-train)."""
    app.run(run)


if __name__ == "__main__":
    main()
