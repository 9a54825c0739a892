"""One rule per input kind, the same at start-up (Python) and mid-run (the tf.data graph): a sample JPEG decodes to
RGB (greyscale replicated to R = G = B), a `_cam.txt` holds 9 finite numbers fx,0.,cx,0.,fy,cy,0.,0.,1. with
fx, fy > 0. A bad file drawn mid-run stops training with a short DataError naming it, after saving the steps done.
Also the summary of TensorFlow's error messages that our errors quote."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from helpers import HEIGHT, WIDTH, config_for, write_dataset
from PIL import Image

from sfmlearner_tf.data.pipeline import PipelineConfig, check_dataset, make_dataset
from sfmlearner_tf.data.tfds_builder import SfmPreparedSamples
from sfmlearner_tf.errors import DataError, error_summary
from sfmlearner_tf.prep.samples import CAM_RULE, cam_entries_valid, read_cam_file, read_sample, write_sample
from sfmlearner_tf.training import train
from sfmlearner_tf.training.checkpoints import TrainCheckpoints, make_checkpoint
from sfmlearner_tf.training.loop import build_state

GOOD_CAM = "64.000000,0.,32.000000,0.,64.000000,16.000000,0.,0.,1."


def sample_path(root: Path, index: int) -> Path:
    return root / "drive" / f"{index:06d}.jpg"


def cam_path(root: Path, index: int) -> Path:
    return root / "drive" / f"{index:06d}_cam.txt"


def pipeline_config(root: Path, **changes: object) -> PipelineConfig:
    settings = dict(dataset_dir=str(root), batch_size=2, img_height=HEIGHT, img_width=WIDTH, shuffle=False,
                    augment=False, num_parallel_calls=2)
    return PipelineConfig(**{**settings, **changes})


def pipeline_error(config: PipelineConfig) -> str | None:
    """The summary of the error reading every batch raises, or None when all read."""
    try:
        for _ in make_dataset(config):
            pass
    except tf.errors.OpError as error:
        return error_summary(error)
    return None


def start_up_error(config: PipelineConfig) -> str | None:
    try:
        check_dataset(config)
    except DataError as error:
        return str(error)
    return None


def reencode(jpg: Path, mode: str) -> None:
    """The sample's pixels saved again as a JPEG of PIL `mode` (L: greyscale, CMYK)."""
    with Image.open(jpg) as image:
        converted = image.convert(mode)
    converted.save(jpg, format="JPEG", quality=75)


# --- the sample JPEG: greyscale is converted, at start-up and mid-run alike -------------------------------------

def test_greyscale_fourth_sample_passes_start_up_reads_as_grey_rgb_and_trains(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", count=6)
    grey = sample_path(root, 3)
    reencode(grey, "L")
    check_dataset(pipeline_config(root))
    with Image.open(grey) as image:
        assert image.mode == "L"
        pil_grey = np.asarray(image).astype(int)  # PIL's decode, independent of TF
    batches = [{k: v.numpy() for k, v in b.items()} for b in make_dataset(pipeline_config(root))]
    target = batches[1]["tgt_image"][1]  # sample 3 = the second of batch 1 (unshuffled); target = middle panel
    assert target.shape == (HEIGHT, WIDTH, 3)
    np.testing.assert_array_equal(target[..., 0], target[..., 1])
    np.testing.assert_array_equal(target[..., 1], target[..., 2])
    assert np.abs(target[..., 0].astype(int) - pil_grey[:, WIDTH:2 * WIDTH]).max() <= 3  # IDCTs differ by rounding
    frames, _ = read_sample(grey, 3, WIDTH)  # the Python reader converts the same way
    np.testing.assert_array_equal(frames[..., 0], pil_grey.reshape(HEIGHT, 3, WIDTH).transpose(1, 0, 2))
    np.testing.assert_array_equal(frames[..., 0], frames[..., 2])

    result = train(config_for(tmp_path / "run", dataset_dir=str(root), max_steps=4, save_latest_freq=100,
                              summary_freq=100, val_batches=0), log=False)
    assert result.stopped_by == "done" and result.step == 3  # steps 1..3: one epoch, sample 3 included
    assert np.isfinite(result.losses["total"]) and result.losses["total"] > 0


@pytest.mark.parametrize(("variant", "accepted"), [("RGB", True), ("L", True), ("CMYK", True), ("PNG", False),
                                                   ("truncated", False), ("marker in the image data", False)])
def test_start_up_and_mid_run_agree_on_a_sample_jpeg(tmp_path: Path, variant: str, accepted: bool) -> None:
    """Each variant read second (mid-run, in the graph) and first (the start-up check): both accept or both refuse
    naming it. A marker whose segment runs past the end of the file inside the image data: PIL decodes the file,
    libjpeg in TF refuses it, so the start-up check also runs the first sample through the graph."""
    root = write_dataset(tmp_path, count=2)
    first, second = sample_path(root, 0), sample_path(root, 1)
    data = second.read_bytes()
    if variant == "PNG":
        with Image.open(second) as image:
            image.save(second, format="PNG")
    elif variant == "truncated":
        second.write_bytes(data[: len(data) // 2])
    elif variant == "marker in the image data":
        second.write_bytes(data[: len(data) * 4 // 5] + b"\xff\xe4\xff\xff" + data[len(data) * 4 // 5 + 4:])
        with Image.open(second) as image:
            image.load()  # PIL alone would pass it
    else:
        reencode(second, variant)
    mid_run = pipeline_error(pipeline_config(root))  # the bad one read second, in the graph
    (root / "train.txt").write_text("drive 000001\ndrive 000000\n")  # now the first: the start-up check sees it
    at_start = start_up_error(pipeline_config(root))
    assert (mid_run is None, at_start is None) == (accepted, accepted), (mid_run, at_start)
    if not accepted:
        assert str(second) in mid_run and str(second) in at_start and str(first) not in mid_run + at_start


# --- the camera file: one rule, fx = 0 and nan refused by name in both places -----------------------------------

@pytest.mark.parametrize(("line", "entries_ok"), [
    (GOOD_CAM, [True] * 9),
    ("0.000000,0.,32.0,0.,64.0,16.0,0.,0.,1.", [False] + [True] * 8),  # fx = 0: K not invertible
    ("64.0,0.,32.0,0.,-64.0,16.0,0.,0.,1.", [True] * 4 + [False] + [True] * 4),  # fy < 0
    ("nan,0.,32.0,0.,64.0,16.0,0.,0.,1.", [False] + [True] * 8),
    ("64.0,0.,-inf,0.,64.0,16.0,0.,0.,1.", [True, True, False] + [True] * 6),
    ("64.0,0.,32.0,0.,1e39,16.0,0.,0.,1.", [True] * 4 + [False] + [True] * 4),  # beyond float32: inf
    ("64.0,0.,32.0,0.,64.0,16.0,0.,0.,0.", [True] * 8 + [False]),  # K[2] must be 0 0 1
    ("64.0,0.5,32.0,0.,64.0,16.0,0.,0.,1.", [True, False] + [True] * 7),  # the format has no skew
])
def test_camera_rule_entry_by_entry_and_both_checks_agree(tmp_path: Path, line: str, entries_ok: list[bool]) -> None:
    with np.errstate(over="ignore"):
        values = np.array([float(v) for v in line.split(",")], np.float64).astype(np.float32)
    np.testing.assert_array_equal(cam_entries_valid(values), entries_ok)
    np.testing.assert_array_equal(tf.reduce_all(cam_entries_valid(tf.constant(values))).numpy(), all(entries_ok))
    root = write_dataset(tmp_path, count=2)
    bad = cam_path(root, 1)
    bad.write_text(line)
    mid_run = pipeline_error(pipeline_config(root))
    (root / "train.txt").write_text("drive 000001\ndrive 000000\n")
    at_start = start_up_error(pipeline_config(root))
    if all(entries_ok):
        assert mid_run is None and at_start is None
        np.testing.assert_array_equal(read_cam_file(bad), [[64, 0, 32], [0, 64, 16], [0, 0, 1]])
        return
    # the file's values follow when the path leaves room in the summary's 200 characters
    assert mid_run.startswith("camera file breaks the rule (9 finite numbers fx,0.,cx,0.,fy,cy,0.,0.,1. with "
                              f"fx > 0 and fy > 0): {bad}"), mid_run
    assert at_start.startswith(f"{bad}: camera file "), at_start
    assert re.search(r"non-finite values|breaks the rule", at_start)


@pytest.mark.parametrize("text", ["64.0,0.,32.0,0.,64.0,16.0,0.,0.", "", "64.0;0.;32.0;0.;64.0;16.0;0.;0.;1.",
                                  "6_4.0,0.,32.0,0.,64.0,16.0,0.,0.,1.", "٦4.0,0.,32.0,0.,64.0,16.0,0.,0.,1."])
def test_malformed_camera_lines_are_refused_by_both(tmp_path: Path, text: str) -> None:
    """Python's float() would read `6_4.0` and Arabic-Indic digits; the one pattern refuses them in both places."""
    root = write_dataset(tmp_path, count=2)
    bad = cam_path(root, 1)
    bad.write_text(text, encoding="utf-8")
    assert pipeline_error(pipeline_config(root)).startswith(f"malformed camera file (need {CAM_RULE}): {bad}")
    (root / "train.txt").write_text("drive 000001\ndrive 000000\n")
    assert start_up_error(pipeline_config(root)).startswith(f"{bad}: camera file is malformed (need {CAM_RULE}): ")


@pytest.mark.parametrize(("fx", "problem"), [(1e-7, "breaks the rule"), (np.nan, "has non-finite values")])
def test_a_sample_whose_camera_line_training_would_refuse_is_not_written(tmp_path: Path, fx: float,
                                                                         problem: str) -> None:
    """1e-7 prints as 0.000000 with %f: the line is checked as it would be read back."""
    jpg = tmp_path / "drive" / "000000.jpg"
    k = np.array([[fx, 0.0, 32.0], [0.0, 64.0, 16.0], [0.0, 0.0, 1.0]])
    frames = [np.zeros((HEIGHT, WIDTH, 3), np.uint8)] * 3
    with pytest.raises(DataError, match=rf"^{jpg.with_name('000000_cam.txt')}: camera line to write {problem}"):
        write_sample(jpg, frames, k)
    assert not jpg.parent.exists() or not any(jpg.parent.iterdir())
    k[0, 0] = 1e-6  # prints as 0.000001: kept
    write_sample(jpg, frames, k)
    np.testing.assert_array_equal(read_cam_file(jpg.with_name("000000_cam.txt"))[0], np.float32([1e-6, 0, 32]))


def restored_step(checkpoint_dir: Path) -> int:
    """The step of the newest checkpoint a resume would read (its Adam step count must agree)."""
    config = config_for(checkpoint_dir)
    state = build_state(config)
    checkpoints = TrainCheckpoints(make_checkpoint(state.depth_net, state.pose_exp_net, state.optimizer, state.step,
                                                   state.rng), str(checkpoint_dir))
    assert checkpoints.restore_newest() is not None
    assert int(state.optimizer.iterations.numpy()) == int(state.step.numpy())
    return int(state.step.numpy())


def test_focal_length_0_mid_run_is_one_short_line_naming_the_file_after_saving_the_steps_done(tmp_path: Path) -> None:
    """(nan and the other breaches fail at the same assertion: test_camera_rule_entry_by_entry_and_both_checks_agree.)
    Before: the train step's matrix inverse failed, a 70-line traceback naming no file, nothing saved."""
    root = write_dataset(tmp_path / "data", count=6)
    bad = cam_path(root, 3)
    bad.write_text("0.000000,0.,32.000000,0.,64.000000,16.000000,0.,0.,1.")
    check_dataset(pipeline_config(root))  # the first sample is good: the start-up check passes
    run = tmp_path / "run"
    config = config_for(run, dataset_dir=str(root), max_steps=8, save_latest_freq=100, summary_freq=100,
                        val_batches=0)
    with pytest.raises(DataError) as info:
        train(config, log=False)
    message = str(info.value)
    assert "\n" not in message and len(message) < 300, message
    assert str(bad) in message and "camera file breaks the rule" in message
    step = int(re.match(r"train: a sample of the batch for step (\d+) cannot be read: ", message).group(1))
    assert step >= 2  # with this seed the bad sample is first drawn at a later step: steps were done before it
    assert restored_step(run) == step - 1  # the steps done were saved before raising


def test_tfds_build_refuses_a_bad_camera_file_and_trains_a_greyscale_sample(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "data", count=4)
    reencode(sample_path(root, 2), "L")
    cam_path(root, 1).write_text("0.000000,0.,32.000000,0.,64.000000,16.000000,0.,0.,1.")
    builder = SfmPreparedSamples(data_dir=str(tmp_path / "tfds"))
    download = tfds.download.DownloadConfig(manual_dir=str(root))
    with pytest.raises(DataError, match=rf"^{cam_path(root, 1)}: camera file breaks the rule"):
        builder.download_and_prepare(download_config=download)
    cam_path(root, 1).write_text(GOOD_CAM)
    builder.download_and_prepare(download_config=download)
    config = pipeline_config(root, source="tfds", tfds_data_dir=str(tmp_path / "tfds"))
    check_dataset(config)
    targets = np.concatenate([b["tgt_image"].numpy() for b in make_dataset(config)])
    assert targets.shape == (4, HEIGHT, WIDTH, 3)
    grey = [t for t in targets if np.array_equal(t[..., 0], t[..., 1]) and np.array_equal(t[..., 1], t[..., 2])]
    assert len(grey) == 1  # the greyscale sample, replicated to R = G = B; the random-texture ones are colour


# --- the summary of TensorFlow's errors -----------------------------------------------------------------------

def graph_error(function: Callable[[], tf.Tensor]) -> tf.errors.OpError:
    with pytest.raises(tf.errors.OpError) as info:
        function()
    return info.value


def test_summary_of_a_long_assertion_keeps_the_message_and_the_file_and_cuts_the_values() -> None:
    @tf.function
    def failing() -> tf.Tensor:
        values = tf.zeros([100, 120])
        with tf.control_dependencies([tf.debugging.Assert(False, ["bad sample:", "/data/d/000003.jpg", "values",
                                                                  values], summarize=-1)]):
            return tf.identity(values)

    error = graph_error(failing)
    assert len(error.message) > 20_000  # 12,000 printed values, and where the node was built
    summary = error_summary(error)
    assert summary.startswith("bad sample: /data/d/000003.jpg values 0 0 0 0")
    assert len(summary) == 200 and summary.endswith("...") and "\n" not in summary


def test_summary_of_a_graph_error_is_the_problem_alone() -> None:
    @tf.function
    def invert(matrix: tf.Tensor) -> tf.Tensor:
        return tf.linalg.inv(matrix)

    error = graph_error(lambda: invert(tf.zeros([3, 3])))
    assert "Detected at node" in error.message and "File " in error.message  # the traceback TF adds
    assert error_summary(error) == "Input is not invertible."


def test_summary_of_a_tf_data_error_drops_the_iterator_stages(tmp_path: Path) -> None:
    root = write_dataset(tmp_path, count=2)
    cam_path(root, 0).write_text("64.0,0.,32.0,0.,64.0,16.0")
    with pytest.raises(tf.errors.OpError) as info:
        list(make_dataset(pipeline_config(root)))
    assert "Iterator::" in info.value.message and "{{" in info.value.message
    assert error_summary(info.value) == ("malformed camera file (need 9 finite numbers fx,0.,cx,0.,fy,cy,0.,0.,1. "
                                         f"with fx > 0 and fy > 0): {cam_path(root, 0)}")


def test_summary_of_os_and_plain_errors() -> None:
    assert error_summary(PermissionError(13, "Permission denied", "/x")) == "Permission denied"
    assert error_summary(ValueError("a\n  b")) == "a b"
    assert error_summary(ValueError("x" * 500), limit=50) == "x" * 47 + "..."


def test_greyscale_jpeg_bytes_decode_to_replicated_rgb_in_the_graph() -> None:
    """The conversion the rule relies on, on a JPEG made here: TF's channels=3 decode of a greyscale JPEG."""
    grey = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (8, 1))
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, format="JPEG", quality=95)
    decoded = tf.io.decode_jpeg(buffer.getvalue(), channels=3).numpy()
    assert decoded.shape == (8, 64, 3)
    np.testing.assert_array_equal(decoded[..., 0], decoded[..., 2])
    assert np.abs(decoded[..., 1].astype(int) - grey).max() <= 3


def test_the_program_filter_drops_a_tf_log_record_with_its_continuation_lines() -> None:
    """A failed tf.data op logs `W... local_rendezvous.cc:...] ...` and then `\\t [[{{node ...}}]]`: both go, so a
    program that stops on a bad sample prints its one error line alone."""
    from sfmlearner_tf.quiet import _forward

    text = (b"train: 2/7 steps\n"
            b"W0000 00:00:1796.5 17632 local_rendezvous.cc:412] Local rendezvous is aborting: assertion failed\n"
            b"\t [[{{function_node Assert_1_AssertGuard_false_3566}}{{node Assert_1/AssertGuard/Assert}}]]\n"
            b"sfm-train: error: train: a sample of the batch for step 3 cannot be read: ...\n"
            b"\tan indented line of the program's own\n"
            b"W0000 00:00:1796.6 17632 local_rendezvous.cc:412] last\n\t [[{{node X}}]]")
    source_read, source_write = os.pipe()
    target_read, target_write = os.pipe()
    os.write(source_write, text)
    os.close(source_write)
    _forward(source_read, target_write)
    os.close(target_write)
    with os.fdopen(target_read, "rb") as out:
        assert out.read() == (b"train: 2/7 steps\n"
                              b"sfm-train: error: train: a sample of the batch for step 3 cannot be read: ...\n"
                              b"\tan indented line of the program's own\n")
    os.close(source_read)
