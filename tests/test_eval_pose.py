"""Pose snippets and ATE against hand-worked values and independent rotation formulas."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.evaluation.pose_ate import associate, compute_ate, directory_ate, snippet_ate
from sfmlearner_tf.evaluation.pose_eval import PoseEvalConfig, evaluate_pose, predict_pose_snippets
from sfmlearner_tf.evaluation.pose_snippets import (
    euler_to_matrix,
    euler_to_quaternion,
    matrix_to_euler,
    pose_vec_to_mat,
    read_tum_file,
    write_gt_snippets,
    write_snippet,
)
from sfmlearner_tf.tasks.evaluate import evaluate_pose_run

REPO = Path(__file__).resolve().parents[1]


def rodrigues(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation about a unit axis (independent of the Euler code)."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def quaternion_matrix(qw: float, qx: float, qy: float, qz: float) -> np.ndarray:
    return np.array([
        [1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw)],
        [2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw)],
        [2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy)]])


def test_euler_convention_is_rx_ry_rz() -> None:
    rx, ry, rz = 0.1, -0.2, 0.3
    expected = rodrigues(np.array([1.0, 0, 0]), rx) @ rodrigues(np.array([0, 1.0, 0]), ry) @ \
        rodrigues(np.array([0, 0, 1.0]), rz)
    np.testing.assert_allclose(euler_to_matrix(rx, ry, rz), expected, atol=1e-12)
    np.testing.assert_allclose(matrix_to_euler(expected), (rz, ry, rx), atol=1e-12)
    np.testing.assert_allclose(quaternion_matrix(*euler_to_quaternion(rz, ry, rx)), expected, atol=1e-12)


def test_tum_snippet_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vecs = np.hstack([rng.normal(0, 1, (5, 3)), rng.normal(0, 0.1, (5, 3))])
    times = [10.0, 10.1, 10.2, 10.3, 10.4]
    path = write_snippet(tmp_path, 37, vecs, times)
    assert path.name == "000037.txt"
    entries = read_tum_file(path)
    assert sorted(entries) == pytest.approx(times)
    first = pose_vec_to_mat(vecs[0])
    for vec, stamp in zip(vecs, times):
        mat = pose_vec_to_mat(vec)
        inverse = np.eye(4)
        inverse[:3, :3] = mat[:3, :3].T
        inverse[:3, 3] = -mat[:3, :3].T @ mat[:3, 3]
        relative = first @ inverse
        tx, ty, tz, qx, qy, qz, qw = (float(v) for v in entries[stamp])
        np.testing.assert_allclose([tx, ty, tz], relative[:3, 3], atol=1e-6)  # %f keeps 6 decimals
        np.testing.assert_allclose(quaternion_matrix(qw, qx, qy, qz), relative[:3, :3], atol=1e-5)
    assert np.allclose([float(v) for v in entries[times[0]]], [0, 0, 0, 0, 0, 0, 1])


def test_ate_perfect_scaled_and_hand_worked() -> None:
    gt = np.array([[0.0, 0, 0], [0.5, 0.1, 1.0], [1.0, 0.3, 2.1], [1.4, 0.2, 3.3], [2.0, 0.1, 4.2]])
    assert compute_ate(gt, gt) == pytest.approx(0.0, abs=1e-15)
    assert compute_ate(gt, gt * 0.37 + np.array([5.0, -1.0, 2.0])) == pytest.approx(0.0, abs=1e-12)
    # Hand-worked: pred shifted by (-1,-1,-1) to [[0,0,0],[1,1,0],[2,0,0]]; scale = (2 + 8) / (1 + 1 + 4) = 5/3;
    # squared errors 0 + (1/9 + 25/9) + 4/9 = 10/3; ATE = sqrt(10/3) / 3.
    gt3 = np.array([[0.0, 0, 0], [2, 0, 0], [4, 0, 0]])
    pred3 = np.array([[1.0, 1, 1], [2, 2, 1], [3, 1, 1]])
    assert compute_ate(gt3, pred3) == pytest.approx(math.sqrt(10 / 3) / 3)


def test_association_and_skips(tmp_path: Path) -> None:
    gt = {0.0: [], 0.1: [], 0.2: [], 0.3: []}
    pred = {0.005: [], 0.104: [], 0.106: [], 0.35: []}
    assert associate(gt, pred) == [(0.0, 0.005), (0.1, 0.104)]
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    (tmp_path / "gt" / "000000.txt").write_text("1.0 0 0 0 0 0 0 1\n1.1 1 0 0 0 0 0 1\n")
    (tmp_path / "pred" / "000000.txt").write_text("1.0 0 0 0 0 0 0 1\n1.5 2 0 0 0 0 0 1\n")  # 1 match
    assert snippet_ate(tmp_path / "gt" / "000000.txt", tmp_path / "pred" / "000000.txt") is None


def _write_snippet_pair(root: Path, name: str, gt: str, pred: str | None) -> None:
    for folder, text in (("gt", gt), ("pred", pred)):
        (root / folder).mkdir(exist_ok=True)
        if text is not None:
            (root / folder / name).write_text(text)


def test_directory_mean_and_population_std(tmp_path: Path) -> None:
    # snippet 0: pred (0,0,0),(0,1,0) vs gt (0,0,0),(1,0,0): scale 0, ATE = 1/2;
    # snippet 1: pred (0,0,0),(0,1,0) vs gt (0,0,0),(2,0,0): scale 0, ATE = 2/2 = 1.
    _write_snippet_pair(tmp_path, "000000.txt", "0 0 0 0 0 0 0 1\n0.1 1 0 0 0 0 0 1\n",
                        "0 0 0 0 0 0 0 1\n0.1 0 1 0 0 0 0 1\n")
    _write_snippet_pair(tmp_path, "000001.txt", "0 0 0 0 0 0 0 1\n0.1 2 0 0 0 0 0 1\n",
                        "0 0 0 0 0 0 0 1\n0.1 0 1 0 0 0 0 1\n")
    result = directory_ate(tmp_path / "gt", tmp_path / "pred")
    assert (result["num_snippets"], result["num_zero_ate_dropped"]) == (2, 0)
    assert result["ate_mean"] == pytest.approx(0.75)
    assert result["ate_std"] == pytest.approx(0.25)  # population std of [0.5, 1]
    (tmp_path / "pred" / "000002.txt").write_text("0 0 0 0 0 0 0 1\n0.1 0 1 0 0 0 0 1\n")  # no GT: refused
    with pytest.raises(DataError, match=r"1 extra \(000002.txt\)$"):
        directory_ate(tmp_path / "gt", tmp_path / "pred")


def test_zero_ate_snippets_are_dropped_as_the_original_unless_kept(tmp_path: Path) -> None:
    # Static ground truth: every position 0, so the fitted scale is 0/x = 0 and the ATE exactly 0.
    static_gt = np.zeros((3, 3))
    moving_pred = np.array([[0.0, 0, 0], [0.1, 0, 1.0], [0.3, 0, 2.0]])
    assert compute_ate(static_gt, moving_pred) == 0.0
    _write_snippet_pair(tmp_path, "000000.txt", "0 0 0 0 0 0 0 1\n0.1 0 0 0 0 0 0 1\n0.2 0 0 0 0 0 0 1\n",
                        "0 0 0 0 0 0 0 1\n0.1 0.1 0 1 0 0 0 1\n0.2 0.3 0 2 0 0 0 1\n")
    # A perfect prediction up to scale: gt (0,0,0),(1,0,0); pred (0,0,0),(3,0,0): scale 1/3, ATE exactly 0.
    _write_snippet_pair(tmp_path, "000001.txt", "0 0 0 0 0 0 0 1\n0.1 1 0 0 0 0 0 1\n",
                        "0 0 0 0 0 0 0 1\n0.1 3 0 0 0 0 0 1\n")
    # ATE 1/2 (as in the test above).
    _write_snippet_pair(tmp_path, "000002.txt", "0 0 0 0 0 0 0 1\n0.1 1 0 0 0 0 0 1\n",
                        "0 0 0 0 0 0 0 1\n0.1 0 1 0 0 0 0 1\n")
    original = directory_ate(tmp_path / "gt", tmp_path / "pred")
    assert (original["num_snippets"], original["num_zero_ate_dropped"]) == (1, 2)
    assert (original["ate_mean"], original["ate_std"]) == (0.5, 0.0)
    kept = directory_ate(tmp_path / "gt", tmp_path / "pred", keep_zero_ate=True)
    assert (kept["num_snippets"], kept["num_zero_ate_dropped"]) == (3, 0)
    assert kept["ate_mean"] == pytest.approx(0.5 / 3)
    assert kept["ate_std"] == pytest.approx(math.sqrt(2) / 6)  # population std of [0, 0, 0.5]


def _yaw_poses(num: int) -> np.ndarray:
    """Camera-to-world poses turning about y while driving forward (KITTI's camera: y down, z forward)."""
    poses = []
    position = np.zeros(3)
    for k in range(num):
        rot = rodrigues(np.array([0, 1.0, 0]), 0.05 * k)
        position = position + rot @ np.array([0.1, 0.0, 1.0])
        poses.append(np.hstack([rot, position[:, None]]))
    return np.asarray(poses)


def build_mini_odometry(root: Path, num: int = 8, size: tuple[int, int] = (40, 72)) -> Path:
    seq = root / "sequences" / "09"
    (seq / "image_2").mkdir(parents=True)
    (root / "poses").mkdir()
    rng = np.random.default_rng(0)
    for k in range(num):
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(seq / "image_2" / f"{k:06d}.png")
    (seq / "times.txt").write_text("".join(f"{0.1 * k:e}\n" for k in range(num)))
    poses = _yaw_poses(num)
    (root / "poses" / "09.txt").write_text("".join(" ".join(f"{v:e}" for v in p.ravel()) + "\n" for p in poses))
    return root


def test_gt_snippets_are_snippet_relative_kitti_poses(tmp_path: Path) -> None:
    odom = build_mini_odometry(tmp_path / "odom")
    count = write_gt_snippets(odom, 9, tmp_path / "gt")
    assert count == 8 - 4 and len(list((tmp_path / "gt").glob("*.txt"))) == 4
    poses = _yaw_poses(8)
    entries = read_tum_file(tmp_path / "gt" / "000002.txt")
    for j, stamp in enumerate(sorted(entries)):
        world_c0 = np.vstack([poses[2], [0, 0, 0, 1]])
        world_cj = np.vstack([poses[2 + j], [0, 0, 0, 1]])
        relative = np.linalg.inv(world_c0) @ world_cj            # camera j -> camera 0
        values = [float(v) for v in entries[stamp]]
        np.testing.assert_allclose(values[:3], relative[:3, 3], atol=2e-6)
        np.testing.assert_allclose(quaternion_matrix(values[6], *values[3:6]), relative[:3, :3], atol=2e-5)
        assert stamp == pytest.approx(0.1 * (2 + j))


class ConstantPoseNet:
    """Stand-in pose network: every source gets the same pose; records the inputs of each call it runs (inside
    the predictor's graph too, through a numpy function)."""

    def __init__(self, vec: np.ndarray) -> None:
        self.vec = vec
        self.shapes = []

    def __call__(self, target, sources, training=None):
        def record(target: np.ndarray, sources: np.ndarray) -> np.ndarray:
            self.shapes.append((target.shape, sources.shape, float(np.min(target)), float(np.max(target))))
            return np.tile(self.vec, (target.shape[0], 4, 1))

        return tf.numpy_function(record, [target, sources], tf.float64), None


def test_prediction_snippets_insert_identity_target(tmp_path: Path) -> None:
    odom = build_mini_odometry(tmp_path / "odom")
    images = sorted((odom / "sequences/09/image_2").glob("*.png"))
    times = np.arange(8) * 0.1
    vec = np.array([0.0, 0.0, -0.5, 0.0, 0.0, 0.0])
    net = ConstantPoseNet(vec)
    assert predict_pose_snippets(net, images, times, tmp_path / "pred", height=32, width=64, batch_size=3) == 4
    assert [s[0] for s in net.shapes] == [(3, 32, 64, 3), (1, 32, 64, 3)]
    assert net.shapes[0][1] == (3, 32, 64, 12) and net.shapes[0][2] >= -1.0 and net.shapes[0][3] <= 1.0
    # Frames 0,1,3,4 have pose P = [I | (0,0,-0.5)], frame 2 the identity; relative to frame 0: P0 Pk^-1.
    entries = read_tum_file(tmp_path / "pred" / "000001.txt")
    z = [float(entries[t][2]) for t in sorted(entries)]
    assert z == pytest.approx([0.0, 0.0, -0.5, 0.0, 0.0])
    assert predict_pose_snippets(net, images, times, tmp_path / "pred") == 0  # resumable


def test_evaluate_pose_end_to_end_with_a_fresh_network(tmp_path: Path) -> None:
    from sfmlearner_tf.models import PoseExpNet

    odom = build_mini_odometry(tmp_path / "odom", num=6, size=(32, 64))
    config = PoseEvalConfig(dataset_dir=str(odom), output_dir=str(tmp_path / "out"), test_seq=9, img_height=32,
                            img_width=64, batch_size=2)
    result = evaluate_pose(config, pose_exp_net=PoseExpNet(num_source=4, do_exp=False))
    assert result["num_snippets"] == 2
    assert 0.0 <= result["ate_mean"] < 10.0 and result["ate_std"] >= 0.0
    assert (tmp_path / "out" / "pose_eval_09.json").is_file()
    assert result["table"].splitlines()[1] == ("2 snippets scored; 0 with ATE exactly 0 dropped, as the original "
                                               "does (--keep_zero_ate scores them)")
    # Scoring the ground truth against itself (pred_dir = gt_dir): every ATE is exactly 0, so the original's
    # rule drops them all, leaving nothing to score (the original's mean is NaN): refused, naming the sequence;
    # --keep_zero_ate scores them as 0.
    same = {"dataset_dir": str(odom), "pred_dir": result["gt_dir"], "gt_dir": result["gt_dir"]}
    with pytest.raises(DataError, match=r"^sequence 09: nothing to score: all 2 snippets in .* have ATE exactly 0"):
        evaluate_pose(PoseEvalConfig(output_dir=str(tmp_path / "out2"), **same))
    assert not (tmp_path / "out2" / "pose_eval_09.json").exists()
    kept = evaluate_pose(PoseEvalConfig(output_dir=str(tmp_path / "out3"), keep_zero_ate=True, **same))
    assert (kept["ate_mean"], kept["ate_std"], kept["num_snippets"]) == (0.0, 0.0, 2)
    assert kept["table"] == "Seq 09 ATE mean: 0.0000, std: 0.0000\n2 snippets scored (those with ATE exactly 0 " \
                            "included: --keep_zero_ate)"
    # The same output folder for another run (here: another checkpoint) is refused, not silently re-scored.
    with pytest.raises(ConfigError, match="outputs of another run"):
        evaluate_pose_run(PoseEvalConfig(dataset_dir=str(odom), output_dir=str(tmp_path / "out"), test_seq=9,
                                         ckpt_file=str(tmp_path / "other" / "ckpt-1"), img_height=32, img_width=64))


def test_run_eval_keep_zero_ate_flag(tmp_path: Path) -> None:
    """The flag reaches the evaluation: a static-ground-truth snippet (ATE 0) is scored along with an ATE 1/2 one."""
    _write_snippet_pair(tmp_path, "000000.txt", "0 0 0 0 0 0 0 1\n0.1 0 0 0 0 0 0 1\n",
                        "0 0 0 0 0 0 0 1\n0.1 0 0 1 0 0 0 1\n")
    _write_snippet_pair(tmp_path, "000001.txt", "0 0 0 0 0 0 0 1\n0.1 1 0 0 0 0 0 1\n",
                        "0 0 0 0 0 0 0 1\n0.1 0 1 0 0 0 0 1\n")
    completed = subprocess.run(
        [sys.executable, str(REPO / "run_eval.py"), "--split=odometry", f"--dataset_dir={tmp_path}",
         f"--output_dir={tmp_path / 'out'}", f"--pred_dir={tmp_path / 'pred'}", f"--gt_dir={tmp_path / 'gt'}",
         "--keep_zero_ate"], capture_output=True, text=True, cwd=REPO, check=False, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.splitlines()[-2:] == [
        "Seq 09 ATE mean: 0.2500, std: 0.2500",
        "2 snippets scored (those with ATE exactly 0 included: --keep_zero_ate)"]


@pytest.mark.parametrize("seq_length", [3, 5])
def test_pose_predictor_matches_the_eager_call_for_any_batch_from_one_trace(seq_length: int) -> None:
    """Target = the middle frame, sources = the others in time order, each uint8 -> [-1, 1]; worked out here."""
    from sfmlearner_tf.evaluation.pose_eval import PosePredictor
    from sfmlearner_tf.models import PoseExpNet

    tf.keras.utils.set_random_seed(4)
    net = PoseExpNet(seq_length - 1, False).ensure_built()
    predict = PosePredictor(net, 32, 64, seq_length)
    half = (seq_length - 1) // 2
    for count in (1, 3):
        windows = np.random.default_rng(count).integers(0, 256, (count, seq_length, 32, 64, 3), dtype=np.uint8)
        frames = windows.astype(np.float32) / 255 * 2 - 1
        sources = np.concatenate([frames[:, k] for k in range(seq_length) if k != half], axis=-1)
        want = net(frames[:, half], sources, training=False)[0].numpy()
        got = predict(windows)
        assert got.shape == (count, seq_length - 1, 6) and got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert predict._poses.experimental_get_tracing_count() == 1
