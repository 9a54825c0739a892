"""The benchmark helpers: statistics, the disturbance rule, the floor ratio (fake timings) and the FLOP counts
(against hand-counted multiply-adds of tiny networks)."""

from __future__ import annotations

import keras
import pytest
import tensorflow as tf

from benchmarks.bench_utils import (
    RateCheck,
    failure_line,
    floor_ratio,
    is_disturbed,
    per_second,
    summarize,
    time_interleaved,
    time_repeats,
)
from benchmarks.flops import forward_backward_flops, graph_flops


def test_failure_line_is_the_childs_last_own_line():
    stderr = ("Traceback (most recent call last):\n"
              "ValueError: the batch does not fit\n"
              "I0000 00:00:1796538628.480703    1842 cudart_stub.cc:31] Could not find cuda drivers\n"
              "E0000 00:00:1796538681.984223    1842 cuda_platform.cc:52] failed call to cuInit\n")
    assert failure_line(stderr) == "ValueError: the batch does not fit"
    assert failure_line("") == "no output"


def test_summarize_gives_min_median_max():
    assert summarize([0.30, 0.10, 0.20, 0.50]) == {"min": 0.10, "median": 0.25, "max": 0.50}
    assert summarize([0.123456], digits=3) == {"min": 0.123, "median": 0.123, "max": 0.123}
    with pytest.raises(ValueError, match="no measurements"):
        summarize([])


def test_per_second_inverts_the_order():
    # 4 images in 0.5 / 1.0 / 2.0 s: the slowest call gives the lowest rate.
    assert per_second({"min": 0.5, "median": 1.0, "max": 2.0}, 4) == {"min": 2.0, "median": 4.0, "max": 8.0}


def test_floor_ratio_divides_each_statistic():
    assert floor_ratio({"min": 0.6, "median": 0.75, "max": 0.9}, 0.3) == {"min": 2.0, "median": 2.5, "max": 3.0}
    with pytest.raises(ValueError, match="positive"):
        floor_ratio({"min": 1.0}, 0.0)


@pytest.mark.parametrize(("before", "after", "expected"), [
    (100.0, 100.0, False), (100.0, 109.9, False), (109.9, 100.0, False),   # within 10 %, either direction
    (100.0, 110.5, True), (110.5, 100.0, True), (280.0, 140.0, True),      # beyond: flagged
    (0.0, 100.0, True)])
def test_disturbance_rule(before, after, expected):
    assert is_disturbed(before, after) is expected


def test_disturbance_tolerance_is_an_argument():
    assert is_disturbed(100.0, 104.0, tolerance=0.03) is True
    assert is_disturbed(100.0, 104.0, tolerance=0.05) is False


def test_time_repeats_counts_calls():
    calls = []
    times = time_repeats(lambda: calls.append(1), warmup=3, repeats=4)
    assert len(calls) == 7 and len(times) == 4 and all(t >= 0 for t in times)
    with pytest.raises(ValueError, match="repeats"):
        time_repeats(lambda: None, repeats=0)


def test_time_interleaved_takes_one_call_of_each_per_round():
    calls = []
    times = time_interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, warmup=1, repeats=3)
    assert "".join(calls) == "ab" + "ab" * 3 and {name: len(t) for name, t in times.items()} == {"a": 3, "b": 3}


def test_rate_check_reports_both_rates_and_the_flag():
    check = RateCheck(size=64, repeats=2)
    assert check.fields() == {"matmul_gflops_before": None, "matmul_gflops_after": None, "disturbed": None}
    check.start()
    check.stop()
    fields = check.fields()
    assert fields["matmul_gflops_before"] > 0 and fields["matmul_gflops_after"] > 0
    assert fields["disturbed"] is is_disturbed(check.before, check.after)
    # The floor uses the higher rate: 1 GFLOP at that rate.
    assert check.floor_seconds(1e9) == pytest.approx(1.0 / max(check.before, check.after))


def _tiny_net() -> keras.Model:
    """Conv 3->4 (3x3, stride 2) then transposed conv 4->2 (3x3, stride 2), on 1x8x8x3."""
    inputs = keras.Input((8, 8, 3), batch_size=1)
    hidden = keras.layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    outputs = keras.layers.Conv2DTranspose(2, 3, strides=2, padding="same")(hidden)
    return keras.Model(inputs, outputs)


def test_flops_of_a_conv_and_a_transposed_conv_by_hand():
    net = _tiny_net()
    spec = tf.TensorSpec([1, 8, 8, 3], tf.float32)
    conv = 2 * 4 * 4 * 3 * 3 * 3 * 4        # 2 x output pixels (4x4) x kernel (3x3x3) x filters (4)
    transposed = 2 * 4 * 4 * 3 * 3 * 4 * 2  # 2 x input pixels (4x4) x kernel (3x3) x 4 in x 2 out
    assert graph_flops(lambda x: net(x), spec) == conv + transposed
    # Backward: both kernel gradients (each its layer's forward cost) and the input gradient of the second layer
    # only (none is taken with respect to the images).
    assert forward_backward_flops(lambda x: net(x), net.trainable_variables, spec) == \
        (conv + transposed) + (conv + transposed) + transposed


def test_peak_rss_grows_with_a_touched_array():
    import numpy as np

    from benchmarks.bench_utils import peak_rss_mib

    with open("/proc/self/status", encoding="ascii") as status:
        current = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024.0
    before = peak_rss_mib()
    extra = int(before - current) + 64  # MiB: enough to pass the old high-water mark by 64 MiB
    block = np.ones(extra * 2**20 // 4, np.float32)
    assert peak_rss_mib() >= before + 60
    del block
