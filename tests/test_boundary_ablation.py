"""The boundary-loss ablation at toy size end to end, and its statistics against hand-computed values."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from benchmarks.ablation_runs import summarize
from benchmarks.boundary_ablation import SIZES, run_ablation


def _run(abs_rel: float, dbe_acc: float) -> dict:
    return {"metrics": {"abs_rel": abs_rel, "dbe_acc": dbe_acc}}


def test_summary_spreads_and_paired_differences() -> None:
    runs = {"0": [_run(0.30, 3.0), _run(0.34, 5.0)], "2.5": [_run(0.31, 2.0), _run(0.33, 3.0)]}
    summary = summarize(runs)
    assert summary["0"]["abs_rel"]["mean"] == pytest.approx(0.32)
    assert summary["0"]["abs_rel"]["std"] == pytest.approx(0.04 / 2**0.5)  # sample std of two values
    assert summary["2.5"]["dbe_acc"] == pytest.approx({"mean": 2.5, "std": 0.5**0.5, "min": 2.0, "max": 3.0, "n": 2})
    # Paired by seed: differences -1 and -2 in dbe_acc, +0.01 and -0.01 in abs_rel.
    assert summary["2.5 - 0"]["dbe_acc"]["mean"] == pytest.approx(-1.5)
    assert summary["2.5 - 0"]["abs_rel"]["mean"] == pytest.approx(0.0, abs=1e-12)


def test_toy_ablation_writes_json_and_figures(tmp_path: Path) -> None:
    report = run_ablation(SIZES["toy"], tmp_path / "ablation")
    saved = json.loads((tmp_path / "ablation" / "ablation.json").read_text())
    assert set(saved["runs"]) == {"0", "2.5"} and len(saved["runs"]["2.5"]) == 1
    assert saved["summary"]["2.5"]["abs_rel"]["std"] == 0.0  # one seed
    for arm in ("0", "2.5"):
        assert 0.0 < saved["summary"][arm]["abs_rel"]["mean"] < 10.0
    assert "lambda_seg" in report["table"] and "2.5 - 0" in report["table"]
    # Both arms start from the same pretrained checkpoint but train differently.
    runs = saved["runs"]
    assert runs["0"][0]["metrics"]["abs_rel"] != runs["2.5"][0]["metrics"]["abs_rel"]
    crops = cv2.imread(str(tmp_path / "ablation" / "crops.png"))
    chart = cv2.imread(str(tmp_path / "ablation" / "boundary_errors.png"))
    assert crops is not None and crops.shape[1] > 4 * 8 and chart is not None and chart.shape[0] == 260
    assert (tmp_path / "ablation" / "runs" / "seg2.5_seed1.json").is_file()  # what a rerun resumes from


def test_every_size_trains_the_original_recipe() -> None:
    """The paper fine-tunes the original's model: pretraining and fine-tuning take no recipe switch, whatever
    sfm-demo's default recipe is (its smoothness weight 0.1 until the fine-tuning's 0.75)."""
    for size in SIZES.values():
        run = size.data.train_config()
        assert size.data.recipe == "faithful" and size.data.recipe_settings() == {}
        assert run.data.augment and not run.loss.depth_smoothness and run.loss.smooth_weight == 0.1
