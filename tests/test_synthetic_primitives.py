"""Hand-worked cases for the synthetic renderer's numerical pieces: ray/primitive hits, the speed profile's
integral, texture filtering and the Mercator inversion."""

from __future__ import annotations

import numpy as np

from sfmlearner_tf.synthetic.motion import SpeedProfile
from sfmlearner_tf.synthetic.oxts import EARTH_RADIUS_M, mercator_to_latlon
from sfmlearner_tf.synthetic.raycast import intersect_box, intersect_cylinder, intersect_ground, intersect_sphere
from sfmlearner_tf.synthetic.textures import box_filtered_band, mip_pyramid

ORIGIN = np.array([0.0, 0.0, 1.65])


def test_ray_hits_match_hand_computed_distances() -> None:
    down = np.array([[1.0, 0.0, -0.165]])  # hits z = 0 at x = 10
    np.testing.assert_allclose(intersect_ground(ORIGIN, down), [10.0])
    assert np.isinf(intersect_ground(ORIGIN, np.array([[1.0, 0.0, 0.1]])))[0]
    ahead = np.array([[1.0, 0.0, 0.0], [1.0, 0.3, 0.0]])
    # box 2 m deep centred 11 m ahead, rotated 90 degrees (so its 'y' half size 1 spans x): front face at x = 10
    t = intersect_box(ORIGIN, ahead, np.array([11.0, 0.0, 1.0]), np.pi / 2, np.array([5.0, 1.0, 1.0]))
    np.testing.assert_allclose(t, [10.0, 10.0])  # the second ray reaches x = 10 at t = 10 too (y = 3 < 5)
    t = intersect_cylinder(ORIGIN, ahead[:1], np.array([10.0, 0.0, 2.0]), 0.5, 2.0)
    np.testing.assert_allclose(t, [9.5])
    np.testing.assert_allclose(intersect_cylinder(np.array([10.0, 0.0, 6.0]), np.array([[0.0, 0.0, -1.0]]),
                                                  np.array([10.0, 0.0, 2.0]), 0.5, 2.0), [2.0])  # top cap at z = 4
    np.testing.assert_allclose(intersect_sphere(ORIGIN, ahead[:1], np.array([10.0, 0.0, 1.65]), 2.0), [8.0])
    # a ray grazing the sphere at distance 1.2 from its centre: t = sqrt(100 - 1.44) - sqrt(4 - 1.44)
    grazing = np.array([[np.sqrt(100 - 1.44), 1.2, 0.0]]) / 10.0
    # unit ray passing 1.2 m from the centre: t = (projection of the centre) - sqrt(r^2 - 1.2^2)
    expected = np.sqrt(100 - 1.44) - np.sqrt(4 - 1.44)
    np.testing.assert_allclose(intersect_sphere(ORIGIN, grazing, np.array([10.0, 0.0, 1.65]), 2.0), [expected])


def test_speed_profile_distance_is_the_integral_of_speed() -> None:
    profile = SpeedProfile(starts=(0.5, 1.6, 2.1), ends=(1.6, 2.1, 3.0), v_from=(12.0, 0.0, 0.0),
                           v_to=(0.0, 0.0, 8.0))
    t = np.linspace(-1.0, 4.0, 200001)
    numeric = np.concatenate([[0.0], np.cumsum(0.5 * (profile.speed(t[1:]) + profile.speed(t[:-1])) * np.diff(t))])
    numeric -= np.interp(0.0, t, numeric)
    np.testing.assert_allclose(profile.distance(t[::1000]), numeric[::1000], atol=1e-6)
    # analytic: constant 12 m/s for 0.5 s, then a raised-cosine ramp 12 -> 0 over 1.1 s covers 12 * 1.1 / 2
    np.testing.assert_allclose(profile.distance(np.array(1.6)), 6.0 + 6.6, atol=1e-12)
    assert profile.speed(np.array([1.8]))[0] == 0.0


def test_box_filter_and_pyramid() -> None:
    coord = np.linspace(-1, 1, 2001)
    coverage = box_filtered_band(coord, 0.0, 0.25, np.full(coord.shape, 0.1))
    np.testing.assert_allclose(np.trapezoid(coverage, coord), 0.5, atol=1e-3)  # band width preserved
    assert coverage[1000] == 1.0 and coverage[0] == 0.0
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    levels = mip_pyramid(image)
    np.testing.assert_allclose(levels[1], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_allclose(levels[2], [[7.5]])


def test_mercator_inversion_matches_the_devkit_forward_formula() -> None:
    lat_ref, lon_ref = 49.0, 8.4
    east, north = np.array([0.0, 120.0, -35.5]), np.array([0.0, -80.0, 250.25])
    lat, lon = mercator_to_latlon(east, north, lat_ref, lon_ref)
    scale = np.cos(np.deg2rad(lat_ref))
    mx = scale * EARTH_RADIUS_M * np.deg2rad(lon)
    my = scale * EARTH_RADIUS_M * np.log(np.tan(np.deg2rad(90.0 + lat) / 2))
    np.testing.assert_allclose(mx - mx[0], east, atol=1e-6)
    np.testing.assert_allclose(my - my[0], north, atol=1e-6)
    np.testing.assert_allclose([lat[0], lon[0]], [lat_ref, lon_ref], atol=1e-12)
