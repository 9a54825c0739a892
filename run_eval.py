"""sfm-eval: Eigen-split depth evaluation (--split=eigen) or odometry pose ATE (--split=odometry --test_seq=N).

Reads flags (flags/eval.py), runs sfmlearner_tf.evaluation, prints the table in the original's column order;
the JSON with all numbers goes to --output_dir.
"""

from __future__ import annotations

from sfmlearner_tf.apps import run_program  # first: it quiets TensorFlow before anything imports it

# isort: split
import flags.eval as eval_flags


def _evaluate() -> None:
    from sfmlearner_tf.evaluation import DepthEvalConfig, evaluate_depth, evaluate_pose

    config, notes = eval_flags.config_and_notes_from_flags()
    for note in filter(None, notes):
        print(f"sfm-eval: {note}", flush=True)
    result = evaluate_depth(config) if isinstance(config, DepthEvalConfig) else evaluate_pose(config)
    print(result["table"])


def main() -> None:
    """Console entry point (sfm-eval)."""
    run_program("sfm-eval", _evaluate)


if __name__ == "__main__":
    main()
