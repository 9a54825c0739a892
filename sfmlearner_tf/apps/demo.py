"""sfm-demo: renders synthetic drives, prepares them with boundary panels, trains on CPU, and prints depth metrics
on the held-out drives before and after training, beside image-blind priors (flags: flags/demo.py)."""

from __future__ import annotations

from absl import flags

from flags import demo as demo_flags
from sfmlearner_tf.apps import run_program
from sfmlearner_tf.io_utils import output_locks


def _demo(flag_values: flags.FlagValues) -> int:
    """Runs the demo and prints the tables; a stop by signal exits with 128 + its number, resumable."""
    from sfmlearner_tf.tasks.demo import run_demo

    config = demo_flags.config_from_flags(flag_values)
    with output_locks("sfm-demo", [(config.work_dir, "folder", "--work_dir")]):
        summary = run_demo(config)
    if summary["stopped_by"] == "signal":
        print(f"sfm-demo: stopped at step {summary['steps']} (saved {summary['checkpoint']}); run the same "
              "command to resume", flush=True)
        return 128 + summary["signum"]
    print(f"\nDepth on {summary['num_test_images']} images of the held-out synthetic drives (median-scaled), "
          f"{summary['steps']} steps of the {summary['recipe']} recipe ({_settings_text(summary['recipe_settings'])}), "
          f"{summary['total_seconds']:.0f} s in all:")
    print(summary["table"])
    print("\nLearning curve (held-out drives; dbe in px, edge_sharpness: higher is sharper):")
    print(summary["curve_table"])
    for name, path in summary["figures"].items():
        print(f"{name.replace('_', ' ')}: {path}")
    return 0


def _settings_text(settings: dict) -> str:
    """A recipe's settings as flags, e.g. "--depth_smoothness --noaugment --smooth_weight=0.05"."""
    flags_text = [f"--{'' if value else 'no'}{name}" if isinstance(value, bool) else f"--{name}={value}"
                  for name, value in settings.items()]
    return " ".join(flags_text) or "the original's settings"


def main() -> None:
    """Console-script entry point (sfm-demo)."""
    run_program("sfm-demo", demo_flags.define_flags, _demo)


if __name__ == "__main__":
    main()
