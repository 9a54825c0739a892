"""The road: a gently curving centreline in the drive's road frame (x ahead, y left, z up, ground z = 0).

The heading is a sum of a few long sinusoids (curvature radius >= ~120 m, heading within +-0.4 rad), so the
centreline is a graph y = c(x); road coordinates (along, lateral) of a ground point are read from tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEP_M = 0.05  # table resolution along the centreline
MAX_CURVATURE = 1.0 / 120.0
MAX_HEADING = 0.4
LANE_WIDTH_M = 3.5
DRIVING_LANE_OFFSET_M = -0.5 * LANE_WIDTH_M  # right-hand traffic: the camera drives in the right lane


@dataclass(frozen=True)
class Road:
    """Centreline and driving-lane tables (arrays over a fine arc-length grid)."""

    sigma: np.ndarray  # centreline arc length
    x: np.ndarray
    y: np.ndarray
    heading: np.ndarray
    lane_s: np.ndarray  # arc length along the driving lane (0 at sigma = 0)
    lane_x: np.ndarray
    lane_y: np.ndarray
    half_width: float  # asphalt half width (two lanes plus shoulder)
    sidewalk_width: float

    def lane_state(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, heading) of the driving lane at lane arc length s."""
        return (np.interp(s, self.lane_s, self.lane_x), np.interp(s, self.lane_s, self.lane_y),
                np.interp(s, self.lane_s, self.heading))

    def centre_state(self, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, heading) of the centreline at arc length sigma."""
        return (np.interp(sigma, self.sigma, self.x), np.interp(sigma, self.sigma, self.y),
                np.interp(sigma, self.sigma, self.heading))

    def road_coordinates(self, px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(along, lateral) of ground points: arc length of the centreline at the same x, signed offset (left +)."""
        along = np.interp(px, self.x, self.sigma)
        heading = np.interp(px, self.x, self.heading)
        return along, (py - np.interp(px, self.x, self.y)) * np.cos(heading)

    def place(self, sigma: float, lateral: float) -> tuple[float, float, float]:
        """World (x, y) and heading of the point `lateral` metres left of the centreline at arc length sigma."""
        x, y, heading = (float(v) for v in self.centre_state(np.array(sigma)))
        return x - lateral * np.sin(heading), y + lateral * np.cos(heading), heading


def make_road(rng: np.random.Generator, start: float, end: float) -> Road:
    """A random road covering centreline arc lengths [start, end] (metres)."""
    sigma = np.arange(start, end + STEP_M, STEP_M)
    curviness = rng.uniform(0.1, 1.0)
    heading = np.zeros_like(sigma)
    for _ in range(3):
        wavelength = rng.uniform(150.0, 450.0)
        amplitude = curviness * min(MAX_CURVATURE * wavelength / (2 * np.pi) / 3, MAX_HEADING / 3) * rng.uniform(0.3, 1)
        heading += amplitude * np.sin(2 * np.pi * sigma / wavelength + rng.uniform(0, 2 * np.pi))
    heading -= np.interp(0.0, sigma, heading)  # the road starts along +x
    x, y = _integrate(sigma, np.cos(heading)), _integrate(sigma, np.sin(heading))
    x, y = x - np.interp(0.0, sigma, x), y - np.interp(0.0, sigma, y)
    lane_x = x - DRIVING_LANE_OFFSET_M * np.sin(heading)
    lane_y = y + DRIVING_LANE_OFFSET_M * np.cos(heading)
    lane_s = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(lane_x), np.diff(lane_y)))])
    lane_s -= np.interp(0.0, sigma, lane_s)
    return Road(sigma=sigma, x=x, y=y, heading=heading, lane_s=lane_s, lane_x=lane_x, lane_y=lane_y,
                half_width=LANE_WIDTH_M + rng.uniform(2.0, 2.6), sidewalk_width=rng.uniform(2.0, 4.0))


def _integrate(sigma: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Cumulative trapezoid integral."""
    return np.concatenate([[0.0], np.cumsum(0.5 * (values[1:] + values[:-1]) * np.diff(sigma))])
