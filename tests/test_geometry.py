"""Geometry against an independent numpy implementation (written here with loops) and analytic cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.geometry import (
    bilinear_sampler,
    cam2pixel,
    pixel2cam,
    pixel_grid,
    pose_vec2mat,
    projective_inverse_warp,
)

RNG = np.random.default_rng(1234)


# ---------------------------------------------------------------- numpy reference implementations
def np_rotation(rx: float, ry: float, rz: float) -> np.ndarray:
    """Rx @ Ry @ Rz from the elementary right-handed rotations (angles clipped to [-pi, pi])."""
    rx, ry, rz = (min(max(a, -math.pi), math.pi) for a in (rx, ry, rz))
    rot_x = np.array([[1, 0, 0], [0, math.cos(rx), -math.sin(rx)], [0, math.sin(rx), math.cos(rx)]])
    rot_y = np.array([[math.cos(ry), 0, math.sin(ry)], [0, 1, 0], [-math.sin(ry), 0, math.cos(ry)]])
    rot_z = np.array([[math.cos(rz), -math.sin(rz), 0], [math.sin(rz), math.cos(rz), 0], [0, 0, 1]])
    return rot_x @ rot_y @ rot_z


def np_pose_vec2mat(vec: np.ndarray) -> np.ndarray:
    out = np.zeros((len(vec), 4, 4))
    for b, (tx, ty, tz, rx, ry, rz) in enumerate(vec):
        out[b, :3, :3] = np_rotation(rx, ry, rz)
        out[b, :3, 3] = [tx, ty, tz]
        out[b, 3, 3] = 1.0
    return out


def np_sample_legacy(image: np.ndarray, x: float, y: float) -> np.ndarray:
    """The released sampler, literally: floor, +1, clip the indices, weights from the clipped indices."""
    height, width = image.shape[:2]
    x0, y0 = math.floor(x), math.floor(y)
    x0c, x1c = min(max(x0, 0), width - 1), min(max(x0 + 1, 0), width - 1)
    y0c, y1c = min(max(y0, 0), height - 1), min(max(y0 + 1, 0), height - 1)
    wx0, wx1, wy0, wy1 = x1c - x, x - x0c, y1c - y, y - y0c
    return (wx0 * wy0 * image[y0c, x0c] + wx1 * wy0 * image[y0c, x1c]
            + wx0 * wy1 * image[y1c, x0c] + wx1 * wy1 * image[y1c, x1c])


def np_sample_border(image: np.ndarray, x: float, y: float) -> np.ndarray:
    """Ordinary bilinear with the coordinates clamped to the image (edge pixels repeated)."""
    height, width = image.shape[:2]
    x, y = min(max(x, 0.0), width - 1.0), min(max(y, 0.0), height - 1.0)
    x0, y0 = math.floor(x), math.floor(y)
    fx, fy = x - x0, y - y0
    x1, y1 = min(x0 + 1, width - 1), min(y0 + 1, height - 1)
    return ((1 - fx) * (1 - fy) * image[y0, x0] + fx * (1 - fy) * image[y0, x1]
            + (1 - fx) * fy * image[y1, x0] + fx * fy * image[y1, x1])


def np_sampler(images: np.ndarray, coords: np.ndarray, sample=np_sample_legacy) -> np.ndarray:
    out = np.zeros(coords.shape[:3] + images.shape[3:])
    for b, i, j in np.ndindex(*coords.shape[:3]):
        out[b, i, j] = sample(images[b].astype(np.float64), float(coords[b, i, j, 0]), float(coords[b, i, j, 1]))
    return out


def np_project(depth: np.ndarray, pose: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    """Target pixel (x, y) with depth d -> source pixel: K (R d K^-1 [x, y, 1] + t), divided by Z + 1e-10."""
    batch, height, width = depth.shape
    transforms = np_pose_vec2mat(pose)
    coords = np.zeros((batch, height, width, 2))
    for b, y, x in np.ndindex(batch, height, width):
        point = np.linalg.inv(intrinsics[b]) @ np.array([x, y, 1.0]) * depth[b, y, x]
        moved = transforms[b, :3, :3] @ point + transforms[b, :3, 3]
        pixel = intrinsics[b] @ moved
        coords[b, y, x] = pixel[:2] / (pixel[2] + 1e-10)
    return coords


def intrinsics_matrix(f: float, cx: float, cy: float, batch: int = 1) -> np.ndarray:
    return np.tile(np.array([[f, 0, cx], [0, f, cy], [0, 0, 1]], np.float32), [batch, 1, 1])


# ---------------------------------------------------------------- pose
def test_pose_vec2mat_matches_numpy_on_random_poses():
    vec = RNG.uniform(-4.0, 4.0, size=(6, 6)).astype(np.float32)  # angles beyond pi exercise the clipping
    np.testing.assert_allclose(pose_vec2mat(vec).numpy(), np_pose_vec2mat(vec), atol=2e-6)


def test_rotation_about_z_by_90_degrees_maps_x_to_y():
    transform = pose_vec2mat(np.array([[0, 0, 0, 0, 0, math.pi / 2]], np.float32)).numpy()[0]
    np.testing.assert_allclose(transform @ [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0], atol=1e-7)
    np.testing.assert_allclose(transform @ [0.0, 1.0, 0.0, 1.0], [-1.0, 0.0, 0.0, 1.0], atol=1e-7)


def test_rotations_compose_as_rx_ry_rz():
    # 90 deg about each axis: Rx Ry Rz e_x = Rx Ry e_y = Rx e_y = e_z, whereas Rz Ry Rx e_x = -e_z.
    quarter = math.pi / 2
    rotation = pose_vec2mat(np.array([[0, 0, 0, quarter, quarter, quarter]], np.float32)).numpy()[0, :3, :3]
    np.testing.assert_allclose(rotation @ [1.0, 0.0, 0.0], [0.0, 0.0, 1.0], atol=1e-6)
    single = [pose_vec2mat(np.array([[0, 0, 0, *(quarter * np.eye(3)[k])]], np.float32)).numpy()[0, :3, :3]
              for k in range(3)]
    np.testing.assert_allclose(rotation, single[0] @ single[1] @ single[2], atol=1e-6)


def test_translation_is_the_last_column_and_angles_are_clipped():
    transform = pose_vec2mat(np.array([[1.5, -2.0, 0.25, 0.0, 0.0, 4.0]], np.float32)).numpy()[0]
    np.testing.assert_allclose(transform[:3, 3], [1.5, -2.0, 0.25])
    np.testing.assert_allclose(transform[3], [0, 0, 0, 1])
    # rz = 4 is clipped to pi: a half turn about z.
    np.testing.assert_allclose(transform[:3, :3], np.diag([-1.0, -1.0, 1.0]), atol=1e-6)


# ---------------------------------------------------------------- projection
def test_pixel_grid_holds_integer_coordinates():
    grid = pixel_grid(2, 3, 4).numpy()
    assert grid.shape == (2, 3, 3, 4)
    np.testing.assert_array_equal(grid[1, 0], np.tile(np.arange(4.0), [3, 1]))
    np.testing.assert_array_equal(grid[1, 1], np.tile(np.arange(3.0)[:, None], [1, 4]))
    np.testing.assert_array_equal(grid[1, 2], np.ones([3, 4]))


def test_pixel2cam_and_cam2pixel_match_numpy():
    batch, height, width = 2, 4, 5
    depth = RNG.uniform(1.0, 10.0, size=(batch, height, width)).astype(np.float32)
    intrinsics = np.stack([intrinsics_matrix(7.0, 2.5, 1.5)[0], intrinsics_matrix(5.0, 2.0, 2.0)[0]])
    pose = RNG.uniform(-0.2, 0.2, size=(batch, 6)).astype(np.float32)
    cam = pixel2cam(depth, pixel_grid(batch, height, width), intrinsics).numpy()
    for b, y, x in np.ndindex(batch, height, width):
        expected = np.linalg.inv(intrinsics[b]) @ [x, y, 1.0] * depth[b, y, x]
        np.testing.assert_allclose(cam[b, :, y, x], [*expected, 1.0], rtol=1e-5)
    k4 = np.zeros((batch, 4, 4), np.float32)
    k4[:, :3, :3], k4[:, 3, 3] = intrinsics, 1.0
    coords = cam2pixel(cam, k4 @ np_pose_vec2mat(pose).astype(np.float32)).numpy()
    np.testing.assert_allclose(coords, np_project(depth, pose, intrinsics), rtol=1e-5, atol=1e-4)


def test_cam2pixel_does_not_mask_points_behind_the_camera():
    cam = np.array([[[[2.0]], [[3.0]], [[-1.0]], [[1.0]]]], np.float32)  # one point at Z = -1
    coords = cam2pixel(cam, np.eye(4, dtype=np.float32)[None]).numpy()
    np.testing.assert_allclose(coords[0, 0, 0], [-2.0, -3.0], rtol=1e-6)


# ---------------------------------------------------------------- sampler
def random_coords(batch: int, height: int, width: int, out_h: int, out_w: int) -> np.ndarray:
    """Mostly in range, some outside, some exactly on the last row/column and on integers."""
    x = RNG.uniform(-1.5, width + 0.5, size=(batch, out_h, out_w))
    y = RNG.uniform(-1.5, height + 0.5, size=(batch, out_h, out_w))
    x[:, 0, :3] = [width - 1, 0.0, 2.0]
    y[:, 1, :3] = [height - 1, 0.0, 1.0]
    return np.stack([x, y], axis=-1).astype(np.float32)


@pytest.mark.parametrize(("mode", "sample"), [("legacy", np_sample_legacy), ("border", np_sample_border)])
def test_sampler_matches_numpy(mode, sample):
    images = RNG.uniform(-1, 1, size=(2, 5, 7, 3)).astype(np.float32)
    coords = random_coords(2, 5, 7, 6, 8)
    np.testing.assert_allclose(bilinear_sampler(images, coords, mode=mode).numpy(),
                               np_sampler(images, coords, sample), atol=2e-6)


def test_legacy_sampler_gives_exact_zeros_outside_and_on_the_last_row_and_column():
    height, width = 5, 7
    images = RNG.uniform(0.5, 1.0, size=(1, height, width, 2)).astype(np.float32)
    points = [(width - 1, 2.0), (2.0, height - 1), (-0.25, 2.0), (3.5, -0.01), (width - 0.5, 1.0), (2.5, height + 3)]
    coords = np.array(points, np.float32).reshape(1, 1, -1, 2)
    np.testing.assert_array_equal(bilinear_sampler(images, coords).numpy(), 0.0)
    # Just inside: ordinary bilinear, e.g. x = W - 1.5 halfway between the last two columns.
    inside = np.array([[[[width - 1.5, 0.0]]]], np.float32)
    expected = 0.5 * (images[0, 0, width - 2] + images[0, 0, width - 1])
    np.testing.assert_allclose(bilinear_sampler(images, inside).numpy()[0, 0, 0], expected, rtol=1e-6)


def test_sampler_gradient_wrt_coordinates_is_zero_outside_and_bilinear_inside():
    height, width = 4, 6
    images = tf.constant(RNG.uniform(-1, 1, size=(1, height, width, 1)).astype(np.float32))
    outside = [(width - 1.0, 1.2), (-0.3, 1.2), (2.2, height - 1.0), (2.2, -0.7), (width + 2.0, height + 2.0)]
    coords = tf.constant(np.array([*outside, (2.25, 1.5)], np.float32).reshape(1, 1, -1, 2))
    with tf.GradientTape() as tape:
        tape.watch(coords)
        out = bilinear_sampler(images, coords)
    grad = tape.gradient(out, coords).numpy()[0, 0]
    np.testing.assert_array_equal(grad[: len(outside)], 0.0)
    img = images.numpy()[0, :, :, 0]
    # d/dx at (2.25, 1.5) = (1 - fy)(I[1,3] - I[1,2]) + fy (I[2,3] - I[2,2]); d/dy likewise with fx = 0.25.
    d_dx = 0.5 * (img[1, 3] - img[1, 2]) + 0.5 * (img[2, 3] - img[2, 2])
    d_dy = 0.75 * (img[2, 2] - img[1, 2]) + 0.25 * (img[2, 3] - img[1, 3])
    np.testing.assert_allclose(grad[-1], [d_dx, d_dy], rtol=1e-5)


def test_unknown_sampler_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="sampler mode"):
        bilinear_sampler(np.zeros((1, 2, 2, 1), np.float32), np.zeros((1, 1, 1, 2), np.float32), mode="wrap")


# ---------------------------------------------------------------- warp
def test_identity_pose_reproduces_the_image_except_the_zeroed_last_row_and_column():
    height, width = 6, 8
    images = RNG.uniform(0.1, 1.0, size=(2, height, width, 3)).astype(np.float32)
    # Power-of-two depths keep K^-1 and K exact; other depths can round x = 0 to -1e-7, which the legacy
    # sampler also zeroes (as the original does).
    depth = (2.0 ** RNG.integers(0, 5, size=(2, height, width))).astype(np.float32)
    intrinsics = intrinsics_matrix(4.0, 3.0, 2.0, batch=2)
    warped = projective_inverse_warp(images, depth, np.zeros((2, 6), np.float32), intrinsics).numpy()
    np.testing.assert_array_equal(warped[:, :-1, :-1], images[:, :-1, :-1])
    np.testing.assert_array_equal(warped[:, -1], 0.0)
    np.testing.assert_array_equal(warped[:, :, -1], 0.0)
    fixed = projective_inverse_warp(images, depth, np.zeros((2, 6), np.float32), intrinsics, sampler_mode="border")
    np.testing.assert_allclose(fixed.numpy(), images, rtol=1e-5)


def test_plane_under_x_translation_shifts_by_f_tx_over_z():
    # Fronto-parallel plane at Z = 2, f = 4, tx = 1.5: a source pixel u + f tx / Z = u + 3.
    height, width, shift = 5, 10, 3
    images = RNG.uniform(0.1, 1.0, size=(1, height, width, 3)).astype(np.float32)
    depth = np.full((1, height, width), 2.0, np.float32)
    pose = np.array([[1.5, 0, 0, 0, 0, 0]], np.float32)
    warped = projective_inverse_warp(images, depth, pose, intrinsics_matrix(4.0, 4.5, 2.0)).numpy()
    np.testing.assert_array_equal(warped[:, :-1, : width - 1 - shift], images[:, :-1, shift:-1])
    np.testing.assert_array_equal(warped[:, :, width - 1 - shift:], 0.0)  # sampled at x >= W - 1
    np.testing.assert_array_equal(warped[:, -1], 0.0)


def test_warp_matches_numpy_on_random_scene():
    batch, height, width = 2, 6, 9
    images = RNG.uniform(-1, 1, size=(batch, height, width, 3)).astype(np.float32)
    depth = RNG.uniform(2.0, 8.0, size=(batch, height, width)).astype(np.float32)
    pose = RNG.uniform(-0.1, 0.1, size=(batch, 6)).astype(np.float32)
    intrinsics = intrinsics_matrix(6.0, 4.0, 2.5, batch=batch)
    expected = np_sampler(images, np_project(depth, pose, intrinsics))
    actual = projective_inverse_warp(images, depth, pose, intrinsics).numpy()
    np.testing.assert_allclose(actual, expected, atol=2e-4)


def test_warp_gradients_wrt_depth_and_pose_match_finite_differences():
    batch, height, width = 1, 6, 9
    images = RNG.uniform(-1, 1, size=(batch, height, width, 3)).astype(np.float32)
    depth0 = RNG.uniform(2.0, 8.0, size=(batch, height, width))
    pose0 = RNG.uniform(-0.05, 0.05, size=(batch, 6))
    intrinsics = intrinsics_matrix(6.0, 4.0, 2.5)
    weights = RNG.uniform(-1, 1, size=(batch, height, width, 3))

    def np_objective(depth, pose):
        return float(np.sum(weights * np_sampler(images, np_project(depth, pose, intrinsics))))

    depth, pose = tf.Variable(depth0.astype(np.float32)), tf.Variable(pose0.astype(np.float32))
    with tf.GradientTape() as tape:
        objective = tf.reduce_sum(weights.astype(np.float32) * projective_inverse_warp(images, depth, pose, intrinsics))
    grad_depth, grad_pose = (g.numpy() for g in tape.gradient(objective, [depth, pose]))
    eps = 1e-5
    for k in range(6):
        step = np.zeros_like(pose0)
        step[0, k] = eps
        numeric = (np_objective(depth0, pose0 + step) - np_objective(depth0, pose0 - step)) / (2 * eps)
        np.testing.assert_allclose(grad_pose[0, k], numeric, rtol=2e-3, atol=2e-3)
    for y, x in [(1, 1), (3, 4), (4, 6)]:
        step = np.zeros_like(depth0)
        step[0, y, x] = eps
        numeric = (np_objective(depth0 + step, pose0) - np_objective(depth0 - step, pose0)) / (2 * eps)
        np.testing.assert_allclose(grad_depth[0, y, x], numeric, rtol=2e-3, atol=2e-4)
    assert np.abs(grad_pose).max() > 1e-2
