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
from dataclasses import dataclass, field

from sfmlearner_tf.data.pipeline import PipelineConfig
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.losses import LossConfig

STRATEGIES = ("default", "mirrored", "multi_worker_mirrored")


@dataclass(frozen=True)
class OptimizerConfig:
    """Adam as the original's tf.compat.v1.train.AdamOptimizer(learning_rate, beta1), plus an optional L2 on the
    conv kernels (0 = faithful). `restart`: with an initial checkpoint, start Adam fresh (never on a resume)."""

    learning_rate: float = 0.0002
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    weight_decay: float = 0.0
    restart: bool = False

    def __post_init__(self) -> None:
        if self.learning_rate <= 0:
            _invalid("OptimizerConfig", "learning_rate", f"must be > 0, got {self.learning_rate}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                _invalid("OptimizerConfig", name, f"must be in [0, 1), got {getattr(self, name)}")
        if self.epsilon <= 0:
            _invalid("OptimizerConfig", "epsilon", f"must be > 0, got {self.epsilon}")
        if self.weight_decay < 0:
            _invalid("OptimizerConfig", "weight_decay", f"must be >= 0, got {self.weight_decay}")


@dataclass(frozen=True)
class DistributionConfig:
    """Where and how the step runs: a tf.distribute strategy, mixed precision, XLA compilation."""

    strategy: str = "default"
    mixed_precision: bool = False
    jit_compile: bool = False

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            _invalid("DistributionConfig", "strategy", f"must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")


def _invalid(owner: str, name: str, problem: str) -> None:
    raise ConfigError(f"{owner}.{name} {problem}", fields=(name,))


@dataclass(frozen=True)
class TrainConfig:
    """A training run. Defaults are the original train.py's plus the extension's, all off.

    `max_steps` keeps the original's off-by-one: its loop is `for step in range(1, max_steps)`, so the
    default 200000 runs 199,999 steps; `include_last_step=True` runs exactly `max_steps` steps.
    `data.batch_size` is the global batch (split over replicas by a distribution strategy). Epoch checkpoints hold
    the models only (what fine-tuning and evaluation read) unless `full_epoch_checkpoints`; `latest` is always
    full. `val_batches` batches of the data set's val.txt are scored every summary_freq steps (0 = off).
    `allow_config_change` lets a resume go on with settings that differ from the saved run's.
    `data.with_boundary` follows `loss.with_boundary` (the panel is read iff the boundary loss is on).
    """

    checkpoint_dir: str = "./checkpoints/"
    init_checkpoint_file: str | None = None
    max_steps: int = 200000
    include_last_step: bool = False
    summary_freq: int = 100
    save_latest_freq: int = 5000
    continue_train: bool = False
    allow_config_change: bool = False
    max_checkpoints_to_keep: int = 10
    full_epoch_checkpoints: bool = False
    seed: int = 8964
    val_batches: int = 4
    progress_every_s: float = 10.0
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
        """The value of a setting (a name of SETTING_PATHS)."""
        value: object = self
        for part in _path(name).split("."):
            value = getattr(value, part)
        return value

    def replace(self, **settings: object) -> TrainConfig:
        """A copy with some settings (names of SETTING_PATHS) changed; each changed config is validated once.
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

        problems: list[tuple[str, str]] = []
        for name in ("max_steps", "summary_freq", "save_latest_freq"):
            if getattr(self, name) < 1:
                problems.append((name, f"must be >= 1, got {getattr(self, name)}"))
        for name in ("max_checkpoints_to_keep", "val_batches", "progress_every_s"):
            if getattr(self, name) < 0:
                problems.append((name, f"must be >= 0, got {getattr(self, name)}"))
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
}


def _path(name: str) -> str:
    try:
        return SETTING_PATHS[name]
    except KeyError:
        raise ConfigError(f"TrainConfig: unknown setting {name!r}") from None
