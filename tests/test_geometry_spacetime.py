"""A space geometry times a time interval: points inside, on the lateral boundary and at the
initial time, normals with a zero time component, and the spatial distance."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest

from pinnrun.config import ConfigError, SamplerMethod
from pinnrun.geometry import Disk, Interval, Rectangle, SpaceTime
from pinnrun.sampling import sample_box


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def plate_in_time() -> SpaceTime:
    space = Rectangle([-1, -1], [1, 1], name="outer") - Disk([0, 0], 0.5, name="hole")
    return SpaceTime(space, 0.0, 2.0)


def test_dimensions_box_and_measures():
    st = plate_in_time()
    assert st.dim == 3 and st.parts == ("outer", "hole")
    lower, upper = st.bbox
    np.testing.assert_array_equal(lower, [-1, -1, 0]) and np.testing.assert_array_equal(upper, [1, 1, 2])
    assert st.measure == pytest.approx(2 * (4 - math.pi / 4), rel=1e-3)
    assert st.boundary_measure("hole") == pytest.approx(2 * math.pi * 0.5 * 2, rel=1e-12)


def test_interior_points_are_exactly_n_inside_with_times_in_the_interval():
    st = plate_in_time()
    for n in (1, 7, 1000):
        x = st.interior_points(n, rng(n))
        assert x.shape == (n, 3) and st.inside(x, tol=0.0).all()
        assert (x[:, 2] >= 0).all() and (x[:, 2] <= 2).all() and (np.linalg.norm(x[:, :2], axis=1) >= 0.5).all()
    x = st.interior_points(20000, rng(1))
    assert abs((x[:, 2] < 1).mean() - 0.5) < 4 * math.sqrt(0.25 / 20000)
    line = SpaceTime(Interval(0, 1), 0, 1)  # a box in space and time: the Sobol draw itself
    draw = partial(sample_box, SamplerMethod.sobol)
    np.testing.assert_array_equal(
        line.interior_points(64, rng(2), draw=draw), sample_box(SamplerMethod.sobol, 64, [0, 0], [1, 1], rng(2))
    )


def test_boundary_points_lie_on_the_lateral_boundary_with_space_normals():
    st = plate_in_time()
    x, nrm = st.boundary_points(2000, rng(3), normals=True)
    assert x.shape == (2000, 3) and st.on_boundary(x).all()
    assert (x[:, 2] >= 0).all() and (x[:, 2] <= 2).all() and x[:, 2].std() > 0.5
    assert (nrm[:, 2] == 0).all() and np.allclose(np.linalg.norm(nrm, axis=1), 1)
    np.testing.assert_allclose(st.normal(x), nrm, atol=1e-15)
    hole = st.boundary_points(500, rng(4), part="hole")
    np.testing.assert_allclose(np.linalg.norm(hole[:, :2], axis=1), 0.5)
    np.testing.assert_allclose(st.normal(hole)[:, :2], -hole[:, :2] / 0.5, atol=1e-12)
    assert np.isnan(st.normal([[0.9, 0.0, 3.0], [1.0, 0.0, 3.0]])).all()  # off the interval in time


def test_initial_points_are_inside_at_the_initial_time():
    st = SpaceTime(Disk([0, 0], 1), 0.5, 1.5)
    x = st.initial_points(300, rng(5))
    assert x.shape == (300, 3) and (x[:, 2] == 0.5).all() and (np.linalg.norm(x[:, :2], axis=1) <= 1).all()


def test_distance_is_the_space_distance_at_every_time():
    st = plate_in_time()
    np.testing.assert_allclose(st.distance([[0.75, 0.0, 0.0], [0.75, 0.0, 1.7], [0.0, 0.9, 1.0]]), [0.25, 0.25, 0.1])
    np.testing.assert_allclose(st.distance([[0.75, 0.0, 1.0]], parts="hole"), [0.25])
    assert st.distance(st.boundary_points(500, rng(6))).max() < 1e-9


def test_bad_time_intervals_and_spaces_are_refused():
    with pytest.raises(ConfigError, match=r"^geometry: SpaceTime needs t0 < t1, got t0=1, t1=1$"):
        SpaceTime(Disk([0, 0], 1), 1, 1)
    with pytest.raises(ConfigError, match="needs a space geometry"):
        SpaceTime([0, 1], 0, 1)
    with pytest.raises(ConfigError, match="t1 must be a finite number"):
        SpaceTime(Disk([0, 0], 1), 0, float("inf"))
    with pytest.raises(ConfigError, match="empty"):
        SpaceTime(Disk([0, 0], 1) - Disk([0, 0], 2), 0, 1).interior_points(5, rng())
