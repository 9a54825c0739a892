"""Camera geometry of SfMLearner: pose vectors, pixel/camera projection, the bilinear sampler and the inverse warp.

Conventions: a pose is the target->source 6-vector [tx, ty, tz, rx, ry, rz] with R = Rx(rx) Ry(ry) Rz(rz);
depth belongs to the target view and the source image is sampled at the projected target pixels. Everything is
float32 and channels-last. The original's quirks kept here ("Euler order", "no masking behind the camera",
"sampler zeros outside the image") are in docs/QUIRKS.md.
"""

from __future__ import annotations

import math

import tensorflow as tf

from sfmlearner_tf.errors import ConfigError

SAMPLER_MODES = ("legacy", "border")


def _euler_to_matrix(angles: tf.Tensor) -> tf.Tensor:
    """[B, 3] Euler angles (rx, ry, rz), each clipped to [-pi, pi] -> [B, 3, 3] rotation Rx @ Ry @ Rz."""
    angles = tf.clip_by_value(angles, -math.pi, math.pi)
    cos, sin = tf.cos(angles), tf.sin(angles)
    cx, cy, cz = tf.unstack(cos, axis=-1)
    sx, sy, sz = tf.unstack(sin, axis=-1)
    # The product Rx Ry Rz of the right-handed elementary rotations, written out entry by entry.
    rows = [
        [cy * cz, -cy * sz, sy],
        [cx * sz + sx * sy * cz, cx * cz - sx * sy * sz, -sx * cy],
        [sx * sz - cx * sy * cz, sx * cz + cx * sy * sz, cx * cy],
    ]
    return tf.stack([tf.stack(row, axis=-1) for row in rows], axis=-2)


def pose_vec2mat(vec: tf.Tensor) -> tf.Tensor:
    """[B, 6] pose vectors [t, r] -> [B, 4, 4] target->source transforms [[R, t], [0, 0, 0, 1]]."""
    vec = tf.cast(vec, tf.float32)
    rotation = _euler_to_matrix(vec[:, 3:])
    top = tf.concat([rotation, vec[:, :3, tf.newaxis]], axis=2)
    bottom = tf.broadcast_to(tf.constant([[[0.0, 0.0, 0.0, 1.0]]]), [tf.shape(vec)[0], 1, 4])
    return tf.concat([top, bottom], axis=1)


def pixel_grid(batch: int | tf.Tensor, height: int | tf.Tensor, width: int | tf.Tensor) -> tf.Tensor:
    """Homogeneous pixel coordinates [B, 3, H, W]: rows x = 0..W-1, y = 0..H-1, 1.

    The original builds the grid with linspace(-1, 1) and rescales, which lands within float rounding of these
    integers; exact integers are used here.
    """
    xs = tf.range(width, dtype=tf.float32)
    ys = tf.range(height, dtype=tf.float32)
    x_grid, y_grid = tf.meshgrid(xs, ys)
    grid = tf.stack([x_grid, y_grid, tf.ones_like(x_grid)], axis=0)
    return tf.tile(grid[tf.newaxis], [batch, 1, 1, 1])


def pixel2cam(depth: tf.Tensor, pixel_coords: tf.Tensor, intrinsics: tf.Tensor) -> tf.Tensor:
    """Back-projects pixels to homogeneous camera points: [B, 4, H, W] = [K^-1 [x, y, 1]^T * depth; 1].

    depth [B, H, W], pixel_coords [B, 3, H, W] (from `pixel_grid`), intrinsics [B, 3, 3].
    """
    shape = tf.shape(depth)
    batch, height, width = shape[0], shape[1], shape[2]
    rays = tf.matmul(tf.linalg.inv(intrinsics), tf.reshape(pixel_coords, [batch, 3, -1]))
    points = rays * tf.reshape(depth, [batch, 1, -1])
    homogeneous = tf.concat([points, tf.ones([batch, 1, height * width])], axis=1)
    return tf.reshape(homogeneous, [batch, 4, height, width])


def cam2pixel(cam_coords: tf.Tensor, proj: tf.Tensor) -> tf.Tensor:
    """Projects homogeneous camera points [B, 4, H, W] with proj [B, 4, 4] -> pixel coordinates [B, H, W, 2] (x, y).

    As in the original: u = X / (Z + 1e-10), v = Y / (Z + 1e-10); points behind the camera are not masked.
    """
    shape = tf.shape(cam_coords)
    batch, height, width = shape[0], shape[2], shape[3]
    projected = tf.matmul(proj, tf.reshape(cam_coords, [batch, 4, -1]))
    x, y, z, _ = tf.unstack(projected, axis=1)
    z = z + 1e-10
    pixels = tf.stack([x / z, y / z], axis=-1)
    return tf.reshape(pixels, [batch, height, width, 2])


def _check_mode(mode: str) -> None:
    """Raises ConfigError for a sampler mode other than those in SAMPLER_MODES."""
    if mode not in SAMPLER_MODES:
        raise ConfigError(f"sampler mode must be one of {SAMPLER_MODES}, got {mode!r}")


def _corner(coord: tf.Tensor, coord_max: tf.Tensor) -> tf.Tensor:
    """The top-left corner index (as float) of samples at `coord`, limited to [0, coord_max - 1]; NaN -> 0, whose
    int32 cast would otherwise be an out-of-range gather index."""
    corner = tf.clip_by_value(tf.floor(coord), 0.0, coord_max - 1.0)
    return tf.where(tf.math.is_nan(corner), 0.0, corner)


def bilinear_sampler(images: tf.Tensor, coords: tf.Tensor, mode: str = "legacy") -> tf.Tensor:
    """Samples images [B, H, W, C] at pixel coordinates coords [B, H', W', 2] (x, y) -> [B, H', W', C].

    mode "legacy" (default) reproduces the released SfMLearner sampler: the corner indices are clipped before the
    weights are formed from them, so every sample with x outside [0, W-1) or y outside [0, H-1), including one
    exactly on the last row or column, is exactly 0 (mid-grey in [-1, 1] images) with zero gradient; in-range
    samples are ordinary bilinear. mode "border" is the fix: coordinates are clamped to the image, so outside
    samples repeat the border pixel and the last row/column is sampled normally.

    A NaN coordinate (from a diverged network) gives a NaN sample in both modes, never an out-of-range gather,
    so the loss becomes NaN and the training run's non-finite guard reports it.

    Implementation: the top-left corner of every sample is limited to [0, W-2] x [0, H-2], so its three
    neighbours are at fixed offsets (+1, +W, +W+1) in the batch-flattened image and one gather fetches all four;
    the weights are the fractional parts. Legacy samples outside the valid range are then set to 0.
    """
    _check_mode(mode)
    images = tf.cast(images, tf.float32)
    coords = tf.cast(coords, tf.float32)
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    x, y = tf.unstack(coords, axis=-1)
    x_max = tf.cast(width - 1, tf.float32)
    y_max = tf.cast(height - 1, tf.float32)
    if mode == "border":
        x = tf.clip_by_value(x, 0.0, x_max)
        y = tf.clip_by_value(y, 0.0, y_max)
    # In border mode x = W-1 becomes corner W-2 with weight 1 on its right neighbour.
    x0 = tf.stop_gradient(_corner(x, x_max))
    y0 = tf.stop_gradient(_corner(y, y_max))
    wx1 = (x - x0)[..., tf.newaxis]
    wy1 = (y - y0)[..., tf.newaxis]
    top_left = (tf.reshape(tf.range(batch) * height * width, [-1, 1, 1])
                + tf.cast(y0, tf.int32) * width + tf.cast(x0, tf.int32))
    index = tf.stack([top_left, top_left + 1, top_left + width, top_left + width + 1], axis=-1)
    corners = tf.gather(tf.reshape(images, [-1, images.shape[-1]]), index)
    c00, c01, c10, c11 = tf.unstack(corners, axis=-2)
    top = c00 + wx1 * (c01 - c00)
    bottom = c10 + wx1 * (c11 - c10)
    sampled = top + wy1 * (bottom - top)
    if mode == "border":
        return sampled
    # Written as "outside" so that a NaN coordinate (all comparisons false) keeps its NaN sample.
    outside = (x < 0.0) | (x >= x_max) | (y < 0.0) | (y >= y_max)
    return tf.where(outside[..., tf.newaxis], 0.0, sampled)


def source_pixel_coords(depth: tf.Tensor, pose: tf.Tensor, intrinsics: tf.Tensor) -> tf.Tensor:
    """Where each target pixel lands in the source: [B, H, W, 2] (x, y) from target depth [B, H, W], target->source
    pose [B, 6] and intrinsics [B, 3, 3]."""
    depth = tf.cast(depth, tf.float32)
    intrinsics = tf.cast(intrinsics, tf.float32)
    shape = tf.shape(depth)
    batch = shape[0]
    cam_coords = pixel2cam(depth, pixel_grid(batch, shape[1], shape[2]), intrinsics)
    k4 = tf.pad(intrinsics, [[0, 0], [0, 1], [0, 1]]) + tf.pad(tf.ones([batch, 1, 1]), [[0, 0], [3, 0], [3, 0]])
    proj = tf.matmul(k4, pose_vec2mat(pose))
    return cam2pixel(cam_coords, proj)


def inside_image(coords: tf.Tensor, height: int | tf.Tensor, width: int | tf.Tensor, mode: str = "legacy"
                 ) -> tf.Tensor:
    """float32 [B, H, W]: 1 where `bilinear_sampler` in `mode` reads real pixels at coordinates [B, H, W, 2], else 0
    (NaN coordinates included): [0, W-1) x [0, H-1) for "legacy" (it zeroes the rest, the last row and column
    included), [0, W-1] x [0, H-1] for "border" (the PyTorch port's valid points)."""
    _check_mode(mode)
    x, y = tf.unstack(coords, axis=-1)
    x_max = tf.cast(width - 1, tf.float32)
    y_max = tf.cast(height - 1, tf.float32)
    if mode == "legacy":
        inside = (x >= 0.0) & (x < x_max) & (y >= 0.0) & (y < y_max)
    else:
        inside = (x >= 0.0) & (x <= x_max) & (y >= 0.0) & (y <= y_max)
    return tf.cast(inside, tf.float32)


def projective_inverse_warp(images: tf.Tensor, depth: tf.Tensor, pose: tf.Tensor, intrinsics: tf.Tensor,
                            sampler_mode: str = "legacy") -> tf.Tensor:
    """Synthesises the target view from a source: samples source images [B, H, W, C] at the target pixels projected
    with target depth [B, H, W], target->source pose [B, 6] and intrinsics [B, 3, 3]. Returns [B, H, W, C].
    """
    return bilinear_sampler(images, source_pixel_coords(depth, pose, intrinsics), mode=sampler_mode)
