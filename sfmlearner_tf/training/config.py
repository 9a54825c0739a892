"""TrainConfig: every setting of a training run, mirroring flags/train.py, checked for consistency."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.geometry import SAMPLER_MODES

STRATEGIES = ("default", "mirrored", "multi_worker_mirrored")
DATA_SOURCES = ("folder", "tfds")
SEG_REDUCTIONS = ("mean", "sum")


@dataclass(frozen=True)
class TrainConfig:
    """A training run. Defaults are the original train.py's plus the extension's, all off.

    `max_steps` keeps the original's off-by-one: its loop is `for step in range(1, max_steps)`, so the
    default 200000 runs 199,999 steps; `include_last_step=True` runs exactly `max_steps` steps.
    `batch_size` is the global batch (split over replicas by a distribution strategy). Epoch checkpoints hold the
    models only (what fine-tuning and evaluation read) unless `full_epoch_checkpoints`; `latest` is always full.
    """

    dataset_dir: str = ""
    checkpoint_dir: str = "./checkpoints/"
    init_checkpoint_file: str | None = None
    learning_rate: float = 0.0002
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    smooth_weight: float = 0.5
    explain_reg_weight: float = 0.0
    batch_size: int = 4
    img_height: int = 128
    img_width: int = 416
    seq_length: int = 3
    max_steps: int = 200000
    include_last_step: bool = False
    summary_freq: int = 100
    save_latest_freq: int = 5000
    continue_train: bool = False
    max_checkpoints_to_keep: int = 10
    full_epoch_checkpoints: bool = False
    lambda_seg: float = 0.0
    seg_gradient_order: int = 1
    seg_reduction: str = "mean"
    seg_num_scales: int = 1
    sampler_mode: str = "legacy"
    restart_optimizer: bool = False
    weight_decay: float = 0.0
    seed: int = 8964
    augment: bool = True
    data_source: str = "folder"
    tfds_data_dir: str | None = None
    distribution_strategy: str = "default"
    mixed_precision: bool = False
    jit_compile: bool = False
    progress_every_s: float = 10.0

    def __post_init__(self) -> None:
        self.validate()

    @property
    def num_source(self) -> int:
        """Source frames per sample (the target is the middle frame)."""
        return self.seq_length - 1

    @property
    def do_exp(self) -> bool:
        """The explainability branch exists only when its regulariser is on, as in the original."""
        return self.explain_reg_weight > 0

    @property
    def with_boundary(self) -> bool:
        """The boundary panel is read (and the boundary loss computed) only when lambda_seg > 0."""
        return self.lambda_seg > 0

    @property
    def last_step(self) -> int:
        """The last step number the loop runs (steps are numbered from 1)."""
        return self.max_steps if self.include_last_step else self.max_steps - 1

    def replace(self, **changes: object) -> TrainConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        """Raises ConfigError naming the field for any value the networks, losses or loop cannot take."""
        from sfmlearner_tf.models import required_multiple

        problems = []
        for name in ("smooth_weight", "explain_reg_weight", "lambda_seg", "weight_decay"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            problems.append(f"learning_rate must be > 0, got {self.learning_rate}")
        for name in ("beta1", "beta2"):
            if not 0 <= getattr(self, name) < 1:
                problems.append(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.epsilon <= 0:
            problems.append(f"epsilon must be > 0, got {self.epsilon}")
        if self.max_checkpoints_to_keep < 0:
            problems.append(f"max_checkpoints_to_keep must be >= 0 (0: no epoch checkpoints), got "
                            f"{self.max_checkpoints_to_keep}")
        for name in ("batch_size", "max_steps", "summary_freq", "save_latest_freq", "seg_num_scales"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.seg_num_scales > 4:
            problems.append(f"seg_num_scales must be <= 4 (the loss pyramid has 4 scales), got {self.seg_num_scales}")
        if self.seq_length < 3 or self.seq_length % 2 == 0:
            problems.append(f"seq_length must be odd and >= 3 (target in the middle), got {self.seq_length}")
        multiple = required_multiple(self.do_exp)
        for name in ("img_height", "img_width"):
            value = getattr(self, name)
            if value < multiple or value % multiple:
                why = "DispNet" if not self.do_exp else "the explainability branch"
                problems.append(f"{name} must be a positive multiple of {multiple} ({why}), got {value}")
        if self.seg_gradient_order not in (1, 2):
            problems.append(f"seg_gradient_order must be 1 or 2, got {self.seg_gradient_order}")
        for name, choices in (("seg_reduction", SEG_REDUCTIONS), ("data_source", DATA_SOURCES),
                              ("distribution_strategy", STRATEGIES), ("sampler_mode", SAMPLER_MODES)):
            if getattr(self, name) not in choices:
                problems.append(f"{name} must be one of {', '.join(choices)}, got {getattr(self, name)!r}")
        if problems:
            raise ConfigError("TrainConfig: " + "; ".join(problems))
