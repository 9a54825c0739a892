"""DispNet as a SavedModel whose `serving_default` signature takes uint8 images of any size and returns depth.

Inside the signature: the image is resized to the model's size with Lanczos-3 and antialiasing (the nearest
TensorFlow kernel to the PIL LANCZOS resize of the original's test script: 1 to 3 grey levels apart), rounded
to uint8 values as PIL does, mapped to [-1, 1], and depth = 1 / disp1, [B, img_height, img_width] float32.
An input already at the model's size goes through unchanged (the kernel is the identity at scale 1).
The SavedModel is written through keras.export.ExportArchive, which tracks Keras 3 variables (a plain
tf.Module does not, and its SavedModel would lose the weights).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.evaluation.depth_predict import UINT8_TO_UNIT

SIGNATURE = "serving_default"
INFO_NAME = "sfm_export.json"


def _depth_from_uint8(depth_net: keras.Model, images: tf.Tensor) -> tf.Tensor:
    """uint8-valued float32 [B, H, W, 3] at the model's size -> depth [B, H, W] (as depth_predict does it)."""
    unit = images * UINT8_TO_UNIT * 2.0 - 1.0
    disp = tf.cast(depth_net(unit, training=False)[0], tf.float32)
    return 1.0 / disp[..., 0]


def serving_depth(depth_net: keras.Model, height: int, width: int):
    """The serving function: {"image": uint8 [B, h, w, 3]} of any size -> {"depth": float32 [B, height, width]}."""

    def serve(image: tf.Tensor) -> dict[str, tf.Tensor]:
        resized = tf.image.resize(tf.cast(image, tf.float32), (height, width), method="lanczos3", antialias=True)
        return {"depth": _depth_from_uint8(depth_net, tf.clip_by_value(tf.round(resized), 0.0, 255.0))}

    return serve


def fixed_size_depth(depth_net: keras.Model):
    """{"image": uint8 [1, H, W, 3] at the model's size} -> {"depth": float32 [1, H, W]}: no resize inside, for
    runtimes without TensorFlow's resize kernels (TensorFlow Lite)."""

    def serve(image: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"depth": _depth_from_uint8(depth_net, tf.cast(image, tf.float32))}

    return serve


def write_archive(depth_net: keras.Model, path: str | os.PathLike, function, signature: tf.TensorSpec) -> None:
    """Writes a SavedModel at `path` with one signature (`serving_default`) around `function`."""
    archive = keras.export.ExportArchive()
    archive.track(depth_net)
    archive.add_endpoint(SIGNATURE, function, input_signature=[signature])
    archive.write_out(str(path), verbose=False)


def export_savedmodel(depth_net: keras.Model, out_dir: str | os.PathLike, height: int, width: int,
                      info: dict | None = None) -> Path:
    """Writes the SavedModel to out_dir (refused if it exists; built in a temporary folder beside it and renamed,
    so an interrupted export leaves nothing half-written), with `info` (e.g. the source checkpoint and its run
    record) and the size in out_dir/sfm_export.json. Returns out_dir."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise ConfigError(f"{out_dir} already exists: choose another --output or delete it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        spec = tf.TensorSpec([None, None, None, 3], tf.uint8, name="image")
        write_archive(depth_net, tmp / "model", serving_depth(depth_net, height, width), spec)
        details = {"signature": SIGNATURE, "input": "image: uint8 [batch, any height, any width, 3] RGB",
                   "output": f"depth: float32 [batch, {height}, {width}] (1 / disparity, up to scale)",
                   "img_height": height, "img_width": width, **(info or {})}
        (tmp / "model" / INFO_NAME).write_text(json.dumps(details, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp / "model", out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
