"""The model's own record: training writes run_record.json; it is found from a folder or any checkpoint prefix in
it; programs take sizes from it unless a flag is given; a TF1 pose net's frame count is read from its kernel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from absl import flags
from helpers import make_batch

from flags.config_flags import values_with_record
from sfmlearner_tf.errors import DataError
from sfmlearner_tf.models.tf1_checkpoint import write_tf1_checkpoint
from sfmlearner_tf.run_record import (
    RunRecord,
    find_run_record,
    load_run_record,
    read_run_record,
    tf1_pose_frames,
    write_run_record,
)
from sfmlearner_tf.training import TrainConfig, train


def test_training_writes_the_record_of_its_settings_before_the_first_step(tmp_path: Path) -> None:
    broken = tf.data.Dataset.from_tensors(tf.constant(b"not a jpeg")).map(
        lambda data: {**make_batch(seed=4), "tgt_image": tf.io.decode_jpeg(data)[tf.newaxis]})
    config = TrainConfig.from_settings(img_height=32, img_width=64, batch_size=2, seq_length=3, explain_reg_weight=0.2,
                                       checkpoint_dir=str(tmp_path), progress_every_s=0.0)
    with pytest.raises(DataError, match="step 1 cannot be read"):
        train(config, dataset=broken, steps_per_epoch=100, log=False)
    payload = json.loads((tmp_path / "run_record.json").read_text())
    assert payload == {"format": 1, "img_height": 32, "img_width": 64, "seq_length": 3, "explain_reg_weight": 0.2,
                       "do_exp": True, "precision": "float32"}


def test_round_trip_and_lookup_from_folder_and_prefixes(tmp_path: Path) -> None:
    record = RunRecord(img_height=64, img_width=208, seq_length=5, explain_reg_weight=0.0,
                       precision="mixed_bfloat16")
    path = write_run_record(tmp_path, record)
    assert read_run_record(path) == record and record.mixed_precision and not record.do_exp
    assert record.describe() == "64x208, 5 frames, no explainability, mixed_bfloat16"
    (tmp_path / "latest").mkdir()
    for where in (tmp_path, tmp_path / "model-1500", tmp_path / "latest" / "model.latest-2000"):
        assert find_run_record(where) == path, where
    assert load_run_record(tmp_path / "elsewhere" / "model-190532") == (None, None)
    assert load_run_record(None) == (None, None)


@pytest.mark.parametrize(("text", "problem"), [
    ("{not json", "unreadable run record"),
    ('{"img_height": 64}', "lacks img_width, seq_length, explain_reg_weight, precision"),
    ('{"img_height": 64, "img_width": 208, "seq_length": 4, "explain_reg_weight": 0, "precision": "float32"}',
     "impossible values"),
])
def test_a_malformed_record_names_the_file(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "run_record.json").write_text(text)
    with pytest.raises(DataError, match=problem) as error:
        load_run_record(tmp_path / "model-1")
    assert str(tmp_path / "run_record.json") in str(error.value)


def _flag_values(*argv: str) -> flags.FlagValues:
    values = flags.FlagValues()
    flags.DEFINE_integer("img_height", 128, "", flag_values=values)
    flags.DEFINE_integer("img_width", 416, "", flag_values=values)
    flags.DEFINE_integer("seq_length", 3, "", flag_values=values)
    flags.DEFINE_boolean("mixed_precision", False, "", flag_values=values)
    values(["program", *argv])
    return values


def settings_from_record(flag_values: flags.FlagValues, checkpoint: str, names: tuple[str, ...],
                         label: str = "model") -> tuple[dict[str, object], str]:
    """The flags `names`, each from the run record unless given (what the programs call)."""
    return values_with_record(flag_values, names, checkpoint, names, label)


def test_the_record_fills_flags_left_at_their_defaults_and_a_given_flag_wins(tmp_path: Path) -> None:
    write_run_record(tmp_path, RunRecord(64, 208, 5, 0.0, "mixed_bfloat16"))
    names = ("img_height", "img_width", "seq_length", "mixed_precision")
    values, note = settings_from_record(_flag_values(), str(tmp_path / "model-9"), names, "depth model")
    assert values == {"img_height": 64, "img_width": 208, "seq_length": 5, "mixed_precision": True}
    assert note.startswith(f"depth model: run record {tmp_path / 'run_record.json'} (64x208, 5 frames")
    # --img_height=128 equals the default but is given: it wins over the record's 64.
    values, note = settings_from_record(_flag_values("--img_height=128", "--nomixed_precision"),
                                        str(tmp_path), names)
    assert values == {"img_height": 128, "img_width": 208, "seq_length": 5, "mixed_precision": False}
    assert "flags given win: --img_height=128, --mixed_precision=False" in note
    values, note = settings_from_record(_flag_values(), str(tmp_path / "no_record" / "model-1"), names)
    assert values == {"img_height": 128, "img_width": 416, "seq_length": 3, "mixed_precision": False} and note == ""


def test_a_tf1_pose_net_gives_its_frame_count(tmp_path: Path) -> None:
    kernel = np.zeros((7, 7, 15, 16), np.float32)  # 5 frames x 3 channels, as model-100280
    prefix = write_tf1_checkpoint(str(tmp_path / "model-100280"), {"pose_exp_net/cnv1/weights": kernel})
    assert tf1_pose_frames(prefix) == 5
    values, note = settings_from_record(_flag_values(), prefix, ("seq_length",), "pose model")
    assert values == {"seq_length": 5} and "seq_length=5 from the TF1 checkpoint's pose net" in note
    assert settings_from_record(_flag_values("--seq_length=3"), prefix, ("seq_length",))[0] == {"seq_length": 3}
    depth_only = write_tf1_checkpoint(str(tmp_path / "depth" / "model-1"),
                                      {"depth_net/cnv1/weights": np.zeros((7, 7, 3, 32), np.float32)})
    assert tf1_pose_frames(depth_only) is None
