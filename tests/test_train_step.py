"""The train step: Adam's first update against TF1's formula in numpy, loss decrease, no retracing, weight decay,
XLA and MirroredStrategy on CPU. Tiny images (32x64) keep it fast."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import HEIGHT, WIDTH, make_batch

from sfmlearner_tf.losses import compute_losses
from sfmlearner_tf.models import DispNet
from sfmlearner_tf.ops.precision import DtypePolicy, needs_loss_scaling, precision_policy
from sfmlearner_tf.training import TrainConfig, TrainStep, build_state, make_optimizer, to_model_range
from sfmlearner_tf.training.distribute import make_strategy
from sfmlearner_tf.training.step import kernel_l2


def small_config(**changes: object) -> TrainConfig:
    return TrainConfig.from_settings(img_height=HEIGHT, img_width=WIDTH, batch_size=2, **changes)


def test_to_model_range_maps_uint8_onto_minus_one_one() -> None:
    values = to_model_range(tf.constant([0, 51, 255], tf.uint8)).numpy()
    np.testing.assert_allclose(values, [-1.0, 51 / 255 * 2 - 1, 1.0], atol=1e-7)


def test_optimizer_is_tf1_adam_with_epsilon_1e8() -> None:
    """Two updates with hand-picked gradients (tiny ones make epsilon visible) against TF1's Adam in numpy."""
    optimizer = make_optimizer(2e-4, 0.9)
    variable = tf.Variable([1.0, -2.0, 0.5, 3.0])
    grads = [np.array([0.5, -1e-7, 3e-8, 0.0]), np.array([-0.25, 2e-7, 1e-6, 1e-3])]
    w, m, v = variable.numpy().astype(np.float64), np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        optimizer.apply_gradients([(tf.constant(g, tf.float32), variable)])
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        w = w - 2e-4 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-8)
        np.testing.assert_allclose(variable.numpy(), w, rtol=0, atol=1e-7)


def test_first_adam_step_matches_tf1_adam_formula_for_every_variable() -> None:
    config = small_config(learning_rate=1e-3)
    state = build_state(config)
    batch = make_batch()
    variables = state.depth_net.trainable_variables + state.pose_exp_net.trainable_variables
    before = [v.numpy().copy() for v in variables]
    with tf.GradientTape() as tape:
        tgt, src = to_model_range(batch["tgt_image"]), to_model_range(batch["src_image_stack"])
        poses, _ = state.pose_exp_net(tgt, src)
        terms, _ = compute_losses(tgt, src, state.depth_net(tgt), poses, None, batch["intrinsics"], None,
                                  config.loss)
    grads = [g.numpy() for g in tape.gradient(terms.total, variables)]
    out = TrainStep(state.depth_net, state.pose_exp_net, state.optimizer, config.loss)(batch)
    assert float(out["total"]) == pytest.approx(float(terms.total), rel=1e-5)
    lr_t = 1e-3 * np.sqrt(1 - 0.999) / (1 - 0.9)
    for variable, w0, g in zip(variables, before, grads):
        # Where |g| is tiny the update depends on float round-off of g itself; compare where it is not.
        solid = np.abs(g) > 1e-4
        expected = w0 - lr_t * (0.1 * g) / (np.sqrt(0.001 * g * g) + 1e-8)
        np.testing.assert_allclose(variable.numpy()[solid], expected[solid], atol=2e-6, err_msg=variable.path)
    changed = sum(bool(np.any(v.numpy() != w0)) for v, w0 in zip(variables, before))
    assert changed == len(variables)  # both nets, every variable, trained jointly


def test_loss_decreases_on_a_fixed_batch_without_retracing() -> None:
    config = small_config()
    state = build_state(config)
    step = TrainStep(state.depth_net, state.pose_exp_net, state.optimizer, config.loss)
    batch = make_batch(seed=1)
    losses = [float(step(batch)["total"]) for _ in range(5)]
    assert losses[-1] < 0.95 * losses[0]
    assert step.trace_count == 1
    step(make_batch(seed=2))  # new values, same shapes: still no retrace
    assert step.trace_count == 1


def test_total_is_pixel_smooth_boundary_and_weight_decay() -> None:
    """Weight decay = 0.05 * sum over conv kernels (not biases) of w^2 / 2, in numpy; L_seg enters x lambda_seg."""
    config = small_config(lambda_seg=2.5, weight_decay=0.05)
    state = build_state(config)
    variables = state.depth_net.trainable_variables + state.pose_exp_net.trainable_variables
    expected_l2 = sum(0.5 * np.sum(v.numpy().astype(np.float64) ** 2) for v in variables if "kernel" in v.path)
    assert float(kernel_l2(variables)) == pytest.approx(expected_l2, rel=1e-5)
    step = TrainStep(state.depth_net, state.pose_exp_net, state.optimizer, config.loss,
                     weight_decay=config.optimizer.weight_decay)
    out = step(make_batch(boundary=True))
    assert float(out["weight_decay"]) == pytest.approx(0.05 * expected_l2, rel=1e-5)
    assert float(out["seg"]) > 0
    expected = float(out["pixel"]) + float(out["smooth"]) + 2.5 * float(out["seg"]) + 0.05 * expected_l2
    assert float(out["total"]) == pytest.approx(expected, rel=1e-5)
    assert out["boundary"].shape == (2, HEIGHT, WIDTH, 1)


def _first_step(batch: dict, strategy: str = "default", jit_compile: bool = False) -> tuple[float, TrainStep]:
    """The first step's loss with weights initialised from seed 5, and the step object."""
    config = small_config()
    distribution = make_strategy(strategy)
    tf.keras.utils.set_random_seed(5)
    with distribution.scope():
        state = build_state(config)
    step = TrainStep(state.depth_net, state.pose_exp_net, state.optimizer, config.loss,
                     strategy=distribution, jit_compile=jit_compile)
    dataset = distribution.experimental_distribute_dataset(tf.data.Dataset.from_tensors(batch))
    return float(step(next(iter(dataset)))["total"]), step


@pytest.mark.slow  # 33 s; XLA is off by default (slower than oneDNN on CPUs)
def test_xla_step_gives_the_plain_step_loss() -> None:
    batch = make_batch(seed=3)
    xla_loss, xla_step = _first_step(batch, jit_compile=True)
    assert xla_loss == pytest.approx(_first_step(batch)[0], rel=1e-4)
    # The compiled forward/backward function is the one that ran (traced once, with jit_compile set).
    assert xla_step.forward_backward.experimental_get_tracing_count() == 1


@pytest.mark.slow
def test_mirrored_strategy_gives_the_plain_step_loss() -> None:
    batch = make_batch(seed=3)
    assert _first_step(batch, strategy="mirrored")[0] == pytest.approx(_first_step(batch)[0], rel=1e-4)


@pytest.mark.slow  # 19 s; bfloat16 inference is checked against float32 in the default suite
def test_mixed_precision_on_cpu_is_bfloat16_and_close_to_float32() -> None:
    assert not tf.config.list_physical_devices("GPU")
    assert precision_policy(False) == "float32" and precision_policy(True) == "mixed_bfloat16"
    assert needs_loss_scaling("mixed_float16") and not needs_loss_scaling("mixed_bfloat16")
    batch = make_batch(seed=3)
    with DtypePolicy("mixed_bfloat16"):
        loss, step = _first_step(batch)
    assert step.depth_net.cnv1.compute_dtype == "bfloat16" and step.depth_net.cnv1.kernel.dtype == tf.float32
    assert not isinstance(step.optimizer, keras.optimizers.LossScaleOptimizer)
    # bfloat16 keeps 8 bits of mantissa: the first loss agrees with float32's to about a percent.
    assert loss == pytest.approx(_first_step(batch)[0], rel=2e-2)


def test_disp_net_builds_and_runs_under_mixed_float16() -> None:
    """The GPU policy: float16 features, the TF1 bilinear kernel's float32 output cast to join the concat, and
    the disparity heads in float32."""
    with DtypePolicy("mixed_float16"):
        net = DispNet().ensure_built()
        disps = net(tf.random.uniform([1, 32, 64, 3], -1.0, 1.0, seed=0))
    assert net.icnv1.compute_dtype == "float16"
    assert [d.dtype for d in disps] == [tf.float32] * 4
    values = disps[0].numpy()
    assert np.all(np.isfinite(values)) and values.min() > 0.009 and values.max() < 10.02


def test_saturated_disparity_head_keeps_its_gradient_under_bfloat16() -> None:
    """A head whose logit is 8 everywhere: sigmoid(8) = 0.99966 would round to exactly 1 in bfloat16 (gradient 0,
    the collapse seen in training); computed in float32, d sum(disp1) / d bias = H W 10 s (1 - s) as in float64."""
    with DtypePolicy("mixed_bfloat16"):
        net = DispNet().ensure_built()
    net.disp1.kernel.assign(tf.zeros_like(net.disp1.kernel))
    net.disp1.bias.assign([8.0])
    with tf.GradientTape() as tape:
        disp1 = net(tf.random.uniform([1, HEIGHT, WIDTH, 3], -1.0, 1.0, seed=0))[0]
        total = tf.reduce_sum(disp1)
    sigmoid = 1.0 / (1.0 + np.exp(-8.0))
    assert net.icnv1.compute_dtype == "bfloat16" and disp1.dtype == tf.float32
    assert tape.gradient(total, net.disp1.bias).numpy()[0] == pytest.approx(
        HEIGHT * WIDTH * 10.0 * sigmoid * (1.0 - sigmoid), rel=1e-4)
