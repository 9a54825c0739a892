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
    from test_prepare_video import drive_frames, write_mp4

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
    from test_prepare_video import drive_frames

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
