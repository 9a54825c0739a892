"""Lambertian shading of ray hits: albedo from world-fixed textures and patterns, times a fixed sun and sky
light, so a surface point has the same colour from every viewpoint (brightness constancy)."""

from __future__ import annotations

import numpy as np

from sfmlearner_tf.synthetic.road import LANE_WIDTH_M
from sfmlearner_tf.synthetic.textures import TextureBank, box_filtered_band, box_filtered_grid
from sfmlearner_tf.synthetic.world import Kind, Material, SceneArrays

AMBIENT = 0.45
MIN_COSINE = 0.05
ASPHALT = np.array([0.30, 0.30, 0.32], dtype=np.float32)
MARKING = np.array([0.86, 0.86, 0.80], dtype=np.float32)
CURB = np.array([0.40, 0.39, 0.37], dtype=np.float32)
SIDEWALK = np.array([0.58, 0.55, 0.51], dtype=np.float32)
VERGE = np.array([0.33, 0.40, 0.22], dtype=np.float32)
WINDOW = np.array([0.16, 0.20, 0.26], dtype=np.float32)
SKY_HORIZON = np.array([0.80, 0.86, 0.92], dtype=np.float32)
SKY_ZENITH = np.array([0.36, 0.55, 0.85], dtype=np.float32)
CONTRAST = {Material.FACADE: 0.3, Material.CAR_BODY: 0.18, Material.CAR_GLASS: 0.35, Material.TYRE: 0.3,
            Material.POLE: 0.3, Material.TRUNK: 0.45, Material.CROWN: 0.55, Material.CLOTHES: 0.35,
            Material.SKIN: 0.15}


def _mix(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return a + weight[:, None] * (b - a)


def _lambert(normals: np.ndarray, sun: np.ndarray) -> np.ndarray:
    return (AMBIENT + (1.0 - AMBIENT) * np.maximum(normals @ sun, 0.0)).astype(np.float32)


def shade_ground(points: np.ndarray, footprint: np.ndarray, scene: SceneArrays, textures: TextureBank) -> np.ndarray:
    """Road with lane markings, curbs, tiled sidewalks and verges, from road coordinates of ground hits."""
    road = scene.road
    along, lateral = road.road_coordinates(points[:, 0], points[:, 1])
    x, y = points[:, 0], points[:, 1]
    fine = textures.sample(0, x, y, footprint, 0.012)
    coarse = textures.sample(1, 0.37 * x + 11.0, 0.37 * y, footprint, 0.05)
    asphalt = ASPHALT * (1.0 + 0.35 * fine + 0.15 * coarse)[:, None]
    edge = LANE_WIDTH_M
    marks = np.maximum(
        box_filtered_band(np.abs(lateral), edge, 0.08, footprint),
        box_filtered_band(lateral, 0.0, 0.07, footprint) * box_filtered_grid(along, 9.0, 1.0 / 3.0, footprint))
    colour = _mix(asphalt, MARKING * (1.0 + 0.1 * fine)[:, None], marks)
    side = np.abs(lateral) - road.half_width
    tiles = 1.0 - 0.45 * np.maximum(box_filtered_grid(along + 0.3, 0.6, 0.08, footprint),
                                    box_filtered_grid(lateral + 0.3, 0.6, 0.08, footprint))
    sidewalk = SIDEWALK * (tiles * (1.0 + 0.25 * fine + 0.1 * coarse))[:, None]
    curb = box_filtered_band(side, 0.08, 0.08, footprint)
    sidewalk = _mix(sidewalk, CURB * (1.0 + 0.2 * fine)[:, None], curb)
    verge = VERGE * (1.0 + 0.5 * textures.sample(2, x, y, footprint, 0.02) + 0.2 * coarse)[:, None]
    to_sidewalk = np.clip(side / np.maximum(footprint, 1e-6) + 0.5, 0.0, 1.0).astype(np.float32)
    to_verge = np.clip((side - road.sidewalk_width) / np.maximum(footprint, 1e-6) + 0.5, 0.0, 1.0).astype(np.float32)
    colour = _mix(_mix(colour, sidewalk, to_sidewalk), verge, to_verge)
    return colour * _lambert(np.array([[0.0, 0.0, 1.0]]), scene.sun)[0]


def surface_frame(points: np.ndarray, index: np.ndarray, scene: SceneArrays) -> tuple[np.ndarray, ...]:
    """Per hit on a primitive: world normal, surface coordinates (u, v) in metres, and height above the
    primitive's base (for facade window rows)."""
    kind = scene.kind[index]
    rel = points - scene.centre[index]
    cos, sin = np.cos(scene.yaw[index]), np.sin(scene.yaw[index])
    local = np.stack([cos * rel[:, 0] + sin * rel[:, 1], -sin * rel[:, 0] + cos * rel[:, 1], rel[:, 2]], axis=-1)
    size = scene.size[index]
    normal = np.zeros_like(points)
    u, v = np.zeros(len(points)), np.zeros(len(points))
    box = kind == Kind.BOX
    if box.any():
        q, h = local[box], size[box]
        face = np.argmax(np.abs(q) / h, axis=1)
        sign = np.sign(q[np.arange(len(q)), face])
        n_local = np.zeros_like(q)
        n_local[np.arange(len(q)), face] = sign
        c, s = cos[box], sin[box]
        normal[box] = np.stack([c * n_local[:, 0] - s * n_local[:, 1], s * n_local[:, 0] + c * n_local[:, 1],
                                n_local[:, 2]], axis=-1)
        u[box] = np.where(face == 0, q[:, 1] * sign, np.where(face == 1, -q[:, 0] * sign, q[:, 0]))
        v[box] = np.where(face == 2, q[:, 1], q[:, 2])
    cyl = kind == Kind.CYLINDER
    if cyl.any():
        q, h = local[cyl], size[cyl]
        on_cap = q[:, 2] >= h[:, 2] - 1e-6
        radial = np.stack([rel[cyl][:, 0], rel[cyl][:, 1], np.zeros(len(q))], axis=-1) / h[:, :1]
        normal[cyl] = np.where(on_cap[:, None], np.array([0.0, 0.0, 1.0]), radial)
        angle = np.arctan2(rel[cyl][:, 1], rel[cyl][:, 0])
        u[cyl] = np.where(on_cap, rel[cyl][:, 0], angle * h[:, 0])
        v[cyl] = np.where(on_cap, rel[cyl][:, 1], rel[cyl][:, 2])
    sph = kind == Kind.SPHERE
    if sph.any():
        normal[sph] = rel[sph] / size[sph][:, :1]
    height = local[:, 2] + size[:, 2]
    return normal, u, v, height


def pixel_footprint(t: np.ndarray, directions: np.ndarray, normals: np.ndarray, focal: float) -> np.ndarray:
    """Pixel footprint on the surface in metres: distance / focal, stretched by the viewing angle (geometric mean
    of the two axes of the footprint ellipse)."""
    length = np.linalg.norm(directions, axis=-1)
    cosine = np.abs(np.sum(directions * normals, axis=-1)) / length
    return t * length / focal / np.sqrt(np.maximum(cosine, MIN_COSINE))


def shade_primitives(points: np.ndarray, index: np.ndarray, t: np.ndarray, directions: np.ndarray, focal: float,
                     scene: SceneArrays, textures: TextureBank) -> np.ndarray:
    """Colour [N, 3] of hits on primitives (index into the scene table) seen along rays `directions`."""
    normal, u, v, height = surface_frame(points, index, scene)
    footprint = pixel_footprint(t, directions, normal, focal)
    texture, texel = scene.texture[index], scene.texel[index]
    noise = np.zeros(len(points), dtype=np.float32)
    sphere = scene.kind[index] == Kind.SPHERE
    for tex in np.unique(texture):
        for scale in np.unique(texel[texture == tex]):
            sel = (texture == tex) & (texel == scale) & ~sphere
            if sel.any():
                noise[sel] = textures.sample(int(tex), u[sel], v[sel], footprint[sel], float(scale))
            sel = (texture == tex) & (texel == scale) & sphere
            if sel.any():
                noise[sel] = _triplanar(textures, int(tex), points[sel], normal[sel], footprint[sel], float(scale))
    material = scene.material[index]
    contrast = np.zeros(len(points), dtype=np.float32)
    for mat, value in CONTRAST.items():
        contrast[material == mat] = value
    colour = scene.colour[index] * np.maximum(1.0 + contrast * noise, 0.05)[:, None]
    facade = material == Material.FACADE
    if facade.any():
        pattern = scene.pattern[index[facade]]
        fp = footprint[facade]
        windows = (box_filtered_grid(u[facade], pattern[:, 0], pattern[:, 2], fp)
                   * box_filtered_grid(height[facade], pattern[:, 1], pattern[:, 3], fp))
        glass = WINDOW * (1.0 + 0.3 * noise[facade])[:, None]
        colour[facade] = _mix(colour[facade], glass, windows)
    return colour * _lambert(normal, scene.sun)[:, None]


def _triplanar(textures: TextureBank, tex: int, points: np.ndarray, normal: np.ndarray, footprint: np.ndarray,
               texel: float) -> np.ndarray:
    weights = normal**2
    weights /= weights.sum(axis=1, keepdims=True)
    x, y, z = points[:, 0], points[:, 1], points[:, 2]
    return (weights[:, 0] * textures.sample(tex, y, z, footprint, texel)
            + weights[:, 1] * textures.sample(tex, x, z, footprint, texel)
            + weights[:, 2] * textures.sample(tex, x, y, footprint, texel))


def shade_sky(directions: np.ndarray, pixel_angle: float, textures: TextureBank) -> np.ndarray:
    """Sky colour by direction only (it is at infinity): a vertical gradient with soft clouds."""
    unit = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    up = np.clip(unit[:, 2], 0.0, 1.0)
    base = _mix(np.tile(SKY_HORIZON, (len(unit), 1)), SKY_ZENITH, np.sqrt(up).astype(np.float32))
    lift = np.maximum(up, 0.05)
    clouds = textures.sample(3, 50.0 * unit[:, 0] / lift, 50.0 * unit[:, 1] / lift, 50.0 * pixel_angle / lift**2,
                             0.5)
    cover = np.clip(0.6 * clouds - 0.1, 0.0, 1.0).astype(np.float32)
    return _mix(base, np.array([0.95, 0.95, 0.96], dtype=np.float32), cover)
