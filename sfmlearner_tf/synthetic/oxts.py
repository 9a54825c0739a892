"""oxts packets (KITTI's 30 GPS/IMU fields) from the vehicle trajectory.

Positions go to latitude/longitude by inverting the KITTI devkit's Mercator formulas around a per-drive
reference point, so devkit-style conversion returns the local metric frame (x east, y north, z up).
Velocities, accelerations and angular rates are numerical derivatives (step 1e-4 s / 1e-3 s) of the same
continuous-time poses that are rendered. Following the OXTS manual, x/y/z quantities are in the vehicle
body frame and f/l/u ones in the level frame (heading only); accelerations include gravity as an
accelerometer measures it (about +9.81 up when standing).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EARTH_RADIUS_M = 6378137.0
GRAVITY = 9.81
VELOCITY_STEP_S = 1e-4
ACCEL_STEP_S = 1e-3
STATUS_FIELDS = (0.05, 0.02, 4, 10, 4, 4, 0)  # pos_accuracy, vel_accuracy, navstat, numsats, pos/vel/ori mode


def mercator_to_latlon(x: np.ndarray, y: np.ndarray, lat_ref: float, lon_ref: float) -> tuple[np.ndarray, ...]:
    """Local metric (east, north) around (lat_ref, lon_ref) -> (lat, lon) degrees, inverse of the devkit's
    latToMercator with scale = cos(lat_ref)."""
    scale = np.cos(np.deg2rad(lat_ref))
    mx = scale * EARTH_RADIUS_M * np.deg2rad(lon_ref) + x
    my = scale * EARTH_RADIUS_M * np.log(np.tan(np.pi * (90.0 + lat_ref) / 360.0)) + y
    lon = np.rad2deg(mx / (scale * EARTH_RADIUS_M))
    lat = 360.0 / np.pi * np.arctan(np.exp(my / (scale * EARTH_RADIUS_M))) - 90.0
    return lat, lon


def _vee_log(relative: np.ndarray) -> np.ndarray:
    """Rotation vectors of [N, 3, 3] rotations (angles well below pi)."""
    cos = np.clip((np.trace(relative, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    axis = np.stack([relative[:, 2, 1] - relative[:, 1, 2], relative[:, 0, 2] - relative[:, 2, 0],
                     relative[:, 1, 0] - relative[:, 0, 1]], axis=-1)
    factor = np.where(angle > 1e-12, angle / (2.0 * np.sin(np.maximum(angle, 1e-12))), 0.5)
    return axis * factor[:, None]


def oxts_packets(world_from_imu: Callable[[np.ndarray], np.ndarray], euler: Callable[[np.ndarray], np.ndarray],
                 times: np.ndarray, lat_ref: float, lon_ref: float, alt_ref: float) -> np.ndarray:
    """[N, 30] packets at `times`. world_from_imu(t) -> [N, 4, 4] (ENU metres), euler(t) -> [N, 3] (roll,
    pitch, yaw in the world frame)."""
    pose = world_from_imu(times)
    position, rotation = pose[:, :3, 3], pose[:, :3, :3]
    rpy = euler(times)
    yaw = rpy[:, 2]
    level = np.zeros_like(rotation)
    level[:, 0, 0], level[:, 0, 1], level[:, 1, 0], level[:, 1, 1] = np.cos(yaw), -np.sin(yaw), np.sin(yaw), np.cos(yaw)
    level[:, 2, 2] = 1.0

    def velocity(t: np.ndarray) -> np.ndarray:
        h = VELOCITY_STEP_S
        return (world_from_imu(t + h)[:, :3, 3] - world_from_imu(t - h)[:, :3, 3]) / (2 * h)

    vel = velocity(times)
    accel = (velocity(times + ACCEL_STEP_S) - velocity(times - ACCEL_STEP_S)) / (2 * ACCEL_STEP_S)
    specific_force = accel + np.array([0.0, 0.0, GRAVITY])
    h = VELOCITY_STEP_S
    relative = np.einsum("nji,njk->nik", world_from_imu(times - h)[:, :3, :3], world_from_imu(times + h)[:, :3, :3])
    omega_body = _vee_log(relative) / (2 * h)
    omega_world = np.einsum("nij,nj->ni", rotation, omega_body)

    def in_frame(frame: np.ndarray, vector: np.ndarray) -> np.ndarray:
        return np.einsum("nji,nj->ni", frame, vector)

    lat, lon = mercator_to_latlon(position[:, 0], position[:, 1], lat_ref, lon_ref)
    vel_level = in_frame(level, vel)
    columns = [
        lat, lon, alt_ref + position[:, 2], rpy[:, 0], rpy[:, 1], yaw,
        vel[:, 1], vel[:, 0], vel_level[:, 0], vel_level[:, 1], vel_level[:, 2],
        *in_frame(rotation, specific_force).T, *in_frame(level, specific_force).T,
        *omega_body.T, *in_frame(level, omega_world).T,
    ]
    status = np.tile(np.array(STATUS_FIELDS, dtype=np.float64), (len(times), 1))
    return np.concatenate([np.stack(columns, axis=-1), status], axis=1)


def format_packet(packet: np.ndarray) -> str:
    """One oxts line: floats with 14 significant digits, the last five status fields as integers."""
    floats = " ".join(f"{v:.14g}" for v in packet[:25])
    ints = " ".join(str(int(v)) for v in packet[25:])
    return f"{floats} {ints}\n"
