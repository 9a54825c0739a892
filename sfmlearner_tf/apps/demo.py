"""sfm-demo: renders synthetic drives, prepares them with boundary panels, trains on CPU, and prints depth metrics
on the held-out drives before and after training (flags: flags/demo.py)."""

from __future__ import annotations

import sys

from absl import app


def run(argv: list[str]) -> None:
    """Parses flags, runs the demo, prints the before/after table."""
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from flags import demo as demo_flags
    from sfmlearner_tf.errors import SfmLearnerError
    from sfmlearner_tf.training.demo import run_demo

    try:
        summary = run_demo(demo_flags.config_from_flags())
    except SfmLearnerError as error:
        print(f"sfm-demo: error: {error}", file=sys.stderr)
        sys.exit(1)
    print(f"\nDepth on the held-out synthetic drives (median-scaled), {summary['steps']} steps, "
          f"{summary['total_seconds']:.0f} s in all:")
    print(summary["table"])


def main() -> None:
    """Console-script entry point (sfm-demo)."""
    from flags import demo  # noqa: F401  (defines the flags before absl parses argv)

    app.run(run)


if __name__ == "__main__":
    main()
