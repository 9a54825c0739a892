"""Where DispNet's time goes, layer by layer, against a roofline: each conv layer timed alone (forward, or forward
+ backward as the train step computes it) at the shape it sees inside the net, next to its FLOP floor (FLOPs at
the float32 matmul rate) and its memory floor (the bytes it must move at least, at the measured memory bandwidth).

    python -m benchmarks.layer_profile [--batch_size 1] [--mode forward|train] [--repeats 5]

The FLOP floor alone assumes every layer can run at the matmul rate; a layer that reads 9.4 MB of weights for
0.019 GFLOP (cnv7b at batch 1, 128x416) is bound by memory instead. The roofline floor of a layer is the larger
of its two floors, and the net's roofline floor their sum. One JSON line per layer (seconds min/median/max,
GFLOP, MB moved, both floors, ratio to the roofline floor) and one for the whole net: its measured time and
FLOPs, the sum of its layers' times (above the whole net's: each layer pays a call of its own) and both floors.
The layers are timed in rounds with the whole net, so a slow spell of the machine falls on all of them alike.

Bytes counted (float32): forward reads the input and the weights and writes the output; forward + backward also
reads the output gradient, the input and the weights again and writes the input gradient (not for cnv1, whose
input is the image) and the weight gradient.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from benchmarks.bench_utils import RateCheck, emit, floor_ratio, summarize, time_interleaved
from benchmarks.flops import graph_flops
from sfmlearner_tf.models import DispNet

FLOAT_BYTES = 4


def memory_gbytes_per_second(megabytes: int = 256, repeats: int = 5) -> float:
    """Measured memory bandwidth in GB/s (best of the repeats): an in-place add of two arrays much larger than the
    caches, on all cores, reading both and writing one (no allocation, so no page faults in the timing)."""
    size = megabytes * 2**20 // FLOAT_BYTES
    total = tf.Variable(tf.zeros([size]))
    ones = tf.ones([size])

    @tf.function
    def add() -> None:
        total.assign_add(ones, read_value=False)

    seconds = min(time_interleaved({"add": add}, warmup=2, repeats=repeats)["add"])
    return 3.0 * size * FLOAT_BYTES / seconds / 1e9


def layer_input_shapes(net: DispNet, batch: int, height: int, width: int) -> dict[str, tf.TensorShape]:
    """Each conv layer's input shape inside the net, recorded by running the net once with its calls wrapped."""
    shapes: dict[str, tf.TensorShape] = {}
    layers = net.named_conv_layers()
    originals = {name: layer.call for name, layer in layers.items()}

    def recording(name: str, call: Callable) -> Callable:
        def call_and_record(inputs: tf.Tensor, *args, **kwargs) -> tf.Tensor:
            shapes[name] = inputs.shape
            return call(inputs, *args, **kwargs)
        return call_and_record

    for name, layer in layers.items():
        layer.call = recording(name, originals[name])
    try:
        net(tf.zeros([batch, height, width, 3]))
    finally:
        for name, layer in layers.items():
            layer.call = originals[name]
    return shapes


def layer_function(layer: keras.layers.Layer, shape: tf.TensorShape, train: bool, input_gradient: bool
                   ) -> tuple[Callable, tf.Tensor]:
    """A traced forward (or forward + backward) of one layer, and an input for it: the backward is the gradient of
    the sum of the outputs, each weighted by a fixed random tensor (the upstream gradient)."""
    inputs = tf.random.uniform(shape, -1.0, 1.0, seed=0)
    if not train:
        return tf.function(lambda x: layer(x)), inputs
    upstream = [tf.random.uniform(out.shape, seed=1) for out in tf.nest.flatten(layer(inputs))]

    def forward_backward(x: tf.Tensor) -> list[tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = tf.nest.flatten(layer(x))
            total = tf.add_n([tf.reduce_sum(out * up) for out, up in zip(outputs, upstream)])
        sources = ([x] if input_gradient else []) + list(layer.trainable_variables)
        return tape.gradient(total, sources)

    return tf.function(forward_backward), inputs


def layer_megabytes(layer: keras.layers.Layer, shape: tf.TensorShape, train: bool, input_gradient: bool
                    ) -> float:
    """The bytes (MB) the layer must move at least: see the module docstring."""
    inputs = int(np.prod(shape))
    outputs = int(np.prod(layer.compute_output_shape(shape)))
    weights = sum(int(np.prod(v.shape)) for v in layer.trainable_variables)
    floats = inputs + weights + outputs
    if train:
        floats += outputs + inputs + weights + weights + (inputs if input_gradient else 0)
    return floats * FLOAT_BYTES / 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch_size", type=int, default=1)
    parser.add_argument("--height", type=int, default=128)
    parser.add_argument("--width", type=int, default=416)
    parser.add_argument("--mode", choices=["forward", "train"], default="forward")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rate_size", type=int, default=2048, help="matrix size of the matmul-rate check")
    parser.add_argument("--bandwidth_megabytes", type=int, default=256, help="array size of the bandwidth check")
    args = parser.parse_args(argv)
    for name in ("batch_size", "repeats", "rate_size", "bandwidth_megabytes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    for name in ("height", "width"):
        if getattr(args, name) < 1 or getattr(args, name) % DispNet.size_multiple:
            parser.error(f"--{name} must be a positive multiple of {DispNet.size_multiple}, got {getattr(args, name)}")
    train = args.mode == "train"
    tf.keras.utils.set_random_seed(0)
    net = DispNet().ensure_built()
    shapes = layer_input_shapes(net, args.batch_size, args.height, args.width)
    layers = net.named_conv_layers()
    functions, megabytes, flops = {}, {}, {}
    for name, layer in layers.items():
        function, inputs = layer_function(layer, shapes[name], train, input_gradient=name != "cnv1")
        functions[name] = lambda f=function, x=inputs: [t.numpy() for t in tf.nest.flatten(f(x))]
        megabytes[name] = layer_megabytes(layer, shapes[name], train, input_gradient=name != "cnv1")
        flops[name] = graph_flops(function, tf.TensorSpec(shapes[name], tf.float32))
    whole, image = layer_function(net, tf.TensorShape([args.batch_size, args.height, args.width, 3]), train,
                                  input_gradient=False)
    functions["whole_net"] = lambda: [t.numpy() for t in tf.nest.flatten(whole(image))]
    whole_flop = graph_flops(whole, tf.TensorSpec(image.shape, tf.float32))

    check = RateCheck(args.rate_size).start()
    bandwidth = memory_gbytes_per_second(args.bandwidth_megabytes)
    timings = time_interleaved(functions, warmup=2, repeats=args.repeats)
    check.stop()
    common = {"mode": args.mode, "batch_size": args.batch_size, "img_height": args.height,
              "img_width": args.width, "memory_gbytes_per_second": round(bandwidth, 1), **check.fields()}
    total = {"flop_floor": 0.0, "memory_floor": 0.0, "roofline_floor": 0.0, "layers_median": 0.0}
    for name in layers:
        seconds = summarize(timings[name], digits=6)
        flop_floor = check.floor_seconds(flops[name])
        memory_floor = megabytes[name] / 1e3 / bandwidth
        roofline = max(flop_floor, memory_floor)
        for key, value in (("flop_floor", flop_floor), ("memory_floor", memory_floor), ("roofline_floor", roofline),
                           ("layers_median", seconds["median"])):
            total[key] += value
        emit("layer_profile", layer=name, input_shape=list(shapes[name]), seconds=seconds,
             gflop=round(flops[name] / 1e9, 6), megabytes=round(megabytes[name], 1),
             flop_floor_seconds=round(flop_floor, 6), memory_floor_seconds=round(memory_floor, 6),
             bound="memory" if memory_floor > flop_floor else "compute",
             ratio_to_roofline=floor_ratio(seconds, roofline), **common)
    seconds = summarize(timings["whole_net"], digits=6)
    emit("layer_profile", layer="whole_net", seconds=seconds, gflop=round(whole_flop / 1e9, 6),
         sum_of_layer_medians=round(total["layers_median"], 6),
         flop_floor_seconds=round(total["flop_floor"], 6), memory_floor_seconds=round(total["memory_floor"], 6),
         roofline_floor_seconds=round(total["roofline_floor"], 6),
         ratio_to_flop_floor=floor_ratio(seconds, total["flop_floor"]),
         ratio_to_roofline=floor_ratio(seconds, total["roofline_floor"]), **common)


if __name__ == "__main__":
    main()
