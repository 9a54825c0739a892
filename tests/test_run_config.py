"""run_config.json: the run's whole configuration beside its checkpoints, and the resume rule (settings that change
what is trained must be the saved run's unless --allow_config_change)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from helpers import config_for, fixed_data

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.training import TrainConfig, train
from sfmlearner_tf.training.provenance import changed_settings, check_resume, read_run_config, write_run_config


def test_the_file_holds_every_field_nested_and_respects_the_umask(tmp_path: Path) -> None:
    config = TrainConfig.from_settings(lambda_seg=2.5, learning_rate=1e-4, img_width=512, checkpoint_dir="x")
    old = os.umask(0o027)
    try:
        path = write_run_config(tmp_path, config)
    finally:
        os.umask(old)
    saved = json.loads(path.read_text())
    assert path.name == "run_config.json" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert saved["format"] == 1 and saved["loss"]["lambda_seg"] == 2.5 and saved["data"]["with_boundary"] is True
    assert saved["optimizer"] == {"learning_rate": 1e-4, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                                  "weight_decay": 0.0, "restart": False}
    assert saved["data"]["img_width"] == 512 and saved["checkpoint_dir"] == "x" and saved["max_steps"] == 200000
    assert read_run_config(tmp_path) == saved and read_run_config(tmp_path / "none") is None
    (tmp_path / "run_config.json").write_text("{not json")
    with pytest.raises(DataError, match=r"run_config.json: unreadable run configuration"):
        read_run_config(tmp_path)


def test_changes_are_listed_by_flag_with_old_and_new_values(tmp_path: Path) -> None:
    saved = TrainConfig.from_settings(checkpoint_dir=str(tmp_path), lambda_seg=0.5, continue_train=True)
    write_run_config(tmp_path, saved)
    new = saved.replace(lambda_seg=1.0, seq_length=5, max_steps=10, learning_rate=1e-3,
                        distribution_strategy="mirrored")
    assert changed_settings(read_run_config(tmp_path), new) == [
        ("max_steps", 200000, 10), ("seq_length", 3, 5), ("lambda_seg", 0.5, 1.0), ("learning_rate", 0.0002, 0.001),
        ("distribution_strategy", "default", "mirrored")]
    with pytest.raises(ConfigError) as raised:
        check_resume(new)
    assert str(raised.value) == (f"{tmp_path}/run_config.json: resuming with changed settings --seq_length 3 -> 5, "
                                 "--lambda_seg 0.5 -> 1.0; pass --allow_config_change to go on with them, or resume "
                                 "with the saved ones")
    assert check_resume(new.replace(allow_config_change=True)) == (
        "going on with changed settings --seq_length 3 -> 5, --lambda_seg 0.5 -> 1.0 (--allow_config_change)")
    assert check_resume(saved.replace(max_steps=10, learning_rate=1e-3, summary_freq=7)) == ""  # free to change
    assert check_resume(TrainConfig.from_settings(checkpoint_dir=str(tmp_path / "older"))) == ""  # no file: no check


def test_a_setting_an_older_file_lacks_counts_as_its_default(tmp_path: Path) -> None:
    """A run_config.json written before a switch existed ran with the switch off: turning it on is a change."""
    write_run_config(tmp_path, TrainConfig.from_settings(checkpoint_dir=str(tmp_path)))
    saved = json.loads((tmp_path / "run_config.json").read_text())
    del saved["loss"]["depth_smoothness"], saved["data"]["flip"]
    base = TrainConfig.from_settings(checkpoint_dir=str(tmp_path))
    assert changed_settings(saved, base) == []
    assert changed_settings(saved, base.replace(depth_smoothness=True, flip=True)) == [
        ("flip", False, True), ("depth_smoothness", False, True)]


def test_training_writes_it_and_a_resume_follows_the_rule(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = config_for(tmp_path, max_steps=3)
    train(config, fixed_data(), steps_per_epoch=100, log=False)
    assert read_run_config(tmp_path) == {"format": 1, **json.loads(json.dumps(config.to_dict()))}
    changed = config.replace(max_steps=4, continue_train=True, smooth_weight=0.25)
    with pytest.raises(ConfigError, match=r"resuming with changed settings --smooth_weight 0.5 -> 0.25; pass "):
        train(changed, fixed_data(), steps_per_epoch=100, log=False)
    assert read_run_config(tmp_path)["loss"]["smooth_weight"] == 0.5  # refused: the saved one stays
    result = train(changed.replace(allow_config_change=True), fixed_data(), steps_per_epoch=100)
    assert result.step == 3
    assert ("going on with changed settings --smooth_weight 0.5 -> 0.25 (--allow_config_change)"
            in capsys.readouterr().out)
    assert read_run_config(tmp_path)["loss"]["smooth_weight"] == 0.25  # now the run's


def test_a_refused_resume_says_the_calling_programs_way_on(tmp_path: Path) -> None:
    """run_train's way past a changed setting is --allow_config_change; sfm-demo has none and passes its own."""
    write_run_config(tmp_path, config_for(tmp_path))
    changed = config_for(tmp_path, smooth_weight=0.25)
    with pytest.raises(ConfigError, match=r"--smooth_weight 0.5 -> 0.25; pass --allow_config_change to go on"):
        check_resume(changed)
    with pytest.raises(ConfigError, match=r"-> 0.25; delete it or choose another --work_dir, or resume with"):
        check_resume(changed, "delete it or choose another --work_dir")
