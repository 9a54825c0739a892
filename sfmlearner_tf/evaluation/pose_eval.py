"""Odometry pose evaluation: predicted snippets (from a pose network, or an existing folder of snippet files),
ground-truth snippets from poses/XX.txt (or an existing folder, e.g. the original's pose_eval_data), and ATE;
optionally the whole trajectory chained from the snippets (evaluation/full_trajectory.py).

Prediction as test_kitti_pose.py: for every target t with t +- (L-1)/2 inside the sequence, the L frames of
`sequences/XX/image_2` are resized with PIL bilinear (scipy's imresize) to img_width x img_height, the network
gives L-1 target->source 6-vectors, a zero vector is inserted at the target's place, and the snippet file is
named after its first frame.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.evaluation.depth_predict import load_resized_image, to_network_range
from sfmlearner_tf.evaluation.full_trajectory import ALIGNMENTS, evaluate_full_trajectory, full_trajectory_lines
from sfmlearner_tf.evaluation.pose_ate import directory_ate
from sfmlearner_tf.evaluation.pose_snippets import (
    sequence_snippet_starts,
    snippet_starts,
    write_gt_snippets,
    write_snippet,
)
from sfmlearner_tf.evaluation.prediction_file import check_one_source
from sfmlearner_tf.evaluation.result_json import result_json
from sfmlearner_tf.io_utils import atomic_write_text, check_writable_folder, claim_output_folder
from sfmlearner_tf.prep.kitti_io import read_times
from sfmlearner_tf.progress import ProgressReporter
from sfmlearner_tf.settings import PROGRESS_EVERY, SEQ_LENGTH, check_settings, setting


@dataclass(frozen=True)
class PoseEvalConfig:
    """Pose evaluation of one odometry sequence (defaults = the original's)."""

    dataset_dir: str = setting(help="Odometry root: sequences/XX/image_2, times.txt; poses/XX.txt.")
    output_dir: str = setting(help="Where predicted and ground-truth snippets, the JSON and plots go.")
    test_seq: int = setting(9, "Odometry sequence to evaluate.", low=0, high=99)
    seq_length: int = setting(5, "Snippet length (odd; default: the checkpoint's run record, else 5).",
                              rule=SEQ_LENGTH)
    ckpt_file: str | None = setting(None, "The model's checkpoint.")
    pred_dir: str | None = setting(None, "Existing predicted snippet files to score instead of running a model.")
    gt_dir: str | None = setting(None, "Existing ground-truth snippets (default: generated from poses/XX.txt).")
    img_height: int = setting(128, "Network input height.", multiple_of=16)
    img_width: int = setting(416, "Network input width.", multiple_of=16)
    batch_size: int = setting(1, "Inference batch.", low=1)
    progress_every_s: float = setting(10.0, "Seconds between progress lines (inf: none).", rule=PROGRESS_EVERY)
    keep_zero_ate: bool = setting(False, "Score snippets whose ATE is exactly 0, e.g. static ground truth (the "
                                  "original drops them from the mean, std and count, since 0.0 == False in "
                                  "Python).")
    full_trajectory: bool = setting(False, "Also chain all snippets into one trajectory and score it against "
                                    "poses/XX.txt: ATE, KITTI's t_err (%) and r_err (deg/100 m), a top-view plot.")
    trajectory_alignment: str = setting("sim3", "--full_trajectory's alignment to the ground truth: sim3 (rotation, "
                                        "translation and scale: monocular) or se3 (no scale).",
                                        choices=tuple(ALIGNMENTS))

    def __post_init__(self) -> None:
        check_settings(self)
        check_one_source(self.ckpt_file, self.pred_dir, "pred_dir")


def sequence_frames(odom_dir: str | os.PathLike, sequence: int) -> tuple[list[Path], np.ndarray]:
    """The sorted image_2 frames of a sequence and their timestamps (counts must agree)."""
    seq_dir = Path(odom_dir) / "sequences" / f"{sequence:02d}"
    images = sorted((seq_dir / "image_2").glob("*.png"))
    if not images:
        raise DataError(f"{seq_dir / 'image_2'}: no .png frames")
    times = read_times(seq_dir / "times.txt")
    if len(times) != len(images):
        raise DataError(f"{seq_dir / 'times.txt'}: {len(times)} timestamps for {len(images)} images")
    return images, times


def predict_pose_snippets(pose_exp_net, images: list[Path], times: np.ndarray, out_dir: str | os.PathLike,
                          seq_length: int = 5, height: int = 128, width: int = 416, batch_size: int = 1,
                          progress_every_s: float = 10.0) -> int:
    """Writes one predicted snippet file per window; existing files are kept (resumable). Returns the count."""
    half = (seq_length - 1) // 2
    predict = PosePredictor(pose_exp_net, height, width, seq_length)
    todo = [s for s in snippet_starts(len(images), seq_length) if not (Path(out_dir) / f"{s:06d}.txt").is_file()]
    progress = ProgressReporter(len(todo), f"pose snippets -> {out_dir}", every_s=progress_every_s, unit="snippets")
    loaded: dict[int, np.ndarray] = {}
    for begin in range(0, len(todo), batch_size):
        starts = todo[begin:begin + batch_size]
        for index in range(starts[0], starts[-1] + seq_length):
            if index not in loaded:
                loaded[index] = load_resized_image(images[index], height, width, Image.Resampling.BILINEAR)
        windows = np.stack([np.stack([loaded[s + k] for k in range(seq_length)]) for s in starts])
        for index in [i for i in loaded if i <= starts[-1]]:
            del loaded[index]  # windows only move forward: keep memory to about one window
        poses = predict(windows)
        for start, pose in zip(starts, poses):
            vecs = np.insert(pose, half, np.zeros(6), axis=0)
            write_snippet(out_dir, start, vecs, times[start:start + seq_length])
        progress.update(len(starts))
    return len(todo)


class PosePredictor:
    """Callable uint8 windows [B, L, height, width, 3] of L frames in time order -> float64 [B, L-1, 6]
    target->source 6-vectors, the target being the middle frame and the sources the others in time order (as
    test_kitti_pose.py). PoseExpNet runs as one graph traced for any batch size, reading the live weights."""

    def __init__(self, pose_exp_net, height: int, width: int, seq_length: int) -> None:
        self.half = (seq_length - 1) // 2
        self._poses = tf.function(
            lambda target, sources: pose_exp_net(target, sources, training=False)[0], autograph=False,
            input_signature=[tf.TensorSpec([None, height, width, 3], tf.float32),
                             tf.TensorSpec([None, height, width, 3 * (seq_length - 1)], tf.float32)])

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        target = to_network_range(windows[:, self.half])
        sources = to_network_range(np.concatenate([windows[:, k] for k in range(windows.shape[1]) if k != self.half],
                                                  axis=-1))
        return np.asarray(self._poses(tf.constant(target), tf.constant(sources)), dtype=np.float64)


def evaluate_pose(config: PoseEvalConfig, pose_exp_net=None,
                  restore_net: Callable[[], tuple[object, dict]] | None = None, notes: Sequence[str] = ()) -> dict:
    """Predicts (unless pred_dir is given), builds ground-truth snippets (unless gt_dir is given), scores the
    ATE; writes <output_dir>/pose_eval_<XX>.json and returns the same dict.

    The network: `pose_exp_net` in memory, else the one `restore_net()` fills from config.ckpt_file (it returns
    the net and restore_models' info; sfmlearner_tf/tasks/evaluate.py passes it), called once the output
    folder is claimed. With config.full_trajectory the snippets are also chained and scored as one trajectory
    (result["full_trajectory"]). `notes` (e.g. a train/test overlap warning) end the table and go into the JSON
    as "notes". What cannot be scored honestly is a DataError before any JSON is written: a sequence too short
    for one snippet, predictions missing or extra against the ground-truth snippets, nothing left to score
    (pose_ate.directory_ate)."""
    out = check_writable_folder(config.output_dir, "--output_dir")
    pred_dir = Path(config.pred_dir) if config.pred_dir else out / f"pred_{config.test_seq:02d}"
    picked = None
    if config.pred_dir is None:
        if pose_exp_net is None and restore_net is None:
            raise ConfigError("pose evaluation needs --ckpt_file or --pred_dir")
        images, times = sequence_frames(config.dataset_dir, config.test_seq)
        sequence_snippet_starts(len(images), config.seq_length, config.test_seq, images[0].parent)
        model = "an in-memory model" if pose_exp_net is not None else str(Path(config.ckpt_file).resolve())
        claim_output_folder(pred_dir, {"predictions_of": model, "dataset_dir": str(Path(config.dataset_dir).resolve()),
                                       "test_seq": config.test_seq, "seq_length": config.seq_length,
                                       "img_size": [config.img_height, config.img_width]})
        net, info = (pose_exp_net, {"checkpoint": model}) if pose_exp_net is not None else restore_net()
        picked = str(info["checkpoint"])
        predict_pose_snippets(net, images, times, pred_dir, config.seq_length, config.img_height,
                              config.img_width, config.batch_size, config.progress_every_s)
    elif not pred_dir.is_dir():
        raise DataError(f"{pred_dir}: predicted snippet folder not found")
    gt_dir = Path(config.gt_dir) if config.gt_dir else out / f"gt_{config.test_seq:02d}"
    if config.gt_dir is None:
        claim_output_folder(gt_dir, {"ground_truth_of": str(Path(config.dataset_dir).resolve()),
                                     "test_seq": config.test_seq, "seq_length": config.seq_length})
        write_gt_snippets(config.dataset_dir, config.test_seq, gt_dir, config.seq_length)
    elif not gt_dir.is_dir():
        raise DataError(f"{gt_dir}: ground-truth snippet folder not found")
    result = {"split": "odometry", "test_seq": config.test_seq,
              **directory_ate(gt_dir, pred_dir, config.keep_zero_ate, f"sequence {config.test_seq:02d}"),
              "pred_dir": str(pred_dir), "gt_dir": str(gt_dir), "config": asdict(config)}
    result["table"] = _table(config.test_seq, result, config.keep_zero_ate)
    if picked is not None:
        result["checkpoint"] = picked
        result["table"] += f"\nmodel: {picked} ({config.seq_length} frames, {config.img_height}x{config.img_width})"
    if config.full_trajectory:
        result["full_trajectory"] = evaluate_full_trajectory(config.dataset_dir, config.test_seq, pred_dir,
                                                             config.seq_length, out, config.trajectory_alignment)
        result["table"] += "\n" + full_trajectory_lines(config.test_seq, result["full_trajectory"])
    if notes:
        result["notes"] = list(notes)
        result["table"] += "".join(f"\n{note}" for note in notes)
    atomic_write_text(out / f"pose_eval_{config.test_seq:02d}.json", result_json(result))
    return result


def _table(test_seq: int, result: dict, keep_zero_ate: bool) -> str:
    """The original's line, then how many snippets were scored and how many zero-ATE ones were dropped."""
    line = f"Seq {test_seq:02d} ATE mean: {result['ate_mean']:.4f}, std: {result['ate_std']:.4f}"
    counts = f"{result['num_snippets']} snippets scored"
    if keep_zero_ate:
        counts += " (those with ATE exactly 0 included: --keep_zero_ate)"
    else:
        counts += (f"; {result['num_zero_ate_dropped']} with ATE exactly 0 dropped, as the original does "
                   "(--keep_zero_ate scores them)")
    return f"{line}\n{counts}"
