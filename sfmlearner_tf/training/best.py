"""The best checkpoint by validation loss (the original stopped near 160k of 200k steps because training
overfits): `<checkpoint_dir>/best/model.best-<step>` holds the models of the step with the lowest validation
(pixel) loss so far, and `best/best.json` that step, the loss and the number of val batches it was scored on, so
that a resumed run goes on from the best so far instead of replacing a better checkpoint with a worse one.

Losses on different numbers of val batches are not comparable: a resume that scores another number starts the
comparison afresh (its first score replaces the saved best). Saving only reads the variables, so a run's training
numbers are the same with or without it (--keep_best).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.io_utils import atomic_write_text
from sfmlearner_tf.training.checkpoints import BEST_SUBDIR, TrainCheckpoints
from sfmlearner_tf.training.config import TrainConfig
from sfmlearner_tf.training.validation import ValidationLoss

BEST_RECORD_NAME = "best.json"
BEST_FORMAT = 1


@dataclass(frozen=True)
class BestSoFar:
    """The best step so far, its validation loss and the number of val batches that loss averages."""

    step: int
    val_pixel: float
    val_batches: int


def best_record_path(checkpoint_dir: str | os.PathLike) -> Path:
    """`<checkpoint_dir>/best/best.json`."""
    return Path(checkpoint_dir) / BEST_SUBDIR / BEST_RECORD_NAME


def write_best(checkpoint_dir: str | os.PathLike, best: BestSoFar) -> Path:
    """Writes best.json atomically (replacing the previous one) and returns its path."""
    path = best_record_path(checkpoint_dir)
    atomic_write_text(path, json.dumps({"format": BEST_FORMAT, **asdict(best)}, indent=1, sort_keys=True) + "\n")
    return path


def read_best(checkpoint_dir: str | os.PathLike) -> BestSoFar | None:
    """The saved best of the run in `checkpoint_dir`, or None when it has none; a malformed file is a DataError
    naming it."""
    path = best_record_path(checkpoint_dir)
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        best = BestSoFar(step=int(saved["step"]), val_pixel=float(saved["val_pixel"]),
                         val_batches=int(saved["val_batches"]))
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise DataError(f"{path}: unreadable record of the best checkpoint ({error!r}); remove it to start the "
                        "comparison afresh") from error
    if not math.isfinite(best.val_pixel):
        raise DataError(f"{path}: val_pixel {best.val_pixel} is not finite; remove it to start the comparison "
                        "afresh")
    return best


class BestKeeper:
    """`offer(step, val_pixel)` saves best/ when the loss is lower than the best so far (a NaN never is).
    `write_record=False` on the non-chief workers of a multi-worker run, which take part in the save only."""

    def __init__(self, checkpoints: TrainCheckpoints, val_batches: int, so_far: BestSoFar | None = None,
                 write_record: bool = True) -> None:
        self.checkpoints = checkpoints
        self.val_batches = val_batches
        self.so_far = so_far
        self.write_record = write_record

    def offer(self, step: int, val_pixel: float) -> bool:
        """Saves the current models as the best when `val_pixel` is a new low; True when it did."""
        if not math.isfinite(val_pixel) or (self.so_far is not None and val_pixel >= self.so_far.val_pixel):
            return False
        self.checkpoints.save_best(step)
        self.so_far = BestSoFar(step, float(val_pixel), self.val_batches)
        if self.write_record:
            write_best(self.checkpoints.directory, self.so_far)
        return True

    def describe(self) -> str:
        """`best step <s> (val_pixel <loss>) in <dir>/best`, or that none was saved yet."""
        if self.so_far is None:
            return "no best checkpoint yet"
        folder = os.path.join(self.checkpoints.directory, BEST_SUBDIR)
        return f"best step {self.so_far.step} (val_pixel {self.so_far.val_pixel:.4f}) in {folder}"


def start_best(config: TrainConfig, checkpoints: TrainCheckpoints, validation: ValidationLoss | None,
               resumed: bool, chief: bool) -> tuple[BestKeeper | None, str]:
    """The run's BestKeeper (None with --keep_best off or without a validation loss) and a note for the start
    line. A resumed run goes on from its saved best.json when that was scored on the same number of batches."""
    if not config.keep_best or validation is None:
        return None, ""
    so_far = read_best(config.checkpoint_dir) if resumed else None
    note = ""
    if so_far is not None and so_far.val_batches != validation.num_batches:
        note = (f"; the saved best (step {so_far.step}) was scored on {so_far.val_batches} val batch(es), this run "
                f"scores {validation.num_batches}: its first validation replaces it")
        so_far = None
    keeper = BestKeeper(checkpoints, validation.num_batches, so_far, write_record=chief)
    if so_far is None:
        return keeper, f"keeping the lowest val_pixel's models in {BEST_SUBDIR}/{note}"
    return keeper, f"going on from the {keeper.describe()}"
