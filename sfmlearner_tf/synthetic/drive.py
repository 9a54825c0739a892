"""One drive: its road, speed profile, vehicle motion, world and textures, all derived from (seed, drive index),
and the per-frame products (camera frame, lidar scan, oxts packet, poses)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfmlearner_tf.synthetic.config import FRAME_INTERVAL_S, SyntheticConfig
from sfmlearner_tf.synthetic.lidar import scan
from sfmlearner_tf.synthetic.motion import Trajectory, make_speed_profile, make_trajectory
from sfmlearner_tf.synthetic.oxts import oxts_packets
from sfmlearner_tf.synthetic.render import CameraFrame, camera_rays, render_camera_frame
from sfmlearner_tf.synthetic.rig import Rig
from sfmlearner_tf.synthetic.road import make_road
from sfmlearner_tf.synthetic.textures import TextureBank
from sfmlearner_tf.synthetic.world import SceneArrays, build_scene

REFERENCE_LATLON = (49.0, 8.4)  # KITTI's Karlsruhe, as a plausible place for the local metric frames
REFERENCE_ALTITUDE_M = 110.0
LOOK_AHEAD_M = 130.0
LOOK_BEHIND_M = 40.0


@dataclass(frozen=True)
class Drive:
    """Everything needed to render any frame of one drive, independent of which frames are rendered."""

    index: int
    config: SyntheticConfig
    rig: Rig
    trajectory: Trajectory
    scene: SceneArrays
    classes: dict[int, str]  # instance id -> class name
    textures: TextureBank
    world_from_road: np.ndarray  # 4x4: rotation about z by the drive's heading in the east-north frame
    latlon_ref: tuple[float, float]

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.config.num_frames) * FRAME_INTERVAL_S

    def world_from_imu(self, t: np.ndarray) -> np.ndarray:
        return self.world_from_road @ self.trajectory.road_from_imu(t)

    def world_euler(self, t: np.ndarray) -> np.ndarray:
        """(roll, pitch, yaw) in the east-north-up frame, yaw wrapped to [-pi, pi)."""
        euler, _ = self.trajectory.euler_and_position(t)
        heading = np.arctan2(self.world_from_road[1, 0], self.world_from_road[0, 0])
        euler[:, 2] = np.mod(euler[:, 2] + heading + np.pi, 2 * np.pi) - np.pi
        return euler

    def camera2_poses(self) -> np.ndarray:
        """[N, 4, 4] world_from_camera2 (x right, y down, z forward) at the frame times."""
        return self.world_from_imu(self.times) @ self.rig.imu_from_cam2

    def rect0_poses(self) -> np.ndarray:
        """[N, 4, 4] world_from_rectified_camera0 (what KITTI's odometry poses describe)."""
        return self.world_from_imu(self.times) @ self.rig.imu_from_rect0

    def speeds(self) -> np.ndarray:
        return self.trajectory.profile.speed(self.times)

    def static_frames(self) -> list[int]:
        """Frames at which the car stands still (speed exactly zero)."""
        return [int(i) for i in np.flatnonzero(self.speeds() == 0.0)]

    def oxts(self) -> np.ndarray:
        return oxts_packets(self.world_from_imu, self.world_euler, self.times, *self.latlon_ref, REFERENCE_ALTITUDE_M)

    def render_frame(self, frame: int) -> tuple[CameraFrame, np.ndarray]:
        """(camera 2 frame, velodyne scan) of frame `frame`; rendering happens in the road frame."""
        road_from_imu = self.trajectory.road_from_imu(self.times[frame:frame + 1])[0]
        road_from_cam2 = road_from_imu @ self.rig.imu_from_cam2
        config = self.config
        image = render_camera_frame(self.scene, self.textures, road_from_cam2, self.rig.intrinsics, config.width,
                                    config.height)
        road_from_velo = road_from_imu @ np.linalg.inv(self.rig.velo_from_imu)
        camera = camera_rays(road_from_cam2, self.rig.intrinsics, config.width, config.height)
        points = scan(self.scene, road_from_velo, camera, config.azimuth_step_deg)
        return image, points


def make_drive(config: SyntheticConfig, rig: Rig, index: int) -> Drive:
    """Drive `index` of the data set; depends only on (config, rig, index)."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, index]))
    duration = (config.num_frames - 1) * FRAME_INTERVAL_S
    v_min, v_max = config.min_speed / FRAME_INTERVAL_S, config.max_speed / FRAME_INTERVAL_S
    with_stop = index == 0 or rng.uniform() < config.stop_probability
    profile = make_speed_profile(rng, duration, v_min, v_max, with_stop)
    travel = float(profile.distance(np.array(duration)))
    road = make_road(rng, -LOOK_BEHIND_M - 30.0, travel + LOOK_AHEAD_M + 60.0)
    trajectory = make_trajectory(rng, road, profile, rig.imu_height)
    scene = build_scene(rng, road, -LOOK_BEHIND_M, travel + LOOK_AHEAD_M, travel)
    textures = TextureBank.create(rng)
    heading = rng.uniform(-np.pi, np.pi)
    world_from_road = np.eye(4)
    world_from_road[:2, :2] = [[np.cos(heading), -np.sin(heading)], [np.sin(heading), np.cos(heading)]]
    offset = rng.uniform(-0.01, 0.01, size=2)
    latlon = (REFERENCE_LATLON[0] + offset[0], REFERENCE_LATLON[1] + offset[1])
    return Drive(index=index, config=config, rig=rig, trajectory=trajectory, scene=scene.arrays(),
                 classes=dict(scene.classes), textures=textures,
                 world_from_road=world_from_road, latlon_ref=latlon)
