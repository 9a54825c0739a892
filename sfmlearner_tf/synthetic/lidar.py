"""A 64-beam spinning lidar (Velodyne HDL-64E beam layout) sampling the true surfaces.

The scan is instantaneous at the frame time (no rolling-shutter motion). Points whose line of sight from
camera 2 is blocked (lidar/camera parallax: the lidar sits 0.27 m behind and 8 cm above camera 0) are dropped,
so every point the evaluation projects into the image lies on the surface seen at that pixel. Points outside
camera 2's view are all kept.
"""

from __future__ import annotations

import numpy as np

from sfmlearner_tf.synthetic.raycast import SKY, cast
from sfmlearner_tf.synthetic.rays import PinholeRays, PointRays, SphericalRays
from sfmlearner_tf.synthetic.world import Material, SceneArrays

MAX_RANGE_M = 120.0
ELEVATIONS_DEG = np.concatenate([2.0 - np.arange(32) / 3.0, -8.83 - 0.5 * np.arange(32)])[::-1]
REFLECTANCE = {Material.FACADE: 0.35, Material.CAR_BODY: 0.6, Material.CAR_GLASS: 0.1, Material.TYRE: 0.05,
               Material.POLE: 0.5, Material.TRUNK: 0.3, Material.CROWN: 0.2, Material.CLOTHES: 0.3,
               Material.SKIN: 0.3}
GROUND_REFLECTANCE = 0.25
OCCLUSION_TOLERANCE = 1e-5  # relative ray parameter below which a hit in front of the point blocks it


def scan(scene: SceneArrays, world_from_velo: np.ndarray, camera: PinholeRays, azimuth_step_deg: float) -> np.ndarray:
    """float32 [N, 4] points (x, y, z, reflectance) in the velodyne frame (x forward, y left, z up)."""
    azimuths = np.deg2rad(np.arange(-180.0, 180.0, azimuth_step_deg))
    rays = SphericalRays(origin=world_from_velo[:3, 3].copy(), world_from_sensor=world_from_velo[:3, :3].copy(),
                         elevations=np.deg2rad(ELEVATIONS_DEG), azimuths=azimuths)
    t, hit = cast(scene, rays, max_t=MAX_RANGE_M)
    keep = hit != SKY
    sensor_dirs = rays.directions @ world_from_velo[:3, :3]  # back to the sensor frame (rotation only)
    points_velo = t[keep, None] * sensor_dirs[keep]
    hit = hit[keep]
    reflectance = np.full(len(hit), GROUND_REFLECTANCE, dtype=np.float32)
    on_object = hit < len(scene)
    table = np.array([REFLECTANCE[Material(m)] for m in range(len(Material))], dtype=np.float32)
    reflectance[on_object] = table[scene.material[hit[on_object]]]
    points_world = rays.origin + t[keep, None] * rays.directions[keep]
    visible = visible_from_camera(scene, camera, points_world)
    return np.concatenate([points_velo, reflectance[:, None]], axis=1)[visible].astype(np.float32)


def visible_from_camera(scene: SceneArrays, camera: PinholeRays, points: np.ndarray) -> np.ndarray:
    """False for points inside the camera's image whose line of sight from the camera centre is blocked."""
    uv, z = camera.project(points)
    in_view = (z > 0.1) & (uv[:, 0] > -2) & (uv[:, 0] < camera.width + 1) & (uv[:, 1] > -2) & (
        uv[:, 1] < camera.height + 1)
    visible = np.ones(len(points), dtype=bool)
    candidates = np.flatnonzero(in_view)
    if candidates.size:
        rays, order = PointRays.create(camera, points[candidates])
        t, _ = cast(scene, rays)
        visible[candidates[order]] = t[0] >= 1.0 - OCCLUSION_TOLERANCE
    return visible
