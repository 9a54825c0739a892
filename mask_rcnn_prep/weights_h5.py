"""Loading matterport's Keras 2 HDF5 weights (`mask_rcnn_coco.h5`) into the Keras 3 model, by layer name.

Read with h5py: root attribute `layer_names`, per-layer attribute `weight_names`, one dataset per weight.
Weights are matched by name (`kernel`, `bias`, `gamma`, ...; inside the nested `rpn_model` group by
`<inner layer>/<weight>`), so prefixes added by Keras 2 name scopes do not matter. Every missing layer,
missing weight and wrong shape is collected and reported in one CheckpointError naming the file.
Layers in the file that the inference graph does not use are ignored.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import keras
import numpy as np

from sfmlearner_tf.errors import CheckpointError


def _decode(values: np.ndarray) -> list[str]:
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def _short_name(weight_name: str, depth: int) -> str:
    """The last `depth` path components of a Keras 2 weight name without ':0' ('a/b/kernel:0' -> 'kernel')."""
    return "/".join(weight_name.split(":")[0].split("/")[-depth:])


def expected_weights(layer: keras.layers.Layer) -> dict[str, keras.Variable]:
    """{short weight name: variable} of one model layer; nested models key by `<inner layer>/<weight>`."""
    if isinstance(layer, keras.Model):
        return {f"{inner.name}/{v.name}": v for inner in layer.layers for v in inner.weights}
    return {v.name: v for v in layer.weights}


def _weights_root(f: h5py.File, path: Path) -> h5py.Group:
    if "layer_names" in f.attrs:
        return f
    if "model_weights" in f and "layer_names" in f["model_weights"].attrs:  # a whole-model save
        return f["model_weights"]
    raise CheckpointError(f"{path}: not a Keras HDF5 weights file (no 'layer_names' attribute)")


def load_keras2_weights(layers: dict[str, keras.layers.Layer], path: str | os.PathLike) -> int:
    """Assigns every variable of `layers` ({HDF5 group name: layer}) from the file; returns the number assigned."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found (matterport's mask_rcnn_coco.h5 is expected)")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read as HDF5 ({err})") from err
    with f:
        root = _weights_root(f, path)
        file_layers = set(_decode(root.attrs["layer_names"]))
        problems: list[str] = []
        assignments: list[tuple[keras.Variable, h5py.Dataset]] = []
        for name, layer in layers.items():
            if name not in file_layers or name not in root:
                problems.append(f"missing layer '{name}'")
                continue
            group = root[name]
            depth = 2 if isinstance(layer, keras.Model) else 1
            stored = {_short_name(w, depth): group[w] for w in _decode(group.attrs.get("weight_names", []))}
            for key, variable in expected_weights(layer).items():
                dataset = stored.get(key)
                if dataset is None:
                    problems.append(f"layer '{name}' lacks weight '{key}'")
                elif tuple(dataset.shape) != tuple(variable.shape):
                    problems.append(f"'{name}/{key}': file shape {tuple(dataset.shape)}, model expects "
                                    f"{tuple(variable.shape)}")
                else:
                    assignments.append((variable, dataset))
        if problems:
            listing = "\n  ".join(problems)
            raise CheckpointError(f"{path}: does not match the Mask R-CNN graph ({len(problems)} problem(s)):\n"
                                  f"  {listing}")
        for variable, dataset in assignments:
            variable.assign(np.asarray(dataset, dtype=np.float32))
    return len(assignments)
