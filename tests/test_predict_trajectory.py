"""Chaining the pose net's windows into a trajectory, against an analytic camera path: the target->source vectors
of each window are made from known camera-to-world poses, and the chain must give those poses back."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from sfmlearner_tf.evaluation.pose_snippets import matrix_to_euler
from sfmlearner_tf.geometry import pose_vec2mat
from sfmlearner_tf.predict.trajectory import chain_trajectory, top_down_plot, tum_lines


def camera_to_world(k: int) -> np.ndarray:
    """Frame k of a camera driving along a circle of radius 20 in the x-z plane (y down), turning left by 3
    degrees per frame, with a small roll and pitch wobble: C_k maps camera-k coordinates to world ones."""
    yaw = math.radians(3.0 * k)
    pitch, roll = 0.02 * math.sin(0.7 * k), 0.01 * math.cos(0.5 * k)
    rot_y = np.array([[math.cos(yaw), 0, -math.sin(yaw)], [0, 1, 0], [math.sin(yaw), 0, math.cos(yaw)]])
    rot_x = np.array([[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]])
    rot_z = np.array([[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0], [0, 0, 1]])
    pose = np.eye(4)
    pose[:3, :3] = rot_y @ rot_x @ rot_z
    pose[:3, 3] = [20.0 * (math.cos(yaw) - 1.0), 0.1 * math.sin(0.3 * k), 20.0 * math.sin(yaw)]
    return pose


def target_to_source_vec(c: int, j: int) -> np.ndarray:
    """What the pose net should say for target c and source j: T = C_j^-1 C_c as [t, rx, ry, rz], R = Rx Ry Rz."""
    transform = np.linalg.inv(camera_to_world(j)) @ camera_to_world(c)
    rz, ry, rx = matrix_to_euler(transform[:3, :3])
    return np.array([*transform[:3, 3], rx, ry, rz])


def windows(num_frames: int, seq_length: int) -> np.ndarray:
    """[W, L-1, 6]: per window (frames w..w+L-1), the vectors to its sources in time order, target removed."""
    half = seq_length // 2
    return np.stack([[target_to_source_vec(w + half, w + k) for k in range(seq_length) if k != half]
                     for w in range(num_frames - seq_length + 1)])


def test_the_vectors_follow_the_training_warp_convention() -> None:
    """T from pose_vec2mat (what the warp uses) maps a point seen by camera c to the same world point seen by j."""
    point_in_c = np.array([1.5, -0.4, 12.0, 1.0])
    world = camera_to_world(4) @ point_in_c
    vec = target_to_source_vec(4, 5)
    mapped = pose_vec2mat(tf.constant(vec[np.newaxis], tf.float32)).numpy()[0] @ point_in_c
    np.testing.assert_allclose(mapped, np.linalg.inv(camera_to_world(5)) @ world, atol=1e-4)


@pytest.mark.parametrize("seq_length", [3, 5])
def test_chaining_recovers_the_analytic_trajectory(seq_length: int) -> None:
    num_frames = 14
    poses = chain_trajectory(windows(num_frames, seq_length))
    first_inverse = np.linalg.inv(camera_to_world(0))
    expected = np.stack([first_inverse @ camera_to_world(k) for k in range(num_frames)])
    assert poses.shape == (num_frames, 4, 4)
    np.testing.assert_allclose(poses, expected, atol=1e-9)
    # After 13 frames at 3 degrees a frame the camera has turned 39 degrees left and moved 20 sin(39 deg) ahead.
    assert math.degrees(math.atan2(poses[-1][0, 2], poses[-1][0, 0])) == pytest.approx(-39.0, abs=1.5)
    assert poses[-1][2, 3] == pytest.approx(20.0 * math.sin(math.radians(39.0)), abs=1e-6)


def test_tum_lines_and_plot() -> None:
    poses = chain_trajectory(windows(6, 3))
    lines = tum_lines(poses, np.arange(6) / 10.0).splitlines()
    assert len(lines) == 6 and [float(v) for v in lines[0].split()] == [0.0] * 7 + [1.0]
    stamp, tx, ty, tz, qx, qy, qz, qw = map(float, lines[3].split())
    assert stamp == 0.3 and (tx, ty, tz) == pytest.approx(tuple(poses[3][:3, 3]), abs=1e-6)
    # The quaternion's rotation angle equals the rotation's: cos(angle / 2) = |qw|.
    angle = math.acos((np.trace(poses[3][:3, :3]) - 1.0) / 2.0)
    assert abs(qw) == pytest.approx(math.cos(angle / 2.0), abs=1e-6)
    assert math.sqrt(qx * qx + qy * qy + qz * qz + qw * qw) == pytest.approx(1.0, abs=1e-5)
    plot = top_down_plot(poses)
    assert plot.shape == (640, 640, 3) and plot.dtype == np.uint8
    start_green = (plot[:, :, 1] > 150) & (plot[:, :, 0] < 60) & (plot[:, :, 2] < 60)
    assert start_green.any() and (plot < 255).any()
