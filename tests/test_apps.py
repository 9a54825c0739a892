"""The programs as users run them: bad input ends in one clear line on stderr and exit code 1, not a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_program(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=REPO, check=False,
                          timeout=300)


@pytest.mark.parametrize(("argv", "prefix", "names"), [
    (["run_eval.py", "--split=eigen", "--dataset_dir={missing}", "--output_dir={tmp}/e", "--pred_file={tmp}/p.npy"],
     "sfm-eval: error:", "{missing}"),
    (["-m", "sfmlearner_tf.apps.render_synthetic", "--output_dir={tmp}/r", "--num_drives=2", "--num_test_drives=3"],
     "sfm-render-synthetic: error:", "num_test_drives"),
    (["-m", "sfmlearner_tf.apps.prepare_data", "--dataset_name=synthetic", "--dataset_dir={missing}",
      "--dump_root={tmp}/d"], "sfm-prepare-data: error:", "{missing}"),
    (["run_train.py", "--dataset_dir={missing}", "--checkpoint_dir={tmp}/c"], "sfm-train: error:", "{missing}"),
])
def test_bad_input_is_one_line_naming_the_problem(tmp_path: Path, argv: list[str], prefix: str, names: str) -> None:
    missing = str(tmp_path / "no_such_dir")
    completed = run_program(*[a.format(missing=missing, tmp=tmp_path) for a in argv])
    assert completed.returncode == 1, completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith(prefix) and names.format(missing=missing) in last, last


def test_stray_arguments_are_a_usage_error(tmp_path: Path) -> None:
    completed = run_program("run_eval.py", "--split=eigen", f"--dataset_dir={tmp_path}", f"--output_dir={tmp_path}",
                            "stray")
    assert completed.returncode != 0 and "unexpected arguments: stray" in completed.stderr
