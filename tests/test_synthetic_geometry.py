"""The synthetic drives are geometrically right: brightness constancy under the true depth and pose, velodyne
points on the true surfaces through the evaluation's projection, oxts consistent with the poses.

Every check is an independent numpy computation on the written files, read with sfmlearner_tf.prep.kitti_io.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from sfmlearner_tf.prep import kitti_io
from sfmlearner_tf.synthetic import SyntheticManifest

EARTH_RADIUS_M = 6378137.0


def _drive_dir(root: Path, manifest: SyntheticManifest, drive: str) -> Path:
    return root / "kitti_raw" / manifest.date / drive


def _homogeneous(pose_3x4: np.ndarray) -> np.ndarray:
    return np.vstack([pose_3x4, [0.0, 0.0, 0.0, 1.0]])


def _load_frame(drive_dir: Path, frame: int) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(Image.open(drive_dir / "image_02" / "data" / f"{frame:010d}.png"), dtype=np.float64)
    depth = np.load(drive_dir / "depth_02" / "data" / f"{frame:010d}.npy")
    return image, depth


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    return ((1 - fx) * (1 - fy) * image[y0, x0] + fx * (1 - fy) * image[y0, x0 + 1]
            + (1 - fx) * fy * image[y0 + 1, x0] + fx * fy * image[y0 + 1, x0 + 1])


def _local_range(depth: np.ndarray, radius: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of each pixel's (2 radius + 1)^2 neighbourhood."""
    h, w = depth.shape
    padded = np.pad(depth, radius, mode="edge")
    offsets = range(-radius, radius + 1)
    stack = np.stack([padded[radius + a:radius + a + h, radius + b:radius + b + w] for a in offsets for b in offsets])
    return stack.min(axis=0), stack.max(axis=0)


def warp_error(drive_dir: Path, intrinsics: np.ndarray, target: int, source: int,
               source_from_target: np.ndarray | None = None) -> tuple[float, float]:
    """Mean absolute RGB error (grey levels) of the source frame warped into the target with the target's true
    depth, on co-visible pixels away from depth edges; and the fraction of pixels used."""
    tgt_image, tgt_depth = _load_frame(drive_dir, target)
    src_image, src_depth = _load_frame(drive_dir, source)
    poses = kitti_io.read_odometry_poses(drive_dir / "poses_02.txt")
    if source_from_target is None:
        source_from_target = np.linalg.inv(_homogeneous(poses[source])) @ _homogeneous(poses[target])
    h, w = tgt_depth.shape
    v, u = np.mgrid[0:h, 0:w]
    z = tgt_depth.ravel().astype(np.float64)
    camera = np.linalg.inv(intrinsics) @ np.stack([u.ravel(), v.ravel(), np.ones(h * w)]) * z
    moved = source_from_target[:3, :3] @ camera + source_from_target[:3, 3:]
    with np.errstate(divide="ignore", invalid="ignore"):
        projected = intrinsics @ moved
        xs, ys = np.nan_to_num(projected[0] / projected[2], nan=-9), np.nan_to_num(projected[1] / projected[2], nan=-9)
    ok = (z > 0) & (moved[2] > 0.1) & (xs >= 0) & (xs < w - 1) & (ys >= 0) & (ys < h - 1)
    nearest = src_depth[np.clip(np.rint(ys), 0, h - 1).astype(int), np.clip(np.rint(xs), 0, w - 1).astype(int)]
    ok &= np.abs(nearest - moved[2]) < 0.03 * moved[2]  # not occluded in the source
    low, high = _local_range(tgt_depth)
    ok &= ((high - low) < 0.05 * tgt_depth).ravel()  # away from depth edges
    idx = np.flatnonzero(ok)
    warped = _bilinear(src_image, xs[idx], ys[idx])
    return float(np.abs(warped - tgt_image.reshape(-1, 3)[idx]).mean()), float(ok.mean())


def _moving_pair(manifest: SyntheticManifest, drive: str) -> tuple[int, int]:
    static = set(manifest.static_frames[drive])
    n = manifest.config.num_frames
    return next((t, t + 1) for t in range(n - 2, 0, -1) if t not in static and t + 1 not in static)


def test_warp_with_true_depth_and_pose_reproduces_frame(synthetic_root: Path) -> None:
    """Tolerance: MAE < 4 grey levels (of 255) on co-visible pixels; a zero-motion warp must be >2x worse."""
    manifest = SyntheticManifest.load(synthetic_root)
    for drive in manifest.drives:
        drive_dir = _drive_dir(synthetic_root, manifest, drive)
        target, source = _moving_pair(manifest, drive)
        error, used = warp_error(drive_dir, manifest.intrinsics, target, source)
        identity_error, _ = warp_error(drive_dir, manifest.intrinsics, target, source, np.eye(4))
        assert used > 0.3, f"{drive}: only {used:.0%} co-visible pixels"
        assert error < 4.0, f"{drive} {target}<-{source}: MAE {error:.2f} grey levels"
        assert identity_error > 2.0 * error, f"{drive}: zero-motion warp {identity_error:.2f} vs {error:.2f}"


def _velodyne_projection(root: Path, manifest: SyntheticManifest, drive: str, frame: int,
                         projection: np.ndarray):
    """The evaluation's recipe: x >= 0, P_velo2im (normally P_rect_02 R_rect_00 [R|T]), divide, MATLAB
    round - 1."""
    velo = kitti_io.read_velodyne(_drive_dir(root, manifest, drive) / "velodyne_points" / "data" / f"{frame:010d}.bin")
    velo = velo[velo[:, 0] >= 0].astype(np.float64)
    velo[:, 3] = 1.0
    image_points = velo @ projection.T
    u = np.round(image_points[:, 0] / image_points[:, 2]) - 1
    v = np.round(image_points[:, 1] / image_points[:, 2]) - 1
    h, w = manifest.config.height, manifest.config.width
    keep = (u >= 0) & (v >= 0) & (u < w) & (v < h)
    return u[keep].astype(int), v[keep].astype(int), image_points[keep, 2], velo[keep, 0]


def _points_off_surface(root: Path, manifest: SyntheticManifest, drive: str, frame: int,
                        projection: np.ndarray, depth_is_velo_x: bool = False) -> tuple[int, int, int, float]:
    """(points checked, points off the true surface, of those not at a depth edge, median |velo x - z|).

    The evaluation's pixel is round(u) - 1 (MATLAB emulation), so the pixel whose centre is nearest is one to the
    right and one down. The third projective coordinate of P_rect_02 R_rect_00 [R|T] is camera 2's z (P_rect_02's
    third row is [0 0 1 t_z]). A point is on the surface when its z is within the depth range of the 3x3 pixels
    around it (+-0.5%): for a plane, depth at a sub-pixel position lies between the depths at the pixel centres
    around it. The exception is a surface visible only between pixel centres (a sliver at an occlusion edge, or
    an object thinner than a pixel far away): those are counted separately when the 5x5 depth range around the
    pixel spans more than 10%.
    """
    h, w = manifest.config.height, manifest.config.width
    u, v, z_cam, velo_x = _velodyne_projection(root, manifest, drive, frame, projection)
    if depth_is_velo_x:
        z_cam = velo_x
    _, depth = _load_frame(_drive_dir(root, manifest, drive), frame)
    # the eval keeps points up to 1.5 px beyond the right/bottom border (round - 1): no true pixel there;
    # border pixels lack the outer half of their 3x3 neighbourhood, so the check skips them too
    inside = (u + 1 < w - 1) & (v + 1 < h - 1) & (u + 1 > 0) & (v + 1 > 0)
    col, row, z_cam, velo_x = u[inside] + 1, v[inside] + 1, z_cam[inside], velo_x[inside]
    low, high = _local_range(depth)
    low, high = low[row, col], high[row, col]
    off = (z_cam < low * 0.995) | (z_cam > high * 1.005)
    wide_low, wide_high = _local_range(depth, radius=2)
    not_at_edge = off & (wide_high[row, col] < 1.1 * wide_low[row, col])
    return len(z_cam), int(off.sum()), int(not_at_edge.sum()), float(np.median(velo_x - z_cam))


def test_velodyne_points_land_on_true_depth(synthetic_root: Path) -> None:
    """Projected as the evaluation does, every in-image point lies on the surface seen at its pixel, except
    sub-pixel slivers at occlusion edges (at most 1% of points, and all of them at a depth edge). The check has
    teeth: leaving R_rect_00 out of the projection, or taking velodyne x as the depth, breaks >5x more points.
    The evaluation's depth (velodyne x) exceeds camera 2's z by ~0.27 m (the lidar sits behind the camera)."""
    manifest = SyntheticManifest.load(synthetic_root)
    h, w = manifest.config.height, manifest.config.width
    calib_dir = synthetic_root / "kitti_raw" / manifest.date
    projection = kitti_io.velo_to_image_projection(calib_dir, 2)
    velo_calib = kitti_io.read_calib_file(calib_dir / "calib_velo_to_cam.txt")
    p_rect_02 = kitti_io.read_calib_file(calib_dir / "calib_cam_to_cam.txt")["P_rect_02"].reshape(3, 4)
    without_r_rect = p_rect_02 @ _homogeneous(np.hstack([velo_calib["R"].reshape(3, 3), velo_calib["T"][:, None]]))
    for drive in manifest.drives:
        for frame in (0, manifest.config.num_frames - 1):
            checked, off, off_not_at_edge, x_minus_z = _points_off_surface(synthetic_root, manifest, drive, frame,
                                                                           projection)
            assert checked > 0.05 * h * w / 9, f"{drive}/{frame}: only {checked} points in the image"
            assert off_not_at_edge == 0, f"{drive}/{frame}: {off_not_at_edge} points off the surface, not at an edge"
            assert off <= 0.01 * checked, f"{drive}/{frame}: {off}/{checked} points at occlusion slivers"
            assert 0.2 < x_minus_z < 0.35, f"velodyne x - camera z = {x_minus_z:.3f} m"
            for wrong, as_x in ((without_r_rect, False), (projection, True)):
                _, off_wrong, _, _ = _points_off_surface(synthetic_root, manifest, drive, frame, wrong, as_x)
                assert off_wrong > 5 * max(off, 10), f"{drive}/{frame}: a wrong recipe breaks only {off_wrong}"


def _latlon_to_local(packets: np.ndarray) -> np.ndarray:
    """The KITTI devkit's Mercator conversion (scale from the first packet), metres relative to frame 0."""
    scale = np.cos(np.deg2rad(packets[0, 0]))
    mx = scale * EARTH_RADIUS_M * np.deg2rad(packets[:, 1])
    my = scale * EARTH_RADIUS_M * np.log(np.tan(np.deg2rad(90.0 + packets[:, 0]) / 2))
    xyz = np.stack([mx, my, packets[:, 2]], axis=-1)
    return xyz - xyz[0]


def _rotation_rpy(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Rz(yaw) Ry(pitch) Rx(roll), each factor by Rodrigues' formula I + sin(a) K + (1 - cos(a)) K^2 (K the
    cross-product matrix of the unit axis): independent of the library's per-axis matrices."""

    def about(axis: int, angle: float) -> np.ndarray:
        cross = np.zeros((3, 3))
        i, j = [k for k in range(3) if k != axis]
        cross[j, i], cross[i, j] = (1.0, -1.0) if axis != 1 else (-1.0, 1.0)
        return np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross

    return about(2, yaw) @ about(1, pitch) @ about(0, roll)


def _read_packets(drive_dir: Path, n: int) -> np.ndarray:
    return np.stack([kitti_io.read_oxts(drive_dir / "oxts" / "data" / f"{i:010d}.txt") for i in range(n)])


def test_oxts_velocities_match_pose_differences(synthetic_root: Path) -> None:
    """Central differences of 10 Hz positions vs (ve, vn) and horizontal speed vs hypot(vf, vl): within 0.06 m/s
    (speed profiles keep |v''| <= 20 m/s^3, so the difference error is <= 0.1^2/6*20 = 0.033 m/s); yaw
    differences vs wu within 0.01 rad/s."""
    manifest = SyntheticManifest.load(synthetic_root)
    n = manifest.config.num_frames
    fields = {name: i for i, name in enumerate(kitti_io.OXTS_FIELDS)}
    top_speed = []
    for drive in manifest.drives:
        packets = _read_packets(_drive_dir(synthetic_root, manifest, drive), n)
        xyz = _latlon_to_local(packets)
        velocity = (xyz[2:] - xyz[:-2]) / 0.2
        mid = packets[1:-1]
        np.testing.assert_allclose(velocity[:, 0], mid[:, fields["ve"]], atol=0.06)
        np.testing.assert_allclose(velocity[:, 1], mid[:, fields["vn"]], atol=0.06)
        np.testing.assert_allclose(np.hypot(velocity[:, 0], velocity[:, 1]),
                                   np.hypot(mid[:, fields["vf"]], mid[:, fields["vl"]]), atol=0.06)
        yaw = np.unwrap(packets[:, fields["yaw"]])
        np.testing.assert_allclose((yaw[2:] - yaw[:-2]) / 0.2, mid[:, fields["wu"]], atol=0.01)
        top_speed.append(np.max(np.hypot(mid[:, fields["vf"]], mid[:, fields["vl"]])))
        np.testing.assert_allclose(packets[:, fields["au"]], 9.81, atol=1.0)  # gravity as measured, level ride
    assert max(top_speed) > 3.0, "some drive should move faster than 3 m/s"


def test_camera_poses_follow_oxts_through_calibration(synthetic_root: Path) -> None:
    """poses_02.txt (relative to frame 0) = oxts pose (devkit: R = Rz(yaw) Ry(pitch) Rx(roll), Mercator t)
    composed with imu->velo->camera-2 from the calibration files; tolerance 2 mm and 1e-5 (rotation)."""
    manifest = SyntheticManifest.load(synthetic_root)
    calib_dir = synthetic_root / "kitti_raw" / manifest.date
    imu_calib = kitti_io.read_calib_file(calib_dir / "calib_imu_to_velo.txt")
    velo_from_imu = _homogeneous(np.hstack([imu_calib["R"].reshape(3, 3), imu_calib["T"].reshape(3, 1)]))
    velo_to_image = kitti_io.velo_to_image_projection(calib_dir, 2)
    intrinsics = manifest.intrinsics
    cam2_from_velo = np.vstack([np.linalg.solve(intrinsics, velo_to_image), [0, 0, 0, 1]])
    imu_from_cam2 = np.linalg.inv(cam2_from_velo @ velo_from_imu)
    n = manifest.config.num_frames
    for drive in manifest.drives:
        drive_dir = _drive_dir(synthetic_root, manifest, drive)
        packets = _read_packets(drive_dir, n)
        xyz = _latlon_to_local(packets)
        oxts_poses = []
        for i in range(n):
            world_from_imu = np.eye(4)
            world_from_imu[:3, :3] = _rotation_rpy(*packets[i, 3:6])
            world_from_imu[:3, 3] = xyz[i]
            oxts_poses.append(world_from_imu @ imu_from_cam2)
        camera_poses = [_homogeneous(p) for p in kitti_io.read_odometry_poses(drive_dir / "poses_02.txt")]
        for i in range(n):
            expected = np.linalg.inv(oxts_poses[0]) @ oxts_poses[i]
            actual = np.linalg.inv(camera_poses[0]) @ camera_poses[i]
            np.testing.assert_allclose(actual[:3, 3], expected[:3, 3], atol=2e-3)
            np.testing.assert_allclose(actual[:3, :3], expected[:3, :3], atol=1e-5)


def test_odometry_poses_are_camera0_relative_to_first(synthetic_root: Path) -> None:
    """poses/<dd>.txt = rectified camera 0 relative to frame 0; camera 0 sits at -t0 + t2 from camera 2 where
    t_i = K^-1 P_rect_0i[:, 3] (about 6 cm to the right); tolerance 1e-4 m (7-digit text)."""
    manifest = SyntheticManifest.load(synthetic_root)
    calib = kitti_io.read_calib_file(synthetic_root / "kitti_raw" / manifest.date / "calib_cam_to_cam.txt")
    p2 = calib["P_rect_02"].reshape(3, 4)
    cam2_from_cam0 = np.eye(4)
    cam2_from_cam0[:3, 3] = np.linalg.solve(p2[:, :3], p2[:, 3])
    assert 0.05 < cam2_from_cam0[0, 3] < 0.07
    for drive in manifest.drives:
        sequence = manifest.sequences[drive]
        odom = [_homogeneous(p) for p in kitti_io.read_odometry_poses(
            synthetic_root / "kitti_odom" / "poses" / f"{sequence}.txt")]
        cam2 = [_homogeneous(p) for p in kitti_io.read_odometry_poses(
            _drive_dir(synthetic_root, manifest, drive) / "poses_02.txt")]
        np.testing.assert_array_equal(odom[0], np.eye(4))
        cam0 = [c @ cam2_from_cam0 for c in cam2]
        for i in range(len(cam0)):
            np.testing.assert_allclose(odom[i], np.linalg.inv(cam0[0]) @ cam0[i], atol=1e-4)


def test_road_is_the_plane_z0_under_a_camera_at_1_65m(synthetic_root: Path) -> None:
    """Camera 2 centres (poses_02) are 1.65 m +- 3 cm (body pitch/roll) above the road plane z = 0, and the bottom
    image rows back-projected with the true depth, K and the pose land on z = 0 within 1 cm."""
    manifest = SyntheticManifest.load(synthetic_root)
    k_inv = np.linalg.inv(manifest.intrinsics)
    h, w = manifest.config.height, manifest.config.width
    for drive in manifest.drives:
        drive_dir = _drive_dir(synthetic_root, manifest, drive)
        poses = kitti_io.read_odometry_poses(drive_dir / "poses_02.txt")
        np.testing.assert_allclose(poses[:, 2, 3], 1.65, atol=0.03)
        _, depth = _load_frame(drive_dir, 0)
        u = np.arange(w // 2 - 5, w // 2 + 5)
        rays = k_inv @ np.stack([u, np.full(u.shape, h - 1), np.ones(u.shape)])
        world = poses[0, :, :3] @ (rays * depth[h - 1, u]) + poses[0, :, 3:]
        np.testing.assert_allclose(world[2], 0.0, atol=0.01)


def test_depth_structure_is_kitti_like(synthetic_root: Path) -> None:
    """Median surface depth 5-60 m, some sky (depth 0), and instance pixels (cars, people, poles) present."""
    manifest = SyntheticManifest.load(synthetic_root)
    for drive in manifest.drives:
        drive_dir = _drive_dir(synthetic_root, manifest, drive)
        _, depth = _load_frame(drive_dir, 0)
        instances = np.asarray(Image.open(drive_dir / "instances_02" / "data" / f"{0:010d}.png"))
        assert 5.0 < np.median(depth[depth > 0]) < 60.0
        assert 0.02 < np.mean(depth == 0) < 0.5
        assert np.mean(instances > 0) > 0.01
