"""Training runs scored on held-out data, shared by sfm-sweep and the ablation benchmarks: train one run (resuming)
and cache its scores, the depth net of a checkpoint, and the spread over seeds of each arm and of its paired
difference to a reference arm."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path

from sfmlearner_tf.evaluation.boundary_eval import BOUNDARY_KEYS
from sfmlearner_tf.evaluation.depth_metrics import SUMMARY_METRICS
from sfmlearner_tf.io_utils import atomic_write_text
from sfmlearner_tf.training.config import TrainConfig

SCORED_KEYS = (*SUMMARY_METRICS, *BOUNDARY_KEYS)


class RunStoppedError(Exception):
    """A run stopped by SIGINT/SIGTERM after its state was saved: running it again resumes it."""

    def __init__(self, checkpoint_dir: str, step: int, signum: int) -> None:
        super().__init__(f"stopped at step {step} of {checkpoint_dir}; rerun to resume")
        self.checkpoint_dir, self.step, self.signum = checkpoint_dir, step, signum


def depth_net_of(checkpoint: str):
    """A DispNet with the weights of `checkpoint` (ours or a TF1 one)."""
    from sfmlearner_tf.models import DispNet
    from sfmlearner_tf.models.tf1_checkpoint import restore_models

    net = DispNet().ensure_built()
    restore_models(checkpoint, depth_net=net)
    return net


def score_depth(eval_config, depth_net, with_baselines: bool = False) -> dict:
    """{"metrics", "num_images"} of `depth_net` under a DepthEvalConfig: the median-scaled depth metrics and the
    boundary errors; with `with_baselines` (and eval_config.baselines) also the priors' "baselines"."""
    from sfmlearner_tf.evaluation import evaluate_depth

    result = evaluate_depth(eval_config, depth_net=depth_net)
    scores = {name: float(result["metrics"][name]) for name in SUMMARY_METRICS}
    scores.update({key: float(value) for key, value in (result.get("boundary") or {}).items() if key in BOUNDARY_KEYS})
    out = {"metrics": scores, "num_images": result["num_images"]}
    if with_baselines:
        out["baselines"] = result["baselines"]
    return out


def train_and_score(train_config: TrainConfig, score: Callable[[object], dict], result_path: Path,
                    extra: dict | None = None) -> dict:
    """Trains (resuming) unless `result_path` exists; scores the final checkpoint's depth net with `score` (which
    returns {"metrics", "num_images"}) and caches {"seed", "checkpoint", "metrics", "num_images",
    "steps_per_second", **extra} there atomically. A stop by signal raises RunStoppedError, the run saved."""
    from sfmlearner_tf.training.loop import train

    if result_path.is_file():
        return json.loads(result_path.read_text())
    result = train(train_config)
    if result.stopped_by == "signal":
        raise RunStoppedError(train_config.checkpoint_dir, result.step, result.signum)
    scores = {"seed": train_config.seed, "checkpoint": result.checkpoint, **score(depth_net_of(result.checkpoint)),
              "steps_per_second": result.steps_per_second, **(extra or {})}
    atomic_write_text(result_path, json.dumps(scores, indent=1))
    return scores


def spread(values: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation (0 for one value), min, max and the number of values n."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std, "min": min(values), "max": max(values), "n": len(values)}


def mean_sd(stats: dict[str, float], signed: bool = False) -> str:
    """"mean ± sd" of a spread over several seeds, the value alone for one; `signed` writes the mean's sign (for
    differences)."""
    mean = f"{stats['mean']:+.4f}" if signed else f"{stats['mean']:.4f}"
    return f"{mean} ± {stats['std']:.4f}" if stats["n"] > 1 else mean


def metric_spreads(results: list[dict]) -> dict[str, dict[str, float]]:
    """The spread over `results` (one per seed) of each key of SCORED_KEYS that every result has."""
    return {key: spread([r["metrics"][key] for r in results]) for key in SCORED_KEYS
            if results and all(key in r["metrics"] for r in results)}


def paired_spreads(results: list[dict], reference: list[dict]) -> dict[str, dict[str, float]]:
    """Per key of SCORED_KEYS the spread of the paired difference result - reference over the runs both lists hold
    (a run is identified by its "seed", or else by its position in the list); {} when none is shared."""
    base = {r.get("seed", i): r for i, r in enumerate(reference)}
    pairs = [(r, base[r.get("seed", i)]) for i, r in enumerate(results) if r.get("seed", i) in base]
    return {key: spread([r["metrics"][key] - b["metrics"][key] for r, b in pairs]) for key in SCORED_KEYS
            if pairs and all(key in r["metrics"] and key in b["metrics"] for r, b in pairs)}


def summarize(runs: dict[str, list[dict]], reference: str | None = None) -> dict:
    """Per arm and metric the spread over seeds, and for every other arm the spread of the paired difference
    "<arm> - <reference>" (paired_spreads). The first arm is the reference unless named."""
    reference = reference or next(iter(runs))
    out: dict = {}
    for arm, results in runs.items():
        out[arm] = metric_spreads(results)
        if arm != reference:
            out[f"{arm} - {reference}"] = paired_spreads(results, runs[reference])
    return out
