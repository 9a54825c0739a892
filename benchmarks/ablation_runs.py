"""What the ablation benchmarks share, from the library (sfmlearner_tf/tasks/scored_runs.py, which sfm-sweep uses
too): train one arm (resuming) and cache its held-out scores on the demo's drives, the depth net of a checkpoint,
and the spread over seeds of each arm and of its paired difference to the reference arm."""

from __future__ import annotations

from pathlib import Path

from sfmlearner_tf.tasks.demo import DemoConfig, evaluate_held_out
from sfmlearner_tf.tasks.scored_runs import (
    SCORED_KEYS,
    RunStoppedError,
    depth_net_of,
    mean_sd,
    spread,
    summarize,
    train_and_score,
)
from sfmlearner_tf.training.config import TrainConfig

__all__ = ["SCORED_KEYS", "depth_net_of", "mean_sd", "spread", "summarize", "train_and_evaluate"]


def train_and_evaluate(train_config: TrainConfig, data: DemoConfig, result_path: Path, program: str) -> dict:
    """Trains (resuming) unless `result_path` exists; scores the final checkpoint on the demo's held-out drives and
    caches {"seed", "checkpoint", "metrics", "num_images", "steps_per_second"} there. A stop by signal exits
    128 + its number, the run saved (a rerun resumes it)."""
    try:
        return train_and_score(train_config, lambda net: evaluate_held_out(data, net), result_path)
    except RunStoppedError as stop:
        print(f"{program}: {stop}")
        raise SystemExit(128 + stop.signum) from None
