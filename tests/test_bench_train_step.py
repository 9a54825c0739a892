"""The train-step benchmark: variant table, thread pairs, the XLA-compiled Adam update (against Adam by hand),
and (slow) the whole variants run and the breakdown at a tiny size."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks.train_step import all_variants, compile_optimizer_update, parse_threads, thread_pairs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_thread_pairs_and_parsing():
    assert thread_pairs(2) == [(2, 1), (2, 2), (1, 2)]
    assert thread_pairs(1) == [(1, 1), (1, 2)]
    assert parse_threads("4x1,2x2") == [(4, 1), (2, 2)]
    with pytest.raises(Exception, match="INTRAxINTER"):
        parse_threads("4-1")


def test_variants_cover_the_candidates():
    variants = all_variants([(2, 1)])
    assert set(variants) == {"float32", "boundary_off", "xla", "mixed_precision", "onednn_off", "onednn_on",
                             "adam_keras", "adam_ema", "adam_xla", "threads_2x1"}
    assert variants["float32"].config == {"lambda_seg": 2.5} and not variants["float32"].needs_subprocess
    assert variants["boundary_off"].config == {}
    assert variants["onednn_off"].env == {"TF_ENABLE_ONEDNN_OPTS": "0"} and variants["onednn_off"].needs_subprocess
    assert variants["threads_2x1"].threads == (2, 1) and variants["threads_2x1"].needs_subprocess


def test_xla_adam_update_matches_adam_by_hand():
    """Two updates of w with constant gradient g, written out from Adam's formulas (epsilon outside the root)."""
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    w0 = np.array([0.5, -1.0, 2.0], np.float32)
    g = np.array([0.3, -0.2, 0.05], np.float32)
    variable = tf.Variable(w0)
    optimizer = keras.optimizers.Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps)
    optimizer.build([variable])
    compile_optimizer_update(optimizer, [variable])
    step = tf.function(lambda: optimizer.apply_gradients([(tf.constant(g), variable)]))
    w, m, v = w0.astype(np.float64), 0.0, 0.0
    for t in (1, 2):
        step()
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g.astype(np.float64) ** 2
        w = w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
    np.testing.assert_allclose(variable.numpy(), w, rtol=0, atol=1e-6)
    assert int(optimizer.iterations.numpy()) == 2


def _run(*args: str) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "benchmarks.train_step", "--height", "32", "--width", "64",
                           "--batch_size", "1", "--repeats", "2", "--rate_size", "128", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_variants_run_isolated_at_a_tiny_size():
    lines = _run("--variants", "float32,onednn_off,threads_1x1,adam_xla", "--threads", "1x1")
    assert [line["variant"] for line in lines] == ["float32", "onednn_off", "threads_1x1", "adam_xla"]
    for line in lines:
        seconds, ratio = line["seconds_per_step"], line["ratio_to_floor"]
        assert 0 < seconds["min"] <= seconds["median"] <= seconds["max"]
        assert ratio["median"] == pytest.approx(seconds["median"] / line["floor_seconds"], rel=0.02)
        assert isinstance(line["disturbed"], bool) and line["isolated"] is True
    # 0.94 GFLOP: both nets forward + backward at 1x32x64, as benchmarks/flops.py counts them.
    assert lines[0]["step_gflop"] == pytest.approx(0.94, abs=0.01)


@pytest.mark.slow
def test_breakdown_at_a_tiny_size():
    lines = _run("--breakdown")
    parts = {line["part"]: line for line in lines}
    assert set(parts) == {"forward", "forward_backward", "optimizer_apply", "losses_forward_backward", "whole_step"}
    assert parts["optimizer_apply"]["ratio_to_floor"] is None
    assert parts["forward"]["gflop"] < parts["forward_backward"]["gflop"] == parts["whole_step"]["gflop"]
