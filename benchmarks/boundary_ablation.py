"""The seed paper's claim as an experiment on the synthetic drives: does the boundary loss sharpen depth at object
edges without hurting accuracy?

1. Render drives and prepare them with boundary panels from the true instance masks (as sfm-demo does).
2. Pretrain a baseline from scratch with the original's recipe and the boundary loss off.
3. From that same checkpoint, fine-tune two arms with the paper's best row (smooth 0.75, lr 2e-4, Adam
   restarted, explainability off): lambda_seg 0 and lambda_seg 2.5, each with several seeds (the seed sets the
   data order and augmentation, shared by both arms, so seed-for-seed the arms are paired).
4. Evaluate every model on the held-out drives: abs_rel .. a3 (median-scaled) and the depth-boundary errors
   (DBE accuracy and completeness in px, lower is better; edge sharpness, higher is better).
5. Print mean ± standard deviation per arm and of the paired difference; write ablation.json and two figures
   (depth crops at object edges, both arms side by side; a bar chart of the boundary errors).

    python -m benchmarks.boundary_ablation --size small   # CPU: 1500 + 6 x 300 steps at 64x208, about an hour
    python -m benchmarks.boundary_ablation --size full    # the same code at 128x416 with more data and steps (GPU)
    python -m benchmarks.boundary_ablation --size toy     # seconds; what the tests run

Every stage resumes: a rerun skips the models whose evaluation is already in <work_dir>/runs/.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from benchmarks.ablation_runs import SCORED_KEYS, depth_net_of, mean_sd, summarize, train_and_evaluate
from sfmlearner_tf.evaluation.boundary_eval import BOUNDARY_KEYS
from sfmlearner_tf.evaluation.depth_predict import predict_depths
from sfmlearner_tf.evaluation.figures import depth_rows_figure
from sfmlearner_tf.evaluation.split_files import find_test_file_list, read_test_lines, resolve_test_frames
from sfmlearner_tf.io_utils import atomic_save_image, atomic_write_text
from sfmlearner_tf.tasks.demo import DemoConfig, prepare_demo_data

ARMS = (0.0, 2.5)


@dataclass(frozen=True)
class AblationConfig:
    """One size of the experiment: the data and pretraining (a DemoConfig) and the fine-tuning arms."""

    data: DemoConfig
    finetune_steps: int
    seeds: tuple[int, ...]
    finetune_smooth_weight: float = 0.75
    finetune_learning_rate: float = 2e-4
    arms: tuple[float, ...] = ARMS


# Every size trains with the original's recipe, as the paper fine-tunes Zhou et al.'s model (not sfm-demo's default).
SIZES = {
    "toy": AblationConfig(DemoConfig.from_settings(num_drives=3, num_test_drives=1, num_frames=10, render_width=208,
                                     render_height=64, img_height=32, img_width=96, batch_size=2, steps=3,
                                     lambda_seg=0.0, progress_every_s=float("inf"), recipe="faithful"),
                          finetune_steps=2, seeds=(1,)),
    "small": AblationConfig(DemoConfig.from_settings(lambda_seg=0.0, steps=1500, recipe="faithful"), finetune_steps=300,
                            seeds=(1, 2, 3)),
    "full": AblationConfig(DemoConfig.from_settings(num_drives=40, num_test_drives=8, num_frames=100, render_width=1242,
                                      render_height=375, img_height=128, img_width=416, steps=20000,
                                      lambda_seg=0.0, recipe="faithful"),
                           finetune_steps=5000, seeds=(1, 2, 3, 4, 5)),
}


def _finetune_config(config: AblationConfig, data: DemoConfig, init: str, lambda_seg: float, seed: int):
    """The TrainConfig of one fine-tuning run: the paper's best row, from the pretrained checkpoint."""
    return data.train_config().replace(
        checkpoint_dir=str(Path(data.work_dir) / "runs" / f"seg{lambda_seg:g}_seed{seed}"), init_checkpoint_file=init,
        restart_optimizer=True, continue_train=True, max_steps=config.finetune_steps, lambda_seg=lambda_seg,
        smooth_weight=config.finetune_smooth_weight, learning_rate=config.finetune_learning_rate,
        explain_reg_weight=0.0, seed=seed)


def format_summary(summary: dict) -> str:
    """One line per arm (and difference): mean ± std of each metric."""
    keys = [k for k in SCORED_KEYS if k in next(iter(summary.values()))]
    header = f"{'lambda_seg':<12}" + "".join(f"{k:>18}" for k in keys)
    lines = [f"{arm:<12}" + "".join(f"{mean_sd(s[k]):>18}" for k in keys) for arm, s in summary.items()]
    return "\n".join([header, *lines])


def bar_chart(summary: dict, arms: tuple[float, ...]) -> np.ndarray:
    """Boundary errors per arm: bars at the mean, whiskers at ± one standard deviation (RGB uint8)."""
    groups = [k for k in BOUNDARY_KEYS if k in summary[f"{arms[0]:g}"]]
    colors = [(90, 90, 200), (220, 120, 40), (60, 160, 60)]
    chart = np.full((260, 120 + 160 * len(groups), 3), 255, np.uint8)
    base_y, top_y = 220, 30
    for g, key in enumerate(groups):
        stats = [summary[f"{arm:g}"][key] for arm in arms]
        scale = (base_y - top_y) / max(s["mean"] + s["std"] for s in stats)
        for a, s in enumerate(stats):
            x = 60 + g * 160 + a * 50
            cv2.rectangle(chart, (x, int(base_y - s["mean"] * scale)), (x + 40, base_y), colors[a % 3], -1)
            lo, hi = int(base_y - (s["mean"] - s["std"]) * scale), int(base_y - (s["mean"] + s["std"]) * scale)
            cv2.line(chart, (x + 20, lo), (x + 20, hi), (0, 0, 0), 1)
            cv2.putText(chart, f"{s['mean']:.2f}", (x, int(base_y - s["mean"] * scale) - 4),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(chart, key, (60 + g * 160, base_y + 18), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                    cv2.LINE_AA)
    for a, arm in enumerate(arms):
        cv2.rectangle(chart, (10, 8 + a * 14), (20, 18 + a * 14), colors[a % 3], -1)
        cv2.putText(chart, f"lambda_seg {arm:g}", (24, 17 + a * 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1,
                    cv2.LINE_AA)
    cv2.putText(chart, "dbe: px, lower is better; edge_sharpness: higher is better", (10, 250),
                cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return chart


def run_ablation(config: AblationConfig, work_dir: Path) -> dict:
    """Runs (or resumes) the whole experiment; writes ablation.json, crops.png and boundary_errors.png."""
    data = config.data.replace(work_dir=str(work_dir))
    prepare_demo_data(data)
    pretrain = train_and_evaluate(data.replace(lambda_seg=0.0).train_config().replace(
        checkpoint_dir=str(work_dir / "runs" / "pretrain")), data, work_dir / "runs" / "pretrain.json",
        "boundary_ablation")
    runs: dict[float, list[dict]] = {arm: [] for arm in config.arms}
    for seed in config.seeds:
        for arm in config.arms:
            train_config = _finetune_config(config, data, pretrain["checkpoint"], arm, seed)
            runs[arm].append(train_and_evaluate(train_config, data, work_dir / "runs" / f"seg{arm:g}_seed{seed}.json",
                                                "boundary_ablation"))
    summary = summarize({f"{arm:g}": results for arm, results in runs.items()})
    root = Path(data.work_dir) / "synthetic" / "kitti_raw"
    frames = resolve_test_frames(root, read_test_lines(find_test_file_list(root)))
    depths = {f"lambda_seg {arm:g}": predict_depths(depth_net_of(results[0]["checkpoint"]), [f.image for f in frames],
                                  data.img_height, data.img_width, progress_every_s=float("inf"))
              for arm, results in runs.items()}
    atomic_save_image(work_dir / "crops.png", depth_rows_figure(frames, depths))
    atomic_save_image(work_dir / "boundary_errors.png", bar_chart(summary, config.arms))
    report = {"pretrain": pretrain["metrics"], "runs": {f"{arm:g}": results for arm, results in runs.items()},
              "summary": summary, "table": format_summary(summary), "num_test_images": len(frames),
              "config": asdict(config)}
    atomic_write_text(work_dir / "ablation.json", json.dumps(report, indent=1))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--work_dir", default="./boundary_ablation")
    parser.add_argument("--seeds", type=int, nargs="+", help="override the size's fine-tuning seeds")
    parser.add_argument("--finetune_steps", type=int, help="override the size's fine-tuning steps")
    parser.add_argument("--pretrain_steps", type=int, help="override the size's pretraining steps")
    parser.add_argument("--mixed_precision", action="store_true",
                        help="train every model in bfloat16 (CPU) / float16 (GPU); evaluation stays float32")
    args = parser.parse_args()
    config = SIZES[args.size]
    if args.seeds:
        config = replace(config, seeds=tuple(args.seeds))
    if args.finetune_steps:
        config = replace(config, finetune_steps=args.finetune_steps)
    if args.pretrain_steps:
        config = replace(config, data=config.data.replace(steps=args.pretrain_steps))
    if args.mixed_precision:
        config = replace(config, data=config.data.replace(mixed_precision=True))
    report = run_ablation(config, Path(args.work_dir))
    print(f"\nBoundary-loss ablation ({args.size}), {report['num_test_images']} held-out images, "
          f"mean ± std over seeds {list(config.seeds)}:")
    print(report["table"])
    print(f"pretrained baseline: abs_rel {report['pretrain']['abs_rel']:.4f}; figures in {args.work_dir}/")


if __name__ == "__main__":
    main()
