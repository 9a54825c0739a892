"""Evaluation refuses what it cannot score honestly: pose predictions missing or extra against the ground-truth
snippets (by file name and by frame range), a sequence too short for one snippet, nothing left after the
original's zero-ATE drop, a depth predictions file with missing or extra maps, and a checkpoint given together
with predictions; every JSON it writes is strict (no NaN). Snippet folders are written with the project's writers,
expected ATEs computed here from the files read with numpy."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from absl import flags
from helpers import build_mini_raw, mini_dense_depth

import flags.eval as eval_flags
from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.evaluation import DepthEvalConfig, PoseEvalConfig, evaluate_pose
from sfmlearner_tf.evaluation.pose_snippets import snippet_starts, world_to_camera_vecs, write_snippet
from sfmlearner_tf.evaluation.result_json import result_json
from sfmlearner_tf.io_utils import atomic_save_image, atomic_write_text
from sfmlearner_tf.models import PoseExpNet
from sfmlearner_tf.synthetic.layout import odometry_times, pose_lines
from sfmlearner_tf.tasks.evaluate import evaluate_depth_run

REPO = Path(__file__).resolve().parents[1]
SEQ = 9


def strict_json(path: Path) -> dict:
    """The file parsed as JSON, refusing NaN and Infinity (Python's json would accept them)."""
    def refuse(name: str) -> None:
        raise ValueError(f"{path}: {name} is not JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


def true_poses(num_frames: int) -> np.ndarray:
    """[N, 3, 4] camera-to-world poses: turning about y while driving forward (z), KITTI's camera axes."""
    poses = []
    for k in range(num_frames):
        yaw = 0.04 * k
        rot = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
        poses.append(np.hstack([rot, [[0.3 * k * k / num_frames], [0.0], [1.2 * k]]]))
    return np.asarray(poses)


def mini_odometry(root: Path, num_frames: int, images: bool = False) -> Path:
    """An odometry root of one sequence: poses/09.txt, times.txt and (with `images`) image_2 frames."""
    sequence = root / "sequences" / f"{SEQ:02d}"
    atomic_write_text(root / "poses" / f"{SEQ:02d}.txt", pose_lines(true_poses(num_frames)))
    atomic_write_text(sequence / "times.txt", odometry_times(num_frames))
    for frame in range(num_frames if images else 0):
        atomic_save_image(sequence / "image_2" / f"{frame:06d}.png", np.full((32, 64, 3), 9 * frame, np.uint8))
    return root


def write_predictions(odom: Path, out: Path, num_frames: int, seq_length: int = 5) -> Path:
    """Predicted snippets: the true world-to-camera vectors with noise (0.05 m, 0.01 rad), one file per window."""
    vecs = world_to_camera_vecs(true_poses(num_frames))
    vecs += np.random.default_rng(3).normal(0.0, [0.05] * 3 + [0.01] * 3, vecs.shape)
    times = np.loadtxt(odom / "sequences" / f"{SEQ:02d}" / "times.txt")
    for start in snippet_starts(num_frames, seq_length):
        write_snippet(out, start, vecs[start:start + seq_length], times[start:start + seq_length])
    return out


def expected_ate(gt_file: Path, pred_file: Path) -> float:
    """The original's snippet ATE worked out here: first positions aligned, least-squares scale, sqrt(sum) / n."""
    gt, pred = np.loadtxt(gt_file)[:, 1:4], np.loadtxt(pred_file)[:, 1:4]
    pred = pred - pred[0] + gt[0]
    scale = np.sum(gt * pred) / np.sum(pred * pred)
    return float(np.sqrt(np.sum((scale * pred - gt) ** 2)) / len(gt))


def pose_config(odom: Path, out: Path, pred: Path, **kwargs: object) -> PoseEvalConfig:
    return PoseEvalConfig(dataset_dir=str(odom), output_dir=str(out), test_seq=SEQ, pred_dir=str(pred), **kwargs)


def test_three_of_nine_missing_predictions_are_refused_naming_them(tmp_path: Path) -> None:
    odom = mini_odometry(tmp_path / "odom", 13)
    pred = write_predictions(odom, tmp_path / "pred", 13)
    result = evaluate_pose(pose_config(odom, tmp_path / "out", pred))
    names = [f"{start:06d}.txt" for start in range(9)]
    ates = [expected_ate(tmp_path / "out" / "gt_09" / name, pred / name) for name in names]
    assert result["num_snippets"] == 9
    assert result["ate_mean"] == pytest.approx(np.mean(ates), rel=1e-9)
    assert result["ate_std"] == pytest.approx(np.std(ates), rel=1e-9)
    assert strict_json(tmp_path / "out" / "pose_eval_09.json")["ate_mean"] == result["ate_mean"]
    # Scoring the 6 left (what the original does) gives another number: refused instead.
    left = [ate for ate, name in zip(ates, names) if name not in ("000002.txt", "000004.txt", "000006.txt")]
    assert abs(np.mean(left) - np.mean(ates)) > 1e-4
    for name in ("000002.txt", "000004.txt", "000006.txt"):
        (pred / name).unlink()
    with pytest.raises(DataError) as error:
        evaluate_pose(pose_config(odom, tmp_path / "out2", pred))
    message = str(error.value)
    assert message == (f"sequence 09: the predicted snippets in {pred} do not match the ground truth in "
                       f"{tmp_path / 'out2' / 'gt_09'}: 3 of 9 missing (000002.txt, 000004.txt, 000006.txt)")
    assert len(message) < 300 and not (tmp_path / "out2" / "pose_eval_09.json").exists()


def test_extra_and_mismatched_frame_ranges_are_refused(tmp_path: Path) -> None:
    odom = mini_odometry(tmp_path / "odom", 13)
    pred = write_predictions(odom, tmp_path / "pred", 13)
    times = np.loadtxt(odom / "sequences" / "09" / "times.txt")
    write_snippet(pred, 9, np.zeros((4, 6)), times[9:13])  # a window past the sequence's last 5-frame one
    with pytest.raises(DataError, match=r"^sequence 09: the predicted snippets in .* do not match the ground truth "
                                        r"in .*gt_09: 1 extra \(000009.txt\)$"):
        evaluate_pose(pose_config(odom, tmp_path / "out", pred))
    # 3-frame snippets against 5-frame ground truth: two windows more, and the names that exist are shorter.
    short = write_predictions(odom, tmp_path / "short", 13, seq_length=3)
    with pytest.raises(DataError, match=r": 2 extra \(000009.txt, 000010.txt\)$"):
        evaluate_pose(pose_config(odom, tmp_path / "out", short))
    (short / "000009.txt").unlink()
    (short / "000010.txt").unlink()
    with pytest.raises(DataError, match=r"^sequence 09: 9 of the 9 predicted snippets in .*short cannot be scored: "
                                        r"000000.txt \(3 of 5 frames matched\), 000001.txt \(3 of 5 frames matched\), "
                                        r"\.\.\.$"):
        evaluate_pose(pose_config(odom, tmp_path / "out", short))
    # One file holding the wrong frames (3..7 under the name of window 2): 4 of its 5 timestamps match.
    vecs = world_to_camera_vecs(true_poses(13))
    write_snippet(pred, 2, vecs[3:8], times[3:8])
    (pred / "000009.txt").unlink()
    with pytest.raises(DataError, match=r": 1 of the 9 predicted snippets in .* cannot be scored: 000002.txt \(4 of "
                                        r"5 frames matched\)$"):
        evaluate_pose(pose_config(odom, tmp_path / "out", pred))


def test_a_prediction_that_does_not_move_is_refused(tmp_path: Path) -> None:
    """All predicted positions equal: no scale fits (0 / 0), so the original's ATE would be NaN."""
    odom = mini_odometry(tmp_path / "odom", 6)
    pred = write_predictions(odom, tmp_path / "pred", 6)
    times = np.loadtxt(odom / "sequences" / "09" / "times.txt")
    write_snippet(pred, 1, np.zeros((5, 6)), times[1:6])
    with pytest.raises(DataError, match=r"^sequence 09: 1 of the 2 predicted snippets .* cannot be scored: "
                                        r"000001.txt \(no predicted motion\)$"):
        evaluate_pose(pose_config(odom, tmp_path / "out", pred))


def test_a_one_frame_sequence_is_refused_naming_it(tmp_path: Path) -> None:
    odom = mini_odometry(tmp_path / "odom", 1, images=True)
    (tmp_path / "pred").mkdir()
    poses = odom / "poses" / "09.txt"
    with pytest.raises(DataError, match=rf"^{poses}: sequence 09 has 1 frame\(s\), fewer than one 5-frame snippet: "
                                        "nothing to score$"):
        evaluate_pose(pose_config(odom, tmp_path / "out", tmp_path / "pred"))
    # With a network: refused before anything is predicted or claimed.
    image_dir = odom / "sequences" / "09" / "image_2"
    config = PoseEvalConfig(dataset_dir=str(odom), output_dir=str(tmp_path / "net"), test_seq=SEQ, seq_length=3)
    with pytest.raises(DataError, match=rf"^{image_dir}: sequence 09 has 1 frame\(s\), fewer than one 3-frame "):
        evaluate_pose(config, pose_exp_net=PoseExpNet(2, False))
    assert not (tmp_path / "net" / "pred_09").exists()
    # Ground truth given as an empty folder: nothing to score either.
    (tmp_path / "gt").mkdir()
    with pytest.raises(DataError, match=r"^sequence 09: .*gt holds no ground-truth snippet files"):
        evaluate_pose(pose_config(odom, tmp_path / "out", tmp_path / "pred", gt_dir=str(tmp_path / "gt")))


def test_nothing_left_after_the_zero_ate_drop_is_refused(tmp_path: Path) -> None:
    """Predictions equal to the ground truth: every ATE exactly 0, all dropped as the original does; refused, and
    --keep_zero_ate scores them (0.0, strict JSON)."""
    odom = mini_odometry(tmp_path / "odom", 7)
    first = evaluate_pose(pose_config(odom, tmp_path / "out", write_predictions(odom, tmp_path / "pred", 7)))
    gt_dir = Path(first["gt_dir"])
    with pytest.raises(DataError, match=r"^sequence 09: nothing to score: all 3 snippets in .*gt_09 have ATE "
                                        r"exactly 0, .*--keep_zero_ate scores them$"):
        evaluate_pose(pose_config(odom, tmp_path / "same", gt_dir, gt_dir=str(gt_dir)))
    assert not (tmp_path / "same" / "pose_eval_09.json").exists()
    kept = evaluate_pose(pose_config(odom, tmp_path / "kept", gt_dir, gt_dir=str(gt_dir), keep_zero_ate=True))
    assert (kept["ate_mean"], kept["ate_std"], kept["num_snippets"]) == (0.0, 0.0, 3)
    assert strict_json(tmp_path / "kept" / "pose_eval_09.json")["num_snippets"] == 3


def test_the_program_ends_in_one_line_naming_the_missing_snippets(tmp_path: Path) -> None:
    odom = mini_odometry(tmp_path / "odom", 13)
    pred = write_predictions(odom, tmp_path / "pred", 13)
    for name in ("000000.txt", "000008.txt"):
        (pred / name).unlink()
    completed = subprocess.run(
        [sys.executable, str(REPO / "run_eval.py"), "--split=odometry", f"--dataset_dir={odom}", f"--test_seq={SEQ}",
         f"--output_dir={tmp_path / 'out'}", f"--pred_dir={pred}"],
        capture_output=True, text=True, cwd=REPO, check=False, timeout=300)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr, completed.stderr[-2000:]
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("sfm-eval: error: sequence 09: the predicted snippets in ") and len(last) < 300
    assert last.endswith(": 2 of 9 missing (000000.txt, 000008.txt)") and "ATE mean" not in completed.stdout


def test_depth_predictions_missing_or_extra_are_refused(tmp_path: Path) -> None:
    raw = build_mini_raw(tmp_path)  # 2 test images
    config = DepthEvalConfig(dataset_dir=str(raw), output_dir=str(tmp_path / "out"),
                             gt_cache_dir=str(tmp_path / "cache"), boundary_metrics=False)
    for count in (1, 3):
        path = tmp_path / f"preds{count}.npy"
        np.save(path, np.stack([mini_dense_depth()] * count))
        with pytest.raises(DataError, match=rf"^{path}: {count} predicted depth maps for 2 test images$"), \
                pytest.warns(UserWarning, match="not the standard"):
            evaluate_depth_run(DepthEvalConfig(**{**config.__dict__, "pred_file": str(path)}))
    assert not (tmp_path / "out" / "depth_eval.json").exists()
    np.save(tmp_path / "preds2.npy", np.stack([mini_dense_depth() * 2] * 2))
    with pytest.warns(UserWarning, match="not the standard"):
        result = evaluate_depth_run(DepthEvalConfig(**{**config.__dict__, "pred_file": str(tmp_path / "preds2.npy")}))
    assert result["metrics"]["abs_rel"] == pytest.approx(0.0, abs=1e-6)  # median scaling undoes the factor 2
    assert strict_json(tmp_path / "out" / "depth_eval.json")["metrics"] == result["metrics"]


def test_non_finite_numbers_are_written_as_null() -> None:
    text = result_json({"ate_mean": math.nan, "values": [np.float32(np.inf), 1.5, (np.float64(-np.inf), 2)],
                        "nested": {"a": np.float64(0.25), "b": "nan"}})
    assert json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in strict JSON")) == {
        "ate_mean": None, "values": [None, 1.5, [None, 2]], "nested": {"a": 0.25, "b": "nan"}}


def parse_eval_flags(*argv: str) -> flags.FlagValues:
    values = flags.FlagValues()
    eval_flags.define_flags(values)
    values(["sfm-eval", "--dataset_dir=data", "--output_dir=out", *argv])
    return values


@pytest.mark.parametrize(("split", "predictions"), [("eigen", "pred_file"), ("odometry", "pred_dir")])
def test_a_checkpoint_and_predictions_together_are_refused_at_start_up(split: str, predictions: str) -> None:
    message = (f"--ckpt_file and --{predictions} both given: evaluation scores one source, the checkpoint's "
               f"predictions or those of --{predictions}; drop one of the two flags")
    with pytest.raises(flags.IllegalFlagValueError) as error:
        parse_eval_flags(f"--split={split}", "--ckpt_file=ckpt", f"--{predictions}=preds")
    assert str(error.value) == f"flag --{predictions}=preds: {message}"
    for one in ("--ckpt_file=ckpt", f"--{predictions}=preds"):  # either alone parses, naming its source
        config, _ = eval_flags.config_and_notes_from_flags(parse_eval_flags(f"--split={split}", one))
        assert (config.ckpt_file, getattr(config, predictions)) == (
            ("ckpt", None) if one.startswith("--ckpt") else (None, "preds"))
    config_cls = DepthEvalConfig if split == "eigen" else PoseEvalConfig
    with pytest.raises(ConfigError) as library_error:
        config_cls(dataset_dir="data", output_dir="out", ckpt_file="ckpt", **{predictions: "preds"})
    assert (str(library_error.value), library_error.value.fields) == (message, (predictions,))
