"""Umeyama alignment, the KITTI kit's segment errors and the ATE against hand-worked cases: known similarities,
a straight line, a circle, a 10 % scale drift and a constant yaw drift whose errors follow in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sfmlearner_tf.errors import DataError
from sfmlearner_tf.evaluation.odometry_metrics import (
    KITTI_LENGTHS,
    Similarity,
    absolute_trajectory_error,
    align_poses,
    kitti_segment_errors,
    mean_segment_errors,
    nearest_rotations,
    segment_lengths,
    trajectory_distances,
    umeyama_alignment,
)


def rotation(axis: tuple[float, float, float], angle: float) -> np.ndarray:
    """Rodrigues' formula about a unit axis."""
    k = np.array(axis, np.float64) / np.linalg.norm(axis)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * cross + (1 - math.cos(angle)) * cross @ cross


def poses_from(positions: np.ndarray, rotations: np.ndarray | None = None) -> np.ndarray:
    """[N, 4, 4] camera-to-world poses with these positions (and rotations, else the identity)."""
    poses = np.tile(np.eye(4), (len(positions), 1, 1))
    poses[:, :3, 3] = positions
    if rotations is not None:
        poses[:, :3, :3] = rotations
    return poses


def straight_line(num_frames: int, spacing: float = 1.0) -> np.ndarray:
    """Positions 0, spacing, 2 spacing, ... along z (forward)."""
    return np.stack([np.zeros(num_frames), np.zeros(num_frames), spacing * np.arange(num_frames)], axis=1)


def circle(num_frames: int, radius: float, step_angle: float) -> np.ndarray:
    """Positions on a circle in the x-z plane through the origin, turning by step_angle per frame."""
    angles = step_angle * np.arange(num_frames)
    return np.stack([radius * (np.cos(angles) - 1), np.zeros(num_frames), radius * np.sin(angles)], axis=1)


def test_umeyama_hand_worked_rotation_scale_and_translation() -> None:
    """gt = 2 Rz(90 deg) pred + (1, 2, 3), written out by hand: Rz(90 deg) sends x to y and y to -x."""
    pred = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    gt = np.array([[1.0, 2, 3], [1, 4, 3], [-1, 2, 3], [1, 2, 5]])
    rot, trans, scale = umeyama_alignment(pred, gt)
    np.testing.assert_allclose(rot, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(trans, [1, 2, 3], atol=1e-12)
    assert scale == pytest.approx(2.0, abs=1e-12)
    rigid = umeyama_alignment(pred, gt, with_scale=False)
    assert rigid.scale == 1.0
    np.testing.assert_allclose(rigid.rotation, rot, atol=1e-12)  # the best rotation does not depend on the scale
    np.testing.assert_allclose(rigid.translation, gt.mean(0) - rot @ pred.mean(0), atol=1e-12)


@pytest.mark.parametrize("shape", ["circle", "helix"])
def test_umeyama_recovers_a_similarity_of_a_planar_and_a_3d_path(shape: str) -> None:
    gt = circle(60, 20.0, 0.05)
    if shape == "helix":
        gt[:, 1] = 0.3 * np.arange(60)
    rot, trans, scale = rotation((0.2, 1.0, -0.3), 1.1), np.array([5.0, -2.0, 7.0]), 0.37
    pred = (gt - trans) @ rot / scale  # gt = scale * rot @ pred + trans
    found = umeyama_alignment(pred, gt)
    np.testing.assert_allclose(found.rotation, rot, atol=1e-10)
    np.testing.assert_allclose(found.translation, trans, atol=1e-9)
    assert found.scale == pytest.approx(scale, rel=1e-12)
    aligned = align_poses(poses_from(pred), found)
    assert absolute_trajectory_error(gt, aligned[:, :3, 3]) == pytest.approx(0.0, abs=1e-9)


def test_umeyama_on_a_straight_line_recovers_scale_translation_and_the_positions() -> None:
    """Along a line the roll about it is free: the fit is exact, the line's direction is mapped right."""
    rot, trans, scale = rotation((1.0, 1.0, 0.0), 0.6), np.array([2.0, -1.0, 4.0]), 3.0
    gt = straight_line(30, 1.3) + trans
    pred = (gt - trans) @ rot / scale
    found = umeyama_alignment(pred, gt)
    assert found.scale == pytest.approx(3.0, rel=1e-12)
    np.testing.assert_allclose(found.rotation @ (pred[-1] - pred[0]), rot @ (pred[-1] - pred[0]), atol=1e-10)
    aligned = align_poses(poses_from(pred), found)[:, :3, 3]
    np.testing.assert_allclose(aligned, gt, atol=1e-10)
    assert absolute_trajectory_error(gt, aligned) == pytest.approx(0.0, abs=1e-10)


def test_umeyama_is_a_least_squares_optimum_and_never_a_reflection() -> None:
    rng = np.random.default_rng(3)
    gt = rng.normal(0, 5, (40, 3))
    pred = gt * [1, 1, -1] + rng.normal(0, 0.5, (40, 3))  # a mirror image: the best proper rotation is wanted
    found = umeyama_alignment(pred, gt)
    assert np.linalg.det(found.rotation) == pytest.approx(1.0, abs=1e-12)

    def cost(sim: Similarity) -> float:
        return float(np.sum((gt - (sim.scale * pred @ sim.rotation.T + sim.translation)) ** 2))

    best = cost(found)
    for _ in range(50):  # every small proper perturbation of R, t or s costs more
        turn = rotation(tuple(rng.normal(size=3)), 1e-3)
        tried = Similarity(turn @ found.rotation, found.translation + rng.normal(0, 1e-3, 3),
                           found.scale * (1 + rng.normal(0, 1e-3)))
        assert cost(tried) > best


def test_umeyama_rejects_degenerate_input() -> None:
    with pytest.raises(DataError, match="all one point"):
        umeyama_alignment(np.ones((5, 3)), straight_line(5))
    with pytest.raises(DataError, match=r"\[N>=2, 3\]"):
        umeyama_alignment(np.zeros((4, 3)), np.zeros((5, 3)))


def test_align_poses_applies_the_similarity_to_rotations_and_positions() -> None:
    rng = np.random.default_rng(1)
    poses = poses_from(rng.normal(size=(4, 3)), np.stack([rotation(tuple(rng.normal(size=3)), 0.4)] * 4))
    sim = Similarity(rotation((0, 1, 0), 0.7), np.array([1.0, 2.0, 3.0]), 2.5)
    matrix = np.eye(4)
    matrix[:3, :3], matrix[:3, 3] = sim.scale * sim.rotation, sim.translation
    expected = matrix @ poses
    expected[:, :3, :3] /= sim.scale  # S P with the scale taken out of the rotation block
    np.testing.assert_allclose(align_poses(poses, sim), expected, atol=1e-12)


def test_nearest_rotations_clean_rounded_pose_files() -> None:
    """A stored rotation 1e-7 too small (rounding to 7 digits does that) is, by the kit's acos, sqrt(3e-7) = 5.5e-4
    rad away from the exact one: (trace - 1) / 2 = 1 - 1.5e-7. Projected, it is the exact rotation again."""
    rot = rotation((0.3, 1.0, 0.2), 0.8)
    stored = poses_from(np.zeros((1, 3)), (1 - 1e-7) * rot[None])

    def kit_angle(a: np.ndarray, b: np.ndarray) -> float:
        return math.acos(max(min(0.5 * (np.trace(a.T @ b) - 1.0), 1.0), -1.0))

    assert kit_angle(stored[0, :3, :3], rot) == pytest.approx(math.sqrt(3e-7), rel=1e-3)
    cleaned = nearest_rotations(stored)[0, :3, :3]
    np.testing.assert_allclose(cleaned, rot, atol=1e-14)
    assert kit_angle(cleaned, rot) < 1e-7
    mirrored = poses_from(np.zeros((1, 3)), (rot @ np.diag([1.0, 1.0, -1.0]))[None])
    assert np.linalg.det(nearest_rotations(mirrored)[0, :3, :3]) == pytest.approx(1.0)


def test_perfect_prediction_has_no_error_and_distances_add_up() -> None:
    gt = poses_from(circle(300, 50.0, 0.02), np.stack([rotation((0, 1, 0), -0.02 * k) for k in range(300)]))
    dist = trajectory_distances(gt)
    assert dist[-1] == pytest.approx(299 * 2 * 50.0 * math.sin(0.01), rel=1e-12)  # 299 chords of 0.02 rad
    errors = kitti_segment_errors(gt, gt.copy(), lengths=(100.0, 200.0))
    assert errors and all(e.t_err == pytest.approx(0, abs=1e-12) and e.r_err < 1e-7 for e in errors)


def test_ten_percent_scale_drift_on_a_straight_line() -> None:
    """1 m per frame, prediction 1.1x longer, no alignment. A segment of length L ends at the first frame more than
    L metres on (the kit's strict '>'), i.e. L + 1 frames on: error 0.1 (L + 1) m, t_err 10 (L + 1) / L %
    (10.1 % at 100 m). First frames every 10 frames up to 999 - (L + 1)."""
    gt = poses_from(straight_line(1000))
    errors = kitti_segment_errors(gt, poses_from(1.1 * straight_line(1000)))
    for length in KITTI_LENGTHS:
        chosen = [e for e in errors if e.length == length]
        assert [e.first_frame for e in chosen] == list(range(0, 1000 - int(length) - 1, 10))
        np.testing.assert_allclose([e.t_err for e in chosen], 0.1 * (length + 1) / length, rtol=1e-12)
        assert all(e.r_err == 0.0 for e in chosen)
    assert errors[0].t_err * 100 == pytest.approx(10.1, rel=1e-12)
    counts = {length: (998 - int(length)) // 10 + 1 for length in KITTI_LENGTHS}
    expected = sum(n * 10 * (length + 1) / length for length, n in counts.items()) / sum(counts.values())
    t_err, r_err = mean_segment_errors(errors)
    assert (t_err, r_err) == (pytest.approx(expected, rel=1e-12), 0.0)


def test_scale_drift_on_a_circle_is_a_tenth_of_the_chord() -> None:
    """Same rotations, positions 1.1x about the start: the pose error is a pure translation of 0.1 x the chord
    between the segment's ends, 2 r sin(n a / 2) for n frames of a radians."""
    radius, step = 30.0, 0.04
    rots = np.stack([rotation((0, 1, 0), -step * k) for k in range(200)])
    errors = kitti_segment_errors(poses_from(circle(200, radius, step), rots),
                                  poses_from(1.1 * circle(200, radius, step), rots), lengths=(20.0, 50.0))
    arc = 2 * radius * math.sin(step / 2)
    for e in errors:
        frames = math.floor(e.length / arc) + 1  # the first frame more than `length` along
        assert e.t_err == pytest.approx(0.1 * 2 * radius * math.sin(frames * step / 2) / e.length, rel=1e-9)
        assert e.r_err < 1e-7


def test_constant_yaw_drift_gives_known_rotation_and_translation_errors() -> None:
    """Straight line, 1 m per frame; the prediction's positions are right but its heading turns by d per frame
    (R_k = Ry(k d)). The pose error of a segment from frame f to f + L + 1 rotates by (L + 1) d, so
    r_err = (L + 1) d / L rad/m; its translation is |D - Ry(-f d) D| = 2 (L + 1) sin(f d / 2) for D = (0, 0, L + 1)."""
    drift = 0.001
    gt = poses_from(straight_line(300))
    pred = poses_from(straight_line(300), np.stack([rotation((0, 1, 0), drift * k) for k in range(300)]))
    errors = kitti_segment_errors(gt, pred, lengths=(50.0, 100.0), step=10)
    assert len(errors) == 25 + 20  # first frames 0, 10, ... up to 248 (50 m) and 198 (100 m)
    for e in errors:
        assert e.r_err == pytest.approx((e.length + 1) * drift / e.length, rel=1e-6)
        assert e.t_err == pytest.approx(2 * (e.length + 1) * math.sin(e.first_frame * drift / 2) / e.length,
                                        rel=1e-6, abs=1e-12)
    _, r_err = mean_segment_errors(errors)
    expected = np.mean([(e.length + 1) / e.length for e in errors]) * drift * 180 / math.pi * 100
    assert r_err == pytest.approx(expected, rel=1e-6)  # deg per 100 m: about 5.8 here


def test_segment_lengths_use_kitti_s_where_one_fits_else_fractions_of_the_path() -> None:
    assert segment_lengths(150.0)[0] == KITTI_LENGTHS
    lengths, rule = segment_lengths(20.0)
    np.testing.assert_allclose(lengths, [2, 4, 6, 8, 10, 12, 14, 16])
    assert "10%..80% of the 20 m path" in rule
    assert segment_lengths(100.0)[0] == pytest.approx((10, 20, 30, 40, 50, 60, 70, 80))  # 100 m: no '>' 100 m
    assert mean_segment_errors([]) == (None, None)
    gt = poses_from(straight_line(12))  # 11 m: no KITTI segment, but the fractions have some
    assert kitti_segment_errors(gt, gt) == []
    assert len(kitti_segment_errors(gt, gt, segment_lengths(11.0)[0])) == 8  # from frame 0; frame 10 has 1 m left


def test_ate_is_the_rms_of_the_position_errors() -> None:
    gt = np.zeros((4, 3))
    assert absolute_trajectory_error(gt, [[3, 4, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]) == pytest.approx(2.5)
