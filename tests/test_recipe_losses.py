"""The opt-in loss switches against numpy and hand-worked cases: SSIM + L1, the valid-pixel mask, per-pixel
minimum reprojection, auto-masking, depth smoothness, edge-aware and normalized smoothness; and the rule that
defaults leave the loss unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.geometry import inside_image
from sfmlearner_tf.losses import (
    LossConfig,
    compute_losses,
    photometric_error,
    selected_pixel_loss,
    smoothness,
    ssim_dissimilarity,
)

RNG = np.random.default_rng(2023)


# ---------------------------------------------------------------- numpy references
def np_ssim_dissimilarity(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per pixel and channel, loops over the 3x3 windows of the reflection-padded images (float64)."""
    pad = ((0, 0), (1, 1), (1, 1), (0, 0))
    xp, yp = np.pad(x.astype(np.float64), pad, mode="reflect"), np.pad(y.astype(np.float64), pad, mode="reflect")
    out = np.zeros(x.shape)
    b, h, w, c = x.shape
    for i, r, col, ch in np.ndindex(b, h, w, c):
        wx, wy = xp[i, r:r + 3, col:col + 3, ch], yp[i, r:r + 3, col:col + 3, ch]
        mx, my = wx.mean(), wy.mean()
        vx, vy = (wx * wx).mean() - mx * mx, (wy * wy).mean() - my * my
        cxy = (wx * wy).mean() - mx * my
        ssim = (2 * mx * my + 1e-4) * (2 * cxy + 9e-4) / ((mx * mx + my * my + 1e-4) * (vx + vy + 9e-4))
        out[i, r, col, ch] = np.clip((1 - ssim) / 2, 0, 1)
    return out


def np_smoothness(field: np.ndarray) -> float:
    d = field[..., 0].astype(np.float64)
    dx, dy = np.diff(d, axis=2), np.diff(d, axis=1)
    return sum(np.abs(np.diff(g, axis=a)).mean() for g in (dx, dy) for a in (2, 1))


def random_loss_inputs(batch: int, height: int, width: int) -> dict:
    """compute_losses' arguments for two sources at rest: random disparities (4 scales) and images, identity K."""
    return {"tgt_image": RNG.uniform(-1, 1, (batch, height, width, 3)).astype(np.float32),
            "src_image_stack": RNG.uniform(-1, 1, (batch, height, width, 6)).astype(np.float32),
            "disps": [RNG.uniform(0.1, 1.0, (batch, height // 2**s, width // 2**s, 1)).astype(np.float32)
                      for s in range(4)],
            "poses": np.zeros((batch, 2, 6), np.float32), "exp_logits": None,
            "intrinsics": np.tile(np.eye(3, dtype=np.float32), (batch, 4, 1, 1)), "boundary": None}


def smooth_term(inputs: dict, config: LossConfig) -> float:
    """The smooth term of compute_losses on `inputs`."""
    terms, _ = compute_losses(**inputs, config=config)
    return float(terms.smooth)


# ---------------------------------------------------------------- SSIM + L1
def test_ssim_dissimilarity_matches_windowed_numpy() -> None:
    x = RNG.uniform(0, 1, (2, 6, 7, 3)).astype(np.float32)
    y = np.clip(x + RNG.normal(0, 0.2, x.shape), 0, 1).astype(np.float32)
    np.testing.assert_allclose(ssim_dissimilarity(x, y).numpy(), np_ssim_dissimilarity(x, y), atol=2e-5)
    np.testing.assert_allclose(ssim_dissimilarity(x, x).numpy(), 0.0, atol=1e-5)


def test_ssim_l1_of_each_source_against_the_shared_target_matches_numpy() -> None:
    images = RNG.uniform(-1, 1, (2, 6, 7, 3, 3)).astype(np.float32)  # 3 sources
    target = RNG.uniform(-1, 1, (2, 6, 7, 1, 3)).astype(np.float32)
    got = photometric_error(images, target, "ssim_l1").numpy()
    for n in range(3):
        a, b = (images[:, :, :, n] + 1) / 2, (target[:, :, :, 0] + 1) / 2
        expected = 0.85 * np_ssim_dissimilarity(a, b) + 0.15 * np.abs(a - b)
        np.testing.assert_allclose(got[:, :, :, n], expected, atol=2e-5)


def test_ssim_l1_on_constant_images_hand_worked() -> None:
    # Constant windows: variances 0, so SSIM = (2 m1 m2 + C1) / (m1^2 + m2^2 + C1) with m = (v + 1) / 2.
    a = np.full((1, 4, 5, 1, 3), 0.2, np.float32)  # 0.6 in [0, 1]
    b = np.full((1, 4, 5, 1, 3), -0.6, np.float32)  # 0.2 in [0, 1]
    ssim = (2 * 0.6 * 0.2 + 1e-4) / (0.36 + 0.04 + 1e-4)
    expected = 0.85 * (1 - ssim) / 2 + 0.15 * 0.4
    np.testing.assert_allclose(photometric_error(a, b, "ssim_l1").numpy(), expected, rtol=1e-4)  # float32 variances
    np.testing.assert_array_equal(photometric_error(a, b, "l1").numpy(), np.abs(a - b))


# ---------------------------------------------------------------- valid-pixel mask
@pytest.mark.parametrize("mode, last_valid", [("legacy", 4.999), ("border", 5.0)])
def test_inside_image_follows_what_the_sampler_reads(mode: str, last_valid: float) -> None:
    coords = np.array([[[[0.0, 0.0], [last_valid, 2.0], [5.0001, 1.0], [-0.001, 1.0], [2.0, 3.5], [np.nan, 1.0]]]],
                      np.float32)  # 6 x 4 image: x in [0, 5], y in [0, 3]
    inside = inside_image(coords, 4, 6, mode).numpy()[0, 0]
    np.testing.assert_array_equal(inside, [1, 1, 0, 0, 0, 0])
    assert inside_image(np.array([[[[5.0, 1.0]]]], np.float32), 4, 6, mode).numpy()[0, 0, 0] == (mode == "border")


def shifted_scene(shift: int = 2, height: int = 8, width: int = 16):
    """A target and one source that is the target moved `shift` pixels left, and a pose tx = -shift * depth / fx
    that warps the source exactly onto the target. Target columns x < shift project to x - shift < 0, outside the
    source; with the legacy sampler so does the last row (y = H - 1 is read as zeros)."""
    depth, fx = 4.0, 10.0
    tgt = RNG.uniform(-1, 1, (1, height, width, 3)).astype(np.float32)
    src = np.zeros_like(tgt)
    src[:, :, :-shift] = tgt[:, :, shift:]
    # Target pixel x lands at x - shift in the source for tx = -shift * depth / fx.
    poses = np.array([[[-shift * depth / fx, 0, 0, 0, 0, 0]]], np.float32)
    k = np.array([[fx, 0, width / 2], [0, fx, height / 2], [0, 0, 1]], np.float32)[None, None]
    disp = np.full((1, height, width, 1), 1 / depth, np.float32)
    return tgt, src, disp, poses, k


def legacy_outside(height: int, width: int, shift: int) -> np.ndarray:
    """bool [H, W]: the target pixels of `shifted_scene` that the legacy sampler reads as zeros."""
    outside = np.zeros((height, width), bool)
    outside[:, :shift] = True
    outside[-1] = True
    return outside


def test_valid_mask_gives_zero_weight_to_pixels_that_leave_the_source() -> None:
    tgt, src, disp, poses, k = shifted_scene(shift=2)
    common = {"smooth_weight": 0.0, "num_scales": 1}
    faithful, _ = compute_losses(tgt, src, [disp], poses, None, k, None, LossConfig(**common))
    masked, _ = compute_losses(tgt, src, [disp], poses, None, k, None, LossConfig(valid_mask=True, **common))
    # The legacy sampler reads zeros for target columns 0 and 1 and the last row: |0 - tgt| there.
    outside = legacy_outside(tgt.shape[1], tgt.shape[2], shift=2)
    np.testing.assert_allclose(faithful.pixel.numpy(), np.abs(tgt[0][outside]).sum() / tgt.size, rtol=1e-5)
    assert masked.pixel.numpy() == pytest.approx(0.0, abs=1e-5)


# ---------------------------------------------------------------- per-pixel selection
def np_selected(error: np.ndarray, valid: np.ndarray | None, identity: np.ndarray | None, use_min: bool) -> float:
    per_source = error.astype(np.float64).mean(-1)  # [B, H, W, N]
    valid = np.ones_like(per_source) if valid is None else valid
    if use_min:
        value = np.where(valid > 0, per_source, np.inf).min(-1, keepdims=True)
        weight = valid.max(-1, keepdims=True)
        value = np.where(weight > 0, value, 0.0)
    else:
        value, weight = per_source, valid
    if identity is not None:
        ident = identity.astype(np.float64).mean(-1)
        warped = value if use_min else per_source.mean(-1, keepdims=True)
        reference = ident.min(-1, keepdims=True) if use_min else ident.mean(-1, keepdims=True)
        weight = weight * (warped < reference)
    return float((value * weight).mean(axis=(0, 1, 2)).sum())


@pytest.mark.parametrize("use_min", [True, False])
@pytest.mark.parametrize("with_valid", [True, False])
@pytest.mark.parametrize("with_identity", [True, False])
def test_selected_pixel_loss_matches_numpy(use_min: bool, with_valid: bool, with_identity: bool) -> None:
    error = RNG.uniform(0, 1, (2, 5, 6, 3, 3)).astype(np.float32)
    valid = (RNG.uniform(size=(2, 5, 6, 3)) > 0.3).astype(np.float32) if with_valid else None
    identity = RNG.uniform(0, 1, error.shape).astype(np.float32) if with_identity else None
    got = selected_pixel_loss(error, valid, identity, use_min).numpy()
    assert got == pytest.approx(np_selected(error, valid, identity, use_min), rel=1e-5)


def test_minimum_reprojection_hand_worked() -> None:
    # One pixel, two sources: channel-mean errors 0.3 and 0.1; the second source is not valid, so 0.3 counts.
    error = np.array([0.3, 0.1], np.float32).reshape(1, 1, 1, 2, 1)
    assert selected_pixel_loss(error, None, None, True).numpy() == pytest.approx(0.1)
    assert selected_pixel_loss(error, np.array([1, 0], np.float32).reshape(1, 1, 1, 2), None, True
                               ).numpy() == pytest.approx(0.3)
    assert selected_pixel_loss(error, np.zeros((1, 1, 1, 2), np.float32), None, True).numpy() == 0.0
    # Auto-mask: the unwarped sources match better (0.05 < 0.1), so the pixel is dropped.
    identity = np.array([0.05, 0.9], np.float32).reshape(1, 1, 1, 2, 1)
    assert selected_pixel_loss(error, None, identity, True).numpy() == 0.0


def test_minimum_reprojection_gradient_reaches_only_the_best_source() -> None:
    error = tf.Variable(np.array([0.3, 0.1, 0.5], np.float32).reshape(1, 1, 1, 3, 1))
    with tf.GradientTape() as tape:
        loss = selected_pixel_loss(error, np.array([1, 1, 1], np.float32).reshape(1, 1, 1, 3), None, True)
    np.testing.assert_array_equal(tape.gradient(loss, error).numpy().ravel(), [0, 1, 0])


def test_auto_mask_drops_a_static_scene() -> None:
    # Target == sources (the camera stands still): the unwarped error is 0, so every pixel is masked and a depth
    # or pose that warps badly cannot be learned from it.
    tgt, _, disp, poses, k = shifted_scene()
    src = np.concatenate([tgt, tgt], axis=-1)
    poses2 = np.concatenate([poses, -poses], axis=1)
    config = LossConfig(smooth_weight=0.0, num_scales=1, auto_mask=True, min_reprojection=True)
    terms, _ = compute_losses(tgt, src, [disp], poses2, None, k, None, config)
    assert terms.pixel.numpy() == 0.0
    faithful, _ = compute_losses(tgt, src, [disp], poses2, None, k, None, LossConfig(smooth_weight=0.0,
                                                                                      num_scales=1))
    assert faithful.pixel.numpy() > 0.1


# ---------------------------------------------------------------- depth smoothness
def test_depth_smoothness_weights_depth_by_one_over_2_3_to_the_scale() -> None:
    inputs = random_loss_inputs(1, 32, 48)
    expected = sum(0.3 / 2.3**s * np_smoothness(1.0 / disp) for s, disp in enumerate(inputs["disps"]))
    assert smooth_term(inputs, LossConfig(smooth_weight=0.3, depth_smoothness=True)) == pytest.approx(expected,
                                                                                                     rel=1e-5)


# ---------------------------------------------------------------- edge-aware smoothness
def np_edge_aware_smoothness(field: np.ndarray, image: np.ndarray, strength: float = 1.0) -> float:
    """Per-pixel loops: each second difference of field weighted by exp(-strength * mean over channels of |the same
    second difference of (image + 1) / 2|), each of the four terms averaged over its own valid size (float64)."""
    f, img = field[..., 0].astype(np.float64), (image.astype(np.float64) + 1.0) / 2.0
    batch, height, width = f.shape
    steps = {"xx": ((0, 1), (0, 1)), "xy": ((0, 1), (1, 0)), "yx": ((1, 0), (0, 1)), "yy": ((1, 0), (1, 0))}
    total = 0.0
    for (dy1, dx1), (dy2, dx2) in steps.values():
        terms = []
        for b, y, x in np.ndindex(batch, height - dy1 - dy2, width - dx1 - dx2):
            def second(a, b=b, y=y, x=x, dy1=dy1, dx1=dx1, dy2=dy2, dx2=dx2):
                return (a[b, y + dy1 + dy2, x + dx1 + dx2] - a[b, y + dy2, x + dx2]
                        - a[b, y + dy1, x + dx1] + a[b, y, x])
            terms.append(abs(second(f)) * np.exp(-strength * np.mean(np.abs(second(img)), axis=-1)))
        total += np.mean(terms)
    return total


@pytest.mark.parametrize("strength", [1.0, 10.0])
def test_edge_aware_smoothness_matches_per_pixel_numpy_at_every_scale(strength: float) -> None:
    inputs = random_loss_inputs(2, 32, 24)
    pyramid = [inputs["tgt_image"].astype(np.float64)]
    for _ in range(3):  # 2x2 block means, the loss's area pyramid
        p = pyramid[-1]
        pyramid.append(p.reshape(p.shape[0], p.shape[1] // 2, 2, p.shape[2] // 2, 2, 3).mean(axis=(2, 4)))
    expected = sum(0.3 / 2.3**s * np_edge_aware_smoothness(1.0 / disp, pyramid[s], strength)
                   for s, disp in enumerate(inputs["disps"]))
    config = LossConfig(smooth_weight=0.3, depth_smoothness=True, edge_aware_smoothness=True,
                        edge_aware_strength=strength)
    assert smooth_term(inputs, config) == pytest.approx(expected, rel=1e-5)


def test_edge_aware_smoothness_forgives_a_depth_step_only_where_the_image_steps() -> None:
    """Hand-worked: a depth step of 1 between columns 1 and 2, the same in three rows, has second differences
    xx = (1, -1) in each row and no others, so the term is mean |xx| = 1. Under an image step of 1 ([0, 1] units)
    at the same columns each is weighted exp(-1); over a flat image the step costs 1, as without the switch."""
    step = np.tile(np.array([0, 0, 1, 1], np.float32), (1, 3, 1))[..., np.newaxis]  # [1, 3, 4, 1]
    image_step = np.repeat(step * 2 - 1, 3, axis=-1)  # 0 -> -1, 1 -> 1 in [-1, 1]
    assert float(smoothness(step, image_step)) == pytest.approx(np.exp(-1.0), rel=1e-6)
    assert float(smoothness(step, np.zeros_like(image_step))) == pytest.approx(1.0)
    assert float(smoothness(step)) == pytest.approx(1.0)
    assert float(smoothness(step, image_step, edge_strength=10.0)) == pytest.approx(np.exp(-10.0), rel=1e-6)
    assert float(smoothness(step, image_step, edge_strength=0.0)) == pytest.approx(1.0)  # gamma 0: unweighted


# ---------------------------------------------------------------- normalized smoothness
@pytest.mark.parametrize("depth_smoothness", [False, True])
def test_normalized_smoothness_divides_each_image_by_its_mean_and_ignores_scale(depth_smoothness: bool) -> None:
    inputs = random_loss_inputs(2, 32, 48)
    decay = 2.3 if depth_smoothness else 2.0
    fields = [1.0 / d.astype(np.float64) if depth_smoothness else d.astype(np.float64) for d in inputs["disps"]]
    normalized = [f / f.mean(axis=(1, 2, 3), keepdims=True) for f in fields]
    expected = sum(0.3 / decay**s * np_smoothness(normalized[s]) for s in range(4))
    config = LossConfig(smooth_weight=0.3, depth_smoothness=depth_smoothness, normalized_smoothness=True)
    assert smooth_term(inputs, config) == pytest.approx(expected, rel=1e-5)
    rescaled = {**inputs, "disps": [5.0 * d for d in inputs["disps"]]}  # a global rescale of the output is free
    assert smooth_term(rescaled, config) == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------- log-depth smoothness
def test_log_depth_smoothness_matches_numpy_and_ignores_scale() -> None:
    inputs = random_loss_inputs(2, 32, 48)
    expected = sum(0.3 / 2.3**s * np_smoothness(-np.log(d.astype(np.float64))) for s, d in enumerate(inputs["disps"]))
    config = LossConfig(smooth_weight=0.3, log_depth_smoothness=True)
    assert smooth_term(inputs, config) == pytest.approx(expected, rel=1e-5)
    with_depth = LossConfig(smooth_weight=0.3, depth_smoothness=True, log_depth_smoothness=True)
    assert smooth_term(inputs, with_depth) == pytest.approx(expected, rel=1e-5)  # log depth replaces depth
    rescaled = {**inputs, "disps": [5.0 * d for d in inputs["disps"]]}  # log(5 x) - log(x) is constant: no change
    assert smooth_term(rescaled, config) == pytest.approx(expected, rel=1e-4)


def test_log_depth_smoothness_of_a_hand_worked_depth_ramp() -> None:
    """Depth 1, 2, 4 along each row doubles at each step: log depth is linear, so its second difference is 0, while
    depth's is 4 - 2 * 2 + 1 = 1 (and the rows are equal: the other three differences are 0)."""
    disp = np.tile(1.0 / np.array([1.0, 2.0, 4.0], np.float32), (1, 3, 1))[..., np.newaxis]  # [1, 3, 3, 1]
    assert float(smoothness(-np.log(disp))) == pytest.approx(0.0, abs=1e-6)
    assert float(smoothness(1.0 / disp)) == pytest.approx(1.0)


# ---------------------------------------------------------------- full-resolution multi-scale
def np_upsample_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of [B, h, w, C] to [B, height, width, C] with half-pixel centres (sample the input at
    (i + 0.5) * h / height - 0.5, clamped to the edge), one axis at a time."""
    def along(x: np.ndarray, axis: int, size: int) -> np.ndarray:
        n = x.shape[axis]
        pos = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
        low = np.floor(pos).astype(int)
        high = np.minimum(low + 1, n - 1)
        shape = [1] * x.ndim
        shape[axis] = size
        frac = (pos - low).reshape(shape)
        return np.take(x, low, axis=axis) * (1 - frac) + np.take(x, high, axis=axis) * frac
    return along(along(image.astype(np.float64), 1, height), 2, width)


def moving_scene(height: int = 16, width: int = 24) -> dict:
    """compute_losses' arguments for two sources with random small motions, random disparities at two scales and
    K at scale 1 deliberately not K / 2, so a loss that used it instead of scale 0's would differ."""
    k0 = np.array([[20, 0, 12], [0, 20, 8], [0, 0, 1]], np.float32)
    k1 = np.array([[7, 0, 5], [0, 7, 3], [0, 0, 1]], np.float32)
    return {"tgt_image": RNG.uniform(-1, 1, (2, height, width, 3)).astype(np.float32),
            "src_image_stack": RNG.uniform(-1, 1, (2, height, width, 6)).astype(np.float32),
            "disps": [RNG.uniform(0.1, 0.5, (2, height // 2**s, width // 2**s, 1)).astype(np.float32)
                      for s in range(2)],
            "poses": RNG.normal(0, 0.1, (2, 2, 6)).astype(np.float32), "exp_logits": None,
            "intrinsics": np.stack([k0, k1])[None].repeat(2, 0), "boundary": None}


def pixel_term(inputs: dict, **settings: object) -> float:
    terms, _ = compute_losses(**inputs, config=LossConfig(smooth_weight=0.0, **settings))
    return float(terms.pixel)


@pytest.mark.parametrize("selection", [{}, {"auto_mask": True, "min_reprojection": True, "photometric": "ssim_l1"}],
                         ids=["all_pixels", "auto_mask"])
def test_full_res_multiscale_scores_each_upsampled_disparity_on_the_full_size_images(selection: dict) -> None:
    """Scale 1's term = the one-scale loss of its disparity upsampled (numpy) to 16x24, with the full-size images
    and scale 0's K; scale 0's term is unchanged. With auto-masking, scale 1 masks by the unwarped sources' error
    at full size (computed once, at scale 0)."""
    inputs = moving_scene()
    height, width = inputs["tgt_image"].shape[1:3]
    upsampled = np_upsample_bilinear(inputs["disps"][1], height, width).astype(np.float32)
    expected = (pixel_term(inputs, num_scales=1, **selection)
                + pixel_term({**inputs, "disps": [upsampled]}, num_scales=1, **selection))
    assert pixel_term(inputs, num_scales=2, full_res_multiscale=True, **selection) == pytest.approx(expected,
                                                                                                    rel=1e-5)
    assert pixel_term(inputs, num_scales=2, **selection) != pytest.approx(expected, rel=1e-3)  # the original's


def test_full_res_multiscale_of_a_constant_disparity_repeats_the_full_size_loss() -> None:
    """Upsampling a constant gives the constant: with the same constant disparity at every scale each of the four
    scales scores the full-size loss, so the pixel term is 4 times the one-scale one, and the smoothness term (at
    each scale's own size) is untouched."""
    inputs = random_loss_inputs(2, 16, 32)
    inputs["disps"] = [np.full_like(d, 0.3) for d in inputs["disps"]]
    inputs["poses"] = RNG.normal(0, 0.1, (2, 2, 6)).astype(np.float32)
    assert pixel_term(inputs, full_res_multiscale=True) == pytest.approx(4 * pixel_term(inputs, num_scales=1),
                                                                         rel=1e-5)
    random_disps = random_loss_inputs(2, 24, 32)  # scale 3 (3x4) still has second differences
    smooth = [smooth_term(random_disps, LossConfig(smooth_weight=0.3, depth_smoothness=True, full_res_multiscale=on))
              for on in (False, True)]
    assert smooth[0] == smooth[1] > 0


# ---------------------------------------------------------------- rules
def test_switches_default_off_and_exp_excludes_pixel_selection() -> None:
    config = LossConfig()
    assert (config.valid_mask, config.photometric, config.min_reprojection, config.auto_mask,
            config.depth_smoothness, config.log_depth_smoothness, config.edge_aware_smoothness,
            config.normalized_smoothness, config.full_res_multiscale) == (False, "l1") + (False,) * 7
    for name in ("min_reprojection", "auto_mask"):
        with pytest.raises(ConfigError, match=f"{name} cannot be combined with the explainability"):
            LossConfig(explain_reg_weight=0.2, **{name: True})
    with pytest.raises(ConfigError, match="full_res_multiscale cannot be combined with the explainability mask"):
        LossConfig(explain_reg_weight=0.2, full_res_multiscale=True)
    with pytest.raises(ConfigError, match="photometric must be one of l1, ssim_l1"):
        LossConfig(photometric="ssim")


def test_valid_mask_and_ssim_combine_with_explainability() -> None:
    tgt, src, disp, poses, k = shifted_scene()
    logits = np.zeros((1, 8, 16, 2), np.float32)  # even logits: every pixel weighted by 1/2
    config = LossConfig(smooth_weight=0.0, num_scales=1, explain_reg_weight=0.1, valid_mask=True,
                        photometric="ssim_l1")
    terms, images = compute_losses(tgt, src, [disp], poses, [logits], k, None, config)
    projected = images["projected"].numpy()[..., None, :]
    error = np.asarray(photometric_error(projected, tgt[..., None, :], "ssim_l1"))
    valid = ~legacy_outside(8, 16, shift=2)
    assert terms.pixel.numpy() == pytest.approx((error * 0.5 * valid[None, ..., None, None]).mean(), rel=1e-5)


def test_valid_mask_alone_changes_the_loss_value_not_its_gradients() -> None:
    """With the legacy sampler and the L1 error, a pixel outside the source reads a constant 0 with zero gradient,
    so masking it changes the mean by a constant: depth and pose get the same gradients (within rounding)."""
    tgt = RNG.uniform(-1, 1, (2, 16, 24, 3)).astype(np.float32)
    src = RNG.uniform(-1, 1, (2, 16, 24, 6)).astype(np.float32)
    disp = tf.Variable(RNG.uniform(0.05, 0.5, (2, 16, 24, 1)).astype(np.float32))
    poses = tf.Variable(RNG.normal(0, 0.3, (2, 2, 6)).astype(np.float32))  # large motions: many pixels leave
    k = np.array([[20, 0, 12], [0, 20, 8], [0, 0, 1]], np.float32)[None, None].repeat(2, 0)
    results = []
    for valid_mask in (False, True):
        with tf.GradientTape() as tape:
            terms, _ = compute_losses(tgt, src, [disp], poses, None, k, None,
                                      LossConfig(smooth_weight=0.0, num_scales=1, valid_mask=valid_mask))
        results.append((terms.pixel.numpy(), tape.gradient(terms.pixel, [disp, poses])))
    (faithful, grads_faithful), (masked, grads_masked) = results
    assert masked < faithful - 0.05  # the constant error of the outside pixels is gone from the mean
    for a, b in zip(grads_faithful, grads_masked):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-9)
