"""sfm-eval: Eigen-split depth evaluation (--split=eigen) or odometry pose ATE (--split=odometry --test_seq=N).

Reads flags (flags/eval.py), runs sfmlearner_tf.tasks.evaluate, prints the table in the original's column order;
the JSON with all numbers goes to --output_dir.
"""

from __future__ import annotations

from sfmlearner_tf.apps import run_program  # first: it quiets TensorFlow before anything imports it

# isort: split
from absl import flags

import flags.eval as eval_flags
from sfmlearner_tf.io_utils import output_locks


def _evaluate(flag_values: flags.FlagValues) -> None:
    from sfmlearner_tf.tasks.evaluate import evaluate

    config, notes = eval_flags.config_and_notes_from_flags(flag_values)
    for note in filter(None, notes):
        print(f"sfm-eval: {note}", flush=True)
    with output_locks("sfm-eval", [(config.output_dir, "folder", "--output_dir")]):
        print(evaluate(config)["table"])


def main() -> None:
    """Console entry point (sfm-eval)."""
    run_program("sfm-eval", eval_flags.define_flags, _evaluate)


if __name__ == "__main__":
    main()
