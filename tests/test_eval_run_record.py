"""sfm-eval with the model's own record: a 64x208 run folder is scored at 64x208 without size flags, the newest
checkpoint of the folder is named, and model B (a TF1 prefix without a record, so the flags' 128x416) gets its
own row in the printed table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from sfmlearner_tf.evaluation import DepthEvalConfig, evaluate_depth
from sfmlearner_tf.models import DispNet
from sfmlearner_tf.models.tf1_checkpoint import tf1_variable_map, write_tf1_checkpoint
from sfmlearner_tf.run_record import RunRecord, write_run_record

REPO = Path(__file__).resolve().parents[1]


def seeded_net(seed: int) -> DispNet:
    tf.keras.utils.set_random_seed(seed)
    return DispNet().ensure_built()


def test_eval_uses_the_record_names_the_checkpoint_and_prints_model_b(synthetic_root: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    old, newest, model_b = seeded_net(1), seeded_net(2), seeded_net(3)
    tf.train.Checkpoint(depth_net=old).write(str(run / "model-5"))
    newest_prefix = tf.train.Checkpoint(depth_net=newest).write(str(run / "latest" / "model.latest-9"))
    write_run_record(run, RunRecord(img_height=64, img_width=208, seq_length=3, explain_reg_weight=0.0))
    b_prefix = write_tf1_checkpoint(str(tmp_path / "zhou" / "model-190532"),
                                    {name: v.numpy() for name, v in tf1_variable_map(model_b).items()})
    cache = str(tmp_path / "cache")
    completed = subprocess.run(
        [sys.executable, str(REPO / "run_eval.py"), "--split=eigen", f"--dataset_dir={synthetic_root / 'kitti_raw'}",
         f"--ckpt_file={run}", f"--compare_ckpt_file={b_prefix}", f"--output_dir={tmp_path / 'out'}",
         f"--gt_cache_dir={cache}", "--noboundary_metrics"],
        capture_output=True, text=True, cwd=REPO, check=False, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (f"sfm-eval: model A: run record {run / 'run_record.json'} (64x208, 3 frames, no explainability, "
            "float32); using img_height=64, img_width=208, mixed_precision=False") in completed.stdout
    result = json.loads((tmp_path / "out" / "depth_eval.json").read_text())
    assert (result["config"]["img_height"], result["config"]["img_width"]) == (64, 208)
    assert result["prediction_source"] == newest_prefix and result["compare"]["img_size"] == [128, 416]
    # Independently: the in-memory nets at those sizes give the same numbers.
    base = DepthEvalConfig(dataset_dir=str(synthetic_root / "kitti_raw"), gt_cache_dir=cache, boundary_metrics=False)
    for net, size, metrics in ((newest, (64, 208), result["metrics"]), (model_b, (128, 416),
                                                                          result["compare"]["metrics"])):
        config = DepthEvalConfig(**{**base.__dict__, "img_height": size[0], "img_width": size[1]})
        expected = evaluate_depth(config, depth_net=net)["metrics"]
        assert metrics["abs_rel"] == pytest.approx(expected["abs_rel"], rel=1e-6)
    table = completed.stdout[completed.stdout.index("   abs_rel,"):].splitlines()
    values = [np.array([float(v) for v in line.split(",")]) for line in table[1:3]]
    assert values[0][0] == pytest.approx(result["metrics"]["abs_rel"], abs=1e-4)
    assert values[1][0] == pytest.approx(result["compare"]["metrics"]["abs_rel"], abs=1e-4)
    assert table[3] == f"row 1: A = {newest_prefix} (64x208); row 2: B = {b_prefix} (128x416)"
