"""End to end on the synthetic fixture: prepare with boundary panels, train a few steps through the real pipeline,
resume; a boundary loss on data without panels fails at start-up naming the file. The demo-size run is slow."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import cv2
import numpy as np
import pytest
import tensorflow as tf

from sfmlearner_tf.data.pipeline import PipelineConfig, make_dataset
from sfmlearner_tf.errors import DataError
from sfmlearner_tf.losses import LossConfig, compute_losses
from sfmlearner_tf.prep.config import PrepareConfig
from sfmlearner_tf.prep.prepare import prepare_dataset
from sfmlearner_tf.tasks.demo import DemoConfig, run_demo
from sfmlearner_tf.training import TrainConfig, train
from sfmlearner_tf.training.recipes import IMPROVED
from sfmlearner_tf.training.validation import load_validation

HEIGHT, WIDTH = 32, 112


def prepared(synthetic_root: Path, dump: Path, boundary: bool) -> Path:
    prepare_dataset(PrepareConfig(dataset_name="synthetic", dataset_dir=str(synthetic_root), dump_root=str(dump),
                                  img_height=HEIGHT, img_width=WIDTH, num_threads=1,
                                  boundary_source="synthetic" if boundary else "none"))
    return dump


def test_short_training_run_writes_checkpoints_and_resumes(synthetic_root: Path, tmp_path: Path) -> None:
    data = prepared(synthetic_root, tmp_path / "prepared", boundary=True)
    config = TrainConfig.from_settings(dataset_dir=str(data), checkpoint_dir=str(tmp_path / "ckpt"), img_height=HEIGHT,
                                       img_width=WIDTH, batch_size=2, max_steps=3, lambda_seg=1.0, summary_freq=1,
                                       save_latest_freq=100, progress_every_s=0.0)
    first = train(config)
    assert first.step == 2 and first.stopped_by == "done" and Path(first.checkpoint + ".index").is_file()
    assert first.losses["seg"] > 0 and first.losses["pixel"] > 0
    # TensorBoard: every loss term, the learning rate, steps/s and the images, at each summary step.
    tags: dict[str, list[int]] = {}
    for event_file in (tmp_path / "ckpt").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    for tag in ("loss/total", "loss/pixel", "loss/smooth", "loss/seg", "train/learning_rate",
                "train/steps_per_second", "target", "disparity", "projected_source_0", "projected_source_1",
                "boundary"):
        assert sorted(tags.get(tag, [])) == [1, 2], tag
    second = train(config.replace(max_steps=4, continue_train=True))
    assert second.step == 3 and second.checkpoint.endswith("-3")


def test_boundary_loss_without_panels_fails_naming_the_sample(synthetic_root: Path, tmp_path: Path) -> None:
    data = prepared(synthetic_root, tmp_path / "plain", boundary=False)
    config = TrainConfig.from_settings(dataset_dir=str(data), checkpoint_dir=str(tmp_path / "ckpt"), img_height=HEIGHT,
                                       img_width=WIDTH, batch_size=2, lambda_seg=2.5)
    with pytest.raises(DataError, match=r"\.jpg: sample has no boundary panel"):
        train(config)


@pytest.mark.slow
def test_demo_learns(tmp_path: Path) -> None:
    summary = run_demo(DemoConfig(work_dir=str(tmp_path / "demo")))
    assert summary["after"]["abs_rel"] < 0.9 * summary["before"]["abs_rel"]
    assert summary["after"]["a1"] > summary["before"]["a1"]


def test_tiny_demo_runs_every_stage_and_keeps_its_initial_weights(tmp_path: Path) -> None:
    """The demo's whole path at toy size (3 drives x 8 frames, 32x112, 2 steps): render, prepare, evaluate the
    initial model, train (a learning-curve point after step 1), evaluate again; the kept initial checkpoint
    scores exactly the "before" row, and the priors are scored beside it."""
    from sfmlearner_tf.evaluation import DepthEvalConfig
    from sfmlearner_tf.tasks.evaluate import evaluate_depth_run

    config = DemoConfig.from_settings(work_dir=str(tmp_path / "demo"), num_drives=3, num_test_drives=1, num_frames=8,
                                      render_width=224, render_height=64, img_height=HEIGHT, img_width=WIDTH, steps=2,
                                      curve_every=1, progress_every_s=1e9)
    summary = run_demo(config)
    assert summary["steps"] == 2 and set(summary["before"]) == set(summary["after"])
    assert [point["step"] for point in summary["curve"]] == [0, 1, 2]
    assert summary["curve"][0]["metrics"] == summary["before"] and summary["curve"][-1]["metrics"] == summary["after"]
    assert set(summary["baselines"]) == {"constant", "row prior"}
    assert summary["baselines"]["row prior"]["abs_rel"] < summary["baselines"]["constant"]["abs_rel"]
    assert 0.0 < summary["before"]["abs_rel"] < 10.0 and summary["after"]["abs_rel"] != summary["before"]["abs_rel"]
    rescored = evaluate_depth_run(DepthEvalConfig(dataset_dir=str(tmp_path / "demo" / "synthetic" / "kitti_raw"),
                                              ckpt_file=str(tmp_path / "demo" / "initial" / "ckpt-0"),
                                              img_height=HEIGHT, img_width=WIDTH, boundary_metrics=False))
    assert rescored["metrics"]["abs_rel"] == pytest.approx(summary["before"]["abs_rel"], rel=1e-6)
    assert "before" in summary["table"] and "row prior" in summary["table"]
    assert (tmp_path / "demo" / "demo_result.json").is_file()
    assert summary["recipe"] == config.recipe and summary["recipe_settings"] == dict(IMPROVED)
    # Figures: 4 held-out frames (input, true depth, before, after), and the curve of abs_rel and delta < 1.25.
    # Panels at the true depth's size (the 64 x 224 render) with a 2-pixel frame, under a 20-pixel label row.
    frames = cv2.imread(summary["figures"]["held_out_depth"])
    assert frames.shape == (20 + 4 * (64 + 4), 4 * (224 + 4), 3)
    curve = cv2.imread(summary["figures"]["learning_curve"])
    assert curve.shape == (260, 2 * 360, 3)


def test_demo_stopped_by_a_signal_resumes_with_its_learning_curve(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A demo stopped after step 2 (SIGTERM, as the training loop takes it) and run again: the curve points
    scored before the stop are kept from the saved curve file, not lost or scored again, and training goes on."""
    from sfmlearner_tf.tasks.demo import CURVE_FILE, read_curve
    from sfmlearner_tf.training import loop

    real_train = loop.train

    def stopping_train(config, on_step):
        def hook(step, state):
            on_step(step, state)
            if step == 2:
                os.kill(os.getpid(), signal.SIGTERM)
        return real_train(config, on_step=hook)

    config = DemoConfig.from_settings(work_dir=str(tmp_path / "demo"), num_drives=3, num_test_drives=1, num_frames=8,
                                      render_width=224, render_height=64, img_height=HEIGHT, img_width=WIDTH, steps=4,
                                      curve_every=1, progress_every_s=1e9)
    monkeypatch.setattr(loop, "train", stopping_train)
    stopped = run_demo(config)
    assert (stopped["stopped_by"], stopped["steps"]) == ("signal", 2)
    curve_file = tmp_path / "demo" / "checkpoints" / CURVE_FILE
    saved = read_curve(curve_file)
    assert sorted(saved) == [1, 2] and saved[1]["abs_rel"] != saved[2]["abs_rel"]
    scored = []
    monkeypatch.setattr(loop, "train", lambda config, on_step: real_train(
        config, on_step=lambda step, state: (scored.append(step), on_step(step, state))))
    summary = run_demo(config)
    assert [point["step"] for point in summary["curve"]] == [0, 1, 2, 3, 4] and scored == [3, 4]
    assert [summary["curve"][k]["metrics"] for k in (1, 2)] == [saved[1], saved[2]]
    assert sorted(read_curve(curve_file)) == [1, 2, 3]
    curve_file.write_text("[{\"step\": 1}]")
    with pytest.raises(DataError, match=f"{curve_file}: not a learning curve written by sfm-demo"):
        read_curve(curve_file)


def _event_scalars(folder: Path, tag: str) -> dict[int, float]:
    out = {}
    for event_file in folder.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                if value.tag == tag:
                    out[event.step] = float(tf.make_ndarray(value.tensor))
    return out


def test_validation_loss_is_the_val_batches_pixel_loss_and_leaves_training_alone(
        synthetic_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Every summary_freq steps: the pixel loss of the current nets on val.txt's first batches (in order, no
    augmentation) goes to TensorBoard and the progress line; the training numbers do not change."""
    data = prepared(synthetic_root, tmp_path / "prepared", boundary=False)
    train_lines = (data / "train.txt").read_text().splitlines()
    (data / "val.txt").write_text("\n".join(train_lines[:3]) + "\n")  # one batch of 2 (the remainder dropped)
    settings = {"dataset_dir": str(data), "img_height": HEIGHT, "img_width": WIDTH, "batch_size": 2, "max_steps": 4,
                "summary_freq": 3, "save_latest_freq": 100, "progress_every_s": 0.0}
    states = []
    with_val = train(TrainConfig.from_settings(**settings, checkpoint_dir=str(tmp_path / "a"), val_batches=5),
                     on_step=lambda step, state: states.append(state))
    printed = capsys.readouterr().out
    without = train(TrainConfig.from_settings(**settings, checkpoint_dir=str(tmp_path / "b"), val_batches=0))
    assert with_val.step == without.step == 3 and with_val.losses == without.losses  # bit-identical
    first, second = (tf.train.load_checkpoint(result.checkpoint) for result in (with_val, without))
    names = [name for name in first.get_variable_to_shape_map() if "OBJECT_GRAPH" not in name]
    assert len(names) > 50 and sorted(names) == sorted(n for n in second.get_variable_to_shape_map()
                                                        if "OBJECT_GRAPH" not in n)
    for name in names:  # weights, Adam, step and the trainer's RNG alike
        assert np.array_equal(first.get_tensor(name), second.get_tensor(name)), name
    logged = _event_scalars(tmp_path / "a", "val/pixel")
    assert list(logged) == [3] and not _event_scalars(tmp_path / "b", "val/pixel")
    assert "validation loss on 1 val batch(es)" in printed and f"val_pixel {logged[3]:.4f}" in printed
    # The same number by hand: the first two val.txt samples through the nets as they were at step 3.
    batch = next(iter(make_dataset(PipelineConfig(dataset_dir=str(data), batch_size=2, img_height=HEIGHT,
                                                  img_width=WIDTH, split="val", augment=False, shuffle=False))))
    state = states[-1]
    tgt = tf.constant(batch["tgt_image"].numpy().astype(np.float32) / 255 * 2 - 1)
    src = tf.constant(batch["src_image_stack"].numpy().astype(np.float32) / 255 * 2 - 1)
    poses, _ = state.pose_exp_net(tgt, src, training=False)
    terms, _ = compute_losses(tgt, src, state.depth_net(tgt, training=False), poses, None, batch["intrinsics"], None,
                              LossConfig())
    assert logged[3] == pytest.approx(float(terms.pixel), rel=1e-5)


def test_validation_is_skipped_with_a_note_without_val_samples(tmp_path: Path) -> None:
    """No val.txt, an empty one, or fewer samples than a batch: a note, no validation loss."""
    config = TrainConfig.from_settings(dataset_dir=str(tmp_path), batch_size=2)
    validation, note = load_validation(config)
    assert validation is None and note.startswith("no validation loss (") and "val.txt: sample list not found" in note
    (tmp_path / "val.txt").write_text("")
    assert load_validation(config)[1].endswith("val.txt: sample list is empty)")
    (tmp_path / "val.txt").write_text("drive 000001\n")
    assert load_validation(config)[1] == ("no validation loss (the val split has fewer samples than one batch of 2)")
    assert load_validation(config.replace(val_batches=0)) == (None, "validation off (--val_batches=0)")
