"""sfm-eval --full_trajectory on the synthetic odometry sequences: snippet files made from the true poses (exact
expected numbers: no error, the known scale found by the Sim(3) alignment), a fresh pose net (its snippets chain
like sfm-predict's vectors), missing snippets, and the train/test overlap warning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from absl import flags
from PIL import Image

import flags.eval as eval_flags
from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.depth_predict import load_resized_image
from sfmlearner_tf.evaluation.full_trajectory import evaluate_full_trajectory
from sfmlearner_tf.evaluation.odometry_leak import training_overlap
from sfmlearner_tf.evaluation.pose_eval import PoseEvalConfig, PosePredictor, evaluate_pose, sequence_frames
from sfmlearner_tf.evaluation.pose_snippets import (
    snippet_starts,
    world_to_camera_vecs,
    write_gt_snippets,
    write_snippet,
)
from sfmlearner_tf.evaluation.trajectory_chain import chain_window_transforms, snippet_window_transforms
from sfmlearner_tf.predict.trajectory import chain_trajectory
from sfmlearner_tf.prep.kitti_io import read_odometry_poses, read_times
from sfmlearner_tf.run_record import RunRecord, write_run_record
from sfmlearner_tf.tasks.evaluate import evaluate, evaluate_pose_run

SEQ = 1  # a synthetic drive of 12 frames, 7 m (the held-out one, 02, stops and moves 0.6 m)


def true_poses(odom: Path, sequence: int = SEQ) -> np.ndarray:
    """[N, 4, 4] camera-to-first-camera poses of poses/XX.txt, computed here."""
    cam_to_world = read_odometry_poses(odom / "poses" / f"{sequence:02d}.txt")
    poses = np.tile(np.eye(4), (len(cam_to_world), 1, 1))
    poses[:, :3, :] = cam_to_world
    return np.linalg.inv(poses[0]) @ poses


def write_true_snippets(odom: Path, out: Path, scale: float = 1.0, seq_length: int = 5, sequence: int = SEQ) -> Path:
    """Predicted snippet files of a perfect pose net whose translations are `scale` times the true ones."""
    poses = read_odometry_poses(odom / "poses" / f"{sequence:02d}.txt")
    poses[:, :, 3] *= scale
    vecs = world_to_camera_vecs(poses)
    times = read_times(odom / "sequences" / f"{sequence:02d}" / "times.txt")
    for start in snippet_starts(len(poses), seq_length):
        write_snippet(out, start, vecs[start:start + seq_length], times[start:start + seq_length])
    return out


def strict_json(path: Path) -> dict:
    """The file parsed as JSON, refusing NaN and Infinity (Python's json would accept them)."""
    def refuse(name: str) -> None:
        raise ValueError(f"{path}: {name} is not JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


def rms_spread(xyz: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.sum((xyz - xyz.mean(0)) ** 2, axis=1))))


def test_chained_ground_truth_snippets_give_back_the_poses(synthetic_root: Path, tmp_path: Path) -> None:
    odom = synthetic_root / "kitti_odom"
    for seq_length in (3, 5):
        folder = tmp_path / f"gt{seq_length}"
        write_gt_snippets(odom, SEQ, folder, seq_length)
        chained = chain_window_transforms(snippet_window_transforms(folder, 12, seq_length))
        np.testing.assert_allclose(chained, true_poses(odom), atol=2e-5)


def test_true_snippets_score_zero_and_a_known_scale_is_found(synthetic_root: Path, tmp_path: Path) -> None:
    odom = synthetic_root / "kitti_odom"
    gt_xyz = true_poses(odom)[:, :3, 3]
    path_length = float(np.sum(np.linalg.norm(np.diff(gt_xyz, axis=0), axis=1)))
    for scale in (1.0, 0.5):
        pred = write_true_snippets(odom, tmp_path / f"pred{scale}", scale)
        out = tmp_path / f"out{scale}"
        result = evaluate_pose(PoseEvalConfig(dataset_dir=str(odom), output_dir=str(out), test_seq=SEQ,
                                              pred_dir=str(pred), full_trajectory=True, keep_zero_ate=True))
        full = result["full_trajectory"]
        assert full["scale"] == pytest.approx(1 / scale, rel=1e-5)
        assert full["ate_m"] == pytest.approx(0.0, abs=1e-5)
        assert full["t_err_percent"] == pytest.approx(0.0, abs=0.01)
        assert full["r_err_deg_per_100m"] == pytest.approx(0.0, abs=0.05)
        assert full["path_length_m"] == pytest.approx(path_length, rel=1e-6) and path_length < 100
        np.testing.assert_allclose(full["segment_lengths_m"], path_length * np.arange(1, 9) / 10, rtol=1e-6)
        assert full["num_segments"] == 8 and "10%..80%" in full["segment_rule"]  # only frame 0 has 10 frames ahead
        assert result["table"].splitlines()[-2].startswith(f"Seq 01 full trajectory (12 frames, {path_length:.4g} m, "
                                                           "Sim(3)-aligned, scale ")
        saved = strict_json(out / "pose_eval_01.json")
        assert saved["full_trajectory"]["scale"] == full["scale"]
        plot = np.asarray(Image.open(out / "trajectory_01.png"))
        assert plot.shape == (640, 640, 3) and np.all(plot == (31, 119, 180), axis=-1).sum() > 100  # prediction
        aligned = np.loadtxt(out / "trajectory_01_aligned.txt").reshape(-1, 3, 4)
        np.testing.assert_allclose(aligned[:, :, 3], gt_xyz, atol=1e-5)
    # The perfect snippets have snippet ATE exactly 0: scored with keep_zero_ate; the original drops them all,
    # leaving nothing to score (its mean is NaN): refused, naming the sequence.
    assert strict_json(tmp_path / "out1.0" / "pose_eval_01.json")["ate_mean"] == 0.0
    with pytest.raises(DataError, match=r"^sequence 01: nothing to score: all 8 snippets in .*pred1.0 have ATE "):
        evaluate_pose(PoseEvalConfig(dataset_dir=str(odom), output_dir=str(tmp_path / "zero"), test_seq=SEQ,
                                     pred_dir=str(tmp_path / "pred1.0"), full_trajectory=True))
    # Without a scale (SE(3)) the half-size prediction keeps its error: best rigid fit of p/2 to p leaves (p - mean)/2.
    rigid = evaluate_pose(PoseEvalConfig(dataset_dir=str(odom), output_dir=str(tmp_path / "rigid"), test_seq=SEQ,
                                         pred_dir=str(tmp_path / "pred0.5"), full_trajectory=True,
                                         trajectory_alignment="se3"))["full_trajectory"]
    assert rigid["scale"] == 1.0 and rigid["ate_m"] == pytest.approx(0.5 * rms_spread(gt_xyz), rel=1e-4)
    assert rigid["t_err_percent"] > 10.0


def test_missing_snippets_are_an_error_naming_them(synthetic_root: Path, tmp_path: Path) -> None:
    odom = synthetic_root / "kitti_odom"
    pred = write_true_snippets(odom, tmp_path / "pred")
    for name in ("000003.txt", "000005.txt"):
        (pred / name).unlink()
    config = PoseEvalConfig(dataset_dir=str(odom), output_dir=str(tmp_path / "out"), test_seq=SEQ, pred_dir=str(pred),
                            full_trajectory=True)
    with pytest.raises(DataError, match=r"^sequence 01: the predicted snippets in .*pred do not match the ground "
                                        r"truth in .*gt_01: 2 of 8 missing \(000003.txt, 000005.txt\)$"):
        evaluate_pose(config)
    with pytest.raises(DataError, match=r"2 of the 8 snippet files of the full trajectory \(12 frames, 5-frame "
                                        r"windows\) are missing: 000003.txt, 000005.txt$"):
        evaluate_full_trajectory(str(odom), SEQ, pred, 5, tmp_path / "out", "sim3")


def test_a_fresh_network_chains_like_sfm_predict(synthetic_root: Path, tmp_path: Path) -> None:
    from sfmlearner_tf.models import PoseExpNet

    odom = synthetic_root / "kitti_odom"
    net = PoseExpNet(num_source=2, do_exp=False)
    config = PoseEvalConfig(dataset_dir=str(odom), output_dir=str(tmp_path / "out"), test_seq=SEQ, seq_length=3,
                            img_height=32, img_width=64, batch_size=4, full_trajectory=True)
    full = evaluate_pose(config, pose_exp_net=net)["full_trajectory"]
    images, _ = sequence_frames(odom, SEQ)
    frames = np.stack([load_resized_image(p, 32, 64, Image.Resampling.BILINEAR) for p in images])
    vecs = PosePredictor(net, 32, 64, 3)(np.stack([frames[s:s + 3] for s in range(10)]))
    from_snippets = chain_window_transforms(snippet_window_transforms(tmp_path / "out" / "pred_01", 12, 3))
    np.testing.assert_allclose(from_snippets, chain_trajectory(vecs), atol=2e-5)
    gt_xyz = true_poses(odom)[:, :3, 3]
    aligned = np.loadtxt(tmp_path / "out" / "trajectory_01_aligned.txt").reshape(-1, 3, 4)[:, :, 3]
    assert full["ate_m"] == pytest.approx(float(np.sqrt(np.mean(np.sum((aligned - gt_xyz) ** 2, 1)))), rel=1e-5)
    assert 0.0 < full["ate_m"] <= rms_spread(gt_xyz)  # no worse than shrinking the prediction onto the centroid
    assert full["t_err_percent"] >= 0.0 and full["r_err_deg_per_100m"] >= 0.0
    strict_json(tmp_path / "out" / "pose_eval_01.json")
    plot = np.asarray(Image.open(tmp_path / "out" / "trajectory_01.png"))
    for colour in ((60, 60, 60), (31, 119, 180)):  # the ground truth and the prediction, now apart
        assert np.all(plot == colour, axis=-1).sum() > 100


def fake_training_run(tmp_path: Path, train_lines: str) -> Path:
    """A checkpoint folder whose run record and run_config.json name a prepared folder with this train.txt."""
    prepared, ckpt = tmp_path / "prepared", tmp_path / "ckpt"
    prepared.mkdir()
    (prepared / "train.txt").write_text(train_lines)
    write_run_record(ckpt, RunRecord(img_height=128, img_width=416, seq_length=5, explain_reg_weight=0.0))
    (ckpt / "run_config.json").write_text(json.dumps({"format": 1, "data": {"dataset_dir": str(prepared)}}))
    return ckpt


def test_overlap_warning_names_sequence_drive_and_train_list(synthetic_root: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from sfmlearner_tf.models import PoseExpNet

    # The fake checkpoint has a run record but no weights: a fresh pose net stands in for the restored one.
    monkeypatch.setattr("sfmlearner_tf.tasks.evaluate.restore_pose_net",
                        lambda ckpt, num_source: (PoseExpNet(num_source, False), {"checkpoint": ckpt}))
    odom = synthetic_root / "kitti_odom"
    drives = json.loads((synthetic_root / "splits" / "odometry_sequences.json").read_text())["drives"]
    ckpt = fake_training_run(tmp_path, f"{drives['00']}_02 0000000003\n{drives['00']}_03 0000000004\n"
                                       f"{drives['01']}_02 0000000005\n")
    train_txt = tmp_path / "prepared" / "train.txt"
    results = {}
    for seq in (0, 2):
        results[seq] = evaluate_pose_run(PoseEvalConfig(dataset_dir=str(odom), output_dir=str(tmp_path / f"out{seq}"),
                                                        test_seq=seq, ckpt_file=str(ckpt), img_height=32,
                                                        img_width=64))
    warning = (f"warning: sequence 00 was cut from drive {drives['00']}, and the model's training list {train_txt} "
               "has 2 samples of it: these pose scores are not held out")
    assert results[0]["table"].splitlines()[-1] == warning and results[0]["notes"] == [warning]
    assert strict_json(tmp_path / "out0" / "pose_eval_00.json")["notes"] == [warning]
    assert "notes" not in results[2]  # the held-out drive: the table ends with the model's line
    assert results[2]["table"].splitlines()[-1] == f"model: {ckpt} (5 frames, 32x64)"


def test_overlap_with_kitti_s_published_drive_map(tmp_path: Path) -> None:
    odom = tmp_path / "dataset"  # a KITTI odometry root: no synthetic sequence map beside it
    odom.mkdir()
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    (prepared / "train.txt").write_text("2011_09_30_drive_0033_sync_02 0000000005\n"
                                        "2011_09_26_drive_0001_sync_03 0000000001\n")
    warning = training_overlap(prepared, odom, 9)
    assert warning is not None and "sequence 09 was cut from drive 2011_09_30_drive_0033" in warning
    assert "has 1 samples" in warning and str(prepared / "train.txt") in warning
    assert training_overlap(prepared, odom, 4) is None and training_overlap(prepared, odom, 11) is None
    (prepared / "train.txt").write_text("09 000005\n09 000006\n")  # prepared from the odometry sequences
    assert "has 2 samples of odometry sequence 09 itself" in training_overlap(prepared, odom, 9)
    assert training_overlap(tmp_path / "nowhere", odom, 9).startswith("note: train/test overlap not checked")


def test_the_flags_reach_the_evaluation(synthetic_root: Path, tmp_path: Path) -> None:
    """sfm-eval's flags, parsed as the program parses them, give the full-trajectory line (run_eval.py prints the
    table) and the alignment chosen; a bad alignment fails at parsing."""
    odom = synthetic_root / "kitti_odom"
    pred = write_true_snippets(odom, tmp_path / "pred", scale=0.5)
    values = flags.FlagValues()
    eval_flags.define_flags(values)
    values(["sfm-eval", "--split=odometry", f"--dataset_dir={odom}", f"--output_dir={tmp_path / 'out'}",
            f"--test_seq={SEQ}", f"--pred_dir={pred}", "--full_trajectory"])
    config, _ = eval_flags.config_and_notes_from_flags(values)
    assert (config.full_trajectory, config.trajectory_alignment) == (True, "sim3")
    line = evaluate(config)["table"].splitlines()[-2]
    assert line.startswith("Seq 01 full trajectory (12 frames, ") and "Sim(3)-aligned, scale 2): " in line
    assert line.endswith("ATE 0.0000 m, t_err 0.00 %, r_err 0.00 deg/100m")
    assert strict_json(tmp_path / "out" / "pose_eval_01.json")["full_trajectory"]["num_frames"] == 12
    with pytest.raises(flags.IllegalFlagValueError, match="trajectory_alignment"):
        values(["sfm-eval", "--trajectory_alignment=scale"])
