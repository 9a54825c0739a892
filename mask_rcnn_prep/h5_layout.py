"""The Keras 2 HDF5 layout of matterport's `mask_rcnn_coco.h5`, written down from the file's description
independently of the Keras model: layer groups, their `weight_names` and shapes.

Used to write weight files with random values (tests, benchmarks) exactly as Keras 2 `save_weights` lays
them out: root attribute `layer_names`, per-group attribute `weight_names`, one dataset per weight at the
path given by its name inside the group.
"""

from __future__ import annotations

import os

import h5py
import numpy as np

from mask_rcnn_prep.backbone import RESNET101_STAGES, block_letters

Layout = dict[str, list[tuple[str, tuple[int, ...]]]]
BN_WEIGHTS = ("gamma", "beta", "moving_mean", "moving_variance")


def _conv(name: str, kh: int, kw: int, cin: int, cout: int) -> tuple[str, list[tuple[str, tuple[int, ...]]]]:
    return name, [(f"{name}/kernel:0", (kh, kw, cin, cout)), (f"{name}/bias:0", (cout,))]


def _bn(name: str, channels: int) -> tuple[str, list[tuple[str, tuple[int, ...]]]]:
    return name, [(f"{name}/{w}:0", (channels,)) for w in BN_WEIGHTS]


def coco_layout(num_classes: int = 81) -> Layout:
    """Every weighted layer of the COCO file: {group: [(weight name, shape), ...]} in file order."""
    entries = [_conv("conv1", 7, 7, 3, 64), _bn("bn_conv1", 64)]
    channels = 64
    for stage, ((f1, f2, f3), count, _) in RESNET101_STAGES.items():
        for i, block in enumerate(block_letters(count)):
            base = f"{stage}{block}_branch"
            entries += [
                _conv(f"res{base}2a", 1, 1, channels, f1), _bn(f"bn{base}2a", f1),
                _conv(f"res{base}2b", 3, 3, f1, f2), _bn(f"bn{base}2b", f2),
                _conv(f"res{base}2c", 1, 1, f2, f3), _bn(f"bn{base}2c", f3),
            ]
            if i == 0:
                entries += [_conv(f"res{base}1", 1, 1, channels, f3), _bn(f"bn{base}1", f3)]
            channels = f3
    for level, cin in zip((5, 4, 3, 2), (2048, 1024, 512, 256)):
        entries.append(_conv(f"fpn_c{level}p{level}", 1, 1, cin, 256))
    entries += [_conv(f"fpn_p{level}", 3, 3, 256, 256) for level in (2, 3, 4, 5)]
    rpn = [_conv("rpn_conv_shared", 3, 3, 256, 512), _conv("rpn_class_raw", 1, 1, 512, 6),
           _conv("rpn_bbox_pred", 1, 1, 512, 12)]
    entries.append(("rpn_model", [weight for _, weights in rpn for weight in weights]))
    entries += [
        _conv("mrcnn_class_conv1", 7, 7, 256, 1024), _bn("mrcnn_class_bn1", 1024),
        _conv("mrcnn_class_conv2", 1, 1, 1024, 1024), _bn("mrcnn_class_bn2", 1024),
        ("mrcnn_class_logits", [("mrcnn_class_logits/kernel:0", (1024, num_classes)),
                                ("mrcnn_class_logits/bias:0", (num_classes,))]),
        ("mrcnn_bbox_fc", [("mrcnn_bbox_fc/kernel:0", (1024, 4 * num_classes)),
                           ("mrcnn_bbox_fc/bias:0", (4 * num_classes,))]),
    ]
    for i in (1, 2, 3, 4):
        entries += [_conv(f"mrcnn_mask_conv{i}", 3, 3, 256, 256), _bn(f"mrcnn_mask_bn{i}", 256)]
    entries += [
        ("mrcnn_mask_deconv", [("mrcnn_mask_deconv/kernel:0", (2, 2, 256, 256)), ("mrcnn_mask_deconv/bias:0", (256,))]),
        _conv("mrcnn_mask", 1, 1, 256, num_classes),
    ]
    return dict(entries)


def random_weights(layout: Layout, seed: int = 0) -> dict[str, list[tuple[str, np.ndarray]]]:
    """float32 values of the right shapes with sane scales (He-normal/2 kernels, BN near identity), so a
    forward pass stays finite; speed does not depend on the values."""
    rng = np.random.default_rng(seed)
    weights = {}
    for layer, entries in layout.items():
        arrays = []
        for name, shape in entries:
            kind = name.rsplit("/", 1)[-1].removesuffix(":0")
            if kind == "kernel":
                fan_in = int(np.prod(shape[:-1]))
                value = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.5 * np.sqrt(2.0 / fan_in))
            elif kind == "moving_variance":
                value = rng.uniform(0.5, 1.5, shape).astype(np.float32)
            elif kind == "gamma":
                value = rng.uniform(0.8, 1.2, shape).astype(np.float32)
            else:
                value = (0.01 * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
            arrays.append((name, value))
        weights[layer] = arrays
    return weights


def write_keras2_weights(path: str | os.PathLike, weights: dict[str, list[tuple[str, np.ndarray]]],
                         weightless_layers: tuple[str, ...] = ("input_image", "zero_padding2d_1", "activation_1")
                         ) -> None:
    """Writes `weights` ({layer: [(weight name, array)]}) as Keras 2 `save_weights` does; `weightless_layers`
    are listed in `layer_names` with empty groups, like the real file's inputs and activations."""
    with h5py.File(path, "w") as f:
        names = [*weightless_layers, *weights]
        f.attrs["layer_names"] = np.array([n.encode("utf8") for n in names])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.1.6"
        for layer in names:
            group = f.create_group(layer)
            entries = weights.get(layer, [])
            group.attrs["weight_names"] = np.array([n.encode("utf8") for n, _ in entries])
            for name, value in entries:
                group.create_dataset(name, data=value)
