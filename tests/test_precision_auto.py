"""The programs' default precision: bfloat16 where the CPU has bfloat16 instructions and there is no GPU, float32
elsewhere; an explicit setting wins; a resumed run keeps the saved run's precision."""

from __future__ import annotations

import pytest

from sfmlearner_tf.ops.precision import (
    BFLOAT16_OVERRIDE,
    auto_mixed_precision,
    cpu_has_native_bfloat16,
    cpuinfo_has_bfloat16,
    precision_policy,
)
from sfmlearner_tf.training import TrainConfig
from sfmlearner_tf.training.loop import resolve_precision
from sfmlearner_tf.training.provenance import write_run_config

CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 avx512f {extra}\nbogomips\t: 4000\n"


def test_cpuinfo_flags() -> None:
    assert cpuinfo_has_bfloat16(CPUINFO.format(extra="avx512_vnni avx512_bf16"))
    assert cpuinfo_has_bfloat16(CPUINFO.format(extra="amx_bf16 amx_tile"))
    assert not cpuinfo_has_bfloat16(CPUINFO.format(extra="avx512_vnni"))
    assert not cpuinfo_has_bfloat16(CPUINFO.format(extra="avx512_bf16_not_a_flag"))  # whole flags only
    assert not cpuinfo_has_bfloat16("processor\t: 0\n")


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False), ("", False)])
def test_environment_overrides_the_detection(monkeypatch, value, expected) -> None:
    monkeypatch.setenv(BFLOAT16_OVERRIDE, value)
    assert cpu_has_native_bfloat16() is expected
    mixed, reason = auto_mixed_precision()  # no GPU here
    assert mixed is expected and reason.startswith("auto: this CPU has")
    assert ("--nomixed_precision" in reason) is expected


def test_auto_is_decided_at_the_start_of_a_fresh_run(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(BFLOAT16_OVERRIDE, "1")
    config = TrainConfig.from_settings(checkpoint_dir=str(tmp_path), mixed_precision=None)
    resolved, note = resolve_precision(config)
    assert resolved == config.replace(mixed_precision=True)
    assert note.startswith("mixed_bfloat16 (auto: this CPU has bfloat16 instructions")
    explicit = config.replace(mixed_precision=False)
    assert resolve_precision(explicit) == (explicit, "")  # a setting given wins: nothing decided


def test_a_resume_keeps_the_saved_precision(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(BFLOAT16_OVERRIDE, "1")
    write_run_config(tmp_path, TrainConfig.from_settings(checkpoint_dir=str(tmp_path), mixed_precision=False))
    config = TrainConfig.from_settings(checkpoint_dir=str(tmp_path), mixed_precision=None, continue_train=True)
    resolved, note = resolve_precision(config)
    assert resolved.distribution.mixed_precision is False
    assert note == "float32 (restored from the saved run_config.json)"
    # Without --continue_train the saved run is not this run's: the machine decides.
    assert resolve_precision(config.replace(continue_train=False))[0].distribution.mixed_precision is True


def test_an_undecided_precision_has_no_policy() -> None:
    with pytest.raises(ValueError, match="is None"):
        precision_policy(None)
