"""Reuse only what is provably current: sfm-predict's per-frame outputs (depth, disparity, point cloud) record the
SHA-256 of the frame they were made from (as the network sees it), and a rerun reuses them only for a frame
that decodes to the same input; a changed frame is predicted again even with its size and mtime kept."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from sfmlearner_tf.evaluation.depth_predict import DepthPredictor
from sfmlearner_tf.models import DispNet
from sfmlearner_tf.predict import PredictConfig, predict
from sfmlearner_tf.predict.point_cloud import CloudOptions
from sfmlearner_tf.run_record import RunRecord, write_run_record

SIZE = (32, 96)
NAMES = ("a", "b", "c")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DispNet]:
    """Our checkpoint of a seeded DispNet with a 32x96 run record."""
    folder = tmp_path_factory.mktemp("run")
    tf.keras.utils.set_random_seed(3)
    depth_net = DispNet().ensure_built()
    tf.train.Checkpoint(depth_net=depth_net).write(str(folder / "model-1"))
    write_run_record(folder, RunRecord(*SIZE, seq_length=3, explain_reg_weight=0.0))
    return folder, depth_net


def network_input(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize((SIZE[1], SIZE[0]), Image.Resampling.LANCZOS))


def stamps(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.iterdir())}


def test_a_changed_frame_is_predicted_again_and_the_others_reused(run_folder: tuple, tmp_path: Path) -> None:
    folder, depth_net = run_folder
    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(0)
    for name in NAMES:
        Image.fromarray(rng.integers(0, 256, (40, 120, 3), dtype=np.uint8)).save(frames / f"{name}.png")
    out = tmp_path / "out"
    config = PredictConfig(input=str(frames), output_dir=str(out), ckpt_file=str(folder), img_height=SIZE[0],
                           img_width=SIZE[1], hfov_deg=60.0, cloud=CloudOptions(per_frame=True),
                           progress_every_s=1e9)
    assert predict(config).depth_reused == 0
    for name in NAMES:  # the record: SHA-256 of dtype and shape, then the LANCZOS-resized RGB bytes
        image = network_input(frames / f"{name}.png")
        digest = hashlib.sha256(b"uint8 (32, 96, 3)\n" + image.tobytes()).hexdigest()
        assert (out / "depth" / f"{name}.input_sha256").read_text() == digest + "\n"
        assert (out / "clouds" / f"{name}.input_sha256").read_text() == digest + "\n"
    before = {part: stamps(out / part) for part in ("depth", "disparity", "clouds")}

    # Frame b gets new pixels, its size and mtime kept (what size + mtime would miss); a and c are only touched.
    changed = frames / "b.png"
    kept = changed.stat()
    with Image.open(changed) as image:
        inverted = 255 - np.asarray(image)
    Image.fromarray(inverted).save(changed)
    os.utime(changed, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    assert changed.stat().st_size == kept.st_size
    os.utime(frames / "a.png")
    assert predict(config).depth_reused == 2
    after = {part: stamps(out / part) for part in ("depth", "disparity", "clouds")}
    for part, files in after.items():
        renewed = sorted(name for name, stamp in files.items() if before[part].get(name) != stamp)
        wanted = {"depth": ["b.input_sha256", "b.npy"], "disparity": ["b.png"],
                  "clouds": ["b.input_sha256", "b.ply"]}[part]
        assert renewed == wanted, part
    new_input = network_input(changed)
    np.testing.assert_allclose(np.load(out / "depth" / "b.npy"), DepthPredictor(depth_net, *SIZE)(new_input[None])[0],
                               rtol=1e-5)
    assert (out / "depth" / "b.input_sha256").read_text().strip() == hashlib.sha256(
        b"uint8 (32, 96, 3)\n" + new_input.tobytes()).hexdigest()

    # A record that is missing (an interrupted save, or a folder written before records existed) proves nothing.
    (out / "depth" / "c.input_sha256").unlink()
    assert predict(config).depth_reused == 2
    assert (out / "depth" / "c.npy").stat().st_mtime_ns != after["depth"]["c.npy"]
