"""benchmarks/run_all.py: the markdown table from fake JSON lines, and one real benchmark run through it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from benchmarks.run_all import BENCHMARKS, markdown_table, rows, spread

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_spread_is_median_then_range():
    assert spread({"min": 0.7312, "median": 0.75, "max": 0.8401}, "s") == "0.75 s (0.731-0.84)"


def test_table_rows_from_fake_lines():
    step = {"benchmark": "train_step", "variant": "xla", "seconds_per_step": {"min": 1.2, "median": 1.22, "max": 1.3},
            "ratio_to_floor": {"min": 3.6, "median": 3.66, "max": 3.9}, "disturbed": True, "peak_rss_mib": 5427.2}
    inference = {"benchmark": "depth_inference", "path": "tflite", "batch_size": 1,
                 "images_per_second": {"min": 12.0, "median": 13.5, "max": 14.0},
                 "ratio_to_floor": {"min": 1.5, "median": 1.58, "max": 1.7}, "disturbed": False}
    assert rows(step) == [("train step: xla", "1.22 s (1.2-1.3)", "3.66x")]
    assert rows(inference) == [("depth inference: tflite, batch 1", "13.5 images/s (12-14)", "1.58x")]
    table = markdown_table([step, inference]).splitlines()
    assert table[2] == "| train step: xla | 1.22 s (1.2-1.3) | 3.66x | yes | 5.3 GiB |"
    assert table[3] == "| depth inference: tflite, batch 1 | 13.5 images/s (12-14) | 1.58x | no | - |"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "benchmarks.run_all", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800, check=False)


def test_one_benchmark_through_run_all():
    done = _run("--only", "matmul_rate", "--tiny")
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout.splitlines()
    assert out[0].startswith('{"benchmark": "matmul_rate"')
    assert out[-3:-1] == ["| what | median (min-max) | ratio to floor | disturbed | peak memory |",
                          "|---|---|---|---|---|"]
    assert out[-1].startswith("| float32 matmul 128² | ")


def test_unknown_benchmark_is_named():
    done = _run("--only", "nothing")
    assert done.returncode == 1 and "run_all: unknown benchmark(s) ['nothing']" in done.stderr


@pytest.mark.slow
def test_every_benchmark_runs_at_toy_sizes():
    done = _run("--tiny", "--with_memory")
    assert done.returncode == 0 and "run_all:" not in done.stderr, done.stderr[-3000:]
    table = done.stdout.split("\n\n")[-1].splitlines()
    whats = " ".join(row.split(" | ")[0] for row in table[2:])
    for expected in ("train step: float32", "train step: onednn_off", "step part: optimizer_apply",
                     "depth inference: library, batch 2", "losses", "pipeline", "scoring: cached",
                     "exported depth: tflite_float16", "Mask R-CNN: pad64_256", "renderer", "peak memory: eval"):
        assert expected in whats
    assert set(BENCHMARKS) >= {"train_step", "memory"}
