"""Losses against numpy on random inputs, analytic smoothness weights and a hand-worked boundary-loss example."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.geometry import projective_inverse_warp
from sfmlearner_tf.losses import LossConfig, boundary_loss, compute_losses, disparity_gradient, smoothness

RNG = np.random.default_rng(99)
BATCH, HEIGHT, WIDTH, NUM_SOURCE = 2, 32, 48, 2


# ---------------------------------------------------------------- numpy references
def np_block_mean(images: np.ndarray, factor: int) -> np.ndarray:
    b, h, w, c = images.shape
    return images.reshape(b, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


def np_smoothness(disp: np.ndarray) -> float:
    d = disp[..., 0].astype(np.float64)
    dx, dy = np.diff(d, axis=2), np.diff(d, axis=1)
    return sum(np.abs(np.diff(g, axis=a)).mean() for g in (dx, dy) for a in (2, 1))


def np_gradient_magnitude(disp: np.ndarray, order: int) -> np.ndarray:
    """Per-pixel loops: order 1 forward differences (0 past the last row/column); order 2 centred (0 on the ring)."""
    d = disp[..., 0].astype(np.float64)
    batch, height, width = d.shape
    out = np.zeros_like(d)
    for b, y, x in np.ndindex(batch, height, width):
        if order == 1:
            gx = d[b, y, x + 1] - d[b, y, x] if x + 1 < width else 0.0
            gy = d[b, y + 1, x] - d[b, y, x] if y + 1 < height else 0.0
        elif 0 < y < height - 1 and 0 < x < width - 1:
            gx = d[b, y, x + 1] - 2 * d[b, y, x] + d[b, y, x - 1]
            gy = d[b, y + 1, x] - 2 * d[b, y, x] + d[b, y - 1, x]
        else:
            gx = gy = 0.0
        out[b, y, x] = math.hypot(gx, gy)
    return out[..., None]


def np_boundary_loss(boundary: np.ndarray, disp: np.ndarray, order: int, reduction: str) -> float:
    g1 = boundary.astype(np.float64)
    penalty = g1**2 * np.maximum(0.0, g1 - np_gradient_magnitude(disp, order))
    return float(penalty.mean() if reduction == "mean" else penalty.sum(axis=(1, 2, 3)).mean())


def np_view_synthesis(inputs: dict, explain_reg_weight: float) -> tuple[float, float]:
    """The original's per-(scale, source) loop; numpy for everything but the warp (tested in test_geometry)."""
    pixel = exp = 0.0
    for s in range(4):
        tgt = np_block_mean(inputs["tgt_image"], 2**s)
        src = np_block_mean(inputs["src_image_stack"], 2**s)
        depth = 1.0 / inputs["disps"][s][..., 0]
        for i in range(NUM_SOURCE):
            proj = projective_inverse_warp(src[..., 3 * i:3 * i + 3].astype(np.float32), depth.astype(np.float32),
                                           inputs["poses"][:, i], inputs["intrinsics"][:, s]).numpy()
            error = np.abs(proj.astype(np.float64) - tgt)
            if explain_reg_weight > 0:
                logits = inputs["exp_logits"][s][..., 2 * i:2 * i + 2].astype(np.float64)
                explainable = np.exp(logits[..., 1]) / np.exp(logits).sum(axis=-1)
                exp += explain_reg_weight * np.mean(-np.log(explainable))
                pixel += np.mean(error * explainable[..., None])
            else:
                pixel += np.mean(error)
    return pixel, exp


def random_inputs() -> dict:
    intrinsics = np.array([[30.0, 0, 23.5], [0, 30.0, 15.5], [0, 0, 1]], np.float32)
    scaled = np.stack([intrinsics * [[1 / 2**s], [1 / 2**s], [1]] for s in range(4)])
    return {
        "tgt_image": RNG.uniform(-1, 1, size=(BATCH, HEIGHT, WIDTH, 3)).astype(np.float32),
        "src_image_stack": RNG.uniform(-1, 1, size=(BATCH, HEIGHT, WIDTH, 3 * NUM_SOURCE)).astype(np.float32),
        "disps": [RNG.uniform(0.1, 2.0, size=(BATCH, HEIGHT >> s, WIDTH >> s, 1)).astype(np.float32)
                  for s in range(4)],
        "poses": RNG.uniform(-0.05, 0.05, size=(BATCH, NUM_SOURCE, 6)).astype(np.float32),
        "exp_logits": [RNG.normal(size=(BATCH, HEIGHT >> s, WIDTH >> s, 2 * NUM_SOURCE)).astype(np.float32)
                       for s in range(4)],
        "intrinsics": np.tile(scaled[None], [BATCH, 1, 1, 1]).astype(np.float32),
        "boundary": np.clip(RNG.uniform(-1, 1, size=(BATCH, HEIGHT, WIDTH, 1)), 0, 1).astype(np.float32),
    }


def run(inputs: dict, config: LossConfig, with_exp: bool = True, with_boundary: bool = True):
    return compute_losses(inputs["tgt_image"], inputs["src_image_stack"], inputs["disps"], inputs["poses"],
                          inputs["exp_logits"] if with_exp else None, inputs["intrinsics"],
                          inputs["boundary"] if with_boundary else None, config)


# ---------------------------------------------------------------- smoothness
def test_smoothness_matches_numpy():
    disp = RNG.uniform(0, 3, size=(2, 7, 9, 1)).astype(np.float32)
    np.testing.assert_allclose(smoothness(disp).numpy(), np_smoothness(disp), rtol=1e-5)


@pytest.mark.parametrize(("scale", "weight"), [(0, 0.5), (1, 0.25), (2, 0.125), (3, 0.0625)])
def test_smooth_term_is_weighted_by_half_over_two_to_the_scale(scale, weight):
    # disp = 1 + a x^2 on one scale, constant elsewhere: only the xx second difference is non-zero, 2a everywhere.
    inputs = random_inputs()
    inputs["disps"] = [np.ones_like(d) for d in inputs["disps"]]
    width = inputs["disps"][scale].shape[2]
    inputs["disps"][scale] = np.broadcast_to(1.0 + 0.01 * np.arange(width)[None, None, :, None] ** 2,
                                             inputs["disps"][scale].shape).astype(np.float32)
    terms, _ = run(inputs, LossConfig(), with_exp=False, with_boundary=False)
    np.testing.assert_allclose(terms.smooth.numpy(), weight * 2 * 0.01, rtol=1e-4)


# ---------------------------------------------------------------- view synthesis and explainability
def test_pixel_loss_without_explainability_matches_numpy():
    inputs = random_inputs()
    terms, images = run(inputs, LossConfig(), with_exp=False, with_boundary=False)
    pixel, _ = np_view_synthesis(inputs, explain_reg_weight=0.0)
    np.testing.assert_allclose(terms.pixel.numpy(), pixel, rtol=1e-5)
    assert terms.exp.numpy() == 0.0 and terms.seg.numpy() == 0.0
    assert set(images) == {"projected", "error"}
    first = projective_inverse_warp(inputs["src_image_stack"][..., 3:6], 1.0 / inputs["disps"][0][..., 0],
                                    inputs["poses"][:, 1], inputs["intrinsics"][:, 0]).numpy()
    np.testing.assert_allclose(images["projected"].numpy()[..., 3:6], first, atol=1e-6)
    np.testing.assert_allclose(images["error"].numpy()[..., 3:6], np.abs(first - inputs["tgt_image"]), atol=1e-6)


def test_explainability_weighting_and_regulariser_match_numpy():
    inputs = random_inputs()
    terms, images = run(inputs, LossConfig(explain_reg_weight=0.2), with_boundary=False)
    pixel, exp = np_view_synthesis(inputs, explain_reg_weight=0.2)
    np.testing.assert_allclose(terms.pixel.numpy(), pixel, rtol=1e-5)
    np.testing.assert_allclose(terms.exp.numpy(), exp, rtol=1e-5)
    logits = inputs["exp_logits"][0].reshape(BATCH, HEIGHT, WIDTH, NUM_SOURCE, 2)
    np.testing.assert_allclose(images["exp_mask"].numpy(), 1 / (1 + np.exp(logits[..., 0] - logits[..., 1])),
                               rtol=1e-5)


def test_explainability_regulariser_of_even_logits_is_log_two_per_scale_and_source():
    inputs = random_inputs()
    inputs["exp_logits"] = [np.zeros_like(x) for x in inputs["exp_logits"]]
    terms, _ = run(inputs, LossConfig(explain_reg_weight=0.2), with_boundary=False)
    np.testing.assert_allclose(terms.exp.numpy(), 0.2 * 4 * NUM_SOURCE * math.log(2.0), rtol=1e-5)


# ---------------------------------------------------------------- boundary loss
HAND_DISP = np.array([[0, 0, 0.3, 0.3, 0.3]] * 4 + [[0.4, 0.4, 0.7, 0.7, 0.7]], np.float32)[None, :, :, None]
HAND_G1 = np.array([[0, 0, 0, 0, 0], [0, 1, 0.5, 0, 0], [0, 1, 0.5, 0, 0], [0, 1, 0.5, 0, 0], [0, 0.5, 0, 0, 0]],
                   np.float32)[None, :, :, None]


def test_boundary_loss_first_order_hand_worked_5x5():
    # Forward differences: gx = 0.3 in column 1 (rows 0-4), else 0; gy = 0.4 in row 3, else 0 (row 4 has none).
    # G2 rows 0-2 and 4: [0, .3, 0, 0, 0]; row 3: [.4, .5, .4, .4, .4] (0.5 = hypot(0.3, 0.4)).
    # Rows 1, 2: 1^2 (1 - .3) + .5^2 (.5 - 0) = .7 + .125 = .825 each -> 1.65
    # Row 3:     1^2 (1 - .5) + .5^2 (.5 - .4) = .5 + .025 = .525
    # Row 4:     .5^2 max(0, .5 - .3) = .05
    # Sum 2.225, mean over 25 pixels 0.089.
    np.testing.assert_allclose(boundary_loss(HAND_G1, HAND_DISP, order=1, reduction="sum").numpy(), 2.225, rtol=1e-5)
    np.testing.assert_allclose(boundary_loss(HAND_G1, HAND_DISP, order=1).numpy(), 0.089, rtol=1e-5)


def test_boundary_loss_second_order_hand_worked_5x5():
    # Centred second differences on the interior (rows/cols 1-3), 0 on the border ring:
    # gxx rows 1-3 at cols 1, 2, 3: .3, -.3, 0; gyy: 0 in rows 1-2, .4 in row 3 (.7 - 2*.3 + .3 = .4 etc.).
    # G2 rows 1-2: [., .3, .3, 0, .]; row 3: [., .5, .5, .4, .]; row 4 (ring): 0.
    # Rows 1, 2: 1^2 (1 - .3) + .5^2 (.5 - .3) = .7 + .05 = .75 each -> 1.5
    # Row 3:     1^2 (1 - .5) + .5^2 max(0, .5 - .5) = .5
    # Row 4:     .5^2 (.5 - 0) = .125
    # Sum 2.125, mean over 25 pixels 0.085.
    np.testing.assert_allclose(boundary_loss(HAND_G1, HAND_DISP, order=2, reduction="sum").numpy(), 2.125, rtol=1e-5)
    np.testing.assert_allclose(boundary_loss(HAND_G1, HAND_DISP, order=2).numpy(), 0.085, rtol=1e-5)


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_boundary_loss_matches_numpy_on_random_inputs(order, reduction):
    boundary = RNG.uniform(0, 1, size=(3, 6, 8, 1)).astype(np.float32)
    disp = RNG.uniform(0, 1, size=(3, 6, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(disparity_gradient(disp, order).numpy(), np_gradient_magnitude(disp, order),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(boundary_loss(boundary, disp, order, reduction).numpy(),
                               np_boundary_loss(boundary, disp, order, reduction), rtol=1e-5)


@pytest.mark.parametrize("order", [1, 2])
def test_boundary_loss_gradient_matches_finite_differences_and_is_zero_on_flat_disparity(order):
    boundary = RNG.uniform(0, 1, size=(1, 5, 6, 1)).astype(np.float32)
    disp0 = RNG.uniform(0, 0.5, size=(1, 5, 6, 1))
    disp = tf.Variable(disp0.astype(np.float32))
    with tf.GradientTape() as tape:
        loss = boundary_loss(boundary, disp, order, "sum")
    grad = tape.gradient(loss, disp).numpy()
    eps = 1e-6
    for y, x in [(1, 1), (2, 3), (4, 5)]:
        step = np.zeros_like(disp0)
        step[0, y, x] = eps
        numeric = (np_boundary_loss(boundary, disp0 + step, order, "sum")
                   - np_boundary_loss(boundary, disp0 - step, order, "sum")) / (2 * eps)
        np.testing.assert_allclose(grad[0, y, x], numeric, rtol=1e-3, atol=1e-5)
    flat = tf.Variable(np.full((1, 5, 6, 1), 0.7, np.float32))
    with tf.GradientTape() as tape:
        loss = boundary_loss(boundary, flat, order, "mean")
    np.testing.assert_array_equal(tape.gradient(loss, flat).numpy(), 0.0)
    np.testing.assert_allclose(loss.numpy(), np.mean(boundary.astype(np.float64) ** 3), rtol=1e-5)


def test_boundary_loss_on_two_scales_uses_area_downsampled_boundary():
    inputs = random_inputs()
    config = LossConfig(lambda_seg=2.5, seg_num_scales=2, seg_gradient_order=2)
    terms, _ = run(inputs, config, with_exp=False)
    expected = (np_boundary_loss(inputs["boundary"], inputs["disps"][0], 2, "mean")
                + np_boundary_loss(np_block_mean(inputs["boundary"], 2), inputs["disps"][1], 2, "mean"))
    np.testing.assert_allclose(terms.seg.numpy(), expected, rtol=1e-5)


# ---------------------------------------------------------------- total and configuration
def test_total_is_pixel_plus_smooth_plus_exp_plus_lambda_seg_times_seg():
    inputs = random_inputs()
    terms, _ = run(inputs, LossConfig(smooth_weight=0.75, explain_reg_weight=0.2, lambda_seg=2.5))
    pixel, exp = np_view_synthesis(inputs, explain_reg_weight=0.2)
    smooth = sum(0.75 / 2**s * np_smoothness(inputs["disps"][s]) for s in range(4))
    seg = np_boundary_loss(inputs["boundary"], inputs["disps"][0], 1, "mean")
    np.testing.assert_allclose([terms.pixel, terms.smooth, terms.exp, terms.seg], [pixel, smooth, exp, seg],
                               rtol=1e-5)
    np.testing.assert_allclose(terms.total.numpy(), pixel + smooth + exp + 2.5 * seg, rtol=1e-5)


def test_border_sampler_option_changes_only_the_pixel_loss():
    inputs = random_inputs()
    legacy, _ = run(inputs, LossConfig(), with_exp=False, with_boundary=False)
    fixed, images = run(inputs, LossConfig(sampler_mode="border"), with_exp=False, with_boundary=False)
    assert fixed.smooth.numpy() == legacy.smooth.numpy()
    assert abs(fixed.pixel.numpy() - legacy.pixel.numpy()) > 1e-3
    # With the fix nothing is sampled as exact zeros on the last row (which the legacy sampler always zeroes here).
    assert np.count_nonzero(images["projected"].numpy()[:, -1] == 0.0) == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"smooth_weight": -1.0}, "smooth_weight"),
    ({"seg_gradient_order": 3}, "seg_gradient_order"),
    ({"seg_reduction": "max"}, "seg_reduction"),
    ({"seg_num_scales": 5}, "seg_num_scales"),
    ({"sampler_mode": "wrap"}, "sampler_mode"),
])
def test_bad_config_values_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        LossConfig(**kwargs)


def test_missing_inputs_for_enabled_terms_are_config_errors():
    inputs = random_inputs()
    with pytest.raises(ConfigError, match="explainability logits"):
        run(inputs, LossConfig(explain_reg_weight=0.2), with_exp=False)
    with pytest.raises(ConfigError, match="boundary images"):
        run(inputs, LossConfig(lambda_seg=1.0), with_boundary=False)


def test_losses_and_gradients_compile_with_xla_to_the_same_numbers():
    inputs = random_inputs()
    config = LossConfig(explain_reg_weight=0.2, lambda_seg=2.5)
    disps = [tf.constant(d) for d in inputs["disps"]]

    def loss_and_grads(disps, poses):
        with tf.GradientTape() as tape:
            tape.watch([disps, poses])
            terms, _ = compute_losses(inputs["tgt_image"], inputs["src_image_stack"], disps, poses,
                                      inputs["exp_logits"], inputs["intrinsics"], inputs["boundary"], config)
        return terms, tape.gradient(terms.total, [disps[0], poses])

    eager_terms, eager_grads = loss_and_grads(disps, tf.constant(inputs["poses"]))
    xla_terms, xla_grads = tf.function(loss_and_grads, jit_compile=True)(disps, tf.constant(inputs["poses"]))
    np.testing.assert_allclose(np.array(xla_terms), np.array(eager_terms), rtol=1e-5)
    for xla_grad, eager_grad in zip(xla_grads, eager_grads):
        np.testing.assert_allclose(xla_grad.numpy(), eager_grad.numpy(), rtol=1e-3, atol=1e-6)
    assert np.abs(eager_grads[1].numpy()).max() > 0.0


def test_float16_network_outputs_are_computed_in_float32():
    inputs = random_inputs()
    network_outputs = ("disps", "poses", "exp_logits")
    half = {**inputs, **{k: tf.nest.map_structure(lambda x: x.astype(np.float16), inputs[k]) for k in network_outputs}}
    rounded = {**inputs, **{k: tf.nest.map_structure(lambda x: x.astype(np.float32), half[k]) for k in network_outputs}}
    config = LossConfig(explain_reg_weight=0.2, lambda_seg=1.0)
    half_terms, half_images = run(half, config)
    assert half_terms.total.dtype == tf.float32 and half_images["projected"].dtype == tf.float32
    np.testing.assert_array_equal(np.array(half_terms), np.array(run(rounded, config)[0]))
