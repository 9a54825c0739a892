"""Fault injection for training and checkpoints, at toy size (32x64 images, batch 2): a save killed with -9
(its leftovers laid out as TensorFlow leaves them), a save into a full disk (a file-size limit makes the real
writer fail), a truncated checkpoint, NaN coordinates from a diverged network, read-only folders, a second
Ctrl-C during a save, a resume with a changed learning rate, and training across replicas. The programs run as
users run them (subprocesses: exit code and one stderr line); every test also checks that nothing good was lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from helpers import HEIGHT, TOY_FLAGS, WIDTH, write_dataset

from sfmlearner_tf.errors import CheckpointError, ConfigError, UnreadableCheckpointError
from sfmlearner_tf.geometry import bilinear_sampler
from sfmlearner_tf.models import DispNet
from sfmlearner_tf.models.tf1_checkpoint import check_readable, holds_optimizer, restore_models
from sfmlearner_tf.training import NonFiniteLossError, TrainCheckpoints, TrainConfig, build_state
from sfmlearner_tf.training.checkpoints import init_from_checkpoint, make_checkpoint
from sfmlearner_tf.training.distribute import is_chief, worker_scratch_dir
from sfmlearner_tf.training.guards import GracefulStop, check_finite
from sfmlearner_tf.training.loop import restore_or_init
from sfmlearner_tf.training.provenance import write_run_config

REPO = Path(__file__).resolve().parents[1]
DATA = ".data-00000-of-00001"


# ---------------------------------------------------------------- helpers
def run_train(*flags: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    """run_train.py as a user runs it; `file_size_limit` (bytes) makes every larger write fail as on a full
    disk (the kernel refuses it with EFBIG; Python ignores SIGXFSZ)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, resource.RLIM_INFINITY))

    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "run_train.py", *TOY_FLAGS, *flags], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=600, check=False,
                          preexec_fn=limit if file_size_limit else None)


def error_line(completed: subprocess.CompletedProcess) -> str:
    """The one error line of a failed run (and there is exactly one, and no traceback)."""
    assert completed.returncode == 1, completed.stderr[-3000:]
    assert "Traceback" not in completed.stderr, completed.stderr[-3000:]
    lines = [line for line in completed.stderr.splitlines() if line.startswith("sfm-train: error:")]
    assert len(lines) == 1, completed.stderr[-3000:]
    return lines[0]


def digests(folder: Path) -> dict[str, str]:
    """sha256 of every checkpoint file under `folder` (relative path -> digest)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("model*")) if p.is_file()}


def truncate(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def toy_config(checkpoint_dir: Path, **changes: object) -> TrainConfig:
    return TrainConfig.from_settings(img_height=HEIGHT, img_width=WIDTH, batch_size=2,
                                                   checkpoint_dir=str(checkpoint_dir), **changes)


def small_checkpoint(size: int = 1000) -> tf.train.Checkpoint:
    """A stand-in with the attributes of the training checkpoint but tiny variables (fast saves)."""
    return tf.train.Checkpoint(depth_net=tf.Variable(np.arange(size, dtype=np.float32)), pose_exp_net=tf.Variable(1.0),
                               optimizer=tf.Variable(np.ones(size, np.float32)), step=tf.Variable(0, dtype=tf.int64),
                               rng=tf.Variable(0))


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` made read-only: mode 0555, and for root (whom modes do not stop) the immutable attribute."""
    folder.chmod(0o555)
    immutable = os.access(folder, os.W_OK)
    if immutable and subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False).returncode:
        folder.chmod(0o755)
        pytest.skip("running as root without chattr: cannot make a folder read-only")
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint folder as a run with learning rate 2e-4 leaves it: the epoch checkpoint model-2 (models
    only) and latest/model.latest-3 (full, Adam at 3 iterations), with different depth weights."""
    folder = tmp_path_factory.mktemp("previous_run")
    state = build_state(toy_config(folder))
    write_run_config(folder, toy_config(folder))
    checkpoints = TrainCheckpoints(make_checkpoint(state.depth_net, state.pose_exp_net, state.optimizer,
                                                   state.step, state.rng), str(folder))
    for step in (2, 3):
        state.step.assign(step)
        state.optimizer.iterations.assign(step)
        state.depth_net.cnv1.kernel.assign(np.full(state.depth_net.cnv1.kernel.shape, step / 100, np.float32))
        checkpoints.save_epoch(step) if step == 2 else checkpoints.save_latest(step)
    assert sorted(p.name for p in (folder / "latest").glob("*.index")) == ["model.latest-3.index"]
    return folder


def summaries(folder: Path, tag: str) -> list[tuple[int, float]]:
    """(step, value) of every TensorBoard scalar `tag` written in `folder`, by step."""
    return sorted((event.step, float(tf.make_ndarray(value.tensor))) for events in folder.glob("events.out.tfevents.*")
                  for event in tf.compat.v1.train.summary_iterator(str(events))
                  for value in event.summary.value if value.tag == tag)


def copy_run(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


# ---------------------------------------------------------------- NaN and the guard
def test_nan_coordinates_give_nan_samples_not_a_crash() -> None:
    """A diverged pose gives NaN pixel coordinates; the sampler used to cast them to int32 (-2^31) and crash in
    the gather. Now each NaN coordinate gives a NaN sample (so the loss guard fires) in both modes, and the
    other samples are ordinary bilinear values (computed here by hand)."""
    image = tf.constant(np.arange(20, dtype=np.float32).reshape(1, 4, 5, 1))  # value = 5 y + x
    coords = tf.constant([[[[np.nan, 1.0], [1.5, np.nan], [2.25, 1.5]]]], tf.float32)
    for mode in ("legacy", "border"):
        sampled = bilinear_sampler(image, coords, mode).numpy().ravel()
        assert np.isnan(sampled[:2]).all(), mode
        assert sampled[2] == pytest.approx(5 * 1.5 + 2.25), mode


def test_non_finite_guard_says_what_is_on_disk() -> None:
    with pytest.raises(NonFiniteLossError, match=r"at step 2: total=nan, grad_norm=inf; stopped without saving, "
                                                 r"no checkpoint exists yet"):
        check_finite(2, {"total": float("nan"), "grad_norm": float("inf")}, ("total", "grad_norm"), None)
    with pytest.raises(NonFiniteLossError, match=r"the newest checkpoint, ck/model-4, is from before the failure"):
        check_finite(7, {"total": float("nan")}, ("total",), "ck/model-4")
    check_finite(7, {"total": 1.0, "grad_norm": float("nan")}, ("total",), None)  # only the guarded keys count


def test_huge_learning_rate_stops_at_the_guard_naming_the_step(tmp_path: Path) -> None:
    """At lr 1e30 the first update makes the weights ~1e30; at step 2 the activations overflow, and the NaN
    poses give NaN pixel coordinates (on which the sampler used to crash in its gather: checked with the old
    code on this data). The run stops at the guard and does not claim a checkpoint: none was written."""
    data = write_dataset(tmp_path / "data")
    completed = run_train(f"--dataset_dir={data}", f"--checkpoint_dir={tmp_path / 'ck'}", "--learning_rate=1e30",
                          "--max_steps=5", "--save_latest_freq=100")
    line = error_line(completed)
    assert "non-finite training values at step 2: total=nan" in line and "no checkpoint exists yet" in line, line
    assert not list((tmp_path / "ck").rglob("*.index"))


# ---------------------------------------------------------------- signals
def test_a_second_signal_during_a_save_is_only_recorded() -> None:
    """Ctrl-C twice while a checkpoint is written: the save completes and the loop stops (no traceback, no
    half-replaced checkpoint). Outside a save, a second signal is still a hard stop."""
    # Python's own Ctrl-C handler, whatever this process inherited (a background job starts with SIGINT ignored).
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with GracefulStop() as stop:
            with stop.saving():
                os.kill(os.getpid(), signal.SIGTERM)
                os.kill(os.getpid(), signal.SIGINT)
                os.kill(os.getpid(), signal.SIGINT)
            assert stop.signum == signal.SIGTERM
            with pytest.raises(KeyboardInterrupt):
                os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, inherited)


def test_a_hard_stop_is_one_line_and_exit_code_130() -> None:
    """A second Ctrl-C outside a save raises KeyboardInterrupt (the loop may be stuck in a step): every
    program ends it with one line, not a traceback."""
    body = "from sfmlearner_tf.apps import run_program\ndef stop(flag_values):\n    raise KeyboardInterrupt\n" \
           "run_program('x', lambda flag_values: None, stop)"
    completed = subprocess.run([sys.executable, "-c", body], cwd=REPO, text=True, capture_output=True, check=False,
                               env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert completed.returncode == 130 and completed.stderr == "x: interrupted\n", completed.stderr


# ---------------------------------------------------------------- unfinished and failed saves
def test_leftovers_of_unfinished_saves_are_removed_and_nothing_else(tmp_path: Path) -> None:
    """What kill -9 leaves at each moment of a save: the `<prefix>_temp/` shard folder (while writing), the
    merged data file without its index (while merging), a complete checkpoint not yet in the state file, a
    state-file copy; and an old checkpoint whose deletion was cut short. Only these go; listed checkpoints,
    other files and a folder without a state file keep everything."""
    checkpoints = TrainCheckpoints(small_checkpoint(), str(tmp_path))
    good = [checkpoints.save_epoch(2), checkpoints.save_latest(4)]
    latest = tmp_path / "latest"
    shard = latest / "model.latest-6_temp"
    shard.mkdir()
    shutil.copy(f"{good[1]}.index", shard / "part-00000-of-00001.index")
    shutil.copy(f"{good[1]}{DATA}", shard / f"part-00000-of-00001{DATA}")
    truncate(shard / f"part-00000-of-00001{DATA}")
    shutil.copy(f"{good[1]}{DATA}", latest / f"model.latest-5{DATA}")   # merged data, index not yet written
    for suffix in (".index", DATA):                                      # complete but never registered
        shutil.copy(f"{good[0]}{suffix}", tmp_path / f"model-3{suffix}")
    (latest / ("checkpoint.tmp" + "0" * 32)).write_text("partial state")
    (tmp_path / f"model-1{DATA}").write_bytes(b"old")                     # deletion cut short
    (tmp_path / "notes-1.txt").write_text("mine")
    foreign = tmp_path / "foreign"                                        # no state file: only _temp goes
    foreign.mkdir()
    for suffix in (".index", DATA):
        shutil.copy(f"{good[0]}{suffix}", foreign / f"model-9{suffix}")
    (foreign / "model-10_temp").mkdir()
    before = digests(tmp_path)

    removed = TrainCheckpoints(small_checkpoint(), str(tmp_path)).clean_unfinished()
    assert sorted(Path(p).name for p in removed) == sorted([
        "model.latest-6_temp", f"model.latest-5{DATA}", "checkpoint.tmp" + "0" * 32, "model-3.index",
        f"model-3{DATA}", f"model-1{DATA}"])
    removed += TrainCheckpoints(small_checkpoint(), str(foreign)).clean_unfinished()
    assert Path(removed[-1]).name == "model-10_temp"
    kept = {name: digest for name, digest in before.items() if not any(name in p for p in removed)}
    assert digests(tmp_path) == kept and "foreign/model-9.index" in kept and (tmp_path / "notes-1.txt").exists()
    assert TrainCheckpoints(small_checkpoint(), str(tmp_path)).newest() == good[1]
    check_readable(good[1])


def test_a_failed_save_removes_its_partial_files_and_names_the_intact_checkpoint(tmp_path: Path) -> None:
    """A save that hits a full disk: the real writer fails (a 1 MB file-size limit), its partial files are
    removed at once (else they keep the disk full), and the error names the checkpoint still intact."""
    checkpoints = TrainCheckpoints(small_checkpoint(size=1_000_000), str(tmp_path))
    intact = checkpoints.save_latest(4)
    before = digests(tmp_path)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, hard))
    try:
        with pytest.raises(CheckpointError) as raised:
            checkpoints.save_latest(6)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    message = str(raised.value)
    assert "\n" not in message and "model.latest-6: the checkpoint could not be written (" in message
    assert "File too large" in message and message.endswith(f"the newest intact checkpoint is {intact}")
    assert "function_node" not in message and "[Op:" not in message
    assert sorted(p.name for p in (tmp_path / "latest").iterdir()) == sorted(["checkpoint", "model.latest-4.index",
                                                                               f"model.latest-4{DATA}"])
    assert digests(tmp_path) == before
    assert TrainCheckpoints(small_checkpoint(), str(tmp_path)).newest() == intact
    check_readable(intact)


def test_epoch_checkpoints_hold_the_models_unless_asked_and_latest_everything(tmp_path: Path,
                                                                              previous_run: Path) -> None:
    assert not holds_optimizer(str(previous_run / "model-2"))
    assert holds_optimizer(str(previous_run / "latest" / "model.latest-3"))
    light, full = (os.path.getsize(previous_run / name) for name in (f"model-2{DATA}", f"latest/model.latest-3{DATA}"))
    assert 0.3 < light / full < 0.36  # weights only: Adam's two slots are the other two thirds
    checkpoints = TrainCheckpoints(small_checkpoint(), str(tmp_path), full_epochs=True)
    assert holds_optimizer(checkpoints.save_epoch(5)) and not (tmp_path / "latest").exists()


# ---------------------------------------------------------------- restored state and truncated checkpoints
def restore_into(state: object, config: TrainConfig) -> str:
    """restore_or_init as train() calls it; every restore sets all of `state`, so one state serves many."""
    return restore_or_init(config, state, TrainCheckpoints(make_checkpoint(
        state.depth_net, state.pose_exp_net, state.optimizer, state.step, state.rng), config.checkpoint_dir))


def test_resumed_flags_win_over_restored_state(tmp_path: Path, previous_run: Path) -> None:
    """Adam's learning rate is a variable of its checkpointed state; the run's --learning_rate must win, on a
    fine-tune start from one of our checkpoints and on a resume, and the start line says so. A flag that
    changes the networks cannot win: a one-line error naming the checkpoint."""
    latest = previous_run / "latest" / "model.latest-3"
    state = build_state(toy_config(tmp_path))
    note = restore_into(state, toy_config(tmp_path / "fine_tune", learning_rate=2e-5, init_checkpoint_file=str(latest)))
    assert note == (f"initialised from {latest} (ours weights, saved at step 3; Adam state restored; starting at step "
                    "0); --learning_rate 2e-05 overrides the checkpoint's 0.0002")
    assert int(state.optimizer.iterations.numpy()) == 3 and int(state.step.numpy()) == 0
    assert float(state.optimizer.learning_rate.numpy()) == np.float32(2e-5)
    state.optimizer.learning_rate.assign(1.0)
    note = restore_into(state, toy_config(previous_run, learning_rate=2e-5, continue_train=True))
    assert note == (f"resumed from {latest} (step 3; weights, Adam state, RNG); --learning_rate 2e-05 overrides the "
                    "checkpoint's 0.0002")
    assert int(state.step.numpy()) == 3 and float(state.optimizer.learning_rate.numpy()) == np.float32(2e-5)
    note = restore_into(state, toy_config(previous_run, continue_train=True))  # the stored rate: nothing to say
    assert note == f"resumed from {latest} (step 3; weights, Adam state, RNG)"

    config = toy_config(previous_run, continue_train=True, seq_length=5)  # a flag that changes the networks
    with pytest.raises(ConfigError, match=r"run_config.json: resuming with changed settings --seq_length 3 -> 5; "
                                          r"pass --allow_config_change"):
        restore_into(build_state(config), config)
    config = config.replace(allow_config_change=True)  # allowed, but the checkpoint cannot take it
    with pytest.raises(CheckpointError) as raised:
        restore_into(build_state(config), config)
    message = str(raised.value)
    assert message == (f"{latest}: cannot resume from it, 3 variable(s) of this run's networks differ from it "
                       "(changed --seq_length or --explain_reg_weight?), first pose_exp_net/cnv1/weights"), message


def test_truncated_newest_checkpoint_falls_back_to_the_previous_one(tmp_path: Path, previous_run: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """latest/model.latest-3 loses its second half. --continue_train, a fine-tune start from the folder and
    evaluation's loader all take model-2 instead, with a warning naming the bad one; naming the bad one
    explicitly is a one-line error. Nothing is deleted."""
    run = copy_run(previous_run, tmp_path / "run")
    bad = run / "latest" / "model.latest-3"
    truncate(Path(f"{bad}{DATA}"))
    before = digests(run)
    config = toy_config(run, continue_train=True)
    state = build_state(config)
    expected_kernel = np.full(state.depth_net.cnv1.kernel.shape, 0.02, np.float32)
    note = restore_or_init(config, state, TrainCheckpoints(make_checkpoint(
        state.depth_net, state.pose_exp_net, state.optimizer, state.step, state.rng), str(run)))
    assert note == (f"resumed from {run}/model-2 (step 2; weights, RNG; fresh Adam: this epoch checkpoint holds no "
                    f"Adam state, newer unreadable {bad} skipped)")
    assert int(state.optimizer.iterations.numpy()) == 0
    np.testing.assert_array_equal(state.depth_net.cnv1.kernel.numpy(), expected_kernel)

    state.depth_net.cnv1.kernel.assign(np.zeros_like(expected_kernel))
    init = init_from_checkpoint(str(run), state.depth_net, state.pose_exp_net, state.optimizer)
    assert init.prefix == f"{run}/model-2" and not init.with_optimizer
    np.testing.assert_array_equal(state.depth_net.cnv1.kernel.numpy(), expected_kernel)
    from sfmlearner_tf.models.restore import load_depth_net

    np.testing.assert_array_equal(load_depth_net(run).cnv1.kernel.numpy(), expected_kernel)
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("sfmlearner_tf")]
    assert len(warnings) == 3 and all(
        f"{bad}: the checkpoint is truncated or damaged (Read less bytes than requested)" in w for w in warnings)

    with pytest.raises(UnreadableCheckpointError) as raised:
        restore_models(bad, depth_net=DispNet())
    assert str(raised.value) == f"{bad}: the checkpoint is truncated or damaged (Read less bytes than requested)"
    assert digests(run) == before


# ---------------------------------------------------------------- the program under faults
def test_resume_after_a_killed_save_with_a_new_learning_rate_into_a_full_disk(tmp_path: Path,
                                                                              previous_run: Path) -> None:
    """The previous run was killed with -9 while writing model.latest-4 (its `_temp` shard folder is left).
    The rerun with --continue_train --learning_rate=2e-5 removes the leftover, resumes from model.latest-3 with
    the new rate (the start line says both; the step's summary shows 2e-5), trains step 4, and its save hits
    a full disk: exit 1, one line naming the intact checkpoint, no partial files, the old ones untouched."""
    run = copy_run(previous_run, tmp_path / "run")
    leftover = run / "latest" / "model.latest-4_temp"
    leftover.mkdir()
    (leftover / f"part-00000-of-00001{DATA}.tempstate5183064431529203641").write_bytes(b"\0" * 4096)
    before = digests(run)
    data = write_dataset(tmp_path / "data")  # 6 samples: 3 steps per epoch, so step 4 saves latest only
    completed = run_train(f"--dataset_dir={data}", f"--checkpoint_dir={run}", "--continue_train",
                          "--learning_rate=2e-5", "--max_steps=5", "--save_latest_freq=1", "--summary_freq=1",
                          file_size_limit=50_000_000)
    line = error_line(completed)
    assert line.startswith(f"sfm-train: error: {run}/latest/model.latest-4: the checkpoint could not be written ("
                           ) and "File too large)" in line, line
    assert line.endswith(f"(its partial files were removed); the newest intact checkpoint is "
                         f"{run}/latest/model.latest-3"), line
    start = completed.stdout.splitlines()[0]
    assert start.startswith(f"train: removed what an unfinished save left ({leftover}); resumed from "
                            f"{run}/latest/model.latest-3 (step 3; weights, Adam state, RNG); --learning_rate 2e-05 "
                            "overrides the checkpoint's 0.0002; steps 4..4"), start
    assert summaries(run, "train/learning_rate") == [(4, pytest.approx(2e-5, rel=1e-6))]
    assert digests(run) == {k: v for k, v in before.items() if "_temp" not in k}
    assert sorted(p.name for p in (run / "latest").iterdir()) == sorted(["checkpoint", "model.latest-3.index",
                                                                          f"model.latest-3{DATA}"])


def test_read_only_checkpoint_folder_is_a_one_line_error(tmp_path: Path) -> None:
    """Skipped only where the folder cannot be made read-only (root without chattr)."""
    data = write_dataset(tmp_path / "data")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "notes.txt").write_text("kept")
    with read_only(locked):
        line = error_line(run_train(f"--dataset_dir={data}", f"--checkpoint_dir={locked}"))
    assert line.startswith(f"sfm-train: error: {locked}: checkpoints cannot be written there ("), line
    assert sorted(p.name for p in locked.iterdir()) == ["notes.txt"]


def test_named_corrupt_checkpoint_is_a_one_line_error(tmp_path: Path, previous_run: Path) -> None:
    data = write_dataset(tmp_path / "data")
    damaged = tmp_path / "damaged" / "model.latest-3"
    damaged.parent.mkdir()
    shutil.copy(previous_run / "latest" / "model.latest-3.index", f"{damaged}.index")
    with open(previous_run / "latest" / f"model.latest-3{DATA}", "rb") as source:
        Path(f"{damaged}{DATA}").write_bytes(source.read(1_000_000))
    line = error_line(run_train(f"--dataset_dir={data}", f"--checkpoint_dir={tmp_path / 'ck'}",
                                f"--init_checkpoint_file={damaged}"))
    assert line == (f"sfm-train: error: {damaged}: the checkpoint is truncated or damaged (Read less bytes than "
                    "requested)"), line


# ---------------------------------------------------------------- training across replicas
MIRRORED_SCRIPT = """
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, "tests")
from helpers import config_for, fixed_data
from sfmlearner_tf.training import loop

states = []
build = loop.build_state
loop.build_state = lambda config: states.append(build(config)) or states[-1]
folder, resume_steps = sys.argv[1], int(sys.argv[2])
first = loop.train(config_for(folder, max_steps=3, distribution_strategy="mirrored", summary_freq=1,
                              save_latest_freq=100), fixed_data(), steps_per_epoch=2, log=False)
second = loop.train(config_for(folder, max_steps=3 + resume_steps, distribution_strategy="mirrored",
                               summary_freq=1, save_latest_freq=100, continue_train=True, learning_rate=1e-4),
                    fixed_data(), steps_per_epoch=2, log=False)
trained, resumed = states
print("RESULT", json.dumps({
    "replicas": tf.distribute.MirroredStrategy().num_replicas_in_sync, "steps": [first.step, second.step],
    "checkpoints": [first.checkpoint, second.checkpoint],
    "iterations": int(resumed.optimizer.iterations.numpy()),
    "learning_rate": float(resumed.optimizer.learning_rate.numpy()),
    "same_weights": all(np.array_equal(a.numpy(), b.numpy()) for a, b in
                        zip(trained.depth_net.weights, resumed.depth_net.weights))}))
"""


def run_mirrored(folder: Path, resume_steps: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    completed = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, str(folder), str(resume_steps)], cwd=REPO,
                               env=env, text=True, capture_output=True, timeout=900, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.split("RESULT ", 1)[1])


def test_mirrored_on_two_devices_trains_through_summaries_checkpoints_and_a_resume(tmp_path: Path) -> None:
    """MirroredStrategy over 2 logical CPUs: 2 steps with a summary at each (the learning rate used to crash
    float()) and an epoch checkpoint; the resume restores everything onto both replicas, with the new
    --learning_rate. (The slow version trains on after the resume.) The first step's loss is the one-device
    step's on this batch (3.4001, as printed by a default-strategy run)."""
    result = run_mirrored(tmp_path, resume_steps=0)
    assert result["replicas"] == 2 and result["steps"] == [2, 2]
    assert result["checkpoints"] == [f"{tmp_path}/model-2", f"{tmp_path}/latest/model.latest-2"]
    assert summaries(tmp_path, "loss/total")[0] == (1, pytest.approx(3.4001, abs=1e-4))
    assert result["iterations"] == 2 and result["same_weights"]
    assert result["learning_rate"] == pytest.approx(1e-4, rel=1e-6)
    assert [step for step, _ in summaries(tmp_path, "train/learning_rate")] == [1, 2]
    assert holds_optimizer(f"{tmp_path}/latest/model.latest-2")


@pytest.mark.slow
def test_mirrored_resume_trains_on(tmp_path: Path) -> None:
    result = run_mirrored(tmp_path, resume_steps=2)
    assert result["steps"] == [2, 4] and result["iterations"] == 4 and not result["same_weights"]
    assert result["checkpoints"][1] == f"{tmp_path}/model-4"
    rates = summaries(tmp_path, "train/learning_rate")
    assert rates == [(1, pytest.approx(2e-4)), (2, pytest.approx(2e-4)), (3, pytest.approx(1e-4)),
                     (4, pytest.approx(1e-4))]


def test_non_chief_workers_save_into_a_scratch_folder_that_is_removed(tmp_path: Path) -> None:
    """The small version of the multi-worker test below: worker 1 takes part in each save (collective ops need
    every worker) but keeps nothing; it reports the chief's path."""

    class Resolver:
        def __init__(self, task_type: str, task_id: int) -> None:
            self.task_type, self.task_id = task_type, task_id

        def cluster_spec(self) -> tf.train.ClusterSpec:
            return tf.train.ClusterSpec({"worker": ["localhost:1", "localhost:2"]})

    class Strategy:
        def __init__(self, task_id: int) -> None:
            self.cluster_resolver = Resolver("worker", task_id)

    assert is_chief(Strategy(0)) and not is_chief(Strategy(1)) and is_chief(tf.distribute.get_strategy())
    scratch = worker_scratch_dir(str(tmp_path), Strategy(1))
    assert worker_scratch_dir(str(tmp_path), Strategy(0)) is None and scratch == f"{tmp_path}/workertemp_1"
    checkpoints = TrainCheckpoints(small_checkpoint(), str(tmp_path), write_directory=scratch)
    assert checkpoints.save_epoch(2) == f"{tmp_path}/model-2" and checkpoints.save_latest(3) == \
        f"{tmp_path}/latest/model.latest-3"
    assert not Path(scratch).exists() and not list(tmp_path.iterdir())


MULTI_WORKER_SCRIPT = """
import hashlib, json, sys
from sfmlearner_tf.training.distribute import make_strategy
strategy = make_strategy("multi_worker_mirrored")  # before any other TensorFlow call of the process
import numpy as np
sys.path.insert(0, "tests")
from helpers import config_for, fixed_data
from sfmlearner_tf.training import loop

states = []
build = loop.build_state
loop.build_state = lambda config: states.append(build(config)) or states[-1]
result = loop.train(config_for(sys.argv[1], max_steps=4, distribution_strategy="multi_worker_mirrored",
                               summary_freq=1, save_latest_freq=100), fixed_data(), steps_per_epoch=2, log=False)
digest = hashlib.sha256()
for variable in states[0].depth_net.weights + states[0].pose_exp_net.weights:
    digest.update(np.asarray(variable.numpy()).tobytes())
print("RESULT", json.dumps({"step": result.step, "checkpoint": result.checkpoint, "digest": digest.hexdigest(),
                            "replicas": strategy.num_replicas_in_sync, "total": result.losses["total"]}), flush=True)
"""


def free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("localhost", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.mark.slow
def test_multi_worker_run_of_two_processes_agrees_on_the_weights(tmp_path: Path) -> None:
    """Two local processes under TF_CONFIG (localhost ports), MultiWorkerMirroredStrategy: 3 steps with
    summaries and checkpoints; both end with bit-identical weights, only the chief's checkpoints remain."""
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(2)]}
    workers = []
    for index in range(2):
        env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2",
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        workers.append(subprocess.Popen([sys.executable, "-c", MULTI_WORKER_SCRIPT, str(tmp_path / "ck")], cwd=REPO,
                                        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outputs = [worker.communicate(timeout=900) for worker in workers]
    results = []
    for worker, (stdout, stderr) in zip(workers, outputs):
        assert worker.returncode == 0 and "RESULT " in stdout, stderr[-3000:]
        results.append(json.loads(stdout.split("RESULT ", 1)[1]))
    assert [r["replicas"] for r in results] == [2, 2] and [r["step"] for r in results] == [3, 3]
    assert results[0]["digest"] == results[1]["digest"] and results[0]["total"] == results[1]["total"]
    assert results[0]["checkpoint"] == results[1]["checkpoint"] == f"{tmp_path}/ck/latest/model.latest-3"
    assert sorted(p.name for p in (tmp_path / "ck").iterdir() if not p.name.startswith("events")) == sorted([
        "checkpoint", "latest", f"model-2{DATA}", "model-2.index"])
    assert len(list((tmp_path / "ck").glob("events.*"))) == 1  # the chief's summaries only
