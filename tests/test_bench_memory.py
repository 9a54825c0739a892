"""The memory benchmark: each run in its own child process, its peak resident memory read from the child, and the
held-array sizes of the evaluation worked out by hand; tiny sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--height", "32", "--width", "64", "--batch_size", "1", "--steps", "2", "--samples", "2",
        "--num_images", "10", "--num_frames", "3", "--frame_width", "208", "--frame_height", "64"]


def _run(*args: str) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "benchmarks.memory", *TINY, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_eval_memory_in_a_child():
    [line] = _run("--runs", "eval")
    assert line["benchmark"] == "memory_eval" and line["num_images"] == 10
    # The child's peak covers TF, the DispNet and the evaluation; the parent only rendered and waited.
    assert line["child_peak_rss_mib"] >= line["peak_rss_mib_before_evaluation"] > 100
    assert line["dense_gt_would_take_mib"] == round(10 * 208 * 64 * 4 / 2**20, 1)
    assert line["held_predictions_mib"] == round(10 * 32 * 64 * 4 / 2**20, 1)
    assert 0 < line["gt_points_per_image"] < 208 * 64
    assert line["held_gt_mib"] == round(10 * line["gt_points_per_image"] * 8 / 2**20, 1)


def test_unknown_run_is_named():
    env = {**os.environ, "PYTHONPATH": ROOT}
    done = subprocess.run([sys.executable, "-m", "benchmarks.memory", "--runs", "inference"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and "memory: unknown run(s) ['inference']" in done.stderr


@pytest.mark.slow
def test_train_memory_in_children():
    lines = {line["benchmark"]: line for line in _run("--runs", "train,train_in_memory")}
    assert set(lines) == {"memory_train", "memory_train_in_memory"}
    for line in lines.values():
        assert line["child_peak_rss_mib"] > line["peak_rss_mib_before_training"] > 100
        assert line["steps"] == 2 and line["batch_size"] == 1
