"""SfMLearner's training losses and the seed paper's boundary loss (its Eq. 3); docs/QUIRKS.md lists the quirks.

total = pixel + smooth + exp + lambda_seg * seg, with
* pixel: L1 view synthesis, the mean of |warped source - target| per (scale, source), summed unweighted over the
  scales and sources; weighted per pixel by the explainability probability when explain_reg_weight > 0;
* smooth: smooth_weight / 2^s times the sum of the four means of absolute second differences of disparity s;
* exp: explain_reg_weight times the mean cross-entropy of each (scale, source) mask against "explainable";
* seg: the boundary loss, see `boundary_loss`.

Opt-in switches (all off by default, when the loss is the original's to the bit; sfmlearner_tf.training.recipes
names them):
* valid_mask: a pixel whose projection falls outside the source frame (where the sampler reads no pixel) gets zero
  weight, still counted in the mean, as the PyTorch port SfmLearner-Pytorch; the original averages the constant
  error of the sampler's zeros there;
* photometric "ssim_l1": per channel 0.85 (1 - SSIM) / 2 + 0.15 |a - b| on images mapped to [0, 1], SSIM over
  3x3 windows with reflection padding (monodepth2);
* min_reprojection: per pixel the smallest source error (channel mean), not the sum over sources (monodepth2);
* auto_mask: zero weight where the unwarped source matches the target better than the warped one(s) do
  (monodepth2: static scenes and objects moving with the camera);
* depth_smoothness: the smoothness term on depth 1/disp with scale weights smooth_weight / 2.3^s (the port);
* edge_aware_smoothness: each second difference of the smoothed map weighted per pixel by exp(-|the same second
  difference of the target image|) (channel mean, image in [0, 1]), so depth may bend where the image does: the
  image-edge weighting of Godard et al. (CVPR 2017), applied to SfMLearner's second-order term;
  edge_aware_strength (gamma, 1 by default as theirs) sharpens it to exp(-gamma |...|): with gamma 1 even an
  object's outline keeps most of the weight (the 99th percentile of the synthetic drives' |second difference| is
  0.26-0.28, a weight of 0.76);
* log_depth_smoothness: the term on log depth = -log(disp) with depth smoothness's scale weights (in place of depth
  when both are on), which weighs a relative change of depth alike at every range and ignores the output's scale;
* normalized_smoothness: the smoothed map divided by its mean over each image first, so the term no longer pays
  the network to shrink (depth) or grow (disparity) the scale of its output (Wang et al., CVPR 2018; monodepth2);
* full_res_multiscale: each scale's disparity upsampled (bilinear, half-pixel centres) to the input's size and its
  photometric loss computed there, against the full-size images with scale 0's intrinsics (monodepth2), so the
  coarse scales see the fine image detail a small motion shows; smoothness and the boundary loss stay at each
  scale's own size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import tensorflow as tf

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.geometry import SAMPLER_MODES, bilinear_sampler, inside_image, source_pixel_coords
from sfmlearner_tf.ops.legacy_resize import area_downsample
from sfmlearner_tf.settings import check_settings, setting

SEG_REDUCTIONS = ("mean", "sum")
PHOTOMETRIC_ERRORS = ("l1", "ssim_l1")
SSIM_WEIGHT = 0.85  # alpha of monodepth2's photometric error
SSIM_C1, SSIM_C2 = 0.01**2, 0.03**2  # SSIM's stabilising constants for a dynamic range of 1
DEPTH_SMOOTH_DECAY = 2.3  # the port's per-scale divisor of the depth smoothness weight
_NO_SOURCE = 1e6  # stands for the error of a source the pixel does not project into (min_reprojection)


@dataclass(frozen=True)
class LossConfig:
    """Loss weights and options. Defaults are the original's (no boundary loss, legacy sampler).

    sampler_mode: "legacy" (the original's zeros outside [0, W-1) x [0, H-1)) or "border" (the fix, see
    `geometry.bilinear_sampler`).
    """

    smooth_weight: float = setting(0.5, "Weight of the 2nd-order disparity smoothness.", low=0.0)
    explain_reg_weight: float = setting(0.0, "Weight of the explainability regulariser (0 = no exp branch).",
                                        low=0.0)
    lambda_seg: float = setting(0.0, "Weight of the boundary loss (0 = the baseline).", low=0.0)
    seg_gradient_order: int = setting(1, "Disparity gradient order in the boundary loss (1 or 2, the paper's **).",
                                      low=1, high=2, needs="lambda_seg")
    seg_reduction: str = setting("mean", "Boundary loss over pixels.", choices=SEG_REDUCTIONS,
                                 needs="lambda_seg")
    seg_num_scales: int = setting(1, "Boundary loss on scales 0..N-1.", low=1, high=4, needs="lambda_seg")
    num_scales: int = setting(4, "Scales of the loss pyramid.", low=1, high=4)
    sampler_mode: str = setting("legacy", "legacy = the original's zeros outside the image; border = the fix.",
                                choices=SAMPLER_MODES)
    valid_mask: bool = setting(False, "Zero weight for pixels that project outside the source frame.")
    photometric: str = setting("l1", "Photometric error: l1 (the original) or 0.85 SSIM + 0.15 L1.",
                               choices=PHOTOMETRIC_ERRORS)
    min_reprojection: bool = setting(False, "Per pixel the smallest error over the sources, not their sum.")
    auto_mask: bool = setting(False, "Zero weight where the unwarped source matches better than the warped one.")
    depth_smoothness: bool = setting(False, "Smooth depth (1/disp), scale weights 1/2.3^s (the original: "
                                     "disparity, 1/2^s).")
    log_depth_smoothness: bool = setting(False, "Smooth log depth = -log(disp), scale weights 1/2.3^s, in place "
                                         "of depth if depth_smoothness is on too (the original: disparity).")
    edge_aware_smoothness: bool = setting(False, "Weight the smoothness by exp(-|second difference of the "
                                          "image|) (the original: unweighted).")
    edge_aware_strength: float = setting(1.0, "With edge_aware_smoothness: gamma of its weights exp(-gamma "
                                         "|second difference of the image|) (Godard et al.: 1).", low=0.0,
                                         needs="edge_aware_smoothness")
    normalized_smoothness: bool = setting(False, "Divide the smoothed map by its per-image mean (the original: "
                                          "not normalized).")
    full_res_multiscale: bool = setting(False, "Photometric loss of every scale at the input's size, its "
                                        "disparity upsampled (the original: at each scale's size).")

    def __post_init__(self) -> None:
        check_settings(self)
        if self.seg_num_scales > self.num_scales:
            self._invalid("seg_num_scales", f"must be in 1..num_scales={self.num_scales} (the loss pyramid's "
                          f"scales), got {self.seg_num_scales}")
        for name in ("min_reprojection", "auto_mask"):
            if getattr(self, name) and self.do_exp:
                self._invalid(name, "cannot be combined with the explainability mask (explain_reg_weight > 0): "
                              "both decide per pixel which errors count")
        if self.full_res_multiscale and self.do_exp:
            self._invalid("full_res_multiscale", "cannot be combined with the explainability mask "
                          "(explain_reg_weight > 0): the masks are predicted at each scale's own size")

    @staticmethod
    def _invalid(name: str, problem: str) -> None:
        raise ConfigError(f"LossConfig.{name} {problem}", fields=(name,))

    @property
    def do_exp(self) -> bool:
        """The explainability branch exists only when its regulariser is on, as in the original."""
        return self.explain_reg_weight > 0

    @property
    def selects_pixels(self) -> bool:
        """The photometric loss chooses per pixel among the sources (min_reprojection) or drops pixels
        (auto_mask), so it works on the channel-mean error map."""
        return self.min_reprojection or self.auto_mask

    @property
    def with_boundary(self) -> bool:
        """The boundary panel is read (and the boundary loss computed) only when lambda_seg > 0."""
        return self.lambda_seg > 0


class LossTerms(NamedTuple):
    """Float32 scalars: total = pixel + smooth + exp + lambda_seg * seg. pixel, smooth and exp carry their weights;
    seg is the unweighted boundary loss (computed whenever boundary images are given, so it can be watched even at
    lambda_seg = 0)."""

    total: tf.Tensor
    pixel: tf.Tensor
    smooth: tf.Tensor
    exp: tf.Tensor
    seg: tf.Tensor


def _crop(x: tf.Tensor, top: int, left: int, bottom: int, right: int) -> tf.Tensor:
    """x[:, top:H-bottom, left:W-right] of a [B, H, W, C] tensor. tf.slice rather than strided slicing: its
    gradient is a plain pad, a lighter op than the strided-slice gradient."""
    shape = tf.shape(x)
    return tf.slice(x, [0, top, left, 0], [-1, shape[1] - top - bottom, shape[2] - left - right, -1])


def _diff_x(x: tf.Tensor) -> tf.Tensor:
    """Forward difference along the width: x(col + 1) - x(col), one column shorter."""
    return _crop(x, 0, 1, 0, 0) - _crop(x, 0, 0, 0, 1)


def _diff_y(x: tf.Tensor) -> tf.Tensor:
    """Forward difference along the height: x(row + 1) - x(row), one row shorter."""
    return _crop(x, 1, 0, 0, 0) - _crop(x, 0, 0, 1, 0)


def _second_differences(x: tf.Tensor) -> list[tf.Tensor]:
    """The four forward second differences of x [B, H, W, C]: xx, xy (y of x), yx and yy."""
    dx, dy = _diff_x(x), _diff_y(x)
    return [_diff_x(dx), _diff_y(dx), _diff_x(dy), _diff_y(dy)]


def smoothness(disp: tf.Tensor, image: tf.Tensor | None = None, edge_strength: float = 1.0) -> tf.Tensor:
    """Sum of the four means of absolute second differences of disp [B, H, W, 1] (forward differences, each
    mean over its own valid size), as the original's `compute_smooth_loss`. With `image` [B, H, W, 3] in [-1, 1]
    (edge-aware), each difference is weighted per pixel by exp(-edge_strength * the channel mean of |the same
    difference of the image mapped to [0, 1]|)."""
    second = _second_differences(disp)
    if image is not None:
        image_second = _second_differences((image + 1.0) / 2.0)
        second = [d * tf.exp(-edge_strength * tf.reduce_mean(tf.abs(i), axis=-1, keepdims=True))
                  for d, i in zip(second, image_second, strict=True)]
    return tf.add_n([tf.reduce_mean(tf.abs(d)) for d in second])


def _smoothness_term(disp: tf.Tensor, tgt: tf.Tensor, scale: int, config: LossConfig) -> tf.Tensor:
    """Scale `scale`'s weighted smoothness term: the original's (smooth_weight / 2^s on disparity) or, by the
    switches, on depth or log depth (smooth_weight / 2.3^s), normalized by its per-image mean, weighted by the
    target image's edges. The weight is one Python float times the term, the original's order of operations."""
    field = disp
    if config.log_depth_smoothness:
        field = -tf.math.log(disp)
    elif config.depth_smoothness:
        field = 1.0 / disp
    if config.normalized_smoothness:
        field = field / tf.reduce_mean(field, axis=[1, 2, 3], keepdims=True)
    decay = DEPTH_SMOOTH_DECAY if config.depth_smoothness or config.log_depth_smoothness else 2
    image = tgt if config.edge_aware_smoothness else None
    return config.smooth_weight / decay**scale * smoothness(field, image, config.edge_aware_strength)


def _window_mean(t: tf.Tensor) -> tf.Tensor:
    """The mean over each pixel's 3x3 window, per channel, of [B, H, W, C] with reflection padding (same size out).
    A depthwise convolution with weights 1/9: the same means as a 3x3 average pool, and on the CPU forward and
    backward together take about 40 % less time."""
    padded = tf.pad(t, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    weights = tf.fill([3, 3, t.shape[-1], 1], 1.0 / 9.0)
    return tf.nn.depthwise_conv2d(padded, weights, strides=[1, 1, 1, 1], padding="VALID")


def _ssim_from_means(mu_x: tf.Tensor, mu_y: tf.Tensor, mean_xx: tf.Tensor, mean_yy: tf.Tensor, mean_xy: tf.Tensor
                     ) -> tf.Tensor:
    """clip((1 - SSIM) / 2, 0, 1) from the window means of x, y, x^2, y^2 and xy (broadcastable)."""
    sigma_x = mean_xx - mu_x * mu_x
    sigma_y = mean_yy - mu_y * mu_y
    sigma_xy = mean_xy - mu_x * mu_y
    numerator = (2.0 * mu_x * mu_y + SSIM_C1) * (2.0 * sigma_xy + SSIM_C2)
    denominator = (mu_x * mu_x + mu_y * mu_y + SSIM_C1) * (sigma_x + sigma_y + SSIM_C2)
    return tf.clip_by_value((1.0 - numerator / denominator) / 2.0, 0.0, 1.0)


def ssim_dissimilarity(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """clip((1 - SSIM(x, y)) / 2, 0, 1) per pixel and channel of [B, H, W, C] images in [0, 1]: means, variances and
    covariance over 3x3 windows (reflection padding, so the output has the input's size), C1 = 0.01^2,
    C2 = 0.03^2, as monodepth2."""
    return _ssim_from_means(_window_mean(x), _window_mean(y), _window_mean(x * x), _window_mean(y * y),
                            _window_mean(x * y))


def photometric_error(images: tf.Tensor, target: tf.Tensor, kind: str) -> tf.Tensor:
    """Per-pixel, per-channel error of images [B, H, W, N, 3] against target [B, H, W, 1, 3] (both in [-1, 1]).

    "l1": |images - target| (the original). "ssim_l1": 0.85 (1 - SSIM) / 2 + 0.15 |images - target| with both
    mapped to [0, 1] first, where SSIM's constants and alpha were set (monodepth2); the target's window means are
    computed once for all N images."""
    if kind == "l1":
        return tf.abs(images - target)
    if kind != "ssim_l1":
        raise ConfigError(f"photometric error must be one of {', '.join(PHOTOMETRIC_ERRORS)}, got {kind!r}")
    a = (images + 1.0) / 2.0
    b = (target + 1.0) / 2.0
    batch_hw = tf.shape(a)[:3]

    def means(t: tf.Tensor) -> tf.Tensor:
        """Window means of [B, H, W, K, 3], each of the K*3 channels alone."""
        flat = tf.reshape(t, tf.concat([batch_hw, [t.shape[3] * 3]], 0))
        return tf.reshape(_window_mean(flat), tf.shape(t))

    ssim = _ssim_from_means(means(a), means(b), means(a * a), means(b * b), means(a * b))
    return SSIM_WEIGHT * ssim + (1.0 - SSIM_WEIGHT) * tf.abs(a - b)


def selected_pixel_loss(error: tf.Tensor, valid: tf.Tensor | None, identity_error: tf.Tensor | None,
                        min_reprojection: bool) -> tf.Tensor:
    """The photometric loss of one scale when pixels are selected: error [B, H, W, N, 3] of the warped sources,
    valid [B, H, W, N] (1: the pixel projects into that source) or None, identity_error [B, H, W, N, 3] of the
    unwarped sources (auto-masking) or None.

    min_reprojection: per pixel the minimum over the valid sources of the channel-mean error, zero weight where
    no source is valid; the mean over all pixels. Otherwise each source's channel-mean error weighted by its
    validity, the means over pixels summed over sources (as the original sums them). With identity_error, a pixel
    gets zero weight unless its (minimum or mean) warped error is below the (minimum or mean) unwarped one.
    """
    per_source = tf.reduce_mean(error, axis=-1)  # [B, H, W, N]
    weight = valid
    if min_reprojection:
        candidates = per_source if valid is None else tf.where(valid > 0, per_source, _NO_SOURCE)
        value = tf.reduce_min(candidates, axis=-1, keepdims=True)
        if valid is not None:
            weight = tf.reduce_max(valid, axis=-1, keepdims=True)
            value = tf.where(weight > 0, value, 0.0)
    else:
        value = per_source
    if identity_error is not None:
        identity = tf.reduce_mean(identity_error, axis=-1)
        if min_reprojection:
            moved = value < tf.reduce_min(identity, axis=-1, keepdims=True)
        else:
            moved = tf.reduce_mean(per_source, -1, keepdims=True) < tf.reduce_mean(identity, -1, keepdims=True)
        weight = tf.cast(moved, tf.float32) if weight is None else weight * tf.cast(moved, tf.float32)
    weighted = value if weight is None else value * weight
    return tf.reduce_sum(tf.reduce_mean(weighted, axis=[0, 1, 2]))


def _safe_norm(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """sqrt(a^2 + b^2) with gradient 0 (instead of NaN) where both are 0."""
    squared = tf.square(a) + tf.square(b)
    positive = squared > 0.0
    return tf.where(positive, tf.sqrt(tf.where(positive, squared, 1.0)), 0.0)


def disparity_gradient(disp: tf.Tensor, order: int) -> tf.Tensor:
    """G2 of Eq. 3: gradient magnitude of disp [B, H, W, 1] at every pixel, same shape.

    order 1: forward differences gx = d(x+1, y) - d(x, y), gy = d(x, y+1) - d(x, y); on the last column gx = 0 and
    on the last row gy = 0 (the border value repeated); G2 = sqrt(gx^2 + gy^2).
    order 2: centred second differences gxx = d(x+1) - 2 d(x) + d(x-1), gyy likewise along y, on interior pixels
    (0 on the one-pixel border ring); G2 = sqrt(gxx^2 + gyy^2). Centred so that a disparity step between two
    pixels responds on both of them, where the Sobel boundary image G1 responds too.
    """
    if order == 1:
        gx = tf.pad(_diff_x(disp), [[0, 0], [0, 0], [0, 1], [0, 0]])
        gy = tf.pad(_diff_y(disp), [[0, 0], [0, 1], [0, 0], [0, 0]])
        return _safe_norm(gx, gy)
    if order == 2:
        gxx = _crop(_diff_x(_diff_x(disp)), 1, 0, 1, 0)
        gyy = _crop(_diff_y(_diff_y(disp)), 0, 1, 0, 1)
        return tf.pad(_safe_norm(gxx, gyy), [[0, 0], [1, 1], [1, 1], [0, 0]])
    raise ConfigError(f"disparity gradient order must be 1 or 2, got {order}")


def boundary_loss(boundary: tf.Tensor, disp: tf.Tensor, order: int = 1, reduction: str = "mean") -> tf.Tensor:
    """Eq. 3 of the seed paper at one scale: G1^2 * max(0, G1 - G2) reduced over the pixels.

    boundary G1 [B, H, W, 1] in [0, 1] (the same size as disp), disp [B, H, W, 1]; G2 from `disparity_gradient`.
    reduction "mean": the mean over batch and pixels (default). Eq. 3 writes a sum, but summed over the 53k pixels
    of a 128x416 image the term is about a thousand (three object outlines on a flat disparity: sum 1100, mean
    0.021) against a view synthesis loss of order 1, so with the paper's lambda_seg of 0.4-100 it would swamp every
    other term; the mean gives those lambdas a sensible balance. reduction "sum": the sum over pixels, averaged
    over the batch.
    """
    penalty = tf.square(boundary) * tf.nn.relu(boundary - disparity_gradient(disp, order))
    if reduction == "mean":
        return tf.reduce_mean(penalty)
    if reduction == "sum":
        return tf.reduce_mean(tf.reduce_sum(penalty, axis=[1, 2, 3]))
    raise ConfigError(f"boundary loss reduction must be 'mean' or 'sum', got {reduction!r}")


def _fold_sources(stack: tf.Tensor, num_source: int, channels: int) -> tf.Tensor:
    """[B, H, W, N*C] -> [B*N, H, W, C] with the sources of one sample adjacent."""
    shape = tf.shape(stack)
    split = tf.reshape(stack, [shape[0], shape[1], shape[2], num_source, channels])
    return tf.reshape(tf.transpose(split, [0, 3, 1, 2, 4]), [-1, shape[1], shape[2], channels])


def _unfold_sources(folded: tf.Tensor, num_source: int) -> tf.Tensor:
    """[B*N, H, W, C] -> [B, H, W, N, C], the inverse of `_fold_sources` before the last reshape."""
    shape = tf.shape(folded)
    split = tf.reshape(folded, [-1, num_source, shape[1], shape[2], folded.shape[-1]])
    return tf.transpose(split, [0, 2, 3, 1, 4])


def _warp_sources(src_stack: tf.Tensor, disp: tf.Tensor, poses: tf.Tensor, intrinsics: tf.Tensor,
                  num_source: int, sampler_mode: str, with_valid: bool) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Warps all N sources [B, H, W, 3N] to the target in one batched call -> ([B, H, W, N, 3], with_valid: float32
    validity [B, H, W, N], 1 where the target pixel projects into that source (geometry.inside_image), else None)."""
    depth = tf.repeat(1.0 / tf.squeeze(disp, axis=-1), num_source, axis=0)
    coords = source_pixel_coords(depth, tf.reshape(poses, [-1, 6]), tf.repeat(intrinsics, num_source, axis=0))
    warped = _unfold_sources(bilinear_sampler(_fold_sources(src_stack, num_source, 3), coords, mode=sampler_mode),
                             num_source)
    if not with_valid:
        return warped, None
    shape = tf.shape(src_stack)
    valid = _unfold_sources(inside_image(coords, shape[1], shape[2], sampler_mode)[..., tf.newaxis], num_source)
    return warped, valid[..., 0]


def _photometric_inputs(s: int, tgt: tf.Tensor, src: tf.Tensor, disp: tf.Tensor, tgt_image: tf.Tensor,
                        src_image_stack: tf.Tensor, intrinsics: tf.Tensor, full_res: bool
                        ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """(target, sources, disparity, K) that scale s's photometric loss compares: the scale's own (the original), or
    with full_res the full-size images, K of scale 0 and the disparity upsampled bilinearly to their size."""
    if not full_res or s == 0:
        return tgt, src, disp, intrinsics[:, s]
    upsampled = tf.image.resize(disp, tf.shape(tgt_image)[1:3], method="bilinear")
    return tgt_image, src_image_stack, upsampled, intrinsics[:, 0]


def _check_inputs(disps: list, exp_logits: list | None, boundary: tf.Tensor | None, config: LossConfig) -> None:
    if len(disps) < config.num_scales:
        raise ConfigError(f"compute_losses needs {config.num_scales} disparity scales, got {len(disps)}")
    if config.explain_reg_weight > 0 and (exp_logits is None or len(exp_logits) < config.num_scales):
        raise ConfigError("explain_reg_weight > 0 needs explainability logits for every scale "
                          "(build PoseExpNet with do_exp=True)")
    if config.lambda_seg > 0 and boundary is None:
        raise ConfigError("lambda_seg > 0 needs boundary images (prepare the data with boundary panels)")


def compute_losses(tgt_image: tf.Tensor, src_image_stack: tf.Tensor, disps: list[tf.Tensor], poses: tf.Tensor,
                   exp_logits: list[tf.Tensor] | None, intrinsics: tf.Tensor, boundary: tf.Tensor | None,
                   config: LossConfig) -> tuple[LossTerms, dict[str, tf.Tensor]]:
    """All loss terms for one batch, plus scale-0 images for summaries.

    tgt_image [B, H, W, 3], src_image_stack [B, H, W, 3N] float32 in [-1, 1]; disps [disp_s [B, H/2^s, W/2^s, 1]];
    poses [B, N, 6] target->source; exp_logits [[B, H/2^s, W/2^s, 2N]] or None; intrinsics [B, num_scales, 3, 3];
    boundary [B, H, W, 1] in [0, 1] or None. The image pyramid (area downsampling of target and sources) is built
    once per call and all sources of a scale are warped in one batched call. Returns (terms, images) with images
    "projected" and "error" [B, H, W, 3N] and, with explainability, "exp_mask" [B, H, W, N].
    """
    _check_inputs(disps, exp_logits, boundary, config)
    # Mixed-precision models may hand over float16 outputs: the losses and the warp run in float32.
    disps = [tf.cast(d, tf.float32) for d in disps]
    poses = tf.cast(poses, tf.float32)
    if exp_logits is not None:
        exp_logits = [tf.cast(logits, tf.float32) for logits in exp_logits]
    num_source = src_image_stack.shape[-1] // 3
    use_exp = config.explain_reg_weight > 0
    scaled = tf.concat([tgt_image, src_image_stack], axis=-1)
    zero = tf.constant(0.0)
    pixel, smooth, exp, seg = zero, zero, zero, zero
    summaries: dict[str, tf.Tensor] = {}
    identity = None  # the unwarped sources' error (auto_mask)
    for s in range(config.num_scales):
        if s > 0:
            scaled = area_downsample(scaled, 2)  # 2x2 means of 2x2 means: the 2^s block means of resize_area
        tgt, src = scaled[..., :3], scaled[..., 3:]
        if config.smooth_weight > 0:
            smooth += _smoothness_term(disps[s], tgt, s, config)
        photo_tgt, photo_src, photo_disp, photo_k = _photometric_inputs(
            s, tgt, src, disps[s], tgt_image, src_image_stack, intrinsics, config.full_res_multiscale)
        projected, valid = _warp_sources(photo_src, photo_disp, poses, photo_k, num_source, config.sampler_mode,
                                         config.valid_mask)
        if config.auto_mask and (s == 0 or not config.full_res_multiscale):
            # The unwarped sources' error too, in the same call (the target's means once). With full_res every
            # scale compares the same full-size images, so scale 0's is kept.
            sources = tf.reshape(photo_src, tf.concat([tf.shape(photo_src)[:3], [num_source, 3]], 0))
            both = photometric_error(tf.concat([projected, sources], axis=3), photo_tgt[..., tf.newaxis, :],
                                     config.photometric)
            error, identity = tf.split(both, 2, axis=3)
        else:  # [B, H, W, N, 3]
            error = photometric_error(projected, photo_tgt[..., tf.newaxis, :], config.photometric)
        weight = valid
        if use_exp:
            split_logits = tf.reshape(exp_logits[s], tf.concat([tf.shape(exp_logits[s])[:3], [num_source, 2]], 0))
            log_prob = tf.nn.log_softmax(split_logits)  # [B, H, W, N, 2]; channel 1 = explainable
            log_explainable = tf.unstack(log_prob, axis=-1)[1]
            exp_mask = tf.exp(log_explainable)
            exp += config.explain_reg_weight * tf.reduce_sum(tf.reduce_mean(-log_explainable, axis=[0, 1, 2]))
            weight = exp_mask if valid is None else exp_mask * valid
        if config.selects_pixels:
            pixel += selected_pixel_loss(error, valid, identity, config.min_reprojection)
        elif weight is None:
            pixel += tf.reduce_sum(tf.reduce_mean(error, axis=[0, 1, 2, 4]))
        else:
            pixel += tf.reduce_sum(tf.reduce_mean(error * weight[..., tf.newaxis], axis=[0, 1, 2, 4]))
        if boundary is not None and s < config.seg_num_scales:
            seg += boundary_loss(area_downsample(boundary, 2**s), disps[s], config.seg_gradient_order,
                                 config.seg_reduction)
        if s == 0:
            flat_shape = tf.shape(tgt_image)[:3]
            summaries["projected"] = tf.reshape(projected, tf.concat([flat_shape, [3 * num_source]], 0))
            summaries["error"] = tf.reshape(error, tf.concat([flat_shape, [3 * num_source]], 0))
            if use_exp:
                summaries["exp_mask"] = exp_mask
    total = pixel + smooth + exp + config.lambda_seg * seg
    return LossTerms(total=total, pixel=pixel, smooth=smooth, exp=exp, seg=seg), summaries
