"""sfm-prepare-data --dataset_name=video on frames the synthetic renderer writes, as a plain folder and as an MP4:
static frames dropped (the renderer's own static-frames list), neighbours across the gap, intrinsics scaled and
cropped by hand arithmetic, the calibration file formats, and bad input named in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import SYNTHETIC_DRIVE, drive_frames, write_mp4
from PIL import Image

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.prep.camera_calib import read_calibration
from sfmlearner_tf.prep.config import PrepareConfig
from sfmlearner_tf.prep.frame_crop import plan_crop
from sfmlearner_tf.prep.frame_sources import open_frame_source
from sfmlearner_tf.prep.kitti_io import read_raw_intrinsics
from sfmlearner_tf.prep.prepare import prepare_dataset
from sfmlearner_tf.prep.samples import read_cam_file, read_sample
from sfmlearner_tf.prep.source_options import VideoOptions

REPO = Path(__file__).resolve().parents[1]
def static_ids(synthetic_root: Path) -> set[str]:
    lines = (synthetic_root / "splits" / "static_frames.txt").read_text().splitlines()
    return {line.split()[2] for line in lines if line.split()[1] == SYNTHETIC_DRIVE.split("/")[1]}


def expected_targets(frame_ids: list[str], static: set[str]) -> list[tuple[str, str, str]]:
    """(previous, target, next) of every 3-frame sample once the static frames are removed."""
    kept = [f for f in frame_ids if f not in static]
    return [tuple(kept[i - 1:i + 2]) for i in range(1, len(kept) - 1)]


def calib_file(synthetic_root: Path) -> Path:
    return synthetic_root / "kitti_raw" / "1970_01_01" / "calib_cam_to_cam.txt"


def test_folder_of_frames(synthetic_root: Path, tmp_path: Path) -> None:
    frames = drive_frames(synthetic_root)
    static = static_ids(synthetic_root)
    assert static, "drive 1 of the synthetic set has a stop"
    config = PrepareConfig(dataset_name="video", dataset_dir=str(frames[0].parent), dump_root=str(tmp_path),
                           img_height=64, img_width=208, num_threads=1,
                           video=VideoOptions(calib_file=str(calib_file(synthetic_root)), calib_name="P_rect_02",
                                              sequence_name="drive1"))
    result = prepare_dataset(config)
    windows = expected_targets([f.stem for f in frames], static)
    assert (result.planned, result.written) == (len(windows), len(windows))
    assert sorted(p.stem for p in (tmp_path / "drive1").glob("*.jpg")) == [w[1] for w in windows]
    lines = (tmp_path / "train.txt").read_text().splitlines() + (tmp_path / "val.txt").read_text().splitlines()
    assert sorted(lines) == [f"drive1 {w[1]}" for w in windows]
    # K: P_rect_02's fx, fy, cx, cy halved (416x128 frames -> 208x64), with the original's %f line.
    k = read_raw_intrinsics(synthetic_root / "kitti_raw" / "1970_01_01", "02")
    target = windows[0][1]
    assert (tmp_path / "drive1" / f"{target}_cam.txt").read_text() == (
        f"{k[0, 0] / 2:f},0.,{k[0, 2] / 2:f},0.,{k[1, 1] / 2:f},{k[1, 2] / 2:f},0.,0.,1.")
    # The sample across the stop: each panel is closest to its own frame (PIL bilinear, then JPEG q75), the
    # previous one being the last frame before the stop.
    across = next(w for w in windows if int(w[1]) - int(w[0]) > 1)
    stacked, _ = read_sample(tmp_path / "drive1" / f"{across[1]}.jpg", 3, 208)
    resized = {}
    for frame in frames:
        with Image.open(frame) as image:
            resized[frame.stem] = np.asarray(image.convert("RGB").resize((208, 64), Image.Resampling.BILINEAR))
    for panel, frame_id in zip(stacked, across):
        errors = {name: np.abs(panel.astype(np.float32) - image).mean() for name, image in resized.items()}
        assert min(errors, key=errors.get) == frame_id and errors[frame_id] < 5.0, (frame_id, errors)
    # A rerun skips every finished sample.
    assert prepare_dataset(config).written == 0


def test_mp4_through_the_program_with_a_centre_crop(synthetic_root: Path, tmp_path: Path) -> None:
    frames = drive_frames(synthetic_root)
    video = write_mp4(frames, tmp_path / "drive.mp4")
    k = read_raw_intrinsics(synthetic_root / "kitti_raw" / "1970_01_01", "02")
    dump = tmp_path / "dump"
    completed = subprocess.run(
        [sys.executable, "-m", "sfmlearner_tf.apps.prepare_data", "--dataset_name=video", f"--dataset_dir={video}",
         f"--dump_root={dump}", "--img_height=64", "--img_width=208", "--crop=center", "--crop_bottom=0.25",
         f"--fx={k[0, 0]}", f"--fy={k[1, 1]}", f"--cx={k[0, 2]}", f"--cy={k[1, 2]}"],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    # 416x128 frames: the bottom 32 rows go (96 left), then the centred 312x96 window (aspect 208/64 = 3.25)
    # starts at column 52; it is resized to 208x64 (zoom 2/3 both ways).
    box = plan_crop(128, 416, 64, 208, "center", 0.25)
    assert (box.top, box.left, box.height, box.width) == (0, 52, 96, 312)
    targets = sorted(p.stem for p in (dump / "drive").glob("*.jpg"))
    # Frames are numbered by their index in the video; the stop's frames are not targets.
    windows = expected_targets([f.stem for f in frames], static_ids(synthetic_root))
    assert targets == [f"{int(w[1]):06d}" for w in windows]
    want = np.array([[k[0, 0] * 2 / 3, 0, (k[0, 2] - 52) * 2 / 3], [0, k[1, 1] * 2 / 3, k[1, 2] * 2 / 3], [0, 0, 1]])
    np.testing.assert_allclose(read_cam_file(dump / "drive" / f"{targets[0]}_cam.txt"), want, atol=1e-5)
    assert "frames kept" in completed.stdout


@pytest.mark.parametrize(("text", "name"), [
    ("241.6745 246.2849 204.168 59.00083\n", ""),
    ("# my phone\n241.6745, 0, 204.168\n0, 246.2849, 59.00083\n0, 0, 1\n", ""),
    ("P0: 1 0 0 0 0 1 0 0 0 0 1 0\nP2: 241.6745 0 204.168 15.02 0 246.2849 59.00083 0.07 0 0 1 0.003\n", "P2"),
])
def test_calibration_formats(tmp_path: Path, text: str, name: str) -> None:
    (tmp_path / "calib.txt").write_text(text)
    np.testing.assert_allclose(read_calibration(tmp_path / "calib.txt", name),
                               [[241.6745, 0, 204.168], [0, 246.2849, 59.00083], [0, 0, 1]])


@pytest.mark.parametrize(("text", "name", "problem"), [
    ("P0: 1 0 0 0 0 1 0 0 0 0 1 0\nP2: 1 0 0 0 0 1 0 0 0 0 1 0\n", "", "several labelled lines"),
    ("P2: 1 0 0 0 0 1 0 0 0 0 1 0\n", "P_rect_02", "no line labelled 'P_rect_02'"),
    ("241 246 x 59\n", "", "not a number"),
    ("1 2 3 4 5\n", "", "5 numbers"),
    ("1 0 2 0 1 3 1 1 1\n", "", "not an intrinsics matrix"),
])
def test_bad_calibration_files_are_named(tmp_path: Path, text: str, name: str, problem: str) -> None:
    (tmp_path / "calib.txt").write_text(text)
    with pytest.raises(DataError, match=problem) as error:
        read_calibration(tmp_path / "calib.txt", name)
    assert str(tmp_path / "calib.txt") in str(error.value)


def test_bad_inputs_are_named(synthetic_root: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken.mp4").write_text("not a video")
    for spec, problem in ((tmp_path / "empty", "a folder without images"), (tmp_path / "broken.mp4", "OpenCV cannot"),
                          (tmp_path / "*.png", "matches no image"), (tmp_path / "missing", "no such")):
        with pytest.raises(DataError, match=problem) as error:
            open_frame_source(spec)
        assert str(spec) in str(error.value)
    folder = str(drive_frames(synthetic_root)[0].parent)
    base = PrepareConfig(dataset_name="video", dataset_dir=folder, dump_root=str(tmp_path / "d"), img_height=64,
                         img_width=208)
    with pytest.raises(ConfigError, match="needs the camera's intrinsics"):
        prepare_dataset(base)
    with pytest.raises(DataError, match=r"principal point \(2000, 59\) lies outside the 416x128 frames"):
        prepare_dataset(PrepareConfig(**{**base.__dict__, "video": VideoOptions(intrinsics=(240, 240, 2000, 59))}))


def test_intrinsics_from_the_field_of_view(synthetic_root: Path, tmp_path: Path) -> None:
    frames = drive_frames(synthetic_root)
    config = PrepareConfig(dataset_name="video", dataset_dir=str(frames[0].parent), dump_root=str(tmp_path),
                           img_height=64, img_width=208, num_threads=1,
                           video=VideoOptions(hfov_deg=90.0, crop="center", crop_bottom=0.25, sequence_name="fov"))
    assert prepare_dataset(config).written > 0
    # 416x128 at 90 degrees: fx = fy = 416/2 / tan(45 deg) = 208, centre (208, 64). The centre crop (rows 0..95,
    # columns 52..363) moves the centre to (156, 64); the resize to 208x64 multiplies everything by 2/3.
    want = np.array([[208 * 2 / 3, 0, 156 * 2 / 3], [0, 208 * 2 / 3, 64 * 2 / 3], [0, 0, 1]])
    target = sorted((tmp_path / "fov").glob("*.jpg"))[0].stem
    np.testing.assert_allclose(read_cam_file(tmp_path / "fov" / f"{target}_cam.txt"), want, atol=1e-5)
    record = json.loads((tmp_path / "fov" / "camera.json").read_text())
    assert record["given"] == {"hfov_deg": 90.0} and record["frame_size"] == [416, 128]
    np.testing.assert_allclose(record["intrinsics"], [[208, 0, 208], [0, 208, 64], [0, 0, 1]])
    np.testing.assert_allclose(record["sample_intrinsics"], want)
    assert record["crop"] == {"top": 0, "left": 52, "height": 96, "width": 312}
    with pytest.raises(ConfigError, match="three ways to give the intrinsics: use one"):
        VideoOptions(hfov_deg=90.0, calib_file="c.txt")


def test_field_of_view_flag() -> None:
    from absl import flags

    from flags import prepare_data as prepare_flags

    def parsed(*extra: str) -> flags.FlagValues:
        flag_values = flags.FlagValues()
        prepare_flags.define_flags(flag_values)
        flag_values(["sfm-prepare-data", "--dataset_name=video", "--dataset_dir=a.mp4", "--dump_root=d", *extra])
        return flag_values

    assert prepare_flags.config_from_flags(parsed("--hfov_deg=62.5")).config.video.hfov_deg == 62.5
    for bad, message in ((["--hfov_deg=60", "--fx=1", "--fy=1", "--cx=1", "--cy=1"], "use one"),
                         (["--hfov_deg=60", "--calib_file=c.txt"], "use one"), (["--hfov_deg=0"], "--hfov_deg must")):
        with pytest.raises(flags.IllegalFlagValueError, match=message):
            parsed(*bad)
