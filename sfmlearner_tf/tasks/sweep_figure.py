"""The sweep's depth crops: a few held-out frames of the synthetic drives, each cut around its largest object and
enlarged, with the input, the true depth, the initial checkpoint's depth (when the grid fine-tunes one) and one
depth per row (the row's first scored seed), so that a reader sees what each row does at object edges."""

from __future__ import annotations

from pathlib import Path

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.io_utils import atomic_save_image
from sfmlearner_tf.tasks.scored_runs import depth_net_of
from sfmlearner_tf.tasks.sweep_plan import SweepConfig, SweepRun, eval_root


def crop_checkpoints(config: SweepConfig, runs: list[SweepRun], results: dict[str, dict]) -> dict[str, str]:
    """Column label -> checkpoint: "initial" (the grid's or --init_checkpoint's) first, then per row with a scored
    run "<label> (seed <s>)" of its first seed scored."""
    columns = {}
    init = config.init_checkpoint or config.grid.init_checkpoint
    if init:
        columns["initial"] = init
    for row in config.grid.rows:
        scored = [run for run in runs if run.label == row.label and run.name in results]
        if scored:
            columns[f"{row.label} (seed {scored[0].seed})"] = results[scored[0].name]["checkpoint"]
    return columns


def write_crops(config: SweepConfig, columns: dict[str, str], size: tuple[int, int]) -> str:
    """Writes <work_dir>/sweep_<grid name>_crops.png with one depth column per checkpoint of `columns` (label ->
    checkpoint, as crop_checkpoints gives), predicted at `size` (height, width), and returns its path. A DataError
    names the test data when it lacks the true depth and instance masks (KITTI does: crops need the synthetic
    drives)."""
    from sfmlearner_tf.evaluation.depth_predict import predict_depths
    from sfmlearner_tf.evaluation.figures import depth_rows_figure
    from sfmlearner_tf.evaluation.split_files import find_test_file_list, read_test_lines, resolve_test_frames

    root = eval_root(config)
    frames = resolve_test_frames(root, read_test_lines(find_test_file_list(root)))
    lacking = [f for f in frames if not (f.dense_depth.is_file() and f.instances.is_file())]
    if lacking:
        raise DataError(f"{root}: --crops needs the true depth and instance masks of the synthetic drives; "
                        f"{len(lacking)} test frames lack them, e.g. {lacking[0].dense_depth}")
    depths = {label: predict_depths(depth_net_of(checkpoint), [f.image for f in frames], *size,
                                    progress_every_s=float("inf"))
              for label, checkpoint in columns.items()}
    path = Path(config.work_dir) / f"sweep_{config.grid.name}_crops.png"
    atomic_save_image(path, depth_rows_figure(frames, depths))
    return str(path)
