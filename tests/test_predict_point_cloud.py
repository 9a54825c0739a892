"""Point clouds of sfm-predict and the camera they need: K from the field of view and its scaling to the network's
size by hand arithmetic, back-projection against a per-pixel loop on a hand-made depth map, PLY files parsed
back by a reader written here (binary and ASCII agree), the fused cloud placed by hand-made poses, a voxel
filter, and resumed per-frame clouds."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from helpers import loop_back_projection, read_ply
from PIL import Image

from sfmlearner_tf.errors import ConfigError, DataError
from sfmlearner_tf.predict.intrinsics import make_camera
from sfmlearner_tf.predict.metric_scale import ScaleEstimate
from sfmlearner_tf.predict.point_cloud import (
    CloudOptions,
    frame_cloud,
    ply_bytes,
    transform_points,
    voxel_filter,
    write_ply,
)
from sfmlearner_tf.predict.scene_outputs import write_clouds
from sfmlearner_tf.prep.camera_calib import intrinsics_from_hfov
from sfmlearner_tf.prep.frame_sources import open_frame_source

K = np.array([[4.0, 0.0, 3.5], [0.0, 5.0, 2.0], [0.0, 0.0, 1.0]])


def hand_frame(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    depth = rng.uniform(0.5, 20.0, size=(5, 7)).astype(np.float32)
    depth[0, 0], depth[1, 3], depth[4, 6] = 0.0, np.inf, 50.0  # sky, a broken value, a far point
    return depth, rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)


def test_intrinsics_from_the_field_of_view_and_at_the_network_size() -> None:
    # 90 degrees: the focal length is half the width; the principal point is the frame's centre (W/2, H/2).
    np.testing.assert_allclose(intrinsics_from_hfov(90.0, 416, 128), [[208, 0, 208], [0, 208, 64], [0, 0, 1]])
    np.testing.assert_allclose(intrinsics_from_hfov(60.0, 1280, 720)[0, 0], 640 / np.tan(np.pi / 6))
    # A 1280x720 video at 90 degrees (fx = fy = 640, centre 640, 360), resized whole to 416x128: x by 0.325,
    # y by 128/720.
    camera = make_camera(90.0, None, (720, 1280), (128, 416))
    np.testing.assert_allclose(camera.network_intrinsics, [[208, 0, 208], [0, 640 * 128 / 720, 64], [0, 0, 1]])
    assert camera.describe() == ("K (hfov 90 deg) at 1280x720: fx 640.000 fy 640.000 cx 640.000 cy 360.000; at the "
                                 "network's 416x128: fx 208.000 fy 113.778 cx 208.000 cy 64.000")
    explicit = make_camera(None, (700.0, 710.0, 600.0, 180.0), (375, 1242), (128, 416))
    np.testing.assert_allclose(explicit.network_intrinsics,
                               [[700 * 416 / 1242, 0, 600 * 416 / 1242], [0, 710 * 128 / 375, 180 * 128 / 375],
                                [0, 0, 1]])
    assert explicit.record()["given"] == "fx,fy,cx,cy 700,710,600,180"
    with pytest.raises(ConfigError, match="use one"):
        make_camera(90.0, (1.0, 1.0, 1.0, 1.0), (10, 10), (16, 16))
    with pytest.raises(ConfigError, match="<= 170 degrees"):
        make_camera(175.0, None, (10, 10), (16, 16))
    with pytest.raises(DataError, match=r"principal point \(2000, 180\) lies outside the 1242x375 frames"):
        make_camera(None, (700.0, 700.0, 2000.0, 180.0), (375, 1242), (128, 416))
    with pytest.raises(DataError, match="frame b is 20x10 but the first frame is 1242x375"):
        explicit.check_frame("b", np.zeros((10, 20, 3), np.uint8), "clip.mp4")


@pytest.mark.parametrize(("max_depth", "stride"), [(None, 1), (30.0, 1), (None, 2)])
def test_back_projection_matches_a_pixel_loop(max_depth: float | None, stride: int) -> None:
    depth, image = hand_frame()
    points, colors = frame_cloud(depth, image, K, max_depth, stride)
    want_points, want_colors = loop_back_projection(depth, image, K, max_depth, stride)
    assert points.dtype == np.float32 and colors.dtype == np.uint8
    np.testing.assert_allclose(points, want_points, rtol=1e-6)
    np.testing.assert_array_equal(colors, want_colors)
    # Of 35 (or 12 with stride 2) pixels (u, v): (0, 0) is the sky, (3, 1) infinite, (6, 4) at 50 beyond the cap.
    assert len(points) == {(None, 1): 33, (30.0, 1): 32, (None, 2): 11}[(max_depth, stride)]


def test_ply_binary_and_ascii_read_back_the_same(tmp_path: Path) -> None:
    depth, image = hand_frame(1)
    points, colors = frame_cloud(depth, image, K)
    for fmt in ("binary", "ascii"):
        write_ply(tmp_path / f"{fmt}.ply", points, colors, fmt, comment="frame 7\nunits metres")
    binary, ascii_ = read_ply(tmp_path / "binary.ply"), read_ply(tmp_path / "ascii.ply")
    assert (binary[0], ascii_[0]) == ("binary_little_endian", "ascii")
    assert binary[1] == ascii_[1] == ["frame 7", "units metres"]
    for parsed in (binary, ascii_):
        np.testing.assert_array_equal(parsed[2], points)  # ASCII keeps every float32 exactly
        np.testing.assert_array_equal(parsed[3], colors)
    # 15 bytes per vertex after the header; an empty cloud is a valid file.
    header = ply_bytes(points[:0], colors[:0], comment="frame 7\nunits metres").replace(b"vertex 0", b"vertex 33")
    assert (tmp_path / "binary.ply").read_bytes() == header + (tmp_path / "binary.ply").read_bytes()[len(header):]
    assert len((tmp_path / "binary.ply").read_bytes()) == len(header) + 15 * len(points) and len(points) == 33
    write_ply(tmp_path / "empty.ply", points[:0], colors[:0], "ascii")
    assert read_ply(tmp_path / "empty.ply")[2].shape == (0, 3)
    with pytest.raises(ConfigError, match="binary, ascii"):
        ply_bytes(points, colors, "text")


def test_transform_and_voxel_filter_by_hand() -> None:
    quarter_turn = np.array([[0.0, -1, 0, 10], [1, 0, 0, 20], [0, 0, 1, 30], [0, 0, 0, 1]])  # 90 deg about z
    np.testing.assert_allclose(transform_points(np.array([[1.0, 2, 3], [0, 0, 0]], np.float32), quarter_turn),
                               [[8, 21, 33], [10, 20, 30]])
    points = np.array([[0.1, 0.1, 0.1], [0.9, 0.2, 0.5], [1.5, 0.0, 0.0], [-0.1, 0.0, 0.0], [1.2, 0.7, 0.3]],
                      np.float32)
    colors = np.arange(15, dtype=np.uint8).reshape(5, 3)
    kept, kept_colors = voxel_filter(points, colors, 1.0)  # cells (0,0,0) x2, (1,0,0) x2, (-1,0,0)
    np.testing.assert_array_equal(kept, points[[0, 2, 3]])
    np.testing.assert_array_equal(kept_colors, colors[[0, 2, 3]])
    assert voxel_filter(points, colors, 0.0)[0] is points


def write_frames(folder: Path, count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """`count` random RGB frames of the network's size as PNGs (resizing to the same size keeps them)."""
    rng = np.random.default_rng(5)
    folder.mkdir()
    frames = [rng.integers(0, 256, size=(*size, 3), dtype=np.uint8) for _ in range(count)]
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"f{index}.png")
    return frames


def test_clouds_of_a_sequence_fused_and_resumed(tmp_path: Path) -> None:
    size = (8, 12)
    frames = write_frames(tmp_path / "frames", 3, size)
    out = tmp_path / "out"
    rng = np.random.default_rng(6)
    depths = [rng.uniform(1.0, 9.0, size=size).astype(np.float32) for _ in frames]
    for index, depth in enumerate(depths):
        (out / "depth").mkdir(parents=True, exist_ok=True)
        np.save(out / "depth" / f"f{index}.npy", depth)
    camera = make_camera(None, (10.0, 11.0, 6.0, 4.0), size, size)
    poses = np.stack([np.eye(4)] * 3)
    poses[1, :3, 3] = [0.0, 0.0, 1.0]
    poses[2, :3, :3] = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]  # 90 degrees about y
    poses[2, :3, 3] = [0.5, 0.0, 2.0]
    estimate = ScaleEstimate(2.0, "camera_height", 3, 3)
    options = CloudOptions(per_frame=True, fused=True, ply_format="ascii", max_depth=15.0, stride=2)
    source = open_frame_source(tmp_path / "frames")
    clouds, fused = write_clouds(options, source, out, camera, estimate, poses, progress_every_s=1e9)
    want_fused = []
    for index, (depth, frame) in enumerate(zip(depths, frames)):
        # Metric: depth x 2 (cap 15 applies to it), the translations x 2.
        points, colors = loop_back_projection(depth * 2, frame, camera.network_intrinsics, 15.0)
        _, comments, got_points, got_colors = read_ply(clouds / f"f{index}.ply")
        np.testing.assert_allclose(got_points, points, rtol=1e-6)
        np.testing.assert_array_equal(got_colors, colors)
        assert "units metres (depth x 2, scale from the camera height)" in comments[0]
        points, colors = loop_back_projection(depth * 2, frame, camera.network_intrinsics, 15.0, stride=2)
        moved = points.astype(np.float64) @ poses[index, :3, :3].T + poses[index, :3, 3] * 2
        want_fused.append((moved, colors))
    _, _, got_points, got_colors = read_ply(fused)
    np.testing.assert_allclose(got_points, np.concatenate([p for p, _ in want_fused]), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got_colors, np.concatenate([c for _, c in want_fused]))
    # A rerun keeps the per-frame clouds; other settings in the same folder are refused.
    stamps = {p.name: p.stat().st_mtime_ns for p in clouds.glob("*.ply")}
    os.utime(clouds / "f0.ply", ns=(1, 1))
    write_clouds(CloudOptions(per_frame=True, ply_format="ascii", max_depth=15.0), source, out, camera, estimate,
                 None, progress_every_s=1e9)
    assert (clouds / "f0.ply").stat().st_mtime_ns == 1
    assert {p.name: p.stat().st_mtime_ns for p in clouds.glob("*.ply") if p.name != "f0.ply"} == {
        k: v for k, v in stamps.items() if k != "f0.ply"}
    with pytest.raises(ConfigError, match="holds the outputs of another run"):
        write_clouds(CloudOptions(per_frame=True), source, out, camera, None, None, progress_every_s=1e9)
