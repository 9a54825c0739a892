"""The GPU script: one line and exit 0 without a GPU; with --allow_cpu it measures tiny sizes on the CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
           "CUDA_VISIBLE_DEVICES": ""}  # a CPU machine, whatever this one has
    return subprocess.run([sys.executable, "-m", "benchmarks.gpu", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900, check=False)


def _lines(done: subprocess.CompletedProcess) -> list[dict]:
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_without_a_gpu_it_says_so_and_exits_0():
    done = _run()
    assert done.returncode == 0
    assert done.stdout.strip().splitlines() == [
        "gpu: no GPU visible to TensorFlow; nothing measured (--allow_cpu runs tiny sizes on the CPU)"]


def test_allow_cpu_measures_the_matmul_peaks():
    [line] = _lines(_run("--allow_cpu", "--parts", "matmul", "--repeats", "2"))
    assert line["benchmark"] == "gpu_matmul_peak" and line["device"] == "CPU" and line["size"] == 256
    assert line["tflops"]["float32"] > 0 and line["tflops"]["float16"] > 0


@pytest.mark.slow
def test_allow_cpu_runs_every_part_at_a_tiny_size():
    lines = _lines(_run("--allow_cpu", "--repeats", "1"))
    kinds = [(line["benchmark"], line.get("variant") or line.get("path") or line.get("option")) for line in lines]
    assert kinds == [("gpu_matmul_peak", None),
                     ("gpu_train_step", "float32"), ("gpu_train_step", "mixed_float16"), ("gpu_train_step", "xla"),
                     *[("gpu_depth_inference", p) for p in ("library", "xla", "mixed_precision")] * 2,
                     ("gpu_mask_rcnn", "tiny")]
    train = lines[1]
    # 0.94 GFLOP per step at 1x32x64 (benchmarks/flops.py); achieved = FLOP / median seconds.
    assert train["achieved_tflops"] == pytest.approx(train["step_gflop"] / 1e3 / train["seconds_per_step"]["median"],
                                                     abs=1e-3)
    assert lines[2]["policy"] == "mixed_float16"
