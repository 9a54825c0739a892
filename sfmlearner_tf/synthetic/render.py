"""One camera frame: image (uint8 RGB), true z-depth (float32, 0 for sky) and instance ids (uint16)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfmlearner_tf.synthetic.raycast import SKY, cast
from sfmlearner_tf.synthetic.rays import PinholeRays
from sfmlearner_tf.synthetic.shading import pixel_footprint, shade_ground, shade_primitives, shade_sky
from sfmlearner_tf.synthetic.textures import TextureBank
from sfmlearner_tf.synthetic.world import SceneArrays


@dataclass(frozen=True)
class CameraFrame:
    image: np.ndarray  # [H, W, 3] uint8
    depth: np.ndarray  # [H, W] float32 z-depth in metres, 0 where no surface (sky)
    instances: np.ndarray  # [H, W] uint16, 0 = background


def camera_rays(world_from_camera: np.ndarray, intrinsics: np.ndarray, width: int, height: int) -> PinholeRays:
    """Pixel rays of a camera with 4x4 pose world_from_camera (x right, y down, z forward)."""
    return PinholeRays(origin=world_from_camera[:3, 3].copy(), world_from_camera=world_from_camera[:3, :3].copy(),
                       intrinsics=intrinsics, height=height, width=width)


def render_camera_frame(scene: SceneArrays, textures: TextureBank, world_from_camera: np.ndarray,
                        intrinsics: np.ndarray, width: int, height: int) -> CameraFrame:
    """Ray casts every pixel centre, shades the hits and returns image, depth and instance masks."""
    rays = camera_rays(world_from_camera, intrinsics, width, height)
    t, hit = cast(scene, rays)
    directions = rays.directions.reshape(-1, 3)
    t, hit = t.reshape(-1), hit.reshape(-1)
    focal = float(np.sqrt(intrinsics[0, 0] * intrinsics[1, 1]))
    colour = np.zeros((len(t), 3), dtype=np.float32)
    ground = hit == len(scene)
    if ground.any():
        points = rays.origin + t[ground, None] * directions[ground]
        fp = pixel_footprint(t[ground], directions[ground], np.array([0.0, 0.0, 1.0]), focal)
        colour[ground] = shade_ground(points, fp, scene, textures)
    objects = (hit >= 0) & ~ground
    if objects.any():
        points = rays.origin + t[objects, None] * directions[objects]
        colour[objects] = shade_primitives(points, hit[objects], t[objects], directions[objects], focal, scene,
                                           textures)
    sky = hit == SKY
    if sky.any():
        colour[sky] = shade_sky(directions[sky], 1.0 / focal, textures)
    image = np.clip(np.rint(colour * 255.0), 0, 255).astype(np.uint8).reshape(height, width, 3)
    depth = np.where(sky, 0.0, t).astype(np.float32).reshape(height, width)
    instances = np.zeros(len(t), dtype=np.uint16)
    instances[objects] = scene.instance[hit[objects]]
    return CameraFrame(image=image, depth=depth, instances=instances.reshape(height, width))
