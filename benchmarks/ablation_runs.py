"""What the ablation benchmarks share: train one arm (resuming) and cache its held-out scores, the depth net of a
checkpoint, and the spread over seeds of each arm and of its paired difference to the reference arm."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from sfmlearner_tf.evaluation.depth_metrics import SUMMARY_METRICS
from sfmlearner_tf.io_utils import atomic_write_text
from sfmlearner_tf.tasks.demo import BOUNDARY_KEYS, DemoConfig, evaluate_held_out

SCORED_KEYS = (*SUMMARY_METRICS, *BOUNDARY_KEYS)


def depth_net_of(checkpoint: str):
    """A DispNet with the weights of `checkpoint` (ours or a TF1 one)."""
    from sfmlearner_tf.models import DispNet
    from sfmlearner_tf.models.tf1_checkpoint import restore_models

    net = DispNet().ensure_built()
    restore_models(checkpoint, depth_net=net)
    return net


def train_and_evaluate(train_config, data: DemoConfig, result_path: Path, program: str) -> dict:
    """Trains (resuming) unless `result_path` exists; scores the final checkpoint on the held-out drives and caches
    {"seed", "checkpoint", "metrics", "num_images", "steps_per_second"} there. A stop by signal exits 128 + its number,
    the run saved (a rerun resumes it)."""
    from sfmlearner_tf.training.loop import train

    if result_path.is_file():
        return json.loads(result_path.read_text())
    result = train(train_config)
    if result.stopped_by == "signal":
        print(f"{program}: stopped at step {result.step} of {train_config.checkpoint_dir}; rerun to resume")
        raise SystemExit(128 + result.signum)
    scores = {"seed": train_config.seed, "checkpoint": result.checkpoint,
              **evaluate_held_out(data, depth_net_of(result.checkpoint)), "steps_per_second": result.steps_per_second}
    atomic_write_text(result_path, json.dumps(scores, indent=1))
    return scores


def spread(values: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation (0 for one value), min, max and the number of values n."""
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": statistics.fmean(values), "std": std, "min": min(values), "max": max(values), "n": len(values)}


def mean_sd(stats: dict[str, float]) -> str:
    """"mean ± sd" of a spread over several seeds, the value alone for one."""
    return f"{stats['mean']:.4f} ± {stats['std']:.4f}" if stats["n"] > 1 else f"{stats['mean']:.4f}"


def summarize(runs: dict[str, list[dict]], reference: str | None = None) -> dict:
    """Per arm and metric the spread over seeds, and for every other arm the spread of the paired difference
    "<arm> - <reference>" over the seeds both arms ran (a run is identified by its "seed", or else by its
    position in the list). The first arm is the reference unless named."""
    reference = reference or next(iter(runs))
    out: dict = {}
    for arm, results in runs.items():
        out[arm] = {key: spread([r["metrics"][key] for r in results]) for key in SCORED_KEYS
                    if results and all(key in r["metrics"] for r in results)}
        if arm != reference:
            base = {r.get("seed", i): r for i, r in enumerate(runs[reference])}
            pairs = [(r, base[r.get("seed", i)]) for i, r in enumerate(results) if r.get("seed", i) in base]
            out[f"{arm} - {reference}"] = {
                key: spread([r["metrics"][key] - b["metrics"][key] for r, b in pairs]) for key in SCORED_KEYS
                if pairs and all(key in r["metrics"] and key in b["metrics"] for r, b in pairs)}
    return out
