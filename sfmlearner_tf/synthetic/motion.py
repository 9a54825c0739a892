"""The vehicle's motion: a smooth speed profile with optional stop, along the driving lane, with small pitch
and roll. Everything is an analytic (or table-interpolated) function of time, so oxts velocities, angular rates
and accelerations are derivatives of exactly the poses that are rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sfmlearner_tf.synthetic.road import Road

MAX_JERK_LIKE = 20.0  # bound on |v''| (m/s^3): keeps central differences of 10 Hz poses within ~0.04 m/s
DERIVATIVE_STEP_S = 1e-4
MIN_STOP_S = 0.25  # >= 2 frames at 10 Hz, so every stopped frame has a stopped neighbour


@dataclass(frozen=True)
class SpeedProfile:
    """Piecewise speed v(t) (m/s): constant pieces joined by raised-cosine ramps; constant outside the knots."""

    starts: tuple[float, ...]
    ends: tuple[float, ...]
    v_from: tuple[float, ...]
    v_to: tuple[float, ...]

    def speed(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        v = np.full_like(t, self.v_from[0])
        for t0, t1, va, vb in zip(self.starts, self.ends, self.v_from, self.v_to):
            u = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
            v = np.where(t >= t0, va + (vb - va) * 0.5 * (1.0 - np.cos(np.pi * u)), v)
        return v

    def distance(self, t: np.ndarray) -> np.ndarray:
        """Integral of v from 0 to t (analytic)."""
        return self._integral_from_minus(np.asarray(t, dtype=np.float64)) - self._integral_from_minus(np.zeros(()))

    def _integral_from_minus(self, t: np.ndarray) -> np.ndarray:
        # integral of v from the first knot (constant v_from[0] before it) to t
        total = self.v_from[0] * np.minimum(t - self.starts[0], 0.0)
        for i, (t0, t1, va, vb) in enumerate(zip(self.starts, self.ends, self.v_from, self.v_to)):
            duration = t1 - t0
            tau = np.clip(t - t0, 0.0, duration)
            total = total + va * tau + 0.5 * (vb - va) * (tau - duration / np.pi * np.sin(np.pi * tau / duration))
            gap_end = self.starts[i + 1] if i + 1 < len(self.starts) else np.inf
            total = total + vb * np.clip(t - t1, 0.0, gap_end - t1)
        return total


def ramp_duration(speed_change: float) -> float:
    """Shortest raised-cosine ramp whose |v''| = dv pi^2 / (2 T^2) stays under MAX_JERK_LIKE."""
    return max(np.pi * np.sqrt(abs(speed_change) / (2 * MAX_JERK_LIKE)) * 1.05, 0.2)


def make_speed_profile(rng: np.random.Generator, duration: float, v_min: float, v_max: float,
                       with_stop: bool) -> SpeedProfile:
    """Cruise speeds in [v_min, v_max] m/s; with_stop adds a halt of >= 0.3 s placed inside [0, duration]."""
    v1, v2 = rng.uniform(v_min, v_max, size=2)
    if not with_stop:
        ramp = max(duration, ramp_duration(v2 - v1))
        centre = 0.5 * duration
        return SpeedProfile((centre - ramp / 2,), (centre + ramp / 2,), (v1,), (v2,))
    stop = float(np.clip(rng.uniform(0.3, 1.2), MIN_STOP_S, max(MIN_STOP_S, 0.25 * duration)))
    stop_start = rng.uniform(0.2, 0.6) * max(duration - stop, 0.0)
    down, up = ramp_duration(v1), ramp_duration(v2)
    return SpeedProfile(
        starts=(stop_start - down, stop_start, stop_start + stop),
        ends=(stop_start, stop_start + stop, stop_start + stop + up),
        v_from=(v1, 0.0, 0.0),
        v_to=(0.0, 0.0, v2),
    )


@dataclass(frozen=True)
class Trajectory:
    """Vehicle (IMU frame: x forward, y left, z up) pose in the road frame as a function of time."""

    road: Road
    profile: SpeedProfile
    imu_height: float
    pitch_wobble: tuple[float, float, float]  # amplitude (rad), frequency (Hz), phase
    roll_wobble: tuple[float, float, float]

    def euler_and_position(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(roll, pitch, yaw) [N, 3] and IMU position [N, 3] at times t [N]."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        x, y, yaw = self.road.lane_state(self.profile.distance(t))
        speed = self.profile.speed(t)
        accel = (self.profile.speed(t + DERIVATIVE_STEP_S) - self.profile.speed(t - DERIVATIVE_STEP_S)) / (
            2 * DERIVATIVE_STEP_S)
        curvature = np.interp(self.profile.distance(t), self.road.lane_s, self._lane_curvature())
        amp_p, freq_p, phase_p = self.pitch_wobble
        amp_r, freq_r, phase_r = self.roll_wobble
        moving = speed / max(self.profile.v_from[0], self.profile.v_to[-1], 1e-9)
        pitch = moving * amp_p * np.sin(2 * np.pi * freq_p * t + phase_p) - 0.003 * accel
        roll = moving * amp_r * np.sin(2 * np.pi * freq_r * t + phase_r) + 0.005 * speed**2 * curvature
        position = np.stack([x, y, np.full_like(x, self.imu_height)], axis=-1)
        return np.stack([roll, pitch, yaw], axis=-1), position

    def _lane_curvature(self) -> np.ndarray:
        return np.gradient(self.road.heading, self.road.lane_s)

    def road_from_imu(self, t: np.ndarray) -> np.ndarray:
        """[N, 4, 4] IMU-to-road-frame transforms, R = Rz(yaw) Ry(pitch) Rx(roll) (the oxts convention)."""
        euler, position = self.euler_and_position(t)
        matrices = np.tile(np.eye(4), (len(position), 1, 1))
        matrices[:, :3, :3] = euler_to_matrix(euler)
        matrices[:, :3, 3] = position
        return matrices


def euler_to_matrix(euler: np.ndarray) -> np.ndarray:
    """[N, 3] (roll, pitch, yaw) -> [N, 3, 3] Rz(yaw) Ry(pitch) Rx(roll)."""
    roll, pitch, yaw = euler[:, 0], euler[:, 1], euler[:, 2]
    cr, sr, cp, sp, cy, sy = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    return np.stack([
        np.stack([cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr], axis=-1),
        np.stack([sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr], axis=-1),
        np.stack([-sp, cp * sr, cp * cr], axis=-1),
    ], axis=-2)


def make_trajectory(rng: np.random.Generator, road: Road, profile: SpeedProfile, imu_height: float) -> Trajectory:
    """Random small body motion on top of the lane path."""

    def wobble() -> tuple[float, float, float]:
        return rng.uniform(0.001, 0.005), rng.uniform(0.3, 1.0), rng.uniform(0, 2 * np.pi)

    return Trajectory(road=road, profile=profile, imu_height=imu_height, pitch_wobble=wobble(), roll_wobble=wobble())
