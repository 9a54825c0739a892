"""The CPU demo: render synthetic drives, prepare them with boundary panels from the true instance masks, train
from scratch, and evaluate depth on several held-out drives before, during (a learning curve) and after
training, beside two image-blind priors (a constant map and a row-wise prior; see evaluation.priors)."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import keras
import tensorflow as tf

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.evaluation.boundary_eval import BOUNDARY_KEYS
from sfmlearner_tf.evaluation.depth_metrics import format_labelled_table
from sfmlearner_tf.io_utils import atomic_write_text
from sfmlearner_tf.run_record import training_record, write_run_record
from sfmlearner_tf.settings import SEED, check_settings, setting
from sfmlearner_tf.synthetic.config import SyntheticConfig
from sfmlearner_tf.tasks.scored_runs import depth_net_of, score_depth
from sfmlearner_tf.training.config import TrainConfig
from sfmlearner_tf.training.recipes import RECIPES

# The demo's training run (paths aside: they follow work_dir). flags/presets/cpu_demo.cfg gives the same run.
DEMO_RUN = TrainConfig.from_settings(
    img_height=64, img_width=208, batch_size=4, max_steps=1000, include_last_step=True, learning_rate=2e-4,
    smooth_weight=0.1, lambda_seg=0.5, seed=5, summary_freq=100, save_latest_freq=200, max_checkpoints_to_keep=0,
    continue_train=True, progress_every_s=15.0)

# Demo settings that set its training run: the demo's name -> the run's setting.
RUN_SETTINGS = {"img_height": "img_height", "img_width": "img_width", "batch_size": "batch_size",
                "steps": "max_steps", "seed": "seed", "learning_rate": "learning_rate",
                "smooth_weight": "smooth_weight", "lambda_seg": "lambda_seg", "mixed_precision": "mixed_precision",
                "progress_every_s": "progress_every_s"}


@dataclass(frozen=True)
class DemoConfig:
    """What the demo renders, trains and evaluates. The defaults are chosen for a short run on a small CPU
    machine; the README's results section has the measured time and scores.

    `run` is the training run (its data and checkpoint folders are set under work_dir by `train_config`); its
    `seed` fixes the initial weights (under the original's Glorot initialisation the initial mean disparity
    depends on it, and one near the sigmoid's cap keeps the depth flat for a long time); `data_seed` fixes the
    rendered drives. `curve_every` > 0 evaluates the held-out drives every that many steps. `recipe` names the
    training recipe (training.recipes.RECIPES) whose settings are added to `run`, except the run settings the
    user gave: "improved" by default, since it learned better on this protocol over four seeds (docs/RESULTS.md,
    "Training recipes"); "faithful" is the original's.
    """

    work_dir: str = setting("./sfm_demo", "Synthetic data, prepared samples, checkpoints and results.")
    num_drives: int = setting(11, "Synthetic drives, num_test_drives of them held out.", low=2)
    num_test_drives: int = setting(3, "Held-out drives the depth is evaluated on.", low=1)
    num_frames: int = setting(40, "Frames per synthetic drive.", low=3)
    render_width: int = setting(416, "Width the drives are rendered at.", low=16)
    render_height: int = setting(128, "Height the drives are rendered at.", low=16)
    data_seed: int = setting(8964, "Seed of the rendered drives.", rule=SEED)
    curve_every: int = setting(0, "Evaluate the held-out drives every N steps (0: only before and after training).",
                               low=0)
    recipe: str = setting("improved", "Training recipe: faithful (the original's), port (SfmLearner-Pytorch's four "
                          "differences) or improved (flags/presets/improved.cfg).", choices=tuple(RECIPES))
    run: TrainConfig = DEMO_RUN
    # The run's settings (by TrainConfig name) set through `replace`, i.e. given by the user: the recipe does not
    # replace them (the improved recipe sets smooth_weight, which sfm-demo also takes as a flag).
    given_run_settings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_settings(self)
        if self.num_test_drives >= self.num_drives:
            raise ConfigError(f"DemoConfig: num_test_drives={self.num_test_drives} must be in "
                              f"[1, num_drives={self.num_drives}) (the rest are trained on)",
                              fields=("num_test_drives", "num_drives"))
        self.synthetic()  # its own rules on the drives

    def synthetic(self) -> SyntheticConfig:
        """The rendered drives."""
        return SyntheticConfig(num_drives=self.num_drives, num_test_drives=self.num_test_drives,
                               num_frames=self.num_frames, width=self.render_width, height=self.render_height,
                               seed=self.data_seed)

    @classmethod
    def from_settings(cls, **settings: object) -> DemoConfig:
        """The default demo with some settings (fields, or names of RUN_SETTINGS) changed."""
        return cls().replace(**settings)

    def replace(self, **settings: object) -> DemoConfig:
        """A copy with some settings changed: own fields by name, the run's by the names of RUN_SETTINGS.
        A ConfigError of the run names its fields as `run.<path>`."""
        run = {RUN_SETTINGS[name]: value for name, value in settings.items() if name in RUN_SETTINGS}
        own = {name: value for name, value in settings.items() if name not in RUN_SETTINGS}
        if run:
            try:
                own["run"] = self.run.replace(**run)
            except ConfigError as error:
                raise ConfigError(str(error), fields=tuple(f"run.{f}" for f in error.fields)) from None
            own["given_run_settings"] = tuple(sorted({*self.given_run_settings, *run}))
        return dataclasses.replace(self, **own)

    def setting(self, name: str) -> object:
        """The value of a setting (a field, or a name of RUN_SETTINGS)."""
        return self.run.setting(RUN_SETTINGS[name]) if name in RUN_SETTINGS else getattr(self, name)

    @property
    def img_height(self) -> int:
        """The training (and evaluation) image height."""
        return self.run.data.img_height

    @property
    def img_width(self) -> int:
        """The training (and evaluation) image width."""
        return self.run.data.img_width

    def recipe_settings(self) -> dict[str, object]:
        """The recipe's settings that the run takes: all but those the user gave (given_run_settings)."""
        return {name: value for name, value in RECIPES[self.recipe].items() if name not in self.given_run_settings}

    def train_config(self) -> TrainConfig:
        """The run_train settings of the demo: its run with the recipe's settings (flags/presets/cpu_demo.cfg holds
        the run, flags/presets/improved.cfg the improved recipe's settings)."""
        root = Path(self.work_dir)
        return self.run.replace(dataset_dir=str(root / "prepared"), checkpoint_dir=str(root / "checkpoints"),
                                **self.recipe_settings())


def prepare_demo_data(config: DemoConfig) -> None:
    """Renders the drives and prepares the training samples at the training size (both resume)."""
    from sfmlearner_tf.prep.config import PrepareConfig
    from sfmlearner_tf.prep.prepare import prepare_dataset
    from sfmlearner_tf.synthetic import render_dataset

    root = Path(config.work_dir)
    # Rendering is numpy-bound and per frame: one process per core.
    render_dataset(root / "synthetic", config.synthetic(), num_workers=os.cpu_count() or 1,
                   progress_every_s=config.run.progress_every_s)
    prepare_dataset(PrepareConfig(dataset_name="synthetic", dataset_dir=str(root / "synthetic"),
                                  dump_root=str(root / "prepared"), img_height=config.img_height,
                                  img_width=config.img_width, boundary_source="synthetic", num_threads=2))


def evaluate_held_out(config: DemoConfig, depth_net: object, baselines: bool = False) -> dict:
    """Median-scaled depth metrics and boundary errors of `depth_net` on the held-out drives (and, with
    `baselines`, the priors' metrics)."""
    from sfmlearner_tf.evaluation import DepthEvalConfig

    eval_config = DepthEvalConfig(dataset_dir=str(Path(config.work_dir) / "synthetic" / "kitti_raw"),
                                  img_height=config.img_height, img_width=config.img_width,
                                  gt_cache_dir=str(Path(config.work_dir) / "gt_cache"), baselines=baselines,
                                  progress_every_s=float("inf"))
    return score_depth(eval_config, depth_net, with_baselines=baselines)


def write_demo_figures(config: DemoConfig, depth_nets: dict[str, object], curve: list[dict]) -> dict[str, str]:
    """Writes <work_dir>/held_out_depth.png (a few held-out frames: input, true depth, one depth per net) and, with
    curve_every, <work_dir>/learning_curve.png (abs_rel and δ<1.25 against the step). Returns their paths."""
    from sfmlearner_tf.evaluation.depth_predict import predict_depths
    from sfmlearner_tf.evaluation.figures import curve_figure, depth_rows_figure
    from sfmlearner_tf.evaluation.split_files import find_test_file_list, read_test_lines, resolve_test_frames
    from sfmlearner_tf.io_utils import atomic_save_image

    root = Path(config.work_dir) / "synthetic" / "kitti_raw"
    frames = resolve_test_frames(root, read_test_lines(find_test_file_list(root)))
    depths = {label: predict_depths(net, [f.image for f in frames], config.img_height, config.img_width,
                                    progress_every_s=float("inf")) for label, net in depth_nets.items()}
    paths = {"held_out_depth": Path(config.work_dir) / "held_out_depth.png"}
    atomic_save_image(paths["held_out_depth"], depth_rows_figure(frames, depths, crop_to_objects=False))
    if config.curve_every:
        paths["learning_curve"] = Path(config.work_dir) / "learning_curve.png"
        atomic_save_image(paths["learning_curve"], curve_figure(curve))
    return {name: str(path) for name, path in paths.items()}


def format_curve(curve: list[dict]) -> str:
    """The learning curve: one line per evaluated step."""
    names = ("abs_rel", "a1", *BOUNDARY_KEYS)
    header = f"{'step':>6}" + "".join(f"{name:>16}" for name in names)
    lines = [f"{point['step']:>6}" + "".join(f"{point['metrics'].get(name, float('nan')):>16.4f}" for name in names)
             for point in curve]
    return "\n".join([header, *lines])


# The learning curve's points so far, beside the run's checkpoints: a resumed demo keeps those of before the stop.
CURVE_FILE = "held_out_curve.json"


def read_curve(path: Path) -> dict[int, dict]:
    """Step -> held-out metrics of the curve points a stopped run saved at `path` ({} when there is none)."""
    if not path.is_file():
        return {}
    try:
        return {int(point["step"]): point["metrics"] for point in json.loads(path.read_text())}
    except (ValueError, KeyError, TypeError) as error:
        raise DataError(f"{path}: not a learning curve written by sfm-demo ({error}); delete it to start the curve "
                        "afresh") from None


def run_demo(config: DemoConfig) -> dict:
    """Runs the whole demo (each stage resumes from what exists) and writes <work_dir>/demo_result.json.
    A run stopped by SIGINT/SIGTERM returns {"stopped_by": "signal", "signum", "steps", "checkpoint"} after
    the training loop saved its state; running the demo again resumes it, and its learning curve (each point
    saved as it is scored, CURVE_FILE)."""
    from sfmlearner_tf.training.loop import build_state
    from sfmlearner_tf.training.loop import train as train_run
    from sfmlearner_tf.training.provenance import check_resume

    started = time.monotonic()
    prepare_demo_data(config)
    prepared_s = time.monotonic() - started
    train_config = config.train_config()
    # A resume with other settings is refused now, before anything is scored (sfm-demo has no
    # --allow_config_change: a new --work_dir starts afresh).
    check_resume(train_config, f"delete {train_config.checkpoint_dir} or choose another --work_dir to start afresh")
    # "Before" = the very initial weights of the run (the same seed gives the same initialisation).
    keras.utils.set_random_seed(train_config.seed)
    initial = build_state(train_config).depth_net
    # Kept as a checkpoint, so that run_eval can compare the trained model with it (--compare_ckpt_file).
    tf.train.Checkpoint(depth_net=initial).write(str(Path(config.work_dir) / "initial" / "ckpt-0"))
    write_run_record(Path(config.work_dir) / "initial", training_record(train_config))
    before = evaluate_held_out(config, initial, baselines=True)
    curve_file = Path(train_config.checkpoint_dir) / CURVE_FILE
    points = {0: before["metrics"], **read_curve(curve_file)}

    def record_curve(step: int, state) -> None:
        if config.curve_every and step % config.curve_every == 0 and step < train_config.max_steps:
            points[step] = evaluate_held_out(config, state.depth_net)["metrics"]
            atomic_write_text(curve_file, json.dumps([{"step": k, "metrics": v} for k, v in sorted(points.items())
                                                      if k > 0], indent=1))
            print(f"held-out depth at step {step}: abs_rel {points[step]['abs_rel']:.4f}", flush=True)

    train_started = time.monotonic()
    result = train_run(train_config, on_step=record_curve)
    if result.stopped_by == "signal":  # saved; nothing is evaluated or written until the run is finished
        return {"stopped_by": "signal", "signum": result.signum, "steps": result.step,
                "checkpoint": result.checkpoint}
    train_s = time.monotonic() - train_started
    trained = depth_net_of(result.checkpoint)
    after = evaluate_held_out(config, trained)
    points[result.step] = after["metrics"]
    curve = [{"step": step, "metrics": metrics} for step, metrics in sorted(points.items()) if step <= result.step]
    figures = write_demo_figures(config, {"before": initial, "after": trained}, curve)
    rows = {**before["baselines"], "before": before["metrics"], "after": after["metrics"]}
    summary = {"stopped_by": "done", "recipe": config.recipe, "recipe_settings": config.recipe_settings(),
               "figures": figures,
               "before": before["metrics"], "after": after["metrics"],
               "baselines": before["baselines"], "num_test_images": before["num_images"], "curve": curve,
               "steps": result.step,
               "checkpoint": result.checkpoint, "steps_per_second": result.steps_per_second,
               "prepare_seconds": round(prepared_s, 1), "train_seconds": round(train_s, 1),
               "total_seconds": round(time.monotonic() - started, 1), "table": format_labelled_table(rows),
               "curve_table": format_curve(curve), "config": asdict(config)}
    atomic_write_text(Path(config.work_dir) / "demo_result.json", json.dumps(summary, indent=1))
    return summary
