"""Depth evaluation end to end: prediction files, an in-memory DispNet, and run_eval on the synthetic drives."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from helpers import DATE, DRIVE, build_mini_raw, mini_dense_depth

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.evaluation import DepthEvalConfig, evaluate_depth
from sfmlearner_tf.models import DispNet
from sfmlearner_tf.tasks.evaluate import evaluate_depth_run

REPO = Path(__file__).resolve().parents[1]


def test_scaled_true_depth_scores_perfectly(tmp_path: Path) -> None:
    raw = build_mini_raw(tmp_path)
    preds = np.stack([mini_dense_depth() * 0.3] * 2)
    np.save(tmp_path / "preds.npy", preds)
    config = DepthEvalConfig(dataset_dir=str(raw), pred_file=str(tmp_path / "preds.npy"),
                             output_dir=str(tmp_path / "out"), gt_cache_dir=str(tmp_path / "cache"))
    with pytest.warns(UserWarning, match="not the standard"):
        result = evaluate_depth_run(config)
    assert result["metrics"]["abs_rel"] == pytest.approx(0.0, abs=1e-6)
    assert result["metrics"]["a1"] == 1.0
    np.testing.assert_allclose(result["scales"], 1 / 0.3, rtol=1e-5)
    # The dense true depth exists: the boundary metrics are there; a perfect prediction's edges are the box.
    assert result["boundary"]["dbe_acc"] < 1.5 and result["boundary"]["edge_sharpness"] > 1.0
    saved = json.loads((tmp_path / "out" / "depth_eval.json").read_text())
    assert saved["metrics"] == result["metrics"] and saved["num_images"] == 2


def test_in_memory_network_and_errors(tmp_path: Path) -> None:
    from sfmlearner_tf.models import DispNet

    raw = build_mini_raw(tmp_path)
    config = DepthEvalConfig(dataset_dir=str(raw), img_height=32, img_width=48)
    with pytest.warns(UserWarning):
        result = evaluate_depth(config, depth_net=DispNet())
    assert result["prediction_source"] == "in-memory model"
    assert all(np.isfinite(result["metrics"][k]) for k in ("abs_rel", "rms", "a1"))
    assert 0.0 <= result["metrics"]["a3"] <= 1.0
    with pytest.raises(ConfigError, match="prediction source"):
        evaluate_depth_run(config)
    (raw / DATE / DRIVE / "velodyne_points" / "data" / "0000000001.bin").unlink()
    with pytest.raises(DataError, match=r"0000000001\.bin"), pytest.warns(UserWarning):
        evaluate_depth(config, depth_net=DispNet())


def test_run_eval_on_synthetic_drives_with_a_fresh_checkpoint(synthetic_root: Path, tmp_path: Path) -> None:
    """run_eval.py as a user runs it: a freshly initialised DispNet saved as our TF2 checkpoint, compared with a
    second one; writes the JSON, the predictions, exports and one comparison figure."""
    script = (
        "import sys, tensorflow as tf\n"
        "from sfmlearner_tf.models import DispNet\n"
        "for i, prefix in enumerate(sys.argv[1:]):\n"
        "    tf.keras.utils.set_random_seed(i)\n"
        "    tf.train.Checkpoint(depth_net=DispNet().ensure_built()).write(prefix)\n"
    )
    ckpt_a, ckpt_b = str(tmp_path / "a" / "ckpt-1"), str(tmp_path / "b" / "ckpt-1")
    subprocess.run([sys.executable, "-c", script, ckpt_a, ckpt_b], check=True, cwd=REPO)
    out = tmp_path / "out"
    completed = subprocess.run(
        [sys.executable, str(REPO / "run_eval.py"), "--split=eigen", f"--dataset_dir={synthetic_root / 'kitti_raw'}",
         f"--ckpt_file={ckpt_a}", f"--compare_ckpt_file={ckpt_b}", f"--output_dir={out}", "--num_figures=1",
         "--export_depths", f"--gt_cache_dir={tmp_path / 'cache'}"],
        capture_output=True, text=True, cwd=REPO, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "   abs_rel,     sq_rel,        rms" in completed.stdout  # the original's {:>10} columns
    result = json.loads((out / "depth_eval.json").read_text())
    lines = (synthetic_root / "splits" / "test_files_eigen.txt").read_text().split()
    assert result["num_images"] == len(lines) and len(result["per_image"]["abs_rel"]) == len(lines)
    assert 0.0 < result["metrics"]["abs_rel"] < 10.0 and np.isfinite(result["compare"]["metrics"]["rms"])
    assert "dbe_acc" in result["boundary"]
    assert np.load(out / "ckpt-1.npy").shape == (len(lines), 128, 416)
    assert len(list((out / "figures").glob("*_compare.png"))) == 1
    assert len(list((out / "depth_exports").glob("*_disp.png"))) == len(lines)


def test_mixed_precision_inference_is_bfloat16_and_scores_like_float32(synthetic_root: Path, tmp_path: Path) -> None:
    from sfmlearner_tf.models.restore import load_depth_net

    tf.keras.utils.set_random_seed(3)
    prefix = tf.train.Checkpoint(depth_net=DispNet().ensure_built()).write(str(tmp_path / "ckpt-1"))
    assert load_depth_net(prefix, mixed_precision=True).cnv1.compute_dtype == "bfloat16"  # no GPU here
    config = DepthEvalConfig(dataset_dir=str(synthetic_root / "kitti_raw"), ckpt_file=prefix, boundary_metrics=False)
    plain = evaluate_depth_run(config)["metrics"]
    mixed = evaluate_depth_run(dataclasses.replace(config, mixed_precision=True))["metrics"]
    for name in ("abs_rel", "rms", "a1"):
        assert mixed[name] == pytest.approx(plain[name], rel=2e-2, abs=5e-3), name
