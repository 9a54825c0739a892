"""The model's own record: `run_record.json` in every checkpoint folder training writes, stating the image size,
sequence length, explainability and precision the nets were trained with, so that prediction, evaluation and
export use the model's own settings instead of defaults (a 64x208 model scored at 128x416 gives wrong numbers
without any error).

The record is found from whatever names a checkpoint: a run folder (`<dir>/run_record.json`), an epoch
checkpoint prefix (`<dir>/model-<step>`), a rolling one (`<dir>/latest/model.latest-<step>`) or the best one
(`<dir>/best/` or `<dir>/best/model.best-<step>`).
Zhou et al.'s TF1 checkpoints have no record; their pose net's frame count is read from its first kernel.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.io_utils import atomic_write_text

RUN_RECORD_NAME = "run_record.json"
RECORD_FORMAT = 1
_POSE_INPUT_KERNEL = "pose_exp_net/cnv1/weights"


@dataclass(frozen=True)
class RunRecord:
    """What a checkpoint's nets were trained with. `precision` is the Keras dtype policy ("float32",
    "mixed_float16" or "mixed_bfloat16"); the explainability branch exists iff explain_reg_weight > 0."""

    img_height: int
    img_width: int
    seq_length: int
    explain_reg_weight: float
    precision: str = "float32"

    @property
    def do_exp(self) -> bool:
        return self.explain_reg_weight > 0

    @property
    def mixed_precision(self) -> bool:
        return self.precision != "float32"

    def describe(self) -> str:
        """One line for progress output, e.g. `64x208, 3 frames, no explainability, float32`."""
        exp = f"explainability {self.explain_reg_weight:g}" if self.do_exp else "no explainability"
        return f"{self.img_height}x{self.img_width}, {self.seq_length} frames, {exp}, {self.precision}"


def training_record(config: object) -> RunRecord:
    """The record of a training run (a TrainConfig), its precision resolved as the run resolves it."""
    from sfmlearner_tf.ops.precision import precision_policy

    return RunRecord(img_height=config.data.img_height, img_width=config.data.img_width,
                     seq_length=config.data.seq_length, explain_reg_weight=float(config.loss.explain_reg_weight),
                     precision=precision_policy(config.distribution.mixed_precision))


def write_run_record(checkpoint_dir: str | os.PathLike, record: RunRecord) -> Path:
    """Writes <checkpoint_dir>/run_record.json atomically (replacing an earlier one) and returns its path."""
    path = Path(checkpoint_dir) / RUN_RECORD_NAME
    payload = {"format": RECORD_FORMAT, **asdict(record), "do_exp": record.do_exp}
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=True) + "\n")
    return path


def read_run_record(path: str | os.PathLike) -> RunRecord:
    """Parses a run_record.json; a malformed file is a DataError naming it and the problem."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable run record ({exc})") from exc
    names = [f.name for f in fields(RunRecord)]
    missing = [name for name in names if not isinstance(payload, dict) or name not in payload]
    if missing:
        raise DataError(f"{path}: run record lacks {', '.join(missing)}")
    try:
        record = RunRecord(img_height=int(payload["img_height"]), img_width=int(payload["img_width"]),
                           seq_length=int(payload["seq_length"]),
                           explain_reg_weight=float(payload["explain_reg_weight"]),
                           precision=str(payload["precision"]))
    except (TypeError, ValueError) as exc:
        raise DataError(f"{path}: run record has a value of the wrong type ({exc})") from exc
    if min(record.img_height, record.img_width) < 1 or record.seq_length < 3 or record.seq_length % 2 == 0:
        raise DataError(f"{path}: run record has impossible values ({record.describe()})")
    return record


def find_run_record(checkpoint: str | os.PathLike) -> Path | None:
    """The run_record.json belonging to a checkpoint folder or prefix, or None (e.g. a TF1 checkpoint)."""
    path = Path(checkpoint)
    folders = [path] if path.is_dir() else [path.parent]
    if folders[0].name in ("latest", "best"):  # <dir>/latest/model.latest-<step>, <dir>/best/... belong to <dir>
        folders.append(folders[0].parent)
    return next((f / RUN_RECORD_NAME for f in folders if (f / RUN_RECORD_NAME).is_file()), None)


def load_run_record(checkpoint: str | os.PathLike | None) -> tuple[RunRecord | None, Path | None]:
    """(record, its path) of a checkpoint, or (None, None) when it has none."""
    if not checkpoint:
        return None, None
    path = find_run_record(checkpoint)
    return (read_run_record(path), path) if path is not None else (None, None)


def tf1_pose_frames(prefix: str | os.PathLike) -> int | None:
    """Frames the pose net of a TF1 checkpoint takes (its first kernel has 3 input channels per frame), or None
    if `prefix` is not a readable TF1 checkpoint with a pose net. Zhou et al.'s model-100280 gives 5."""
    from sfmlearner_tf.models.tf1_checkpoint import is_tf1_checkpoint

    if Path(prefix).is_dir() or not is_tf1_checkpoint(str(prefix)):
        return None
    import tensorflow as tf

    shapes = tf.train.load_checkpoint(str(prefix)).get_variable_to_shape_map()
    shape = shapes.get(_POSE_INPUT_KERNEL)
    return int(shape[2]) // 3 if shape is not None and len(shape) == 4 else None


def settings_with_record(checkpoint: str | os.PathLike | None, values: dict[str, object], given: set[str],
                         label: str = "model") -> tuple[dict[str, object], str]:
    """`values` (settings among img_height, img_width, seq_length, mixed_precision, do_exp) with every one not in
    `given` (those the user set) replaced by the checkpoint's run record's; a TF1 checkpoint without a record
    gives its pose net's frame count as seq_length. The user's setting always wins. Returns the values and a
    one-line note saying what was taken from where ("" when nothing came from a record)."""
    values = dict(values)
    record, path = load_run_record(checkpoint)
    if record is None:
        frames = tf1_pose_frames(checkpoint) if checkpoint and "seq_length" in values else None
        if frames is None or "seq_length" in given:
            return values, ""
        values["seq_length"] = frames
        return values, f"{label}: seq_length={frames} from the TF1 checkpoint's pose net ({checkpoint})"
    taken = [name for name in values if name not in given]
    for name in taken:
        values[name] = getattr(record, name)
    parts = [f"{label}: run record {path} ({record.describe()})"]
    if taken:
        parts.append("using " + ", ".join(f"{name}={values[name]}" for name in taken))
    if given & set(values):
        parts.append("flags given win: " + ", ".join(f"--{name}={values[name]}" for name in values if name in given))
    return values, "; ".join(parts)
