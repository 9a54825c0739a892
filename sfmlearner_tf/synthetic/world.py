"""The procedural world of one drive: boxes, vertical cylinders and spheres along the road, in the road frame.

Ground (road, markings, sidewalks, verges) is the plane z = 0, shaded from road coordinates. Objects are
primitives in a flat table so that ray casting and shading are vectorised over all of them. Cars, people and
poles carry an instance id (the things a COCO Mask R-CNN detects); buildings and trees are background (id 0).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from sfmlearner_tf.synthetic.road import LANE_WIDTH_M, Road


class Kind(enum.IntEnum):
    BOX = 0
    CYLINDER = 1  # vertical; size = (radius, radius, half height)
    SPHERE = 2  # size = (radius, radius, radius)


class Material(enum.IntEnum):
    FACADE = 0
    CAR_BODY = 1
    CAR_GLASS = 2
    TYRE = 3
    POLE = 4
    TRUNK = 5
    CROWN = 6
    CLOTHES = 7
    SKIN = 8


@dataclass
class Scene:
    """Primitive table (one row per primitive) plus per-drive lighting and the instance classes."""

    road: Road
    sun: np.ndarray  # unit vector towards the sun (road frame)
    kind: list[int] = field(default_factory=list)
    centre: list[tuple[float, float, float]] = field(default_factory=list)
    yaw: list[float] = field(default_factory=list)
    size: list[tuple[float, float, float]] = field(default_factory=list)
    material: list[int] = field(default_factory=list)
    instance: list[int] = field(default_factory=list)
    colour: list[tuple[float, float, float]] = field(default_factory=list)
    texture: list[int] = field(default_factory=list)
    texel: list[float] = field(default_factory=list)
    pattern: list[tuple[float, float, float, float]] = field(default_factory=list)
    classes: dict[int, str] = field(default_factory=dict)

    def add(self, kind: Kind, centre: tuple[float, float, float], yaw: float, size: tuple[float, float, float],
            material: Material, colour: np.ndarray, rng: np.random.Generator, instance: int = 0,
            texel: float = 0.02, pattern: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)) -> None:
        self.kind.append(int(kind))
        self.centre.append(tuple(float(c) for c in centre))
        self.yaw.append(float(yaw))
        self.size.append(tuple(float(s) for s in size))
        self.material.append(int(material))
        self.instance.append(instance)
        self.colour.append(tuple(float(c) for c in colour))
        self.texture.append(int(rng.integers(0, 4)))
        self.texel.append(texel)
        self.pattern.append(pattern)

    def new_instance(self, name: str) -> int:
        instance = len(self.classes) + 1
        self.classes[instance] = name
        return instance

    def arrays(self) -> SceneArrays:
        """The table as numpy arrays (what the ray caster and shader use)."""
        return SceneArrays(
            kind=np.array(self.kind, dtype=np.int32).reshape(-1),
            centre=np.array(self.centre, dtype=np.float64).reshape(-1, 3),
            yaw=np.array(self.yaw, dtype=np.float64).reshape(-1),
            size=np.array(self.size, dtype=np.float64).reshape(-1, 3),
            material=np.array(self.material, dtype=np.int32).reshape(-1),
            instance=np.array(self.instance, dtype=np.uint16).reshape(-1),
            colour=np.array(self.colour, dtype=np.float32).reshape(-1, 3),
            texture=np.array(self.texture, dtype=np.int32).reshape(-1),
            texel=np.array(self.texel, dtype=np.float64).reshape(-1),
            pattern=np.array(self.pattern, dtype=np.float64).reshape(-1, 4),
            road=self.road,
            sun=self.sun,
        )


@dataclass(frozen=True)
class SceneArrays:
    kind: np.ndarray
    centre: np.ndarray
    yaw: np.ndarray
    size: np.ndarray
    material: np.ndarray
    instance: np.ndarray
    colour: np.ndarray
    texture: np.ndarray
    texel: np.ndarray
    pattern: np.ndarray
    road: Road
    sun: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    def corners(self) -> np.ndarray:
        """[P, 8, 3] corners of each primitive's bounding box (yawed boxes; axis-aligned otherwise)."""
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
        local = signs[None] * self.size[:, None, :]
        cos, sin = np.cos(self.yaw)[:, None], np.sin(self.yaw)[:, None]
        world = np.stack([cos * local[..., 0] - sin * local[..., 1], sin * local[..., 0] + cos * local[..., 1],
                          local[..., 2]], axis=-1)
        return world + self.centre[:, None, :]


def build_scene(rng: np.random.Generator, road: Road, sigma_start: float, sigma_end: float,
                travel_end: float) -> Scene:
    """Populates both sides of the road over [sigma_start, sigma_end]; travel_end is where the camera stops
    (a leading car stands in the driving lane beyond it)."""
    elevation, azimuth = rng.uniform(0.5, 1.1), rng.uniform(0, 2 * np.pi)
    sun = np.array([np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)])
    scene = Scene(road=road, sun=sun)
    density = rng.uniform(0.4, 1.0)
    for side in (-1.0, 1.0):
        _buildings(scene, rng, side, sigma_start, sigma_end)
        _parked_cars(scene, rng, side, sigma_start, sigma_end, density)
        _poles_and_trees(scene, rng, side, sigma_start, sigma_end)
        _people(scene, rng, side, sigma_start, sigma_end)
    for sigma in np.arange(sigma_start + rng.uniform(5, 30), sigma_end, rng.uniform(25, 60)):
        _car(scene, rng, sigma, 0.5 * LANE_WIDTH_M, facing=-1.0)  # oncoming lane, standing
    _car(scene, rng, travel_end + rng.uniform(10.0, 25.0), -0.5 * LANE_WIDTH_M, facing=1.0)  # leading car
    return scene


def _buildings(scene: Scene, rng: np.random.Generator, side: float, start: float, end: float) -> None:
    road = scene.road
    base_setback = rng.uniform(1.0, 8.0)
    sigma = start + rng.uniform(-10, 0)
    while sigma < end:
        width = rng.uniform(8.0, 30.0)
        if rng.uniform() < 0.15:
            sigma += width  # an open lot
            continue
        depth, height = rng.uniform(8.0, 14.0), rng.uniform(6.0, 22.0)
        setback = max(1.0, base_setback + rng.uniform(-1.0, 4.0))
        lateral = side * (road.half_width + road.sidewalk_width + setback + depth / 2)
        x, y, heading = road.place(sigma + width / 2, lateral)
        wall = rng.uniform(0.35, 0.8) * np.array([1.0, rng.uniform(0.8, 1.0), rng.uniform(0.65, 0.95)])
        window = (rng.uniform(2.0, 4.0), rng.uniform(2.8, 3.6), rng.uniform(0.35, 0.6), rng.uniform(0.4, 0.6))
        scene.add(Kind.BOX, (x, y, height / 2), heading, (width / 2, depth / 2, height / 2), Material.FACADE,
                  wall, rng, texel=0.02, pattern=window)
        sigma += width + (rng.uniform(0.0, 6.0) if rng.uniform() < 0.5 else 0.0)


def _parked_cars(scene: Scene, rng: np.random.Generator, side: float, start: float, end: float,
                 density: float) -> None:
    lateral = side * (scene.road.half_width - 1.15)
    sigma = start + rng.uniform(0, 8)
    while sigma < end:
        if rng.uniform() < density:
            _car(scene, rng, sigma, lateral, facing=1.0 if side < 0 else -1.0)
        sigma += rng.uniform(5.5, 9.0)


def _car(scene: Scene, rng: np.random.Generator, sigma: float, lateral: float, facing: float) -> None:
    """Body, cabin and four wheels sharing one instance id."""
    instance = scene.new_instance("car")
    x, y, heading = scene.road.place(sigma, lateral)
    yaw = heading + (0.0 if facing > 0 else np.pi) + rng.uniform(-0.04, 0.04)
    length, width = rng.uniform(1.9, 2.4), rng.uniform(0.82, 0.95)
    paint = rng.uniform(0.05, 0.9, size=3)
    forward, left = np.array([np.cos(yaw), np.sin(yaw)]), np.array([-np.sin(yaw), np.cos(yaw)])

    def at(along: float, across: float) -> tuple[float, float]:
        px, py = np.array([x, y]) + along * forward + across * left
        return float(px), float(py)

    scene.add(Kind.BOX, (*at(0, 0), 0.68), yaw, (length, width, 0.38), Material.CAR_BODY, paint, rng, instance,
              texel=0.01)
    cabin_len = rng.uniform(0.9, 1.2)
    scene.add(Kind.BOX, (*at(-0.2, 0), 1.34), yaw, (cabin_len, width - 0.08, 0.28), Material.CAR_GLASS,
              np.array([0.12, 0.14, 0.17]), rng, instance, texel=0.01)
    for along in (-0.68 * length, 0.68 * length):
        for across in (-width + 0.12, width - 0.12):
            scene.add(Kind.BOX, (*at(along, across), 0.32), yaw, (0.32, 0.11, 0.32), Material.TYRE,
                      np.array([0.06, 0.06, 0.06]), rng, instance, texel=0.01)


def _poles_and_trees(scene: Scene, rng: np.random.Generator, side: float, start: float, end: float) -> None:
    road = scene.road
    sigma = start + rng.uniform(0, 20)
    while sigma < end:
        if rng.uniform() < 0.5:
            x, y, _ = road.place(sigma, side * (road.half_width + 0.45))
            height, radius = rng.uniform(4.0, 8.0), rng.uniform(0.06, 0.13)
            scene.add(Kind.CYLINDER, (x, y, height / 2), 0.0, (radius, radius, height / 2), Material.POLE,
                      rng.uniform(0.35, 0.7) * np.ones(3), rng, scene.new_instance("pole"), texel=0.01)
        else:
            x, y, _ = road.place(sigma, side * (road.half_width + road.sidewalk_width - 0.7))
            trunk, radius = rng.uniform(1.8, 3.0), rng.uniform(0.12, 0.25)
            crown = rng.uniform(1.2, 2.6)
            scene.add(Kind.CYLINDER, (x, y, trunk / 2), 0.0, (radius, radius, trunk / 2), Material.TRUNK,
                      np.array([0.32, 0.24, 0.16]), rng, texel=0.01)
            scene.add(Kind.SPHERE, (x, y, trunk + 0.6 * crown), 0.0, (crown, crown, crown), Material.CROWN,
                      rng.uniform(0.6, 1.0) * np.array([0.25, 0.45, 0.18]), rng, texel=0.03)
        sigma += rng.uniform(8.0, 30.0)


def _people(scene: Scene, rng: np.random.Generator, side: float, start: float, end: float) -> None:
    road = scene.road
    for sigma in rng.uniform(start, end, size=int(rng.integers(0, 5))):
        instance = scene.new_instance("person")
        x, y, _ = road.place(sigma, side * (road.half_width + rng.uniform(0.8, road.sidewalk_width - 0.3)))
        height = rng.uniform(1.35, 1.55)
        scene.add(Kind.CYLINDER, (x, y, height / 2), 0.0, (0.21, 0.21, height / 2), Material.CLOTHES,
                  rng.uniform(0.05, 0.8, size=3), rng, instance, texel=0.01)
        scene.add(Kind.SPHERE, (x, y, height + 0.14), 0.0, (0.12, 0.12, 0.12), Material.SKIN,
                  np.array([0.75, 0.58, 0.45]), rng, instance, texel=0.01)
