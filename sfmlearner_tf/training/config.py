"""TrainConfig: every setting of a training run, as nested frozen configs, each rule checked once by its owner.

    TrainConfig            run-level: checkpoints, steps, seeds, logging, validation, resume rules
      .loss: LossConfig            the loss weights and options (what `losses.compute_losses` takes)
      .data: PipelineConfig        the input pipeline (what `data.pipeline.make_dataset` takes)
      .optimizer: OptimizerConfig  Adam and weight decay
      .distribution: DistributionConfig  strategy, precision, XLA

A setting is addressed by a flat name (the flag's, e.g. `smooth_weight`), which SETTING_PATHS maps to its field
(`loss.smooth_weight`); `TrainConfig.replace(smooth_weight=0.75)` changes it. Fields without a setting are listed
in NOT_SETTABLE with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

from sfmlearner_tf.data.pipeline import PipelineConfig
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.losses import LossConfig
from sfmlearner_tf.settings import PROGRESS_EVERY, SEED, check_settings, setting

STRATEGIES = ("default", "mirrored", "multi_worker_mirrored")


@dataclass(frozen=True)
class OptimizerConfig:
    """Adam as the original's tf.compat.v1.train.AdamOptimizer(learning_rate, beta1), plus an optional L2 on the
    conv kernels (0 = faithful). `restart`: with an initial checkpoint, start Adam fresh (never on a resume)."""

    learning_rate: float = setting(0.0002, "Adam learning rate.", low=0.0, low_open=True)
    beta1: float = setting(0.9, "Adam beta1.", low=0.0, high=1.0, high_open=True)
    beta2: float = setting(0.999, "Adam beta2.", low=0.0, high=1.0, high_open=True)
    epsilon: float = setting(1e-8, "Adam epsilon (the original's 1e-8; Keras' default is 1e-7).", low=0.0,
                             low_open=True)
    weight_decay: float = setting(0.0, "L2 on conv kernels, sum(w^2)/2 (0 = faithful: the original's l2 0.05 is "
                                  "never applied).", low=0.0)
    restart: bool = setting(False, "With init_checkpoint_file: start Adam fresh (the paper's *); never on a resume.",
                           needs="init_checkpoint_file")

    def __post_init__(self) -> None:
        check_settings(self)


@dataclass(frozen=True)
class DistributionConfig:
    """Where and how the step runs: a tf.distribute strategy, mixed precision, XLA compilation."""

    strategy: str = setting("default", "tf.distribute strategy.", choices=STRATEGIES)
    mixed_precision: bool = setting(False, "Mixed precision: mixed_float16 on a GPU, mixed_bfloat16 on a CPU.")
    jit_compile: bool = setting(False, "XLA-compile the forward and backward pass.")

    def __post_init__(self) -> None:
        check_settings(self)


@dataclass(frozen=True)
class TrainConfig:
    """A training run. Defaults are the original train.py's plus the extension's, all off.

    `max_steps` keeps the original's off-by-one: its loop is `for step in range(1, max_steps)`, so the
    default 200000 runs 199,999 steps; `include_last_step=True` runs exactly `max_steps` steps.
    `data.batch_size` is the global batch (split over replicas by a distribution strategy). Epoch checkpoints hold
    the models only (what fine-tuning and evaluation read) unless `full_epoch_checkpoints`; `latest` is always
    full. `val_batches` batches of the data set's val.txt are scored every summary_freq steps (0 = off);
    `keep_best` saves the models of each new lowest score to `best/` (training numbers are the same either way).
    `allow_config_change` lets a resume go on with settings that differ from the saved run's.
    `data.with_boundary` follows `loss.with_boundary` (the panel is read iff the boundary loss is on).
    """

    checkpoint_dir: str = setting("./checkpoints/", "Checkpoints, TensorBoard events and run_config.json go here.")
    init_checkpoint_file: str | None = setting(None, "Start from this checkpoint: ours, or Zhou et al.'s TF1 "
                                               "model-190532 / model-100280.")
    max_steps: int = setting(200000, "As the original: steps 1..max_steps-1 are run (199,999 for 200000).", low=1)
    include_last_step: bool = setting(False, "Run exactly max_steps steps (fixes the original's range(1, "
                                      "max_steps)).")
    summary_freq: int = setting(100, "TensorBoard summaries (and the validation loss) every N steps.", low=1)
    save_latest_freq: int = setting(5000, "Save the latest checkpoint every N steps.", low=1)
    continue_train: bool = setting(False, "Resume from the newest checkpoint in checkpoint_dir (weights, Adam, step, "
                                   "RNG); without one, start as if not set.")
    allow_config_change: bool = setting(False, "On --continue_train, go on although settings that change what is "
                                        "trained differ from the saved run_config.json (they are listed).",
                                        needs="continue_train")
    max_checkpoints_to_keep: int = setting(10, "Epoch checkpoints kept (0: none, only the latest).", low=0)
    full_epoch_checkpoints: bool = setting(False, "Epoch checkpoints keep Adam's state too (3x the size); latest/ "
                                           "always does.", needs="max_checkpoints_to_keep")
    keep_best: bool = setting(True, "Save the models of each new lowest validation loss to checkpoint_dir/best/ "
                              "(one kept; training numbers are the same either way).", needs="val_batches")
    seed: int = setting(8964, "Seed of TF, numpy, random and the trainer's RNG.", rule=SEED)
    disp_bias_init: float = setting(0.0, "Initial bias of DispNet's four sigmoid disparity heads on a fresh start "
                                    "(0 = the original's zero bias; negative starts the depth larger, leaving "
                                    "room below it for near pixels; not with init_checkpoint_file).",
                                    low=-10.0, high=10.0)
    val_batches: int = setting(4, "Batches of val.txt scored (photometric loss) every summary_freq steps (0 = off).",
                               low=0)
    progress_every_s: float = setting(10.0, "Seconds between progress lines (inf: none).", rule=PROGRESS_EVERY)
    loss: LossConfig = field(default_factory=LossConfig)
    data: PipelineConfig = field(default_factory=PipelineConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    distribution: DistributionConfig = field(default_factory=DistributionConfig)

    def __post_init__(self) -> None:
        if self.data.with_boundary != self.loss.with_boundary:
            object.__setattr__(self, "data", dataclasses.replace(self.data, with_boundary=self.loss.with_boundary))
        self._validate()

    @property
    def last_step(self) -> int:
        """The last step number the loop runs (steps are numbered from 1)."""
        return self.max_steps if self.include_last_step else self.max_steps - 1

    @classmethod
    def from_settings(cls, **settings: object) -> TrainConfig:
        """The default run with some settings (names of SETTING_PATHS) changed."""
        return cls().replace(**settings)

    def setting(self, name: str) -> object:
        """The value of a setting (a name of SETTING_PATHS, or its dotted path)."""
        value: object = self
        for part in _path(name).split("."):
            value = getattr(value, part)
        return value

    def replace(self, **settings: object) -> TrainConfig:
        """A copy with some settings (names of SETTING_PATHS, or their dotted paths) changed; each changed config
        is validated once.
        A ConfigError names the offending fields by their dotted paths."""
        top: dict[str, object] = {}
        nested: dict[str, dict[str, object]] = {}
        for name, value in settings.items():
            head, _, rest = _path(name).partition(".")
            if rest:
                nested.setdefault(head, {})[rest] = value
            else:
                top[head] = value
        for head, changes in nested.items():
            try:
                top[head] = dataclasses.replace(getattr(self, head), **changes)
            except ConfigError as error:
                raise ConfigError(str(error), fields=tuple(f"{head}.{f}" for f in error.fields)) from None
        return dataclasses.replace(self, **top)

    def pipeline(self, split: str, seed: int, augment: bool | None = None) -> PipelineConfig:
        """The pipeline settings for reading `split` with data seed `seed` (augmentation: the run's, unless given;
        a split other than "train" is read in order)."""
        augment = self.data.augment if augment is None else augment
        return dataclasses.replace(self.data, split=split, seed=seed, augment=augment, shuffle=split == "train")

    def to_dict(self) -> dict:
        """Every field, nested configs as dicts (JSON-ready)."""
        return dataclasses.asdict(self)

    def _validate(self) -> None:
        from sfmlearner_tf.models import required_multiple

        check_settings(self)
        problems: list[tuple[str, str]] = []
        if self.last_step < 1:
            problems.append(("max_steps", f"runs no step: the original runs steps 1..max_steps-1; pass "
                             f"--include_last_step or --max_steps >= 2, got {self.max_steps}"))
        if self.disp_bias_init and self.init_checkpoint_file:
            problems.append(("disp_bias_init", f"sets the starting weights of a fresh start, but "
                             f"init_checkpoint_file {self.init_checkpoint_file} would replace them; pass one of the "
                             f"two, got {self.disp_bias_init}"))
        multiple = required_multiple(self.loss.do_exp)
        for name in ("img_height", "img_width"):
            value = getattr(self.data, name)
            if value % multiple:
                why = "the explainability branch" if self.loss.do_exp else "DispNet"
                problems.append((f"data.{name}", f"must be a positive multiple of {multiple} ({why}), got {value}"))
        if problems:
            raise ConfigError("TrainConfig: " + "; ".join(f"{name} {problem}" for name, problem in problems),
                              fields=tuple(name for name, _ in problems))


# Every user-settable field by its setting (flag) name. Run-level fields keep their names.
SETTING_PATHS: dict[str, str] = {
    **{f.name: f.name for f in dataclasses.fields(TrainConfig) if f.name not in ("loss", "data", "optimizer",
                                                                                    "distribution")},
    "dataset_dir": "data.dataset_dir",
    "batch_size": "data.batch_size",
    "img_height": "data.img_height",
    "img_width": "data.img_width",
    "seq_length": "data.seq_length",
    "augment": "data.augment",
    "flip": "data.flip",
    "per_sample_augment": "data.per_sample_augment",
    "data_source": "data.source",
    "tfds_data_dir": "data.tfds_data_dir",
    "smooth_weight": "loss.smooth_weight",
    "explain_reg_weight": "loss.explain_reg_weight",
    "lambda_seg": "loss.lambda_seg",
    "seg_gradient_order": "loss.seg_gradient_order",
    "seg_reduction": "loss.seg_reduction",
    "seg_num_scales": "loss.seg_num_scales",
    "sampler_mode": "loss.sampler_mode",
    "valid_mask": "loss.valid_mask",
    "photometric": "loss.photometric",
    "min_reprojection": "loss.min_reprojection",
    "auto_mask": "loss.auto_mask",
    "depth_smoothness": "loss.depth_smoothness",
    "log_depth_smoothness": "loss.log_depth_smoothness",
    "edge_aware_smoothness": "loss.edge_aware_smoothness",
    "edge_aware_strength": "loss.edge_aware_strength",
    "normalized_smoothness": "loss.normalized_smoothness",
    "full_res_multiscale": "loss.full_res_multiscale",
    "learning_rate": "optimizer.learning_rate",
    "beta1": "optimizer.beta1",
    "beta2": "optimizer.beta2",
    "epsilon": "optimizer.epsilon",
    "weight_decay": "optimizer.weight_decay",
    "restart_optimizer": "optimizer.restart",
    "distribution_strategy": "distribution.strategy",
    "mixed_precision": "distribution.mixed_precision",
    "jit_compile": "distribution.jit_compile",
}

# Fields a run sets itself, with the reason.
NOT_SETTABLE: dict[str, str] = {
    "loss.num_scales": "the networks predict 4 scales; the loss uses all of them",
    "data.num_scales": "the networks predict 4 scales; K is scaled to each",
    "data.with_boundary": "follows lambda_seg > 0",
    "data.seed": "drawn from the run's checkpointed RNG at each (re)start",
    "data.split": "train for training, val for the validation loss",
    "data.shuffle": "the training split is shuffled, the validation split read in order",
    "data.tfds_shuffle_buffer": "a memory bound of the TFDS source, not a training choice",
    "data.exact_intrinsics": "the original's K update is kept in training (faithfulness)",
    "data.num_parallel_calls": "tf.data's autotuning",
}

# Settings a resumed run may change without --allow_config_change (they do not change what is being trained),
# and why.
RESUMABLE_CHANGES: dict[str, str] = {
    "max_steps": "how long to train",
    "include_last_step": "how long to train",
    "summary_freq": "logging",
    "save_latest_freq": "saving",
    "max_checkpoints_to_keep": "saving",
    "full_epoch_checkpoints": "saving",
    "keep_best": "saving",
    "progress_every_s": "logging",
    "val_batches": "logging",
    "learning_rate": "the run's rate wins over Adam's restored one",
    "continue_train": "how the run starts",
    "allow_config_change": "how the run starts",
    "init_checkpoint_file": "read only at a fresh start",
    "restart_optimizer": "read only at a fresh start",
    "checkpoint_dir": "where the run is (a moved folder)",
    "dataset_dir": "where the data lies (a moved folder)",
    "tfds_data_dir": "where the data lies (a moved folder)",
    "distribution_strategy": "the same step on other devices",
    "jit_compile": "the same step, compiled",
    "disp_bias_init": "read only at a fresh start",
}


def _path(name: str) -> str:
    """The dotted field path of a setting, named by its flag name or by that path itself."""
    if name in SETTING_PATHS:
        return SETTING_PATHS[name]
    if name in _SETTABLE_PATHS:
        return name
    raise ConfigError(f"TrainConfig: unknown setting {name!r}")


_SETTABLE_PATHS = frozenset(SETTING_PATHS.values())


def parse_overrides(config: TrainConfig, assignments: Sequence[str]) -> dict[str, object]:
    """`path=value` assignments by dotted field path (e.g. "loss.smooth_weight=0.75", Model Garden's
    params_override style) -> {path: value}, each value read as the type of the setting's current value
    (true/false for booleans, "none" for an unset optional string)."""
    settings: dict[str, object] = {}
    for assignment in assignments:
        path, sep, text = assignment.partition("=")
        if not sep or path not in _SETTABLE_PATHS:
            raise ConfigError(f"override {assignment!r}: expected path=value with a settable path, e.g. "
                              "loss.smooth_weight=0.75", fields=("override",))
        current = config.setting(path)
        try:
            settings[path] = _read_as(text, current)
        except ValueError:
            raise ConfigError(f"override {assignment!r}: {text!r} cannot be read as {type(current).__name__}",
                              fields=("override",)) from None
    return settings


def _read_as(text: str, like: object) -> object:
    if isinstance(like, bool):
        if text.lower() not in ("true", "false"):
            raise ValueError(text)
        return text.lower() == "true"
    if isinstance(like, (int, float)):
        return type(like)(text)
    return None if text.lower() == "none" else text
