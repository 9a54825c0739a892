"""What the original's training recipe costs: the demo's protocol trained with the faithful recipe, with each
opt-in switch alone, with the PyTorch port's four differences ("port") and with every switch ("all"), over
several seeds, scored on the held-out drives. The improved recipe (arm `improved`) is depth_smoothness+edge_aware
without the scale-and-crop (augment=False).

Protocol (size "demo"): sfm-demo's data (8 training drives, 3 held out, 64x208, 3 frames), 1000 steps, batch 4,
Adam 2e-4, smoothness 0.1, no explainability, boundary loss off. The seed sets the initial weights and the data
order and is shared by all arms, so arms are paired seed for seed. Per arm: mean ± sd over seeds of abs_rel, rms,
δ<1.25, DBE accuracy/completeness, edge sharpness and steps/s, and the paired difference to the faithful arm,
beside the constant and row priors. Writes recipe_ablation.json, crops.png (input | true depth | faithful |
improved at object edges) and metrics.png (abs_rel and δ<1.25 per arm, ± sd).

    python -m benchmarks.recipe_ablation                      # every arm, seeds 5 6 7 (about 5 min a run, 2 cores)
    python -m benchmarks.recipe_ablation --arms faithful improved --seeds 5 6 7 8
    python -m benchmarks.recipe_ablation --arms faithful improved port+ssim --seeds 5   # "+" joins arms
    python -m benchmarks.recipe_ablation --report_only        # tables and figures from the runs done so far
    python -m benchmarks.recipe_ablation --size toy           # seconds; what the tests run

Every run resumes: a rerun skips the runs whose scores are in <work_dir>/runs/, and finishes an interrupted one.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from benchmarks.ablation_runs import SCORED_KEYS, depth_net_of, mean_sd, spread, summarize, train_and_evaluate
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.evaluation.depth_predict import predict_depths
from sfmlearner_tf.evaluation.figures import depth_rows_figure
from sfmlearner_tf.evaluation.split_files import find_test_file_list, read_test_lines, resolve_test_frames
from sfmlearner_tf.io_utils import atomic_save_image, atomic_write_text
from sfmlearner_tf.tasks.demo import DemoConfig, evaluate_held_out, prepare_demo_data
from sfmlearner_tf.training.config import TrainConfig
from sfmlearner_tf.training.recipes import RECIPES, SWITCHES, combine

# The arms a full run trains; arm_settings also takes the names of RECIPES (e.g. "improved", whose settings are
# one of these arms').
ARMS = {"faithful": {}, **{name: dict(settings) for name, settings in SWITCHES.items()},
        "port": dict(RECIPES["port"]), "all": dict(combine(*SWITCHES))}


def arm_settings(arm: str) -> dict:
    """The settings of an arm: a name of ARMS, or parts joined by "+", each a name of ARMS or a training setting
    `name=value` (e.g. "port+min_reprojection", "improved+smooth_weight=0.025"); later parts win."""
    settings: dict = {}
    for part in arm.split("+"):
        name, is_setting, text = part.partition("=")
        if is_setting:
            settings[name] = _setting_value(name, text)
        elif part in ARMS or part in RECIPES:
            settings.update(ARMS.get(part, RECIPES.get(part)))
        else:
            names = ", ".join({**ARMS, **RECIPES})
            raise argparse.ArgumentTypeError(f"unknown arm {part!r} in {arm!r}: one of {names}, or a setting "
                                             "name=value, joined by '+'")
    return settings


def _setting_value(name: str, text: str) -> object:
    """`text` parsed as the type of the training setting `name`'s default."""
    try:
        default = TrainConfig().setting(name)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if isinstance(default, bool):
        if text.lower() not in ("true", "false"):
            raise argparse.ArgumentTypeError(f"{name}={text!r}: not true or false")
        return text.lower() == "true"
    try:
        return type(default)(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name}={text!r}: not a {type(default).__name__}") from None
TABLE_KEYS = ("abs_rel", "rms", "a1", "dbe_acc", "dbe_comp", "edge_sharpness")


@dataclass(frozen=True)
class RecipeAblationConfig:
    """The data and the common training run (a DemoConfig), and the seeds every arm runs."""

    data: DemoConfig
    seeds: tuple[int, ...]


SIZES = {
    "toy": RecipeAblationConfig(DemoConfig.from_settings(
        num_drives=3, num_test_drives=1, num_frames=10, render_width=208, render_height=64, img_height=32,
        img_width=96, batch_size=2, steps=3, lambda_seg=0.0, recipe="faithful", progress_every_s=float("inf")),
        seeds=(1,)),
    "demo": RecipeAblationConfig(DemoConfig.from_settings(lambda_seg=0.0, recipe="faithful"), seeds=(5, 6, 7)),
}


def arm_config(data: DemoConfig, arm: str, seed: int):
    """The TrainConfig of one run: the demo's run (boundary loss off) with the arm's settings and the seed."""
    return data.train_config().replace(checkpoint_dir=str(Path(data.work_dir) / "runs" / f"{arm}_seed{seed}"),
                                       seed=seed, **arm_settings(arm))


def format_table(summary: dict, rates: dict[str, dict], priors: dict) -> str:
    """Markdown: one row per prior, arm and paired difference: the number of seeds, mean ± sd of TABLE_KEYS and
    seconds per step."""
    header = "| arm | seeds | " + " | ".join(TABLE_KEYS) + " | s/step |"
    lines = [header, "|" + "---|" * (len(TABLE_KEYS) + 3)]
    for name, metrics in priors.items():
        lines.append(f"| {name} | - | " + " | ".join(f"{metrics[k]:.4f}" if k in metrics else "-" for k in TABLE_KEYS)
                     + " | - |")
    for arm, stats in summary.items():
        cells = [mean_sd(stats[k]) if k in stats else "-" for k in TABLE_KEYS]
        seeds = next(iter(stats.values()))["n"] if stats else 0
        rate = f"{1.0 / rates[arm]['mean']:.3f}" if arm in rates else "-"
        lines.append(f"| {arm} | {seeds} | " + " | ".join(cells) + f" | {rate} |")
    return "\n".join(lines)


def metrics_chart(summary: dict, arms: list[str]) -> np.ndarray:
    """Horizontal bars of abs_rel and δ<1.25 per arm (mean, whisker ± sd), RGB uint8."""
    keys = ("abs_rel", "a1")
    row_h, label_w, bar_w, gap = 22, 200, 260, 60
    titles = {"a1": "delta < 1.25"}
    chart = np.full((40 + row_h * len(arms), label_w + 2 * (bar_w + gap), 3), 255, np.uint8)
    for k, key in enumerate(keys):
        x0 = label_w + k * (bar_w + gap)
        top = max(summary[a][key]["mean"] + summary[a][key]["std"] for a in arms)
        cv2.putText(chart, f"{titles.get(key, key)} (mean, +/- sd)", (x0, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 0), 1, cv2.LINE_AA)
        for i, arm in enumerate(arms):
            y = 30 + i * row_h
            stats = summary[arm][key]
            length = int(bar_w * stats["mean"] / top)
            color = (200, 90, 40) if arm == "faithful" else (60, 140, 60) if arm == "improved" else (120, 120, 120)
            cv2.rectangle(chart, (x0, y), (x0 + length, y + row_h - 6), color, -1)
            lo, hi = (int(bar_w * (stats["mean"] + d * stats["std"]) / top) for d in (-1, 1))
            cv2.line(chart, (x0 + lo, y + 8), (x0 + hi, y + 8), (0, 0, 0), 1)
            cv2.putText(chart, f"{stats['mean']:.3f}", (x0 + length + 4, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                        (0, 0, 0), 1, cv2.LINE_AA)
            if k == 0:
                cv2.putText(chart, arm, (6, y + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return chart


def run_recipe_ablation(config: RecipeAblationConfig, work_dir: Path, arms: list[str], report_only: bool = False
                        ) -> dict:
    """Runs (or resumes) every arm x seed; writes recipe_ablation.json, crops.png (the first and the last arm)
    and metrics.png. report_only: trains nothing, reports the runs already scored (an arm may then have fewer
    seeds than another; differences pair the seeds both have)."""
    data = config.data.replace(work_dir=str(work_dir))
    prepare_demo_data(data)
    runs: dict[str, list[dict]] = {arm: [] for arm in arms}
    for seed in config.seeds:  # seed-major: a shortened session still has every arm at the first seeds
        for arm in arms:
            result_path = work_dir / "runs" / f"{arm}_seed{seed}.json"
            if report_only and not result_path.is_file():
                continue
            runs[arm].append(train_and_evaluate(arm_config(data, arm, seed), data, result_path, "recipe_ablation"))
    runs = {arm: results for arm, results in runs.items() if results}
    if not runs:
        raise SystemExit(f"recipe_ablation: no scored run of {', '.join(arms)} in {work_dir / 'runs'}")
    arms = list(runs)
    summary = summarize(runs, reference=arms[0])
    rates = {arm: spread([r["steps_per_second"] for r in results]) for arm, results in runs.items()}
    priors_path = work_dir / "priors.json"
    if not priors_path.is_file():
        baselines = evaluate_held_out(data, depth_net_of(runs[arms[0]][0]["checkpoint"]), baselines=True)
        atomic_write_text(priors_path, json.dumps(baselines["baselines"], indent=1))
    priors = json.loads(priors_path.read_text())
    root = Path(data.work_dir) / "synthetic" / "kitti_raw"
    frames = resolve_test_frames(root, read_test_lines(find_test_file_list(root)))
    shown = [arms[0], arms[-1]]
    depths = {arm: predict_depths(depth_net_of(runs[arm][0]["checkpoint"]), [f.image for f in frames],
                                  data.img_height, data.img_width, progress_every_s=float("inf")) for arm in shown}
    atomic_save_image(work_dir / "crops.png", depth_rows_figure(frames, depths))
    atomic_save_image(work_dir / "metrics.png", metrics_chart(summary, arms))
    table = format_table(summary, rates, priors)
    report = {"arms": {arm: arm_settings(arm) for arm in arms},
              "seeds": {arm: [r["seed"] for r in results] for arm, results in runs.items()},
              "runs": runs, "summary": summary, "steps_per_second": rates, "priors": priors, "table": table,
              "num_test_images": len(frames), "scored_keys": list(SCORED_KEYS), "config": asdict(config)}
    atomic_write_text(work_dir / "recipe_ablation.json", json.dumps(report, indent=1))
    return report


def _arm_name(text: str) -> str:
    arm_settings(text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="demo")
    parser.add_argument("--work_dir", default="./recipe_ablation")
    parser.add_argument("--arms", nargs="+", type=_arm_name, default=list(ARMS),
                        help=f"arms to run ({', '.join(ARMS)}, or names joined by '+'); the first is the reference of "
                        "the paired differences")
    parser.add_argument("--seeds", type=int, nargs="+", help="override the size's seeds")
    parser.add_argument("--report_only", action="store_true", help="train nothing: report the runs already scored")
    args = parser.parse_args()
    config = SIZES[args.size]
    if args.seeds:
        config = replace(config, seeds=tuple(args.seeds))
    report = run_recipe_ablation(config, Path(args.work_dir), args.arms, args.report_only)
    print(f"\nRecipe ablation ({args.size}), {report['num_test_images']} held-out images; seeds per arm "
          f"{report['seeds']}:")
    print(report["table"])
    print(f"figures in {args.work_dir}/")


if __name__ == "__main__":
    main()
