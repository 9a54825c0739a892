"""Vectorised ray casting against the ground plane z = 0 and the scene's primitives (nearest hit wins)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from sfmlearner_tf.synthetic.world import Kind, SceneArrays

EPS_T = 1e-6
SKY = -1


class RayBundle(Protocol):
    origin: np.ndarray

    @property
    def directions(self) -> np.ndarray: ...

    def windows(self, corners: np.ndarray) -> np.ndarray: ...


def intersect_ground(origin: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Ray parameter of the hit with z = 0 (inf for rays that do not go down)."""
    dz = directions[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -origin[2] / dz
    return np.where((dz < 0) & (t > EPS_T), t, np.inf)


def intersect_box(origin: np.ndarray, directions: np.ndarray, centre: np.ndarray, yaw: float,
                  half: np.ndarray) -> np.ndarray:
    """Slab test against a box rotated by yaw about z; inf where missed or where the origin is inside."""
    cos, sin = np.cos(yaw), np.sin(yaw)
    rel = origin - centre
    o_local = np.array([cos * rel[0] + sin * rel[1], -sin * rel[0] + cos * rel[1], rel[2]])
    d_local = np.stack([cos * directions[:, 0] + sin * directions[:, 1],
                        -sin * directions[:, 0] + cos * directions[:, 1], directions[:, 2]], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / d_local
        t1 = (-half - o_local) * inv
        t2 = (half - o_local) * inv
    t_near = np.nanmax(np.minimum(t1, t2), axis=1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=1)
    return np.where((t_far >= t_near) & (t_near > EPS_T), t_near, np.inf)


def intersect_cylinder(origin: np.ndarray, directions: np.ndarray, centre: np.ndarray, radius: float,
                       half_height: float) -> np.ndarray:
    """Vertical cylinder side plus top cap (the bottom stands on the ground)."""
    rel = origin - centre
    dx, dy, dz = directions[:, 0], directions[:, 1], directions[:, 2]
    a = dx * dx + dy * dy
    b = 2.0 * (rel[0] * dx + rel[1] * dy)
    c = rel[0] ** 2 + rel[1] ** 2 - radius**2
    disc = b * b - 4 * a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        t_side = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2 * a)
        z_side = rel[2] + t_side * dz
        side_ok = (disc >= 0) & (a > 0) & (t_side > EPS_T) & (np.abs(z_side) <= half_height)
        t_cap = (half_height - rel[2]) / dz
        cap_x, cap_y = rel[0] + t_cap * dx, rel[1] + t_cap * dy
        cap_ok = (t_cap > EPS_T) & (cap_x * cap_x + cap_y * cap_y <= radius**2)
    return np.minimum(np.where(side_ok, t_side, np.inf), np.where(cap_ok, t_cap, np.inf))


def intersect_sphere(origin: np.ndarray, directions: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    rel = origin - centre
    a = np.einsum("ij,ij->i", directions, directions)
    b = 2.0 * directions @ rel
    c = rel @ rel - radius**2
    disc = b * b - 4 * a * c
    with np.errstate(invalid="ignore"):
        t = (-b - np.sqrt(np.maximum(disc, 0.0))) / (2 * a)
    return np.where((disc >= 0) & (t > EPS_T), t, np.inf)


def intersect_primitive(scene: SceneArrays, index: int, origin: np.ndarray, directions: np.ndarray) -> np.ndarray:
    kind, centre, size = scene.kind[index], scene.centre[index], scene.size[index]
    if kind == Kind.BOX:
        return intersect_box(origin, directions, centre, scene.yaw[index], size)
    if kind == Kind.CYLINDER:
        return intersect_cylinder(origin, directions, centre, size[0], size[2])
    return intersect_sphere(origin, directions, centre, size[0])


def cast(scene: SceneArrays, rays: RayBundle, max_t: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit per ray: (t [R, C], primitive index [R, C]); index len(scene) = ground, SKY (-1) = no hit."""
    directions = rays.directions
    t_best = intersect_ground(rays.origin, directions)
    hit = np.where(np.isfinite(t_best), len(scene), SKY).astype(np.int32)
    windows = rays.windows(scene.corners()) if len(scene) else np.zeros((0, 4), dtype=np.int64)
    for index in np.flatnonzero((windows[:, 0] < windows[:, 1]) & (windows[:, 2] < windows[:, 3])):
        r0, r1, c0, c1 = windows[index]
        sub = directions[r0:r1, c0:c1]
        t = intersect_primitive(scene, index, rays.origin, sub.reshape(-1, 3)).reshape(sub.shape[:2])
        window_best = t_best[r0:r1, c0:c1]
        closer = t < window_best
        window_best[closer] = t[closer]
        hit[r0:r1, c0:c1][closer] = index
    too_far = t_best > max_t
    t_best[too_far] = np.inf
    hit[too_far] = SKY
    return t_best, hit
