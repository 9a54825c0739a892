"""Exports agree with the Keras model: the SavedModel's serving signature (uint8, any size; the resize inside),
TensorFlow Lite with float32 and float16 weights, and the TF1 checkpoint (through sfm-export) read back.

Stated tolerances (depth of a seeded DispNet at 32x96, values about 0.1 to 10):
* SavedModel at the model's size: the same graph, max |diff| <= 1e-5 relative;
* SavedModel on a 75x250 image: its Lanczos-3 resize vs PIL LANCZOS (1-3 grey levels apart): <= 0.5 % relative;
* TFLite float32: <= 1e-4 relative (the TFLite kernels' float order); float16 weights: <= 0.5 % relative.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.evaluation.depth_predict import DepthPredictor
from sfmlearner_tf.export import TfliteDepth, convert_to_tflite, export_savedmodel
from sfmlearner_tf.models import DispNet, PoseExpNet
from sfmlearner_tf.models.tf1_checkpoint import load_tf1_checkpoint, tf1_variable_map
from sfmlearner_tf.run_record import RunRecord, write_run_record

REPO = Path(__file__).resolve().parents[1]
HEIGHT, WIDTH = 32, 96


@pytest.fixture(scope="module")
def depth_net() -> DispNet:
    tf.keras.utils.set_random_seed(21)
    return DispNet().ensure_built()


def images(seed: int, batch: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """Smooth random uint8 images (upsampled noise, like natural images' spectrum more than white noise)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (batch, height // 4 + 1, width // 4 + 1, 3), dtype=np.uint8)
    return np.stack([np.asarray(Image.fromarray(c).resize((width, height), Image.Resampling.BICUBIC)) for c in coarse])


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.abs(want)))


def test_savedmodel_takes_any_size(depth_net: DispNet, tmp_path: Path) -> None:
    path = export_savedmodel(depth_net, tmp_path / "sm", HEIGHT, WIDTH, {"checkpoint": "seeded"})
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    batch = images(0, 2)
    depth = serve(image=tf.constant(batch))["depth"].numpy()
    want = DepthPredictor(depth_net, HEIGHT, WIDTH)(batch)
    assert depth.shape == (2, HEIGHT, WIDTH)
    assert relative_error(depth, want) <= 1e-5, relative_error(depth, want)
    big = images(1, 1, 75, 250)
    resized = np.asarray(Image.fromarray(big[0]).resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS))[np.newaxis]
    resized_error = relative_error(serve(image=tf.constant(big))["depth"].numpy(),
                                   DepthPredictor(depth_net, HEIGHT, WIDTH)(resized))
    print(f"SavedModel: max relative depth difference {relative_error(depth, want):.2e} at the model's size, "
          f"{resized_error:.2e} on a 75x250 image; max |diff| {np.abs(depth - want).max():.2e}")
    assert resized_error <= 0.005, resized_error
    assert '"img_height": 32' in (path / "sfm_export.json").read_text()
    with pytest.raises(ConfigError, match="already exists"):
        export_savedmodel(depth_net, path, HEIGHT, WIDTH)


@pytest.mark.parametrize(("dtype", "tolerance"), [("float32", 1e-4), ("float16", 0.005)])
def test_tflite_agrees_with_keras(depth_net: DispNet, dtype: str, tolerance: float) -> None:
    flatbuffer = convert_to_tflite(depth_net, HEIGHT, WIDTH, dtype)
    model = TfliteDepth(flatbuffer, num_threads=1)
    assert model.size == (HEIGHT, WIDTH)
    image = images(2, 1)
    want = DepthPredictor(depth_net, HEIGHT, WIDTH)(image)[0]
    error = relative_error(model(image[0]), want)
    print(f"TFLite {dtype}: {len(flatbuffer) / 2**20:.1f} MiB, max relative depth difference {error:.2e}, "
          f"max |diff| {np.abs(model(image[0]) - want).max():.2e}")
    assert error <= tolerance, error
    with pytest.raises(ConfigError, match=r"takes uint8 \(1, 32, 96, 3\)"):
        model(images(2, 1, 64, 96))


def test_tf1_export_through_the_program(tmp_path: Path) -> None:
    """A 5-frame run with explainability, exported by sfm-export --format=tf1 and read by the TF1 loader."""
    tf.keras.utils.set_random_seed(5)
    depth, pose = DispNet().ensure_built(), PoseExpNet(num_source=4, do_exp=True).ensure_built()
    step = tf.Variable(1234, dtype=tf.int64)
    tf.train.Checkpoint(depth_net=depth, pose_exp_net=pose, step=step).write(str(tmp_path / "run" / "model-1234"))
    write_run_record(tmp_path / "run", RunRecord(64, 192, seq_length=5, explain_reg_weight=0.2))
    prefix = tmp_path / "tf1" / "model-1234"
    completed = subprocess.run(
        [sys.executable, "-m", "sfmlearner_tf.apps.export", "--format=tf1", f"--ckpt_file={tmp_path / 'run'}",
         f"--output={prefix}"], capture_output=True, text=True, cwd=REPO, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "seq_length=5, do_exp=True" in completed.stdout and "-> TF1 checkpoint" in completed.stdout
    fresh_depth, fresh_pose = DispNet(), PoseExpNet(num_source=4, do_exp=True)
    info = load_tf1_checkpoint(str(prefix), depth_net=fresh_depth, pose_exp_net=fresh_pose)
    assert info["global_step"] == 1234 and info["kept_initial"] == 0
    for original, loaded in ((depth, fresh_depth), (pose, fresh_pose)):
        for name, variable in tf1_variable_map(original).items():
            np.testing.assert_array_equal(tf1_variable_map(loaded)[name].numpy(), variable.numpy(), err_msg=name)
    shapes = tf.train.load_checkpoint(str(prefix)).get_variable_to_shape_map()
    assert shapes["pose_exp_net/cnv1/weights"] == [7, 7, 15, 16] and "pose_exp_net/exp/mask4/weights" in shapes
