"""benchmarks/layer_profile.py: the layer input shapes inside DispNet, the bytes counted per layer by hand, and
one tiny run whose layer FLOPs add up to the whole net's."""

from __future__ import annotations

import json

import pytest
import tensorflow as tf

from benchmarks.layer_profile import layer_input_shapes, layer_megabytes, main
from sfmlearner_tf.models import DispNet


@pytest.fixture(scope="module")
def net() -> DispNet:
    return DispNet().ensure_built()


def test_input_shapes_follow_the_net(net):
    shapes = layer_input_shapes(net, 2, 32, 64)
    assert shapes["cnv1"] == (2, 32, 64, 3)
    assert shapes["cnv7b"] == (2, 1, 1, 512)            # 32x64 halved 7 times, rounded up
    assert shapes["icnv7"] == (2, 1, 1, 1024)           # upcnv7 (cropped) + cnv6b
    assert shapes["icnv1"] == (2, 32, 64, 17)           # upcnv1 + the upsampled disp2, no skip
    assert shapes["disp1"] == (2, 32, 64, 16)


def test_bytes_by_hand(net):
    # icnv1: 3x3x17x16 kernel + 16 biases, input 32*64*17, output 32*64*16 floats at batch 1.
    weights, inputs, outputs = 3 * 3 * 17 * 16 + 16, 32 * 64 * 17, 32 * 64 * 16
    forward = layer_megabytes(net.icnv1, tf.TensorShape([1, 32, 64, 17]), train=False, input_gradient=True)
    assert forward == pytest.approx(4 * (inputs + weights + outputs) / 1e6)
    train = layer_megabytes(net.icnv1, tf.TensorShape([1, 32, 64, 17]), train=True, input_gradient=True)
    assert train == pytest.approx(4 * (3 * inputs + 3 * weights + 2 * outputs) / 1e6)
    first = layer_megabytes(net.cnv1, tf.TensorShape([1, 32, 64, 3]), train=True, input_gradient=False)
    cnv1 = (7 * 7 * 3 * 32 + 32, 32 * 64 * 3, 16 * 32 * 32)
    assert first == pytest.approx(4 * (2 * cnv1[1] + 3 * cnv1[0] + 2 * cnv1[2]) / 1e6)


@pytest.mark.parametrize("mode", ["forward", "train"])
def test_tiny_run_reports_every_layer_and_the_whole_net(capsys, mode):
    main(["--mode", mode, "--height", "32", "--width", "64", "--repeats", "1", "--rate_size", "128",
          "--bandwidth_megabytes", "8"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    layers, whole = lines[:-1], lines[-1]
    assert [line["layer"] for line in layers] == list(DispNet().named_conv_layers())
    assert whole["layer"] == "whole_net" and whole["memory_gbytes_per_second"] > 0
    assert all(line["ratio_to_roofline"]["min"] > 0 for line in layers)
    # The floors add up layer by layer; the roofline floor is at least either one.
    assert whole["roofline_floor_seconds"] >= max(whole["flop_floor_seconds"], whole["memory_floor_seconds"])
    assert whole["flop_floor_seconds"] == pytest.approx(sum(line["flop_floor_seconds"] for line in layers), rel=1e-3)
    # The layers timed alone do the whole net's matmul work, no more and no less.
    assert whole["gflop"] == pytest.approx(sum(line["gflop"] for line in layers), rel=1e-4)


@pytest.mark.parametrize(("argv", "message"), [(["--height", "100"], "--height must be a positive multiple of 16"),
                                               (["--repeats", "0"], "--repeats must be at least 1")])
def test_bad_sizes_are_a_usage_error(capsys, argv, message):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2 and message in capsys.readouterr().err
