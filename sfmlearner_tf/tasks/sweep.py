"""sfm-sweep: train and score every row x seed of a grid (sweep_grid.py), resumable and shardable, and gather the
Fig. 9-like table (sweep_table.py).

A finished run (its result JSON there, of the same settings) is skipped; an interrupted one resumes from its
checkpoints; a result or run folder of other settings is refused, never overwritten. Shard i of n trains the runs
whose index % n == i and writes only their files, so shards may share a work folder or run on several machines
(copy every runs/*.json into one work folder, then gather with report_only)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.io_utils import atomic_write_text, claim_output_folder
from sfmlearner_tf.progress import ProgressReporter
from sfmlearner_tf.tasks.scored_runs import (
    RunStoppedError,
    metric_spreads,
    paired_spreads,
    score_depth,
    train_and_score,
)
from sfmlearner_tf.tasks.sweep_plan import (
    SweepConfig,
    eval_config,
    image_size,
    plan_runs,
    read_json,
    run_record,
    run_status,
    shard_runs,
    synthetic_data,
    train_config,
)
from sfmlearner_tf.tasks.sweep_table import format_paired_table, format_sweep_table


@dataclass(frozen=True)
class SweepOutcome:
    """What run_sweep did: the plan's listing (dry run), the runs it trained, the gathered report (unsharded or
    report_only), or the run a signal stopped (saved; rerun to resume)."""

    plan: str = ""
    trained: tuple[str, ...] = ()
    report: dict | None = None
    stopped: RunStoppedError | None = None


def format_plan(config: SweepConfig) -> str:
    """The sweep's runs, one line each: index, shard, status and name; this shard's runs are marked with *."""
    runs = plan_runs(config)
    index, count = config.shard
    statuses = {run.name: run_status(config, run)[0] for run in runs}
    mine = [run for run in runs if run.index % count == index]
    pending = sum(statuses[run.name] != "done" for run in mine)
    lines = [f"grid {config.grid.name} ({config.grid.path}): {len(config.grid.rows)} rows x {len(config.run_seeds)} "
             f"seeds = {len(runs)} runs; shard {index}/{count}: {len(mine)} runs, {pending} to train",
             f"{'':2}{'#':>4}  {'shard':<6}{'status':<16}run"]
    for run in runs:
        mark = "*" if run.index % count == index else " "
        lines.append(f"{mark:2}{run.index:>4}  {run.index % count:<6}{statuses[run.name]:<16}{run.name}")
    return "\n".join(lines)


def run_shard(config: SweepConfig) -> list[str]:
    """Trains and scores this shard's runs that are not done (the synthetic drives first rendered and prepared if
    needed) and returns their names. Refuses, before training anything, a run whose files are of other settings.
    A stop by signal raises RunStoppedError (the run saved)."""
    from sfmlearner_tf.tasks.demo import prepare_demo_data

    runs = shard_runs(config)
    statuses = {run.name: run_status(config, run) for run in runs}
    for status, why in statuses.values():
        if status == "other settings":
            raise ConfigError(why)
    pending = [run for run in runs if statuses[run.name][0] != "done"]
    if pending and not config.data_dir:
        prepare_demo_data(synthetic_data(config, pending[0]))
    index, count = config.shard
    progress = ProgressReporter(len(pending), f"sfm-sweep shard {index}/{count}", every_s=0.0, unit="runs")
    for run in pending:
        record = run_record(config, run)
        claim_output_folder(config.runs_dir / run.name, record)
        result = train_and_score(train_config(config, run), functools.partial(score_depth, eval_config(config, run)),
                                 config.runs_dir / f"{run.name}.json", extra={"run": record})
        progress.update(1, extra=f"{run.name}: abs_rel {result['metrics']['abs_rel']:.4f}")
    return [run.name for run in pending]


def gather(config: SweepConfig) -> dict:
    """Reads the results there are (of this sweep's settings) and writes the table (and, with the grid's reference
    row, the paired differences to it) as <work_dir>/sweep_<grid name>.md and, with every row's spreads, the runs'
    scores and the missing runs (name -> status), as sweep_<grid name>.json; with `crops` also the depth crops
    (sweep_figure.py). Returns that report."""
    runs = plan_runs(config)
    results, missing = {}, {}
    for run in runs:
        status, _ = run_status(config, run)
        if status == "done":
            results[run.name] = read_json(config.runs_dir / f"{run.name}.json")
        else:
            missing[run.name] = status
    grid = config.grid
    scored = {row.label: [results[run.name] for run in runs if run.label == row.label and run.name in results]
              for row in grid.rows}
    rows = []
    for row in grid.rows:
        own = scored[row.label]
        rows.append({"label": row.label, "settings": next(r.settings for r in runs if r.label == row.label),
                     "n": len(own), "seeds": [result["seed"] for result in own], "metrics": metric_spreads(own)})
        if grid.reference and row.label != grid.reference:
            paired = paired_spreads(own, scored[grid.reference])
            rows[-1]["paired"] = {"reference": grid.reference, "metrics": paired,
                                  "n": next(iter(paired.values()))["n"] if paired else 0}
    table = format_sweep_table(rows)
    if grid.reference:
        table += (f"\n\nPaired differences to {grid.reference}, seed by seed (mean ± sd over the seeds both ran):\n\n"
                  + format_paired_table(rows, grid.reference))
    report = {"grid": grid.name, "grid_file": grid.path, "description": grid.description,
              "seeds": list(config.run_seeds), "rows": rows, "missing": missing, "runs": results, "table": table}
    folder = Path(config.work_dir)
    report["files"] = [str(folder / f"sweep_{grid.name}.md"), str(folder / f"sweep_{grid.name}.json")]
    if config.crops and results:
        from sfmlearner_tf.tasks.sweep_figure import crop_checkpoints, write_crops

        report["files"].append(write_crops(config, crop_checkpoints(config, runs, results),
                                           image_size(runs[0].settings)))
    missing_line = f"\n\nMissing runs: {', '.join(f'{name} ({why})' for name, why in missing.items())}\n" if missing \
        else "\n"
    about = f"{grid.description}\n\n" if grid.description else ""
    atomic_write_text(report["files"][0], f"# {grid.name}\n\n{about}{table}{missing_line}")
    atomic_write_text(report["files"][1], json.dumps(report, indent=1, ensure_ascii=False))
    return report


def run_sweep(config: SweepConfig) -> SweepOutcome:
    """What sfm-sweep runs: the listing (dry_run), the table alone (report_only), or this shard's runs and then,
    unsharded, the table."""
    if config.dry_run:
        return SweepOutcome(plan=format_plan(config))
    trained: list[str] = []
    if not config.report_only:
        try:
            trained = run_shard(config)
        except RunStoppedError as stop:
            return SweepOutcome(stopped=stop)
    gathered = config.report_only or config.shard[1] == 1
    return SweepOutcome(trained=tuple(trained), report=gather(config) if gathered else None)
