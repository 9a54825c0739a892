"""Programs print their own lines only: TensorFlow's C++ log records (which TF_CPP_MIN_LOG_LEVEL does not stop)
and Python library chatter are filtered out unless --verbosity=1 asks for them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import tensorflow as tf

from sfmlearner_tf.models import DispNet, PoseExpNet
from sfmlearner_tf.quiet import FILTER_ENV, is_native_log_line, one_line_warnings, requested_verbosity
from sfmlearner_tf.run_record import RunRecord, write_run_record

REPO = Path(__file__).resolve().parents[1]
# Written independently of quiet.py: the C++ record prefix and the two prefix-less lines TensorFlow 2.21 prints.
TF_LOG_LINE = re.compile(r"^[IWE]\d{4} [\d:.]+\s+\d+ \S+\.(cc|h):\d+\]|absl::InitializeLog|rebuild TensorFlow")


def run_quietly_or_not(*argv: str) -> subprocess.CompletedProcess:
    """A program as a user runs it: no TF_CPP_MIN_LOG_LEVEL, no filter inherited from this process."""
    env = {key: value for key, value in os.environ.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", FILTER_ENV)}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=REPO, env=env, timeout=600,
                          check=False)


def tf_lines(completed: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (completed.stdout + completed.stderr).splitlines() if TF_LOG_LINE.search(line)]


@pytest.mark.parametrize(("line", "native"), [
    (b"I0000 00:00:1796249544.318529    7371 port.cc:153] oneDNN custom operations are on.", True),
    (b"E0000 00:00:1796249548.475593    7371 cuda_platform.cc:52] failed call to cuInit: INTERNAL", True),
    (b"I1202 22:09:29.318529  140 sharding_util.cc:80] Sharding callback duration: 12", True),
    (b"W1202 22:09:29.318529  140 cpu_allocator_impl.h:41] Allocation of 1 bytes exceeds 10%", True),
    (b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", True),
    (b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
     b"appropriate compiler flags.", True),
    # a fatal record explains a crash; absl's Python lines (ours) name a .py file; our progress and errors
    (b"F1202 22:09:29.318529  140 check.cc:10] Check failed: x", False),
    (b"W1202 22:09:29.318529  140 tf1_checkpoint.py:120] m.ckpt has no explainability (exp) variables", False),
    (b"train: 3/3 steps (0.09/s, elapsed 0:00:34, ETA 0:00:00) total 2.1803", False),
    (b"sfm-eval: error: /data: no such folder", False),
])
def test_native_log_lines_are_told_from_the_rest(line: bytes, native: bool) -> None:
    assert is_native_log_line(line) is native


@pytest.mark.parametrize(("argv", "level"), [
    ([], 0), (["--verbosity=1"], 1), (["--verbosity", "2"], 2), (["-v=1"], 1), (["-v", "3", "--x=1"], 3),
    (["--verbosity=-1"], -1), (["--verbosity=high"], 0), (["--verbosity"], 0), (["--verbosityx=5"], 0),
    (["--v=2"], 2), (["-verbosity=1"], 1),
])
def test_requested_verbosity_reads_the_command_line(argv: list[str], level: int) -> None:
    assert requested_verbosity(argv) == level


def test_export_prints_its_own_lines_only(tmp_path: Path) -> None:
    """sfm-export --format=tf1 (a tf.compat.v1 session and Saver): its two lines on stdout, nothing on stderr."""
    depth, pose = DispNet().ensure_built(), PoseExpNet(num_source=2, do_exp=False).ensure_built()
    tf.train.Checkpoint(depth_net=depth, pose_exp_net=pose, step=tf.Variable(7, dtype=tf.int64)).write(
        str(tmp_path / "run" / "model-7"))
    write_run_record(tmp_path / "run", RunRecord(64, 192, seq_length=3, explain_reg_weight=0.0))
    completed = run_quietly_or_not("-m", "sfmlearner_tf.apps.export", "--format=tf1",
                                   f"--ckpt_file={tmp_path / 'run'}", f"--output={tmp_path / 'tf1' / 'model-7'}")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert tf_lines(completed) == [] and completed.stderr == ""
    assert "-> TF1 checkpoint" in completed.stdout and completed.stdout.startswith("sfm-export: ")


def test_errors_stay_one_line_and_verbosity_lets_tensorflow_talk(tmp_path: Path) -> None:
    """A failing sfm-eval: quiet, stderr is exactly its one error line; with --verbosity=1 TensorFlow's own
    import-time records (TF 2.21 always writes some) come through next to it."""
    argv = ("run_eval.py", "--split=eigen", f"--dataset_dir={tmp_path / 'none'}", f"--output_dir={tmp_path / 'e'}",
            f"--pred_file={tmp_path / 'p.npy'}")
    quiet = run_quietly_or_not(*argv)
    assert quiet.returncode == 1
    assert quiet.stderr.splitlines() == [line for line in quiet.stderr.splitlines() if line.startswith("sfm-eval")]
    assert len(quiet.stderr.splitlines()) == 1 and "no test file list found" in quiet.stderr
    verbose = run_quietly_or_not(*argv, "--verbosity=1")
    assert verbose.returncode == 1 and verbose.stderr.splitlines()[-1] == quiet.stderr.splitlines()[0]
    assert tf_lines(verbose), verbose.stderr[-3000:]


@pytest.mark.slow
def test_training_run_prints_progress_without_tensorflow_lines(tmp_path: Path) -> None:
    """A 3-step training run that saves a checkpoint at every step (TF logs each save in C++)."""
    sys.path.insert(0, str(REPO / "tests"))
    from helpers import TOY_FLAGS, write_dataset

    data = write_dataset(tmp_path / "data")
    completed = run_quietly_or_not("run_train.py", *TOY_FLAGS, f"--dataset_dir={data}",
                                   f"--checkpoint_dir={tmp_path / 'ckpt'}", "--max_steps=4", "--save_latest_freq=1",
                                   "--summary_freq=1")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert tf_lines(completed) == [] and completed.stderr == ""
    assert "train: 3/3 steps" in completed.stdout and "train: done at step 3" in completed.stdout


def test_benchmarks_filter_tensorflow_lines_unless_its_level_is_set() -> None:
    """A benchmark imports `benchmarks` first; TensorFlow's C++ records (faked here, so the test does not depend on
    what this machine's TensorFlow prints) are dropped and the benchmark's own lines pass, unless the user set
    TF_CPP_MIN_LOG_LEVEL."""
    script = ("import os, benchmarks, tensorflow\n"
              "os.write(2, b'I0000 00:00:1796538628.480703    1842 cudart_stub.cc:31] Could not find cuda\\n')\n"
              "os.write(2, b'bench: 3 repeats\\n')\n")
    quiet = run_quietly_or_not("-c", script)
    assert quiet.returncode == 0 and tf_lines(quiet) == [] and "bench: 3 repeats" in quiet.stderr
    env = {key: value for key, value in os.environ.items() if key != FILTER_ENV}
    env.update(PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="0")
    talking = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, env=env,
                             timeout=600, check=False)
    assert talking.returncode == 0 and any("cudart_stub.cc:31" in line for line in tf_lines(talking))


def test_project_warnings_are_one_line_naming_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)  # put back after the test
    one_line_warnings("sfm-eval")
    line = warnings.formatwarning(UserWarning("list.txt: 114 lines"), UserWarning, "/x/depth_eval.py", 100, "code")
    assert line == "sfm-eval: warning: list.txt: 114 lines\n"
