"""Ray bundles and their culling windows: a pinhole camera's pixel grid, a spinning lidar's beam grid, and a
list of rays to given points. Each bundle gives, per primitive, a conservative window of rays that can hit it,
so the ray caster only tests rays near each object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEAR_M = 0.05
_BOX_EDGES = np.array([[0, 1], [2, 3], [4, 5], [6, 7], [0, 2], [1, 3], [4, 6], [5, 7], [0, 4], [1, 5], [2, 6],
                       [3, 7]])


@dataclass(frozen=True)
class PinholeRays:
    """Rays through the pixel centres (u, v integers, 0-based) of a pinhole camera; direction z (camera) = 1,
    so the ray parameter of a hit is its z-depth."""

    origin: np.ndarray  # camera centre, world
    world_from_camera: np.ndarray  # 3x3
    intrinsics: np.ndarray  # 3x3
    height: int
    width: int

    @property
    def directions(self) -> np.ndarray:
        v, u = np.mgrid[0:self.height, 0:self.width].astype(np.float64)
        pixels = np.stack([u, v, np.ones_like(u)], axis=-1)
        camera = pixels @ np.linalg.inv(self.intrinsics).T
        return camera @ self.world_from_camera.T

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points [..., 3] -> (pixel coordinates [..., 2], camera z [...])."""
        camera = (points - self.origin) @ np.linalg.inv(self.world_from_camera).T
        z = camera[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = (camera @ self.intrinsics.T)[..., :2] / z[..., None]
        return uv, z

    def pixel_bounds(self, corners: np.ndarray) -> np.ndarray:
        """[P, 8, 3] world box corners -> [P, 4] float (u_min, u_max, v_min, v_max) of the visible part of each
        box (clipped at the near plane), or u_min > u_max when the box is behind the camera."""
        camera = (corners - self.origin) @ np.linalg.inv(self.world_from_camera).T
        ends = camera[:, _BOX_EDGES]  # [P, 12, 2, 3]
        za, zb = ends[..., 0, 2], ends[..., 1, 2]
        crosses = (za - NEAR_M) * (zb - NEAR_M) < 0
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(crosses, (NEAR_M - za) / (zb - za), 0.0)
        clipped = ends[..., 0, :] + frac[..., None] * (ends[..., 1, :] - ends[..., 0, :])
        points = np.concatenate([camera, clipped], axis=1)
        valid = np.concatenate([camera[..., 2] >= NEAR_M, crosses], axis=1)
        z = np.where(valid, points[..., 2], 1.0)
        uv = (points @ self.intrinsics.T)[..., :2] / z[..., None]
        big = np.inf
        u_min = np.where(valid, uv[..., 0], big).min(axis=1)
        u_max = np.where(valid, uv[..., 0], -big).max(axis=1)
        v_min = np.where(valid, uv[..., 1], big).min(axis=1)
        v_max = np.where(valid, uv[..., 1], -big).max(axis=1)
        return np.stack([u_min, u_max, v_min, v_max], axis=-1)

    def windows(self, corners: np.ndarray) -> np.ndarray:
        """[P, 4] int (row0, row1, col0, col1) of pixels whose rays may hit each box (empty when row0 >= row1)."""
        bounds = self.pixel_bounds(corners)
        with np.errstate(invalid="ignore"):
            col0 = np.clip(np.floor(bounds[:, 0]) - 1, 0, self.width)
            col1 = np.clip(np.ceil(bounds[:, 1]) + 2, 0, self.width)
            row0 = np.clip(np.floor(bounds[:, 2]) - 1, 0, self.height)
            row1 = np.clip(np.ceil(bounds[:, 3]) + 2, 0, self.height)
        out = np.stack([row0, row1, col0, col1], axis=-1)
        out[~np.isfinite(out)] = 0
        empty = (bounds[:, 0] > bounds[:, 1]) | (col0 >= col1) | (row0 >= row1)
        out[empty] = 0
        return out.astype(np.int64)


@dataclass(frozen=True)
class SphericalRays:
    """A spinning lidar: rows = beam elevations (ascending), columns = azimuths (ascending, in [-pi, pi))."""

    origin: np.ndarray
    world_from_sensor: np.ndarray  # 3x3
    elevations: np.ndarray
    azimuths: np.ndarray

    @property
    def directions(self) -> np.ndarray:
        el, az = np.meshgrid(self.elevations, self.azimuths, indexing="ij")
        sensor = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1)
        return sensor @ self.world_from_sensor.T

    def windows(self, corners: np.ndarray) -> np.ndarray:
        """Conservative (row, col) windows from a bounding circle (horizontal) and the z range of each box."""
        sensor = (corners - self.origin) @ self.world_from_sensor  # inverse rotation (orthonormal to 1e-6)
        centre = sensor[..., :2].mean(axis=1)
        radius = np.linalg.norm(sensor[..., :2] - centre[:, None], axis=-1).max(axis=1) * 1.01 + 0.05
        dist = np.linalg.norm(centre, axis=-1)
        z_min, z_max = sensor[..., 2].min(axis=1), sensor[..., 2].max(axis=1)
        near, far = np.maximum(dist - radius, 1e-3), dist + radius
        el_max = np.arctan2(z_max, np.where(z_max > 0, near, far))
        el_min = np.arctan2(z_min, np.where(z_min < 0, near, far))
        row0 = np.searchsorted(self.elevations, el_min, side="left")
        row1 = np.searchsorted(self.elevations, el_max, side="right")
        inside = dist <= radius
        half = np.arcsin(np.clip(radius / np.maximum(dist, 1e-9), 0, 1))
        az_c = np.arctan2(centre[:, 1], centre[:, 0])
        lo, hi = az_c - half, az_c + half
        full = inside | (lo < -np.pi) | (hi >= np.pi)
        col0 = np.where(full, 0, np.searchsorted(self.azimuths, lo, side="left"))
        col1 = np.where(full, len(self.azimuths), np.searchsorted(self.azimuths, hi, side="right"))
        row0 = np.where(inside, 0, row0)
        row1 = np.where(inside, len(self.elevations), row1)
        return np.stack([row0, row1, col0, col1], axis=-1).astype(np.int64)


@dataclass(frozen=True)
class PointRays:
    """Rays from a camera centre to given world points (t = 1 at the point), one row, sorted by pixel column;
    windows come from the camera's pixel bounds."""

    camera: PinholeRays
    points: np.ndarray  # [N, 3] world, sorted by projected u
    u: np.ndarray  # projected column of each point (ascending)

    @classmethod
    def create(cls, camera: PinholeRays, points: np.ndarray) -> tuple[PointRays, np.ndarray]:
        """Returns the bundle and the permutation that sorted the points."""
        uv, _ = camera.project(points)
        order = np.argsort(uv[:, 0], kind="stable")
        return cls(camera=camera, points=points[order], u=uv[order, 0]), order

    @property
    def origin(self) -> np.ndarray:
        return self.camera.origin

    @property
    def directions(self) -> np.ndarray:
        return (self.points - self.camera.origin)[None]

    def windows(self, corners: np.ndarray) -> np.ndarray:
        bounds = self.camera.pixel_bounds(corners)
        col0 = np.searchsorted(self.u, np.nan_to_num(bounds[:, 0] - 1.0, neginf=-1e30, posinf=1e30), side="left")
        col1 = np.searchsorted(self.u, np.nan_to_num(bounds[:, 1] + 1.0, neginf=-1e30, posinf=1e30), side="right")
        empty = bounds[:, 0] > bounds[:, 1]
        rows = np.where(empty, 0, 1)
        return np.stack([np.zeros_like(rows), rows, np.where(empty, 0, col0), np.where(empty, 0, col1)], axis=-1)
