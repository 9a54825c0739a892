"""sfm-sweep: trains and scores every row x seed of a grid (the seed paper's hyperparameter search, Fig. 9, or
any grid of presets and settings), resumable and shardable over processes or machines, and prints the table of
mean ± sd over seeds (flags: flags/sweep.py; the grid format: sfmlearner_tf/tasks/sweep_grid.py)."""

from __future__ import annotations

from absl import flags

from flags import sweep as sweep_flags
from sfmlearner_tf.apps import run_program


def _sweep(flag_values: flags.FlagValues) -> int:
    """Runs the sweep and prints the listing or the table; a stop by signal exits with 128 + its number."""
    from sfmlearner_tf.tasks.sweep import run_sweep

    config = sweep_flags.config_from_flags(flag_values)
    outcome = run_sweep(config)
    if outcome.plan:
        print(outcome.plan)
        return 0
    if outcome.stopped is not None:
        print(f"sfm-sweep: {outcome.stopped} (the same command resumes it)", flush=True)
        return 128 + outcome.stopped.signum
    report = outcome.report
    if report is None:
        index, count = config.shard
        print(f"sfm-sweep: shard {index}/{count} done ({len(outcome.trained)} runs trained); gather the table with "
              "--report_only once every shard is done")
        return 0
    print(f"\n{report['grid']}: mean ± sd over seeds {report['seeds']} (n = seeds scored)\n{report['table']}")
    if report["missing"]:
        print("missing: " + ", ".join(f"{name} ({status})" for name, status in report["missing"].items()))
    print(f"written: {', '.join(report['files'])}")
    return 0


def main() -> None:
    """Console-script entry point (sfm-sweep)."""
    run_program("sfm-sweep", sweep_flags.define_flags, _sweep)


if __name__ == "__main__":
    main()
