"""Resume: a run stopped and continued ends with the same weights and Adam state as an uninterrupted one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import checkpoint_tensors, config_for, fixed_data

from sfmlearner_tf.training import train


@pytest.mark.slow  # 45 s; test_train_e2e's short run resumes in the default suite
def test_interrupted_and_resumed_run_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    # (Each save holds ~400 MB: 33M weights and Adam's two slots; so few saves here.)
    straight = train(config_for(tmp_path / "straight", max_steps=4, save_latest_freq=100), fixed_data(),
                     steps_per_epoch=100)
    assert straight.step == 3  # the original's range(1, max_steps)
    first = train(config_for(tmp_path / "resumed", max_steps=3, save_latest_freq=100), fixed_data(),
                  steps_per_epoch=2)
    assert first.step == 2 and first.checkpoint.endswith("model-2")  # an epoch checkpoint
    second = train(config_for(tmp_path / "resumed", max_steps=4, save_latest_freq=100, continue_train=True),
                   fixed_data(), steps_per_epoch=100)
    assert second.step == 3 and second.checkpoint.endswith("model.latest-3")
    expected, resumed = checkpoint_tensors(straight.checkpoint), checkpoint_tensors(second.checkpoint)
    assert expected.keys() == resumed.keys()
    slots = [name for name in expected if name.startswith("optimizer/")]
    assert len(slots) > 100  # Adam's m and v of every variable, and its iteration count
    for name, value in expected.items():
        np.testing.assert_allclose(resumed[name], value, rtol=1e-4, atol=1e-6, err_msg=name)
    assert any("events.out.tfevents" in p.name for p in (tmp_path / "resumed").iterdir())
