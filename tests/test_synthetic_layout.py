"""The synthetic data set's layout and file formats parse with kitti_io, splits look like the originals, the
static-frame list is exactly the stopped frames, and rendering is deterministic and resumable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.prep import kitti_io
from sfmlearner_tf.synthetic import SyntheticConfig, SyntheticManifest, render_dataset

EIGEN_LINE = re.compile(r"^(\d{4}_\d{2}_\d{2})/\1_drive_\d{4}_sync/image_02/data/\d{10}\.png$")
STATIC_LINE = re.compile(r"^(\d{4}_\d{2}_\d{2}) \1_drive_\d{4}_sync \d{10}$")
SCENE_LINE = re.compile(r"^\d{4}_\d{2}_\d{2}_drive_\d{4}$")


def test_raw_layout_parses_with_kitti_io(synthetic_root: Path) -> None:
    manifest = SyntheticManifest.load(synthetic_root)
    config = manifest.config
    date_dir = synthetic_root / "kitti_raw" / manifest.date
    np.testing.assert_allclose(kitti_io.read_raw_intrinsics(date_dir), manifest.intrinsics, rtol=1e-6)
    calib = kitti_io.read_calib_file(date_dir / "calib_cam_to_cam.txt")
    for cam in range(4):
        for key in ("S", "K", "D", "R", "T", "S_rect", "R_rect", "P_rect"):
            assert f"{key}_{cam:02d}" in calib
    np.testing.assert_array_equal(calib["S_rect_02"], [config.width, config.height])
    assert {"R", "T", "delta_f", "delta_c"} <= set(kitti_io.read_calib_file(date_dir / "calib_velo_to_cam.txt"))
    for drive in manifest.drives:
        drive_dir = date_dir / drive
        classes = json.loads((drive_dir / "instances_02" / "classes.json").read_text())
        assert set(classes.values()) <= {"car", "person", "pole"}
        assert len(kitti_io.read_odometry_poses(drive_dir / "poses_02.txt")) == config.num_frames
        for frame in (0, config.num_frames - 1):
            name = f"{frame:010d}"
            image = np.asarray(Image.open(drive_dir / "image_02" / "data" / f"{name}.png"))
            assert image.shape == (config.height, config.width, 3) and image.dtype == np.uint8
            depth = np.load(drive_dir / "depth_02" / "data" / f"{name}.npy")
            assert depth.shape == (config.height, config.width) and depth.dtype == np.float32 and depth.min() == 0
            instances = np.asarray(Image.open(drive_dir / "instances_02" / "data" / f"{name}.png"))
            assert instances.dtype == np.uint16 and instances.shape == depth.shape
            assert {str(i) for i in np.unique(instances) if i} <= set(classes)
            assert np.all(depth[instances > 0] > 0), "objects have depth"
            velo = kitti_io.read_velodyne(drive_dir / "velodyne_points" / "data" / f"{name}.bin")
            assert velo.shape[1] == 4 and len(velo) > 1000
            assert np.linalg.norm(velo[:, :3], axis=1).max() <= 120.0 + 1e-3
            assert kitti_io.read_oxts(drive_dir / "oxts" / "data" / f"{name}.txt").shape == (30,)
        stamps = (drive_dir / "image_02" / "timestamps.txt").read_text().splitlines()
        assert len(stamps) == config.num_frames and stamps[1].endswith(".100000000")


def test_odometry_layout(synthetic_root: Path) -> None:
    manifest = SyntheticManifest.load(synthetic_root)
    n = manifest.config.num_frames
    sequences = json.loads((synthetic_root / "splits" / "odometry_sequences.json").read_text())
    assert sequences["test"] == [manifest.sequences[d] for d in manifest.test_drives]
    assert sorted(sequences["train"] + sequences["test"]) == sorted(manifest.sequences.values())
    for drive, seq in manifest.sequences.items():
        seq_dir = synthetic_root / "kitti_odom" / "sequences" / seq
        np.testing.assert_allclose(kitti_io.read_odometry_intrinsics(seq_dir / "calib.txt", 2), manifest.intrinsics,
                                   rtol=1e-6)
        assert "Tr" in kitti_io.read_calib_file(seq_dir / "calib.txt")
        np.testing.assert_allclose(kitti_io.read_times(seq_dir / "times.txt"), np.arange(n) * 0.1, atol=1e-6)
        assert len(kitti_io.read_odometry_poses(synthetic_root / "kitti_odom" / "poses" / f"{seq}.txt")) == n
        raw = synthetic_root / "kitti_raw" / manifest.date / drive / "image_02" / "data" / f"{n - 1:010d}.png"
        assert (seq_dir / "image_2" / f"{n - 1:06d}.png").read_bytes() == raw.read_bytes()


def test_split_files_match_the_original_formats(synthetic_root: Path, shared_splits: Path) -> None:
    manifest = SyntheticManifest.load(synthetic_root)
    originals = {name: (shared_splits / name).read_text().splitlines()[0]
                 for name in ("test_files_eigen.txt", "static_frames.txt", "test_scenes_eigen.txt")}
    assert EIGEN_LINE.match(originals["test_files_eigen.txt"]) and STATIC_LINE.match(originals["static_frames.txt"])
    assert SCENE_LINE.match(originals["test_scenes_eigen.txt"])
    splits = synthetic_root / "splits"
    test_files = (splits / "test_files_eigen.txt").read_text().splitlines()
    margin, n = manifest.config.test_frame_margin, manifest.config.num_frames
    assert len(test_files) == len(manifest.test_drives) * (n - 2 * margin)
    for line in test_files:
        assert EIGEN_LINE.match(line), line
        assert (synthetic_root / "kitti_raw" / line).is_file()
        assert line.split("/")[1] in manifest.test_drives
        assert margin <= int(line[-14:-4]) < n - margin
    scenes = (splits / "test_scenes_eigen.txt").read_text().splitlines()
    assert scenes == [d.removesuffix("_sync") for d in manifest.test_drives]
    for line in (splits / "static_frames.txt").read_text().splitlines():
        assert STATIC_LINE.match(line), line


def test_static_frames_are_exactly_the_stopped_ones(synthetic_root: Path) -> None:
    """Stopped = camera pose identical to the previous or the next frame's, and oxts speed exactly 0."""
    manifest = SyntheticManifest.load(synthetic_root)
    listed: dict[str, set[int]] = {d: set() for d in manifest.drives}
    for line in (synthetic_root / "splits" / "static_frames.txt").read_text().splitlines():
        _, drive, frame = line.split()
        listed[drive].add(int(frame))
    assert sum(len(v) for v in listed.values()) >= 2, "the fixture should have stopped frames"
    for drive in manifest.drives:
        drive_dir = synthetic_root / "kitti_raw" / manifest.date / drive
        lines = (drive_dir / "poses_02.txt").read_text().splitlines()
        same = [(i > 0 and lines[i] == lines[i - 1]) or (i + 1 < len(lines) and lines[i] == lines[i + 1])
                for i in range(len(lines))]
        stopped = {i for i, s in enumerate(same) if s}
        assert listed[drive] == stopped, drive
        speeds = [np.hypot(*kitti_io.read_oxts(drive_dir / "oxts" / "data" / f"{i:010d}.txt")[8:10])
                  for i in range(len(lines))]
        assert {i for i, v in enumerate(speeds) if v == 0.0} == stopped
        assert listed[drive] == set(manifest.static_frames[drive])


TINY = SyntheticConfig(num_drives=2, num_frames=3, width=64, height=32, seed=3, num_test_drives=1)


def _all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes_and_resume_restores_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    render_dataset(first, TINY)
    render_dataset(second, TINY, num_workers=2)
    files = _all_files(first)
    assert files == _all_files(second)
    # per drive 3 frames x 5 files + poses, classes, 3 timestamps; 3 calib; per sequence 3 images, calib, times,
    # poses; 4 split files; manifest
    assert len(files) == 2 * (3 * 5 + 5) + 3 + 2 * (3 + 3) + 4 + 1
    # resume: remove a rendered frame and an oxts file, render again, get the same bytes back
    (first / "kitti_raw" / TINY.date / f"{TINY.date}_drive_0001_sync" / "image_02" / "data" / "0000000001.png").unlink()
    (first / "kitti_raw" / TINY.date / f"{TINY.date}_drive_0002_sync" / "oxts" / "data" / "0000000000.txt").unlink()
    render_dataset(first, TINY)
    assert _all_files(first) == files
    other = render_dataset(tmp_path / "c", SyntheticConfig(**{**TINY.to_dict(), "seed": 4}))
    assert _all_files(tmp_path / "c") != files and other.config.seed == 4


def test_refuses_a_folder_with_another_config(tmp_path: Path) -> None:
    render_dataset(tmp_path, TINY)
    with pytest.raises(ConfigError, match=r"manifest\.json"):
        render_dataset(tmp_path, SyntheticConfig(**{**TINY.to_dict(), "seed": 5}))
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        render_dataset(stranger, TINY)


@pytest.mark.parametrize("bad", [{"num_frames": 2}, {"num_test_drives": 4}, {"date": "2011-09-26"},
                                 {"min_speed": 2.0, "max_speed": 1.0}])
def test_bad_config_is_a_config_error(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match=next(iter(bad))):
        SyntheticConfig(**bad)
