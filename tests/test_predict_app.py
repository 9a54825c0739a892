"""sfm-predict on an MP4 of a synthetic drive with a 64x208 run folder (depth and pose): per-frame files at the
run record's size equal to the nets run here on the decoded frames, the side-by-side MP4, the chained TUM
trajectory; a rerun reuses the depth files; bad input ends in one line naming it."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.evaluation.depth_predict import DepthPredictor
from sfmlearner_tf.models import DispNet, PoseExpNet
from sfmlearner_tf.predict import PredictConfig, chain_trajectory, predict
from sfmlearner_tf.predict.metric_scale import MetricOptions
from sfmlearner_tf.predict.point_cloud import CloudOptions
from sfmlearner_tf.run_record import RunRecord, write_run_record

REPO = Path(__file__).resolve().parents[1]
SIZE = (64, 208)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DispNet, PoseExpNet]:
    """Our checkpoint of both nets (seeded weights) with a 64x208, 3-frame run record."""
    folder = tmp_path_factory.mktemp("run")
    tf.keras.utils.set_random_seed(11)
    depth_net, pose_net = DispNet().ensure_built(), PoseExpNet(num_source=2, do_exp=False).ensure_built()
    tf.train.Checkpoint(depth_net=depth_net, pose_exp_net=pose_net).write(str(folder / "model-7"))
    write_run_record(folder, RunRecord(*SIZE, seq_length=3, explain_reg_weight=0.0))
    return folder, depth_net, pose_net


def decoded_frames(video: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(video))
    frames = []
    while (frame := capture.read())[0]:
        frames.append(cv2.cvtColor(frame[1], cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def resized(frame: np.ndarray, resample: Image.Resampling) -> np.ndarray:
    return np.asarray(Image.fromarray(frame).resize((SIZE[1], SIZE[0]), resample))


def test_video_through_the_program(synthetic_root: Path, run_folder: tuple, tmp_path: Path) -> None:
    from helpers import drive_frames, write_mp4

    folder, depth_net, pose_net = run_folder
    video = write_mp4(drive_frames(synthetic_root), tmp_path / "drive.mp4")
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "sfmlearner_tf.apps.predict", f"--input={video}", f"--output_dir={out}",
         f"--ckpt_file={folder}", f"--pose_ckpt_file={folder}", "--batch_size=5"],
        capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "using img_height=64, img_width=208" in completed.stdout and "frames/s" in completed.stdout
    frames = decoded_frames(video)
    names = [f"{i:06d}" for i in range(len(frames))]
    assert sorted(p.stem for p in (out / "depth").glob("*.npy")) == names
    # Depth = 1 / disp1 of DispNet on the PIL-LANCZOS-resized decoded frame, at the record's 64x208.
    expected = DepthPredictor(depth_net, *SIZE)(np.stack([resized(f, Image.Resampling.LANCZOS) for f in frames[:3]]))
    for name, depth in zip(names, expected):
        saved = np.load(out / "depth" / f"{name}.npy")
        assert saved.dtype == np.float32 and saved.shape == SIZE
        np.testing.assert_allclose(saved, depth, rtol=1e-4)
    with Image.open(out / "disparity" / f"{names[0]}.png") as png:
        assert png.size == (SIZE[1], SIZE[0]) and png.mode == "RGB"
    capture = cv2.VideoCapture(str(out / "drive_depth.mp4"))
    assert (capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FRAME_WIDTH),
            capture.get(cv2.CAP_PROP_FRAME_HEIGHT), capture.get(cv2.CAP_PROP_FPS)) == (len(frames), 416, 64, 10.0)
    capture.release()
    # The trajectory: the pose net on PIL-bilinear windows, chained.
    small = np.stack([resized(f, Image.Resampling.BILINEAR) for f in frames])
    network_range = small.astype(np.float32) / 255 * 2 - 1  # target: the middle frame; sources: the others
    sources = np.concatenate([network_range[:-2], network_range[2:]], axis=-1)
    vecs = pose_net(network_range[1:-1], sources, training=False)[0].numpy()
    tum = np.loadtxt(out / "trajectory.txt")
    assert tum.shape == (len(frames), 8)
    np.testing.assert_allclose(tum[:, 0], np.arange(len(frames)) / 10.0)
    np.testing.assert_allclose(tum[:, 1:4], chain_trajectory(vecs)[:, :3, 3], atol=2e-6)
    summary = json.loads((out / "predict.json").read_text())
    assert summary["frames"] == len(frames) and summary["depth_checkpoint"] == str(folder / "model-7")
    # A rerun with the same settings reuses the depth files and makes the video again.
    before = {p.name: p.stat().st_mtime_ns for p in (out / "depth").iterdir()}
    config = PredictConfig(input=str(video), output_dir=str(out), ckpt_file=str(folder), img_height=SIZE[0],
                           img_width=SIZE[1], batch_size=5, progress_every_s=1e9)
    assert predict(config).frames == len(frames)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "depth").iterdir()} == before
    with pytest.raises(ConfigError, match="holds the outputs of another run"):
        predict(dataclasses.replace(config, img_height=32, img_width=96))


def test_one_image_and_too_short_a_sequence(synthetic_root: Path, run_folder: tuple, tmp_path: Path) -> None:
    from helpers import drive_frames

    folder = run_folder[0]
    image = drive_frames(synthetic_root)[0]
    result = predict(PredictConfig(input=str(image), output_dir=str(tmp_path / "one"), ckpt_file=str(folder),
                                   img_height=32, img_width=96, progress_every_s=1e9))
    assert result.frames == 1 and result.video is None and result.trajectory is None
    assert np.load(tmp_path / "one" / "depth" / f"{image.stem}.npy").shape == (32, 96)
    with pytest.raises(DataError, match="1 frame\\(s\\), fewer than seq_length 3: no trajectory"):
        predict(PredictConfig(input=str(image), output_dir=str(tmp_path / "two"), ckpt_file=str(folder),
                              pose_ckpt_file=str(folder), img_height=32, img_width=96, progress_every_s=1e9))


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    completed = subprocess.run(
        [sys.executable, "-m", "sfmlearner_tf.apps.predict", f"--input={tmp_path / 'empty'}",
         f"--output_dir={tmp_path / 'out'}", f"--ckpt_file={tmp_path / 'none'}"],
        capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    assert completed.stderr.strip().splitlines()[-1] == (
        f"sfm-predict: error: {tmp_path / 'empty'}: a folder without images "
        "(.png, .jpg, .jpeg, .bmp, .tif, .tiff, .webp, .ppm, .pgm)")


def quaternion_matrix(qx: float, qy: float, qz: float, qw: float) -> np.ndarray:
    """Rotation matrix of a unit quaternion (the textbook formula)."""
    return np.array([[1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw)],
                     [2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw)],
                     [2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy)]])


def test_metric_scale_and_clouds_from_true_depth(synthetic_root: Path, run_folder: tuple, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The depth net replaced by the drive's true depth / 7.3 at 64x208 (every second pixel, which is what K
    halved describes): the camera height gives 7.3 back; metric files, clouds and the fused cloud check out."""
    from helpers import SYNTHETIC_DRIVE, drive_frames, loop_back_projection, read_ply

    from sfmlearner_tf.predict import run as run_module
    from sfmlearner_tf.prep.kitti_io import read_raw_intrinsics

    factor, folder = 7.3, run_folder[0]
    frames = drive_frames(synthetic_root)
    depth_dir = synthetic_root / "kitti_raw" / SYNTHETIC_DRIVE / "depth_02" / "data"
    true_depth = [np.load(depth_dir / f"{f.stem}.npy")[::2, ::2] for f in frames]
    queue = [d / factor for d in true_depth]
    monkeypatch.setattr(run_module, "DepthPredictor",
                        lambda net, height, width: lambda images: np.stack([queue.pop(0) for _ in images]))
    k = read_raw_intrinsics(synthetic_root / "kitti_raw" / "1970_01_01", "02")
    out = tmp_path / "out"
    config = PredictConfig(
        input=str(frames[0].parent), output_dir=str(out), ckpt_file=str(folder), pose_ckpt_file=str(folder),
        img_height=SIZE[0], img_width=SIZE[1], batch_size=5, progress_every_s=1e9,
        intrinsics=(k[0, 0], k[1, 1], k[0, 2], k[1, 2]),
        cloud=CloudOptions(per_frame=True, fused=True, max_depth=60.0, stride=4),
        metric=MetricOptions(camera_height=1.65))
    result = predict(config)
    assert result.scale == pytest.approx(factor, rel=0.02)
    half_k = np.diag([0.5, 0.5, 1.0]) @ k
    summary = json.loads((out / "predict.json").read_text())
    np.testing.assert_allclose(summary["camera"]["network_intrinsics"], half_k)
    assert summary["scale"] == result.scale and summary["config"]["metric"]["camera_height"] == 1.65
    scale_json = json.loads((out / "metric" / "scale.json").read_text())
    assert (scale_json["method"], scale_json["frames_used"], scale_json["scale"]) == ("camera_height", 12,
                                                                                     result.scale)
    names = [f.stem for f in frames]
    for name, truth in zip(names, true_depth):
        depth, metric = np.load(out / "depth" / f"{name}.npy"), np.load(out / "metric" / "depth" / f"{name}.npy")
        np.testing.assert_allclose(metric, depth * np.float32(result.scale), rtol=1e-6)
        assert np.median(metric[truth > 0] / truth[truth > 0]) == pytest.approx(1.0, rel=0.02)
    tum, metric_tum = np.loadtxt(out / "trajectory.txt"), np.loadtxt(out / "metric" / "trajectory.txt")
    np.testing.assert_allclose(metric_tum[:, 1:4], tum[:, 1:4] * result.scale, atol=1e-5)
    np.testing.assert_array_equal(metric_tum[:, [0, 4, 5, 6, 7]], tum[:, [0, 4, 5, 6, 7]])
    # Per-frame clouds: the metric depth back-projected with K halved, coloured by the LANCZOS-resized frame.
    images = [resized(np.asarray(Image.open(f).convert("RGB")), Image.Resampling.LANCZOS) for f in frames]
    for index in (0, 7):
        metric = np.load(out / "metric" / "depth" / f"{names[index]}.npy")
        points, colors = loop_back_projection(metric, images[index], half_k, 60.0)
        fmt, comments, got_points, got_colors = read_ply(out / "clouds" / f"{names[index]}.ply")
        assert fmt == "binary_little_endian" and "units metres" in comments[0]
        np.testing.assert_allclose(got_points, points, rtol=1e-5)
        np.testing.assert_array_equal(got_colors, colors)
    # The fused cloud: every frame's stride-4 points moved by its pose (read back from the metric TUM file).
    want = []
    for index, row in enumerate(metric_tum):
        metric = np.load(out / "metric" / "depth" / f"{names[index]}.npy")
        points, _ = loop_back_projection(metric, images[index], half_k, 60.0, stride=4)
        want.append(points @ quaternion_matrix(*row[4:8]).T + row[1:4])
    np.testing.assert_allclose(read_ply(out / "cloud_fused.ply")[2], np.concatenate(want), atol=2e-3)


def test_field_of_view_and_an_ascii_cloud_through_the_program(synthetic_root: Path, run_folder: tuple,
                                                             tmp_path: Path) -> None:
    from helpers import drive_frames, loop_back_projection, read_ply

    image = drive_frames(synthetic_root)[0]
    out = tmp_path / "out"
    base = [sys.executable, "-m", "sfmlearner_tf.apps.predict", f"--input={image}", f"--output_dir={out}",
            f"--ckpt_file={run_folder[0]}", "--point_cloud"]
    completed = subprocess.run([*base, "--hfov_deg=90", "--cloud_format=ascii"], capture_output=True, text=True,
                               cwd=REPO, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    # 416x128 at 90 degrees: fx = fy = 208, centre (208, 64); halved at 208x64.
    assert ("sfm-predict: camera: K (hfov 90 deg) at 416x128: fx 208.000 fy 208.000 cx 208.000 cy 64.000; at the "
            "network's 208x64: fx 104.000 fy 104.000 cx 104.000 cy 32.000") in completed.stdout
    assert f"point clouds: {out / 'clouds'}" in completed.stdout
    fmt, comments, points, colors = read_ply(out / "clouds" / f"{image.stem}.ply")
    assert fmt == "ascii" and "units the network's (up to scale)" in comments[0]
    depth = np.load(out / "depth" / f"{image.stem}.npy")
    want_points, want_colors = loop_back_projection(
        depth, resized(np.asarray(Image.open(image).convert("RGB")), Image.Resampling.LANCZOS),
        np.array([[104.0, 0, 104], [0, 104, 32], [0, 0, 1]]), None)
    np.testing.assert_allclose(points, want_points, rtol=1e-6)
    np.testing.assert_array_equal(colors, want_colors)
    # Without the camera, clouds and the camera-height scale are refused by the config, before any prediction;
    # the speed and the fused cloud need the trajectory.
    paths = {"input": str(image), "output_dir": str(tmp_path / "other"), "ckpt_file": str(run_folder[0])}
    with pytest.raises(ConfigError, match=r"^--point_cloud and --camera_height need the camera's intrinsics: pass "
                       r"--hfov_deg"):
        PredictConfig(**paths, cloud=CloudOptions(per_frame=True), metric=MetricOptions(camera_height=1.65))
    with pytest.raises(ConfigError, match=r"^--fused_cloud and --speed need the trajectory: pass --pose_ckpt_file"):
        PredictConfig(**paths, hfov_deg=60.0, cloud=CloudOptions(fused=True), metric=MetricOptions(speed=10.0))
    assert not (tmp_path / "other").exists()


def test_camera_cloud_and_scale_flags(run_folder: tuple) -> None:
    from absl import flags

    from flags import predict as predict_flags

    def parsed(*extra: str) -> flags.FlagValues:
        flag_values = flags.FlagValues()
        predict_flags.define_flags(flag_values)
        flag_values(["sfm-predict", "--input=a.mp4", "--output_dir=out", f"--ckpt_file={run_folder[0]}",
                     f"--pose_ckpt_file={run_folder[0]}", *extra])
        return flag_values

    config, _ = predict_flags.config_and_notes_from_flags(parsed(
        "--intrinsics=700,710.5,600,180", "--point_cloud", "--fused_cloud", "--cloud_format=ascii",
        "--max_cloud_depth=80", "--cloud_stride=2", "--voxel_size=0.1", "--camera_height=1.5", "--ground_rows=0.5",
        "--road_tilt_deg=25"))
    assert (config.hfov_deg, config.intrinsics) == (None, (700.0, 710.5, 600.0, 180.0))
    assert config.cloud == CloudOptions(per_frame=True, fused=True, ply_format="ascii", max_depth=80.0, stride=2,
                                        voxel_size=0.1)
    assert config.metric == MetricOptions(camera_height=1.5, ground_rows=0.5, max_tilt_deg=25.0)
    config, _ = predict_flags.config_and_notes_from_flags(parsed("--hfov_deg=70", "--speed=12.5"))
    assert (config.hfov_deg, config.intrinsics, config.metric.speed, config.cloud.any) == (70.0, None, 12.5, False)
    for bad, message in ((["--hfov_deg=70", "--intrinsics=1,1,1,1"], "two ways to give the camera"),
                         (["--intrinsics=1,2,3"], "four numbers"), (["--hfov_deg=175"], "--hfov_deg must be"),
                         (["--camera_height=1.6", "--speed=3"], "two ways to the metric scale"),
                         (["--cloud_stride=0"], "--cloud_stride must be")):
        with pytest.raises(flags.IllegalFlagValueError, match=message):
            parsed(*bad)
