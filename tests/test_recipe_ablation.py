"""The recipe ablation at toy size end to end (JSON, table and figures), its paired statistics by seed, and the
table's rows against hand-computed values."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import pytest

from benchmarks.ablation_runs import summarize
from benchmarks.recipe_ablation import ARMS, SIZES, arm_config, arm_settings, format_table, run_recipe_ablation
from sfmlearner_tf.training.recipes import IMPROVED, PORT, SWITCHES


def _run(seed: int, abs_rel: float) -> dict:
    return {"seed": seed, "metrics": {"abs_rel": abs_rel}}


def test_differences_are_paired_by_seed() -> None:
    runs = {"faithful": [_run(5, 0.40), _run(6, 0.42), _run(7, 0.38)], "flip": [_run(6, 0.40), _run(5, 0.37)]}
    summary = summarize(runs)
    # Pairs: seed 6: 0.40 - 0.42, seed 5: 0.37 - 0.40; seed 7 has no partner.
    assert summary["flip - faithful"]["abs_rel"]["mean"] == pytest.approx(-0.025)
    assert summary["flip - faithful"]["abs_rel"]["std"] == pytest.approx(0.005 * 2**0.5)
    table = format_table(summary, {"faithful": {"mean": 2.0}}, {"row prior": {"abs_rel": 0.42}})
    assert "| row prior | - | 0.4200 | - |" in table and "| faithful | 3 | 0.4000 ± 0.0200 |" in table
    assert table.splitlines()[3].endswith("| 0.500 |")  # 1 / (2 steps/s)
    assert "| flip - faithful | 2 | -0.0250 ± 0.0071 |" in table
    one_seed = format_table(summarize({"faithful": runs["faithful"][:1]}), {}, {})
    assert "| faithful | 1 | 0.4000 |" in one_seed  # no spread shown for a single seed


def test_every_arm_is_the_faithful_run_plus_its_switches() -> None:
    data = SIZES["demo"].data
    faithful = arm_config(data, "faithful", 5)
    assert faithful.loss.lambda_seg == 0 and faithful.data.img_width == 208 and faithful.last_step == 1000
    for arm in (*SWITCHES, "port", "all"):
        changed = arm_config(data, arm, 5)
        settings = ARMS[arm]
        assert changed == faithful.replace(checkpoint_dir=changed.checkpoint_dir, **settings), arm
    assert arm_settings("improved") == dict(IMPROVED) == arm_settings(
        "depth_smoothness+edge_aware+augment=False+smooth_weight=0.05")  # measured best
    assert ARMS["port"] == dict(PORT) and set(PORT) == {"valid_mask", "flip", "per_sample_augment",
                                                         "depth_smoothness"}
    assert ARMS["all"] == {name: value for switch in SWITCHES.values() for name, value in switch.items()}


def test_toy_ablation_writes_json_table_and_figures(tmp_path: Path) -> None:
    report = run_recipe_ablation(SIZES["toy"], tmp_path / "ablation", ["faithful", "improved"])
    saved = json.loads((tmp_path / "ablation" / "recipe_ablation.json").read_text())
    assert set(saved["runs"]) == {"faithful", "improved"} and saved["seeds"] == {"faithful": [1], "improved": [1]}
    assert saved["runs"]["faithful"][0]["metrics"]["abs_rel"] != saved["runs"]["improved"][0]["metrics"]["abs_rel"]
    assert set(saved["priors"]) == {"constant", "row prior"}
    assert saved["steps_per_second"]["improved"]["mean"] > 0
    assert "| improved - faithful |" in report["table"]
    crops = cv2.imread(str(tmp_path / "ablation" / "crops.png"))
    chart = cv2.imread(str(tmp_path / "ablation" / "metrics.png"))
    assert crops is not None and crops.shape[1] > 4 * 8 and chart.shape == (40 + 22 * 2, 200 + 2 * (260 + 60), 3)
    assert (tmp_path / "ablation" / "runs" / "improved_seed1.json").is_file()  # what a rerun resumes from


def test_report_only_reports_what_was_scored_and_trains_nothing(tmp_path: Path) -> None:
    work = tmp_path / "ablation"
    run_recipe_ablation(SIZES["toy"], work, ["faithful"])
    report = run_recipe_ablation(SIZES["toy"], work, ["faithful", "all", "improved"], report_only=True)
    assert set(report["runs"]) == {"faithful"} and not (work / "runs" / "all_seed1").exists()
    with pytest.raises(SystemExit, match="no scored run of all"):
        run_recipe_ablation(SIZES["toy"], tmp_path / "empty", ["all"], report_only=True)


def test_arms_join_switches_and_settings_with_plus() -> None:
    assert arm_settings("improved+ssim") == {**IMPROVED, "photometric": "ssim_l1"}
    assert arm_settings("improved+smooth_weight=0.025+auto_mask=false") == {**IMPROVED, "smooth_weight": 0.025,
                                                                           "auto_mask": False}
    for bad, problem in (("improved+bogus", "unknown arm 'bogus'"), ("ssim+no_such=1", "unknown setting 'no_such'"),
                         ("smooth_weight=abc", "not a float"), ("flip=yes", "not true or false")):
        with pytest.raises(argparse.ArgumentTypeError, match=problem):
            arm_settings(bad)
