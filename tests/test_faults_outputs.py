"""One rule for outputs, shared by every program: a lock (program, pid, host) on each folder or file a program
writes, refused while its holder runs and taken over when it is gone; an existing output never replaced unasked;
a folder of prepared samples refuses a rerun with other settings instead of mixing them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TOY_FLAGS, write_dataset

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.io_utils import LOCK_NAME, output_lock, output_locks, remove_temp_files
from sfmlearner_tf.prep.config import PrepareConfig
from sfmlearner_tf.prep.prepare import prepare_dataset
from sfmlearner_tf.tasks.export import ExportRequest, export_model

REPO = Path(__file__).resolve().parents[1]


def _write_lock(folder: Path, pid: int, host: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    lock.write_text(json.dumps({"program": "sfm-other", "pid": pid, "host": host or socket.gethostname(),
                                "since": "2026-01-01 00:00:00"}))
    return lock


def test_a_lock_is_held_for_the_block_and_released_after_it_even_on_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    with output_lock(folder, "sfm-test"):
        record = json.loads((folder / LOCK_NAME).read_text())
        assert record["program"] == "sfm-test" and record["host"] == socket.gethostname()
    assert not (folder / LOCK_NAME).exists()
    with pytest.raises(RuntimeError), output_lock(folder, "sfm-test"):
        raise RuntimeError("boom")
    assert not (folder / LOCK_NAME).exists()
    with output_locks("sfm-test", [(folder, "folder", "--output_dir"), (tmp_path / "model.tflite", "file", "--output"),
                                   (None, "folder", "--inspect_dir")]):
        assert (folder / LOCK_NAME).exists() and (tmp_path / "model.tflite.lock").exists()
    assert not list(tmp_path.rglob("*lock"))


def test_a_write_killed_midway_leaves_a_temporary_file_that_remove_temp_files_removes_alone(tmp_path: Path) -> None:
    """A process killed inside an atomic write (os._exit: no unwinding, as SIGTERM's default action) leaves its
    temporary file; remove_temp_files removes it and nothing else, however deep, dot-named or .tmp-suffixed."""
    target = tmp_path / "drive" / "image_02" / "data" / "0000000003.png"
    source = ("import os\nfrom pathlib import Path\nfrom sfmlearner_tf.io_utils import atomic_path\n"
              f"with atomic_path(Path({str(target)!r})) as tmp:\n"
              "    tmp.write_bytes(b'half a frame')\n"
              "    os._exit(9)\n")
    killed = subprocess.run([sys.executable, "-c", source], cwd=REPO, capture_output=True, text=True, timeout=60,
                            check=False)
    assert killed.returncode == 9
    (leftover,) = target.parent.glob(".*")
    assert leftover.read_bytes() == b"half a frame" and not target.exists()
    kept = [tmp_path / LOCK_NAME, tmp_path / ".synthetic_config.json", target.parent / "0000000002.png",
            target.parent / ".0000000002.png.tmp", target.parent / ".x.0123456789abcdeg.tmp"]
    for path in kept:
        path.write_text("kept")
    assert remove_temp_files(tmp_path) == [leftover]
    assert not leftover.exists() and all(path.read_text() == "kept" for path in kept)


def test_a_live_holder_is_named_and_refused_and_a_gone_one_is_taken_over(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = _write_lock(tmp_path / "busy", sleeper.pid)
        refused = rf"is being written by sfm-other \(pid {sleeper.pid} on "
        with pytest.raises(ConfigError, match=refused), output_lock(tmp_path / "busy", "sfm-test"):
            pass
        assert json.loads(lock.read_text())["pid"] == sleeper.pid  # the holder's lock is left alone
    finally:
        sleeper.kill()
        sleeper.wait()
    with output_lock(tmp_path / "busy", "sfm-test"):  # its holder is gone now: taken over
        assert json.loads((tmp_path / "busy" / LOCK_NAME).read_text())["program"] == "sfm-test"
    _write_lock(tmp_path / "far", 1, host="another-host")
    with pytest.raises(ConfigError, match="on another-host"), output_lock(tmp_path / "far", "sfm-test"):
        pass
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / LOCK_NAME).write_text("{not json")  # a crash while writing it: stale
    with output_lock(tmp_path / "broken", "sfm-test"):
        pass


def test_two_trainings_on_one_checkpoint_dir_the_second_is_refused_in_one_line(tmp_path: Path) -> None:
    folder, data = tmp_path / "ckpt", write_dataset(tmp_path / "data")
    with output_lock(folder, "sfm-train"):
        completed = subprocess.run(
            [sys.executable, "run_train.py", *TOY_FLAGS, f"--dataset_dir={data}", f"--checkpoint_dir={folder}"],
            capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    lines = completed.stderr.strip().splitlines()
    assert completed.returncode == 1 and len(lines) == 1 and "Traceback" not in completed.stderr, completed.stderr
    assert lines[0].startswith("sfm-train: error:") and "is being written by sfm-train" in lines[0]


def test_export_never_replaces_an_existing_output(tmp_path: Path) -> None:
    """Every format refuses an existing --output before reading the checkpoint (the TFLite file used to be
    replaced); the user's file is left as it was."""
    for fmt, output in (("tflite", tmp_path / "mine.tflite"), ("savedmodel", tmp_path / "folder"),
                        ("tf1", tmp_path / "model-1")):
        if fmt == "tf1":
            Path(f"{output}.index").write_bytes(b"user's")
        elif fmt == "savedmodel":
            output.mkdir()
        else:
            output.write_bytes(b"user's")
        request = ExportRequest(format=fmt, ckpt_file=str(tmp_path / "no_such_checkpoint"), output=str(output))
        with pytest.raises(ConfigError, match=r"--output=.* already exists: choose another --output"):
            export_model(request)
    assert (tmp_path / "mine.tflite").read_bytes() == b"user's"


def test_prepared_folder_refuses_a_rerun_of_another_size(synthetic_root: Path, tmp_path: Path) -> None:
    config = PrepareConfig(dataset_name="synthetic", dataset_dir=str(synthetic_root), dump_root=str(tmp_path),
                           img_height=32, img_width=96, boundary_source="none", num_threads=1)
    assert prepare_dataset(config).written > 0
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*") if path.is_file()}
    bigger = PrepareConfig(**{**config.__dict__, "img_height": 64, "img_width": 208})
    with pytest.raises(ConfigError, match=r"--dump_root=.* holds the outputs of another run \(differing in "
                                          r"img_height, img_width: img_height 32 there, 64 now"):
        prepare_dataset(bigger)
    assert {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*") if path.is_file()} == before
    assert prepare_dataset(config).written == 0  # the same settings resume


def test_a_file_where_an_output_folder_should_be_is_one_error_naming_it(tmp_path: Path) -> None:
    """sfm-demo --work_dir=<a file> used to end in a FileExistsError traceback."""
    (tmp_path / "a_file").write_text("mine")
    with pytest.raises(ConfigError, match=r"--work_dir=.*a_file: cannot write in this folder \(File exists\)"), \
            output_lock(tmp_path / "a_file", "sfm-demo", flag="--work_dir"):
        pass
    assert (tmp_path / "a_file").read_text() == "mine"


def test_mask_rcnn_weights_naming_a_folder_say_so(tmp_path: Path) -> None:
    from mask_rcnn_prep.manifest import file_digest

    with pytest.raises(DataError, match=r"a folder, not the Mask R-CNN weights file"):
        file_digest(tmp_path)
