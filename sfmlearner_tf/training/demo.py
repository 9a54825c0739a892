"""The CPU demo: render synthetic drives, prepare them with boundary panels from the true instance masks, train,
and evaluate depth on the held-out drives before and after training (same model, median-scaled)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import tensorflow as tf

from sfmlearner_tf.io_utils import atomic_write_text
from sfmlearner_tf.run_record import training_record, write_run_record
from sfmlearner_tf.training.config import TrainConfig

SUMMARY_METRICS = ("abs_rel", "sq_rel", "rms", "log_rms", "a1", "a2", "a3")


@dataclass(frozen=True)
class DemoConfig:
    """Settings under which training from scratch shows learning within ~15 minutes on 2 CPU cores.

    64x208 images (a quarter of the pixels of 128x416, same aspect ratio, multiples of 16) make a step about 4x
    cheaper. The original's smooth_weight 0.5 flattens the disparity of a fresh net for thousands of steps
    before structure appears (measured: no progress in 900 steps), so the demo uses 0.1. `seed` fixes the
    initial weights: under the original's initialisation (Glorot, zero biases) the mean initial disparity
    depends on the seed (2.5 to 9 of the sigmoid's 10.01 cap over seeds 1-6 and 8964); one near the cap leaves
    the sigmoid saturated and the depth flat (measured with 8964), so the demo starts from seed 5 (mean 2.4).
    `data_seed` fixes the rendered drives.
    """

    work_dir: str = "./sfm_demo"
    num_drives: int = 5
    num_test_drives: int = 1
    num_frames: int = 40
    render_width: int = 416
    render_height: int = 128
    img_height: int = 64
    img_width: int = 208
    batch_size: int = 4
    steps: int = 1500
    learning_rate: float = 2e-4
    smooth_weight: float = 0.1
    lambda_seg: float = 0.5
    seed: int = 5
    data_seed: int = 8964
    progress_every_s: float = 15.0

    def train_config(self) -> TrainConfig:
        """The run_train settings of the demo (flags/presets/cpu_demo.cfg holds the same)."""
        root = Path(self.work_dir)
        return TrainConfig(dataset_dir=str(root / "prepared"), checkpoint_dir=str(root / "checkpoints"),
                           img_height=self.img_height, img_width=self.img_width, batch_size=self.batch_size,
                           max_steps=self.steps, include_last_step=True, learning_rate=self.learning_rate,
                           smooth_weight=self.smooth_weight, lambda_seg=self.lambda_seg, seed=self.seed,
                           summary_freq=100, save_latest_freq=200, continue_train=True,
                           progress_every_s=self.progress_every_s)


def _prepare(config: DemoConfig) -> None:
    from sfmlearner_tf.data.prepare import PrepareConfig, prepare_dataset
    from sfmlearner_tf.data.synthetic import SyntheticConfig, render_dataset

    root = Path(config.work_dir)
    synthetic = SyntheticConfig(num_drives=config.num_drives, num_test_drives=config.num_test_drives,
                                num_frames=config.num_frames, width=config.render_width,
                                height=config.render_height, seed=config.data_seed)
    render_dataset(root / "synthetic", synthetic, progress_every_s=config.progress_every_s)  # resumable
    prepare_dataset(PrepareConfig(dataset_name="synthetic", dataset_dir=str(root / "synthetic"),
                                  dump_root=str(root / "prepared"), img_height=config.img_height,
                                  img_width=config.img_width, boundary_source="synthetic", num_threads=2))


def _evaluate(config: DemoConfig, depth_net: object) -> dict[str, float]:
    from sfmlearner_tf.evaluation import DepthEvalConfig, evaluate_depth

    eval_config = DepthEvalConfig(dataset_dir=str(Path(config.work_dir) / "synthetic" / "kitti_raw"),
                                  img_height=config.img_height, img_width=config.img_width,
                                  gt_cache_dir=str(Path(config.work_dir) / "gt_cache"), boundary_metrics=False,
                                  progress_every_s=config.progress_every_s)
    result = evaluate_depth(eval_config, depth_net=depth_net)
    return {name: float(result["metrics"][name]) for name in SUMMARY_METRICS}


def _checkpoint_depth_net(prefix: str) -> object:
    from sfmlearner_tf.models import DispNet
    from sfmlearner_tf.models.tf1_checkpoint import restore_models

    net = DispNet().ensure_built()
    restore_models(prefix, depth_net=net)
    return net


def format_comparison(before: dict[str, float], after: dict[str, float]) -> str:
    """The before/after table in the original's column order."""
    header = "model     " + "".join(f"{name:>10}" for name in SUMMARY_METRICS)
    rows = [f"{label:<10}" + "".join(f"{values[name]:>10.4f}" for name in SUMMARY_METRICS)
            for label, values in (("before", before), ("after", after))]
    return "\n".join([header, *rows])


def run_demo(config: DemoConfig) -> dict:
    """Runs the whole demo (each stage resumes from what exists) and writes <work_dir>/demo_result.json."""
    from sfmlearner_tf.training.loop import build_state
    from sfmlearner_tf.training.loop import train as train_run

    started = time.monotonic()
    _prepare(config)
    prepared_s = time.monotonic() - started
    train_config = config.train_config()
    # "Before" = the very initial weights of the run (the same seed gives the same initialisation).
    keras.utils.set_random_seed(train_config.seed)
    initial = build_state(train_config).depth_net
    # Kept as a checkpoint, so that run_eval can compare the trained model with it (--compare_ckpt_file).
    tf.train.Checkpoint(depth_net=initial).write(str(Path(config.work_dir) / "initial" / "ckpt-0"))
    write_run_record(Path(config.work_dir) / "initial", training_record(train_config))
    before = _evaluate(config, initial)
    train_started = time.monotonic()
    result = train_run(train_config)
    train_s = time.monotonic() - train_started
    after = _evaluate(config, _checkpoint_depth_net(result.checkpoint))
    summary = {"before": before, "after": after, "steps": result.step, "checkpoint": result.checkpoint,
               "steps_per_second": result.steps_per_second, "prepare_seconds": round(prepared_s, 1),
               "train_seconds": round(train_s, 1), "total_seconds": round(time.monotonic() - started, 1),
               "table": format_comparison(before, after), "config": asdict(config)}
    atomic_write_text(Path(config.work_dir) / "demo_result.json", json.dumps(summary, indent=1))
    return summary
