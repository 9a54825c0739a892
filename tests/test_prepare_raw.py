"""Preparation of KITTI-raw-layout and odometry-layout drives: sample counts, pixels, intrinsics, boundary panels,
sharding and resume, and errors naming the file. Runs on small stand-in trees written here (tiny frames)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.prep.config import PrepareConfig
from sfmlearner_tf.prep.prepare import prepare_dataset
from sfmlearner_tf.prep.samples import read_cam_file, read_sample

RAW_W, RAW_H = 124, 38
OUT_W, OUT_H = 48, 16
P_RECT = {"02": (721.5377, 609.5593, 721.5377, 172.854), "03": (700.0, 600.25, 701.0, 170.5)}
DRIVES = {  # drive -> number of frames
    "2011_09_26_drive_0001_sync": 9,
    "2011_09_26_drive_0117_sync": 6,  # an Eigen test scene
    "2011_09_28_drive_0016_sync": 7,
}
STATIC = [("2011_09_26_drive_0001_sync", 4), ("2011_09_28_drive_0016_sync", 0), ("2011_09_28_drive_0016_sync", 5)]


def smooth_frame(seed: int) -> np.ndarray:
    """A smooth RGB frame (JPEG keeps it within a few grey levels)."""
    y, x = np.mgrid[0:RAW_H, 0:RAW_W].astype(np.float64)
    phase = seed * 0.7
    channels = [127 + 100 * np.sin(x / 17.0 + phase + c) * np.cos(y / 11.0 - c) for c in range(3)]
    return np.clip(np.stack(channels, axis=2), 0, 255).astype(np.uint8)


def instance_ids(seed: int) -> np.ndarray:
    ids = np.zeros((RAW_H, RAW_W), dtype=np.uint16)
    ids[8:30, 10 + seed: 40 + seed] = 3
    ids[15:38, 70:100] = 12
    return ids


def write_calib(date_dir: Path) -> None:
    lines = ["calib_time: 09-Jan-2012 13:57:47"]
    for cam, (fx, cx, fy, cy) in P_RECT.items():
        lines.append(f"P_rect_{cam}: {fx} 0.0 {cx} 44.85 0.0 {fy} {cy} 0.2163791 0.0 0.0 1.0 0.002745884")
    (date_dir / "calib_cam_to_cam.txt").write_text("\n".join(lines) + "\n")


def write_raw_tree(root: Path) -> Path:
    """KITTI raw layout with cameras 02 and 03, instance ids for 02, and the two split files."""
    raw = root / "kitti_raw"
    for drive, count in DRIVES.items():
        date_dir = raw / drive[:10]
        date_dir.mkdir(parents=True, exist_ok=True)
        write_calib(date_dir)
        for cam in ("02", "03"):
            for i in range(count):
                path = date_dir / drive / f"image_{cam}" / "data" / f"{i:010d}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(smooth_frame(i + int(cam))).save(path)
        for i in range(count):
            path = date_dir / drive / "instances_02" / "data" / f"{i:010d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(instance_ids(i)).save(path)
    splits = root / "splits"
    splits.mkdir()
    (splits / "test_scenes_eigen.txt").write_text("2011_09_26_drive_0117\n2011_09_26_drive_0052\n")
    (splits / "static_frames.txt").write_text("".join(f"{d[:10]} {d} {i:010d}\n" for d, i in STATIC))
    return root


@pytest.fixture(scope="module")
def raw_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_raw_tree(tmp_path_factory.mktemp("raw"))


def raw_config(root: Path, dump: Path, **overrides: object) -> PrepareConfig:
    settings = dict(dataset_name="kitti_raw_eigen", dataset_dir=str(root / "kitti_raw"), dump_root=str(dump),
                    seq_length=3, img_height=OUT_H, img_width=OUT_W, num_threads=2,
                    test_scenes_file=str(root / "splits" / "test_scenes_eigen.txt"),
                    static_frames_file=str(root / "splits" / "static_frames.txt"))
    settings.update(overrides)
    return PrepareConfig(**settings)


def expected_samples(root: Path, seq_length: int, cameras: tuple[str, ...]) -> set[str]:
    """Independent count from the split files: per training drive and camera, the static-free frame list."""
    test_scenes = set((root / "splits" / "test_scenes_eigen.txt").read_text().split())
    static = {(f[1], f[2]) for f in (line.split() for line in (root / "splits" / "static_frames.txt").open())}
    half = seq_length // 2
    expected = set()
    for drive, count in DRIVES.items():
        if drive.removesuffix("_sync") in test_scenes:
            continue
        kept = [f"{i:010d}" for i in range(count) if (drive, f"{i:010d}") not in static]
        for cam in cameras:
            expected |= {f"{drive}_{cam} {frame}" for frame in kept[half: len(kept) - half]}
    return expected


def listed(dump: Path) -> set[str]:
    return set((dump / "train.txt").read_text().splitlines()) | set((dump / "val.txt").read_text().splitlines())


def pil_resize(image: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((OUT_W, OUT_H), Image.Resampling.BILINEAR))


@pytest.fixture(scope="module")
def prepared(raw_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dump = tmp_path_factory.mktemp("dump")
    prepare_dataset(raw_config(raw_root, dump), stream=io.StringIO())
    return dump


def test_sample_count_excludes_test_scenes_and_static_frames(raw_root: Path, prepared: Path) -> None:
    expected = expected_samples(raw_root, 3, ("02", "03"))
    assert len(expected) == 2 * ((9 - 1 - 2) + (7 - 2 - 2))
    assert listed(prepared) == expected
    assert len(list(prepared.glob("*/*.jpg"))) == len(expected)


def test_neighbours_skip_static_frames_and_pixels_match_resized_frames(raw_root: Path, prepared: Path) -> None:
    # Frame 4 of drive 0001 is static: the sample of target 5 uses frames 3 and 6.
    frames, boundary = read_sample(prepared / "2011_09_26_drive_0001_sync_02" / "0000000005.jpg", 3, OUT_W)
    assert boundary is None
    resized = [pil_resize(smooth_frame(raw_index + 2)) for raw_index in (3, 5, 6)]
    for got, want in zip(frames, resized):
        error = np.abs(got.astype(np.float64) - want)
        assert error.mean() < 4.0 and error.max() <= 24  # JPEG quality 75, 4:2:0, on saturated colour waves
    # Bit-exact against PIL's own quality-75 JPEG of the stacked, resized frames (scipy.misc.imsave's encoder).
    buffer = io.BytesIO()
    Image.fromarray(np.concatenate(resized, axis=1)).save(buffer, "JPEG", quality=75)
    np.testing.assert_array_equal(np.concatenate(list(frames), axis=1), np.asarray(Image.open(buffer)))
    assert not (prepared / "2011_09_26_drive_0001_sync_02" / "0000000004.jpg").exists()


def test_val_fraction_follows_seeded_draw(prepared: Path) -> None:
    entries = sorted(listed(prepared))
    rng = np.random.RandomState(8964)
    want_val = {e for e in entries if rng.random_sample() < 0.1}
    assert set((prepared / "val.txt").read_text().splitlines()) == want_val


@pytest.mark.parametrize("cam", ["02", "03"])
def test_intrinsics_are_the_resized_camera(prepared: Path, cam: str) -> None:
    fx, cx, fy, cy = P_RECT[cam]
    zx, zy = OUT_W / RAW_W, OUT_H / RAW_H
    cam_file = prepared / f"2011_09_28_drive_0016_sync_{cam}" / "0000000002_cam.txt"
    assert cam_file.read_text() == f"{fx * zx:f},0.,{cx * zx:f},0.,{fy * zy:f},{cy * zy:f},0.,0.,1."
    np.testing.assert_allclose(read_cam_file(cam_file), [[fx * zx, 0, cx * zx], [0, fy * zy, cy * zy], [0, 0, 1]],
                               rtol=1e-6)


def numpy_sobel_boundary(ids: np.ndarray) -> np.ndarray:
    """Independent boundary: per instance a 3x3 Sobel by explicit correlation, L2, max, /4*255, clip, round."""
    kernel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
    best = np.zeros(ids.shape)
    for value in set(np.unique(ids)) - {0}:
        padded = np.pad((ids == value).astype(np.float64), 1)
        gx = sum(kernel_x[i, j] * padded[i:i + ids.shape[0], j:j + ids.shape[1]] for i in range(3) for j in range(3))
        gy = sum(kernel_x.T[i, j] * padded[i:i + ids.shape[0], j:j + ids.shape[1]] for i in range(3) for j in range(3))
        best = np.maximum(best, np.hypot(gx, gy))
    return np.round(np.clip(best / 4.0, 0, 1) * 255)


def test_synthetic_boundary_panel_is_sobel_of_instance_masks(raw_root: Path, tmp_path: Path) -> None:
    config = PrepareConfig(dataset_name="synthetic", dataset_dir=str(raw_root), dump_root=str(tmp_path),
                           img_height=OUT_H, img_width=OUT_W, num_threads=1)
    result = prepare_dataset(config, stream=io.StringIO())
    assert result.planned == len(expected_samples(raw_root, 3, ("02",)))
    _, boundary = read_sample(tmp_path / "2011_09_26_drive_0001_sync_02" / "0000000002.jpg", 3, OUT_W)
    rows = ((np.arange(OUT_H) + 0.5) * RAW_H / OUT_H).astype(int)
    cols = ((np.arange(OUT_W) + 0.5) * RAW_W / OUT_W).astype(int)
    want = numpy_sobel_boundary(instance_ids(2)[rows][:, cols])
    error = np.abs(boundary.astype(np.float64) - want)
    assert want.max() == 255 and boundary.shape == (OUT_H, OUT_W)
    # JPEG q75 ringing on hard 0/255 edges; measured: mean 2.7, 90th percentile 9, max 32 grey levels.
    assert error.mean() < 4.0 and np.percentile(error, 90) <= 12 and error.max() <= 48


def test_mask_rcnn_is_plugged_in_by_the_caller(raw_root: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Preparation builds the Mask R-CNN source only through the factory its caller passes (tasks/prepare.py
    passes mask_rcnn_prep's); here a fake one with no detection: an all-zero boundary panel per sample."""
    from sfmlearner_tf.tasks import prepare as prepare_task

    weights = tmp_path / "mask_rcnn_coco.h5"
    weights.write_bytes(b"not read by the fake")
    config = raw_config(raw_root, tmp_path / "dump", boundary_source="mask_rcnn", mask_rcnn_weights=str(weights),
                        num_threads=1)
    with pytest.raises(ConfigError, match="needs a Mask R-CNN mask source"):
        prepare_dataset(config, stream=io.StringIO())
    calls, images = [], []

    class NoDetections:
        def instance_masks(self, image: np.ndarray, frame_path: Path) -> np.ndarray:
            images.append(image.shape)
            return np.zeros((0, *image.shape[:2]), dtype=bool)

    monkeypatch.setattr(prepare_task, "mask_rcnn_masks", lambda path: calls.append(path) or NoDetections())
    result = prepare_task.prepare(config, stream=io.StringIO())
    assert calls == [str(weights)] and len(images) == result.written == result.planned > 0
    assert set(images) == {(OUT_H, OUT_W, 3)}
    _, boundary = read_sample(tmp_path / "dump" / "2011_09_26_drive_0001_sync_02" / "0000000002.jpg", 3, OUT_W)
    # All zero but for JPEG q75 ringing at the seam with the last frame (measured: max 6 grey levels, column 0).
    assert boundary.shape == (OUT_H, OUT_W) and boundary.mean() < 0.5 and boundary.max() <= 12


def test_sharding_and_resume_equal_one_run(raw_root: Path, prepared: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    first = prepare_dataset(raw_config(raw_root, tmp_path, shard_index=1, num_shards=3), stream=out)
    assert not first.lists_written and "missing" in out.getvalue()
    prepare_dataset(raw_config(raw_root, tmp_path, shard_index=0, num_shards=3), stream=out)
    victim = tmp_path / "2011_09_26_drive_0001_sync_03" / "0000000002_cam.txt"
    victim.unlink()  # an interrupted sample: its cam file (written last) is missing
    last = prepare_dataset(raw_config(raw_root, tmp_path, shard_index=2, num_shards=3), stream=out)
    resumed = prepare_dataset(raw_config(raw_root, tmp_path), stream=out)
    assert last.lists_written is False and resumed.written == 1 and resumed.skipped == resumed.planned - 1
    for name in ("train.txt", "val.txt"):
        assert (tmp_path / name).read_text() == (prepared / name).read_text()
    for jpg in prepared.glob("*/*.jpg"):
        assert (tmp_path / jpg.relative_to(prepared)).read_bytes() == jpg.read_bytes()


def write_odometry_tree(root: Path, counts: dict[str, int]) -> Path:
    for seq, count in counts.items():
        seq_dir = root / "sequences" / seq
        (seq_dir / "image_2").mkdir(parents=True)
        lines = [f"P{i}: 718.856 0.0 607.1928 {-386.1448 * i} 0.0 718.856 185.2157 0.0 0.0 0.0 1.0 0.0"
                 for i in range(4)]
        (seq_dir / "calib.txt").write_text("\n".join([*lines, "Tr: " + " ".join(["0.5"] * 12)]) + "\n")
        for i in range(count):
            Image.fromarray(smooth_frame(i)).save(seq_dir / "image_2" / f"{i:06d}.png")
    return root


def test_odometry_samples_and_float32_intrinsics(tmp_path: Path) -> None:
    root = write_odometry_tree(tmp_path / "odom", {"00": 5, "01": 4, "09": 4})
    config = PrepareConfig(dataset_name="kitti_odom", dataset_dir=str(root), dump_root=str(tmp_path / "dump"),
                           seq_length=3, img_height=OUT_H, img_width=OUT_W, odom_sequences=("00", "01"))
    result = prepare_dataset(config, stream=io.StringIO())
    assert result.planned == (5 - 2) + (4 - 2)
    assert listed(tmp_path / "dump") == {"00 000001", "00 000002", "00 000003", "01 000001", "01 000002"}
    zx, zy = OUT_W / RAW_W, OUT_H / RAW_H
    k32 = np.float32([718.856, 607.1928, 718.856, 185.2157])  # the original parsed calib.txt as float32
    want = [np.float32(np.float64(k32[0]) * zx), np.float32(np.float64(k32[1]) * zx),
            np.float32(np.float64(k32[2]) * zy), np.float32(np.float64(k32[3]) * zy)]
    line = (tmp_path / "dump" / "00" / "000002_cam.txt").read_text()
    assert line == "%f,0.,%f,0.,%f,%f,0.,0.,1." % tuple(float(v) for v in want)  # noqa: UP031


def test_speed_threshold_removes_slow_frames(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    drive = root / "2020_01_02" / "2020_01_02_drive_0003_sync"
    (root / "2020_01_02").mkdir(parents=True)
    write_calib(root / "2020_01_02")
    speeds = [3.0, 0.5, 3.0, 3.0, 0.1, 3.0, 3.0]
    for i, speed in enumerate(speeds):
        (drive / "image_02" / "data").mkdir(parents=True, exist_ok=True)
        (drive / "oxts" / "data").mkdir(parents=True, exist_ok=True)
        Image.fromarray(smooth_frame(i)).save(drive / "image_02" / "data" / f"{i:010d}.png")
        packet = np.zeros(30)
        packet[8:11] = [speed * 0.8, speed * 0.6, 0.0]  # vf, vl, vu with norm = speed
        (drive / "oxts" / "data" / f"{i:010d}.txt").write_text(" ".join(f"{v:g}" for v in packet))
    (tmp_path / "scenes.txt").write_text("")
    config = PrepareConfig(dataset_name="kitti_raw_eigen", dataset_dir=str(root), dump_root=str(tmp_path / "d"),
                           img_height=OUT_H, img_width=OUT_W, cameras=("02",), min_speed=1.0,
                           test_scenes_file=str(tmp_path / "scenes.txt"))
    prepare_dataset(config, stream=io.StringIO())
    kept = [i for i, s in enumerate(speeds) if s >= 1.0]  # 0, 2, 3, 5, 6
    assert listed(tmp_path / "d") == {f"2020_01_02_drive_0003_sync_02 {i:010d}" for i in kept[1:-1]}


def test_missing_calibration_names_the_file(raw_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(raw_root, root)
    (root / "kitti_raw" / "2011_09_28" / "calib_cam_to_cam.txt").unlink()
    with pytest.raises(DataError, match=r"2011_09_28/calib_cam_to_cam.txt: file not found"):
        prepare_dataset(raw_config(root, tmp_path / "dump"), stream=io.StringIO())


def test_corrupt_frame_and_bad_static_list_name_the_file(raw_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(raw_root, root)
    bad = root / "kitti_raw" / "2011_09_26" / "2011_09_26_drive_0001_sync" / "image_03" / "data" / "0000000007.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"image_03/data/0000000007.png: corrupt or unreadable image"):
        prepare_dataset(raw_config(root, tmp_path / "dump", num_threads=1), stream=io.StringIO())
    with pytest.raises(DataError, match=r"scenes.txt:1: expected a drive name"):  # a test *file* list by mistake
        (root / "scenes.txt").write_text("2011_09_26/2011_09_26_drive_0002_sync/image_02/data/0000000069.png\n")
        prepare_dataset(raw_config(root, tmp_path / "dump", test_scenes_file=str(root / "scenes.txt")),
                        stream=io.StringIO())
    (root / "splits" / "static_frames.txt").write_text("2011_09_26 2011_09_26_drive_0001_sync\n")
    with pytest.raises(DataError, match=r"static_frames.txt:1: expected 'date drive frame_id'"):
        prepare_dataset(raw_config(root, tmp_path / "dump"), stream=io.StringIO())


def test_config_errors_say_what_is_needed(raw_root: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"static_frames\.txt from the original"):
        prepare_dataset(raw_config(raw_root, tmp_path, static_frames_file=""), stream=io.StringIO())
    with pytest.raises(ConfigError, match="odd"):
        prepare_dataset(raw_config(raw_root, tmp_path, seq_length=4), stream=io.StringIO())
    with pytest.raises(ConfigError, match="needs --mask_rcnn_weights"):
        prepare_dataset(raw_config(raw_root, tmp_path, boundary_source="mask_rcnn"), stream=io.StringIO())


def test_rendered_synthetic_drives_prepare_to_the_expected_samples(synthetic_root: Path, tmp_path: Path) -> None:
    """On drives the renderer wrote: per training drive, the frames left after removing its stopped frames, less
    one at each end; the test drive is skipped. Each boundary panel is the Sobel of the true instance masks."""
    from sfmlearner_tf.synthetic import SyntheticManifest

    manifest = SyntheticManifest.load(synthetic_root)
    frames = manifest.config.num_frames
    expected = {f"{drive}_02 {frame:010d}" for drive in manifest.train_drives
                for frame in [i for i in range(frames) if i not in manifest.static_frames[drive]][1:-1]}
    assert manifest.test_drives and sum(len(manifest.static_frames[d]) for d in manifest.train_drives) > 0
    config = PrepareConfig(dataset_name="synthetic", dataset_dir=str(synthetic_root), dump_root=str(tmp_path),
                           img_height=manifest.config.height, img_width=manifest.config.width, num_threads=2)
    prepare_dataset(config, stream=io.StringIO())
    assert listed(tmp_path) == expected
    drive, frame = sorted(expected)[len(expected) // 2].split()
    ids_path = manifest.layout.raw_date_dir / drive[:-3] / "instances_02" / "data" / f"{frame}.png"
    ids = np.asarray(Image.open(ids_path))
    _, boundary = read_sample(tmp_path / drive / f"{frame}.jpg", 3, manifest.config.width)
    error = np.abs(boundary.astype(np.float64) - numpy_sobel_boundary(ids))
    assert ids.max() > 0 and error.mean() < 4.0 and np.percentile(error, 90) <= 12  # JPEG q75, as above
