"""Fault injection, data and evaluation half: malformed inputs and damaged outputs of preparation, rendering,
evaluation and the training start-up check. Each ends in one clear line naming the file or flag (through the real
program where a user meets it: exit code 1, no traceback) or in the right behaviour, and nothing good is lost."""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helpers import DATE, DRIVE, MINI_H, MINI_W, build_mini_raw, mini_dense_depth

from sfmlearner_tf.data.pipeline import PipelineConfig, check_dataset
from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.evaluation import DepthEvalConfig, PoseEvalConfig, evaluate_pose
from sfmlearner_tf.evaluation.depth_gt import (
    SparseDepth,
    cached_gt_depths,
    compute_gt_depths,
    gt_cache_key,
    gt_cache_path,
    load_gt_cache,
    save_gt_cache,
)
from sfmlearner_tf.evaluation.prediction_file import check_prediction_shapes, load_prediction_file
from sfmlearner_tf.evaluation.split_files import read_test_lines, resolve_test_frames
from sfmlearner_tf.io_utils import atomic_save_image, atomic_write_text, check_writable_folder
from sfmlearner_tf.prep.config import PrepareConfig
from sfmlearner_tf.prep.kitti_io import read_raw_intrinsics, read_velodyne
from sfmlearner_tf.prep.prepare import prepare_dataset
from sfmlearner_tf.prep.samples import read_cam_file
from sfmlearner_tf.prep.split_lists import read_split_list
from sfmlearner_tf.synthetic import SyntheticManifest, render_dataset
from sfmlearner_tf.tasks.evaluate import evaluate_depth_run

REPO = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def run_program(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=REPO, check=False,
                          timeout=300)


def error_line(completed: subprocess.CompletedProcess, program: str) -> str:
    """The program's one error line, after checking exit code 1 and no traceback."""
    assert completed.returncode == 1, completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr, completed.stderr[-2000:]
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith(f"{program}: error: "), last
    return last


def file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def under_a_file(tmp_path: Path) -> Path:
    """A folder that cannot be created, even by root: its parent is a regular file."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    return blocker / "out"


@pytest.fixture(scope="module")
def prepared(synthetic_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic drives prepared once (3-frame 416x128 samples with boundary panels); read-only for tests."""
    dump = tmp_path_factory.mktemp("prepared")
    prepare_dataset(PrepareConfig(dataset_name="synthetic", dataset_dir=str(synthetic_root), dump_root=str(dump),
                                  num_threads=2), stream=io.StringIO())
    return dump


# --- outputs: file modes, write failures, read-only folders ------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "result.json", "{}")
        atomic_save_image(tmp_path / "figure.png", np.zeros((4, 4), np.uint8))
        save_gt_cache(tmp_path / "gt.npz", "key", [SparseDepth.from_dense(np.zeros((2, 2), np.float32))])
    finally:
        os.umask(old)
    for name in ("result.json", "figure.png", "gt.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask, name  # 0644 / 0640, not 0600
    assert not list(tmp_path.glob(".*")), "a temporary file was left behind"


def test_prepared_samples_are_readable_by_others(prepared: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    sample = next(prepared.rglob("*.jpg"))
    for path in (sample, sample.with_name(f"{sample.stem}_cam.txt"), prepared / "train.txt"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_a_write_that_fails_names_the_file(tmp_path: Path) -> None:
    target = under_a_file(tmp_path) / "result.json"
    with pytest.raises(DataError, match=rf"^{target}: cannot write \(Not a directory\)$"):
        atomic_write_text(target, "{}")


@pytest.mark.skipif(IS_ROOT, reason="root writes in read-only folders (the test below covers it by another fault)")
def test_read_only_output_folder_is_refused_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ConfigError, match=rf"^--output_dir={folder}: cannot write in this folder \(Permission"):
            check_writable_folder(folder, "--output_dir")
    finally:
        folder.chmod(0o755)


def test_unwritable_output_folders_of_eval_and_prepare_are_refused_at_start(synthetic_root: Path,
                                                                             tmp_path: Path) -> None:
    out = under_a_file(tmp_path)
    message = rf"^--output_dir={out}: cannot write in this folder \(Not a directory\)$"
    with pytest.raises(ConfigError, match=message):
        evaluate_depth_run(DepthEvalConfig(dataset_dir=str(synthetic_root / "kitti_raw"), output_dir=str(out),
                                       pred_file=str(tmp_path / "p.npy")))
    with pytest.raises(ConfigError, match=message):
        evaluate_pose(PoseEvalConfig(dataset_dir=str(synthetic_root / "kitti_odometry"), output_dir=str(out)))
    with pytest.raises(ConfigError, match=rf"^--dump_root={out}: cannot write in this folder"):
        prepare_dataset(PrepareConfig(dataset_name="synthetic", dataset_dir=str(synthetic_root), dump_root=str(out)),
                        stream=io.StringIO())


def test_render_into_an_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    out = under_a_file(tmp_path)
    line = error_line(run_program("-m", "sfmlearner_tf.apps.render_synthetic", f"--output_dir={out}",
                                  "--num_drives=2", "--num_test_drives=1"), "sfm-render-synthetic")
    assert line.endswith(f"--output_dir={out}: cannot write in this folder (Not a directory)")


# --- raw data: velodyne scans and calibration --------------------------------------------------------------------

@pytest.mark.parametrize("extra", [1, 2, 3, 4, 12])
def test_velodyne_scan_with_a_partial_point_is_refused(tmp_path: Path, extra: int) -> None:
    points = np.arange(32, dtype="<f4").reshape(8, 4)
    path = tmp_path / "0000000000.bin"
    path.write_bytes(points.tobytes() + b"\x01" * extra)
    with pytest.raises(DataError, match=rf"0000000000.bin: size {128 + extra} bytes is not a multiple of 16"):
        read_velodyne(path)
    path.write_bytes(points.tobytes())
    np.testing.assert_array_equal(read_velodyne(path), points)


CAM_TO_CAM = "calib_time: 09-Jan-2012 13:57:47\nP_rect_02: {}\n"
P_RECT = "7.2e+02 0 6.0e+02 4.5e+01 0 7.2e+02 1.7e+02 -3.4e-01 0 0 1 4.9e-03"


@pytest.mark.parametrize(("entry", "message"), [
    (P_RECT.replace("7.2e+02", "nan", 1), r"calibration entry 'P_rect_02' has non-finite values \(nan or inf\)"),
    (P_RECT.replace("1.7e+02", "inf"), r"calibration entry 'P_rect_02' has non-finite values \(nan or inf\)"),
    ("seven hundred twenty", r"calibration entry 'P_rect_02' is malformed: 'seven hundred twenty' is not numbers"),
    ("1 2 3", r"calibration entry 'P_rect_02' has 3 values, expected 12"),
])
def test_bad_calibration_entries_are_named(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "calib_cam_to_cam.txt").write_text(CAM_TO_CAM.format(entry))
    with pytest.raises(DataError, match=rf"calib_cam_to_cam.txt: {message}"):
        read_raw_intrinsics(tmp_path, "02")


def test_good_calibration_still_reads_and_a_missing_entry_is_missing(tmp_path: Path) -> None:
    (tmp_path / "calib_cam_to_cam.txt").write_text(CAM_TO_CAM.format(P_RECT))
    np.testing.assert_array_equal(read_raw_intrinsics(tmp_path, "02"),
                                  [[720.0, 0.0, 600.0], [0.0, 720.0, 170.0], [0.0, 0.0, 1.0]])
    with pytest.raises(DataError, match=r"calibration entry 'P_rect_03' is missing"):
        read_raw_intrinsics(tmp_path, "03")


def test_prepare_refuses_nan_calibration_and_keeps_the_samples(synthetic_root: Path, prepared: Path,
                                                                tmp_path: Path) -> None:
    data = tmp_path / "synthetic"
    shutil.copytree(synthetic_root, data)
    calib = data / "kitti_raw" / SyntheticManifest.load(synthetic_root).date / "calib_cam_to_cam.txt"
    calib.write_text(re.sub(r"^(P_rect_02: )\S+", r"\1nan", calib.read_text(), flags=re.MULTILINE))  # fx = nan
    dump = tmp_path / "dump"
    shutil.copytree(prepared, dump)
    line = error_line(run_program("-m", "sfmlearner_tf.apps.prepare_data", "--dataset_name=synthetic",
                                  f"--dataset_dir={data}", f"--dump_root={dump}"), "sfm-prepare-data")
    assert f"{calib}: calibration entry 'P_rect_02' has non-finite values" in line
    assert file_bytes(dump) == file_bytes(prepared)


# --- prepared samples: the training start-up check ---------------------------------------------------------------

def first_sample(dump: Path) -> Path:
    folder, frame = read_split_list(dump, "train")[0]
    return dump / folder / f"{frame}.jpg"


def test_training_refuses_a_nan_camera_file_at_start(prepared: Path, tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    shutil.copytree(prepared, dump)
    cam = first_sample(dump).with_name(f"{first_sample(dump).stem}_cam.txt")
    cam.write_text("nan,0.,208.0,0.,nan,64.0,0.,0.,1.")
    line = error_line(run_program("run_train.py", f"--dataset_dir={dump}", f"--checkpoint_dir={tmp_path / 'c'}"),
                      "sfm-train")
    assert line.endswith(f"{cam}: camera file has non-finite values (nan or inf): "
                         "[nan, 0.0, 208.0, 0.0, nan, 64.0, 0.0, 0.0, 1.0]")


def test_start_up_check_decodes_the_first_sample_in_full(prepared: Path, tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    shutil.copytree(prepared, dump)
    config = PipelineConfig(dataset_dir=str(dump), with_boundary=True)
    check_dataset(config)
    jpg = first_sample(dump)
    jpg.write_bytes(jpg.read_bytes()[: jpg.stat().st_size // 2])  # header intact, image data cut
    with pytest.raises(DataError, match=rf"^{jpg}: corrupt or unreadable JPEG \(image file is truncated"):
        check_dataset(config)


# --- resumed preparation and rendering redo damaged outputs, byte for byte --------------------------------------

def test_prepare_rerun_redoes_truncated_samples_identically(synthetic_root: Path, prepared: Path,
                                                            tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    shutil.copytree(prepared, dump)
    jpgs = sorted(dump.rglob("*.jpg"))
    jpgs[0].write_bytes(jpgs[0].read_bytes()[:2000])  # a truncated JPEG whose header still gives its size
    jpgs[1].with_name(f"{jpgs[1].stem}_cam.txt").write_text("")  # an emptied camera file
    jpgs[2].with_name(f"{jpgs[2].stem}_cam.txt").write_text("nan,0.,1.,0.,1.,1.,0.,0.,1.")
    result = prepare_dataset(PrepareConfig(dataset_name="synthetic", dataset_dir=str(synthetic_root),
                                           dump_root=str(dump), num_threads=2), stream=io.StringIO())
    assert (result.written, result.skipped) == (3, result.planned - 3)
    assert file_bytes(dump) == file_bytes(prepared)


def test_render_rerun_redoes_damaged_frames_identically(synthetic_root: Path, tmp_path: Path) -> None:
    manifest = SyntheticManifest.load(synthetic_root)
    copy = tmp_path / "synthetic"
    shutil.copytree(synthetic_root, copy)
    layout = SyntheticManifest.load(copy).layout

    def damage(path: Path, keep: int) -> None:
        path.write_bytes(path.read_bytes()[:keep])

    damage(layout.frame_files(0, 1)["image"], 3000)
    damage(layout.frame_files(1, 2)["depth"], 1000)
    damage(layout.frame_files(2, 3)["instances"], 200)
    velodyne = layout.frame_files(0, 4)["velodyne"]
    damage(velodyne, velodyne.stat().st_size - 5)
    damage(layout.odometry_image(1, 5), 100)
    render_dataset(copy, manifest.config, progress_every_s=1e9)
    assert file_bytes(copy) == file_bytes(synthetic_root)


def test_render_with_a_damaged_in_progress_record_is_one_error(tmp_path: Path, synthetic_root: Path) -> None:
    (tmp_path / "frame.png").write_bytes(b"unrelated")
    (tmp_path / ".synthetic_config.json").write_text('{"num_drives": 3,')
    with pytest.raises(DataError, match=r"\.synthetic_config\.json: damaged record of the render in progress"):
        render_dataset(tmp_path, SyntheticManifest.load(synthetic_root).config)


# --- evaluation inputs: prediction files and the ground-truth cache ----------------------------------------------

def save(path: Path, array: np.ndarray) -> Path:
    np.save(path, array)
    return path


def good_predictions() -> np.ndarray:
    return np.stack([mini_dense_depth() * 0.3] * 2)


def random_bytes(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(0).bytes(300))
    return path


def one_nan(path: Path) -> Path:
    preds = good_predictions()
    preds[1, 3, 4] = np.nan
    return save(path, preds)


def truncated_npy(path: Path) -> Path:
    path.write_bytes(save(path, good_predictions()).read_bytes()[:5000])
    return path


def npz_of_two(path: Path) -> Path:
    np.savez(path.with_suffix(".npz"), a=good_predictions(), b=good_predictions())
    return path.with_suffix(".npz")


ALL = 2 * MINI_H * MINI_W


@pytest.mark.parametrize(("make", "message"), [
    (random_bytes, r"not a valid \.npy file \(it does not start with the NumPy header"),
    (one_nan, rf"1 of {ALL} predicted depths are non-finite \(nan or inf\), the first in map 1"),
    (lambda p: save(p, np.full((2, MINI_H, MINI_W), np.inf, np.float32)), rf"{ALL} of {ALL} .* non-finite"),
    (lambda p: save(p, np.zeros((2, MINI_H, MINI_W), np.float32)), rf"{ALL} of {ALL} predicted depths are <= 0"),
    (lambda p: save(p, -good_predictions()), rf"{ALL} of {ALL} predicted depths are <= 0, the first in map 0"),
    (lambda p: save(p, np.full((2, MINI_H, MINI_W), 5, np.int32)),
     r"the array has dtype int32; predicted depths must be floating-point metres"),
    (lambda p: save(p, np.ones((4, 4), np.float32)), r"expected N depth maps .* got shape \(4, 4\)"),
    (lambda p: save(p, np.array([np.ones((4, 4), np.float32), None], dtype=object)),
     r"holds an object array .* needs --pred_allow_pickle"),
    (truncated_npy, r"damaged \.npy file"),
    (npz_of_two, r"an \.npz of 2 arrays \(a, b\)"),
])
def test_bad_prediction_files_are_refused(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path / "preds.npy")
    with pytest.raises(DataError) as error:
        load_prediction_file(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ") and re.search(message, text), text
    assert "\n" not in text and "allow_pickle=" not in text  # one line, naming the flag rather than numpy's API


def test_integer_maps_in_a_list_are_refused(tmp_path: Path) -> None:
    maps = np.empty(2, dtype=object)
    maps[0], maps[1] = np.ones((20, 60), np.uint16), np.ones((20, 61), np.uint16)
    path = save(tmp_path / "preds.npy", maps)
    with pytest.raises(DataError, match=r"map 0 has dtype uint16"):
        load_prediction_file(path, allow_pickle=True)


@pytest.mark.parametrize(("shape", "message"), [
    ((2, 4, 4), r"the depth map of a is 4x4, smaller than 16 pixels a side"),
    ((2, MINI_W, MINI_H), r"the depth map of a is 48x32 \(HxW\), its width/height ratio 0.44 times the image's"),
    ((3, MINI_H, MINI_W), r"3 predicted depth maps for 2 test images"),
])
def test_predictions_that_cannot_cover_the_images_are_refused(shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(DataError, match=rf"^preds.npy: {message}"):
        check_prediction_shapes("preds.npy", list(np.ones(shape, np.float32)), [(MINI_H, MINI_W)] * 2, ["a", "b"])


@pytest.mark.parametrize("shape", [(128, 416), (192, 640), (256, 512), (375, 1242)])
def test_usual_prediction_sizes_of_kitti_images_are_accepted(shape: tuple[int, int]) -> None:
    check_prediction_shapes("preds.npy", [np.ones(shape, np.float32)], [(375, 1242)], ["a"])


@pytest.mark.filterwarnings("ignore:.*not the standard")
def test_npz_of_one_array_scores_as_the_npy_and_a_4x4_file_is_refused_end_to_end(tmp_path: Path) -> None:
    raw = build_mini_raw(tmp_path)
    np.save(tmp_path / "preds.npy", good_predictions())
    np.savez(tmp_path / "preds.npz", depth=good_predictions())
    config = DepthEvalConfig(dataset_dir=str(raw), pred_file=str(tmp_path / "preds.npy"), boundary_metrics=False,
                             gt_cache_dir=str(tmp_path / "cache"))
    from_npy = evaluate_depth_run(config)
    from_npz = evaluate_depth_run(replace(config, pred_file=str(tmp_path / "preds.npz")))
    assert from_npz["per_image"] == from_npy["per_image"] and from_npy["metrics"]["abs_rel"] < 1e-6
    np.save(tmp_path / "tiny.npy", np.ones((2, 4, 4), np.float32))
    with pytest.raises(DataError, match=r"tiny.npy: the depth map of .*0000000000.png is 4x4"):
        evaluate_depth_run(replace(config, pred_file=str(tmp_path / "tiny.npy")))
    scan = raw / DATE / DRIVE / "velodyne_points" / "data" / "0000000001.bin"
    scan.write_bytes(scan.read_bytes() + b"\x00\x00")
    with pytest.raises(DataError, match=r"0000000001.bin: size \d+ bytes is not a multiple of 16"):
        evaluate_depth_run(config)


def test_eval_refuses_nan_predictions_and_keeps_the_earlier_result(synthetic_root: Path, tmp_path: Path) -> None:
    num_images = len(read_test_lines(synthetic_root / "splits" / "test_files_eigen.txt"))
    preds = np.full((num_images, 128, 416), 5.0, np.float32)
    preds[2, 10, 10] = np.nan
    pred_file = save(tmp_path / "preds.npy", preds)
    out = tmp_path / "out"
    out.mkdir()
    (out / "depth_eval.json").write_text('{"metrics": "an earlier good run"}')
    line = error_line(run_program("run_eval.py", "--split=eigen", f"--dataset_dir={synthetic_root / 'kitti_raw'}",
                                  f"--pred_file={pred_file}", f"--output_dir={out}", "--gt_cache_dir="),
                      "sfm-eval")
    assert line.endswith(f"{pred_file}: 1 of {preds.size} predicted depths are non-finite (nan or inf), the first "
                         "in map 2; every depth must be a finite positive number")
    assert (out / "depth_eval.json").read_text() == '{"metrics": "an earlier good run"}'


def test_damaged_ground_truth_cache_is_rebuilt_with_a_warning(tmp_path: Path) -> None:
    raw = build_mini_raw(tmp_path)
    frames = resolve_test_frames(raw, read_test_lines(raw / "test_files_eigen.txt"))
    expected = compute_gt_depths(frames)
    cache = gt_cache_path(tmp_path / "cache", gt_cache_key(frames, False))
    cache.parent.mkdir()
    cache.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.warns(UserWarning, match=rf"{cache.name}: damaged ground-truth cache .*computing the ground truth"):
        rebuilt = cached_gt_depths(frames, tmp_path / "cache")
    for got, want in zip(rebuilt, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(load_gt_cache(cache, gt_cache_key(frames, False)), expected, strict=True):
        np.testing.assert_array_equal(got, want)  # the cache was replaced by a good one
    with pytest.warns(UserWarning, match=r"cannot write \(Not a directory\); the ground truth is not cached"):
        uncached = cached_gt_depths(frames, under_a_file(tmp_path))
    np.testing.assert_array_equal(uncached[0], expected[0])


def test_camera_file_reader_refuses_inf(tmp_path: Path) -> None:
    cam = tmp_path / "0000000001_cam.txt"
    cam.write_text("100.0,0.,inf,0.,100.0,64.0,0.,0.,1.")
    with pytest.raises(DataError, match=r"0000000001_cam.txt: camera file has non-finite values"):
        read_cam_file(cam)
    cam.write_text("100.0,0.,208.0,0.,100.0,64.0,0.,0.,1.")
    np.testing.assert_array_equal(read_cam_file(cam), [[100, 0, 208], [0, 100, 64], [0, 0, 1]])
