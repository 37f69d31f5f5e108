"""Geometries from nested mappings (YAML): the same geometry as built in Python, OmegaConf input,
and one-line errors naming the path within the spec."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from pinnrun.config import ConfigError
from pinnrun.geometry import Difference, Disk, Rectangle, Union, from_spec

PLATE = {
    "difference": [
        {"rectangle": {"lower": [-0.5, -0.5], "upper": [0.5, 0.5], "name": "outer"}},
        {
            "union": [
                {"disk": {"center": [0.0, 0.0], "radius": 0.2, "name": "holes"}},
                {"disk": {"center": [0.3, 0.3], "radius": 0.1, "name": "holes"}},
            ]
        },
    ]
}


def by_hand():
    holes = Disk([0.0, 0.0], 0.2, name="holes") | Disk([0.3, 0.3], 0.1, name="holes")
    return Rectangle([-0.5, -0.5], [0.5, 0.5], name="outer") - holes


def test_a_spec_builds_the_same_geometry_as_python():
    g, h = from_spec(PLATE, where="equation.domain"), by_hand()
    assert isinstance(g, Difference) and isinstance(g.b, Union)
    assert g.parts == h.parts == ("outer", "holes")
    assert g.measure == h.measure and g.boundary_measure() == h.boundary_measure()
    rng = np.random.default_rng
    np.testing.assert_array_equal(g.boundary_points(300, rng(1)), h.boundary_points(300, rng(1)))
    np.testing.assert_array_equal(g.interior_points(300, rng(2)), h.interior_points(300, rng(2)))


def test_omegaconf_containers_are_accepted():
    cfg = OmegaConf.create({"equation": {"domain": PLATE}})
    g = from_spec(cfg.equation.domain, where="equation.domain")
    assert g.measure == by_hand().measure
    assert from_spec(OmegaConf.create({"disk": {"center": [0, 0], "radius": 1}})).measure == pytest.approx(np.pi)


@pytest.mark.parametrize(
    "spec, dim, measure",
    [
        ({"interval": {"a": 0, "b": 2, "names": {"x0-": "left"}}}, 1, 2.0),
        ({"box": {"lower": [0, 0, 0, 0], "upper": [1, 1, 1, 2]}}, 4, 2.0),
        ({"cuboid": {"lower": [0, 0, 0], "upper": [1, 2, 3], "name": "walls"}}, 3, 6.0),
        ({"ball": {"center": [0, 0, 0], "radius": 1.0}}, 3, 4 / 3 * np.pi),
        ({"sphere": {"center": [0, 0, 0], "radius": 1}}, 3, 4 / 3 * np.pi),
        ({"ellipse": {"center": [0, 0], "semi_axes": [2, 1], "angle": 0.5}}, 2, 2 * np.pi),
        ({"triangle": {"a": [0, 0], "b": [2, 0], "c": [0, 1], "edge_names": ["x", "y", "z"]}}, 2, 1.0),
        ({"polygon": {"vertices": [[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]]}}, 2, 3.0),
    ],
)
def test_every_primitive_has_its_key(spec, dim, measure):
    g = from_spec(spec)
    assert g.dim == dim and g.measure == pytest.approx(measure, rel=1e-12)


def test_a_difference_of_three_is_the_first_minus_the_others_and_an_intersection_of_two():
    disks = [{"disk": {"center": [x, 0], "radius": 0.1}} for x in (-0.5, 0.5)]
    g = from_spec({"difference": [{"rectangle": {"lower": [-1, -1], "upper": [1, 1]}}, *disks]})
    assert g.measure == pytest.approx(4 - 2 * np.pi * 0.01, rel=1e-3)
    lens = from_spec(
        {"intersection": [{"disk": {"center": [0, 0], "radius": 1}}, {"disk": {"center": [1, 0], "radius": 1}}]}
    )
    assert lens.measure == pytest.approx(2 * np.pi / 3 - np.sqrt(3) / 2, rel=1e-3)


DISK = {"disk": {"center": [0.0, 0.0], "radius": 0.2}}


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            {"difference": [PLATE["difference"][0], {"union": [{"disk": {"center": [0, 0], "radious": 0.2}}, DISK]}]},
            "equation.domain.difference[1].union[0].disk: unknown key 'radious' (keys: center, radius, name)",
        ),
        ({"circle": {"radius": 1}}, "equation.domain: unknown geometry 'circle' (known: interval, box, rectangle,"),
        ({"disk": {"center": [0, 0]}}, "equation.domain.disk: missing key 'radius' (keys: center, radius, name)"),
        (
            {"disk": {"center": "origin", "radius": 1}},
            "equation.domain.disk.center: expected a list of numbers, got 'origin'",
        ),
        ({"disk": {"center": [0, 0], "radius": [1]}}, "equation.domain.disk.radius: expected a number, got [1]"),
        ({"disk": {"center": [0, 0], "radius": True}}, "equation.domain.disk.radius: expected a number, got True"),
        ({"disk": {"center": [0, 0], "radius": -1}}, "equation.domain.disk: Disk radius must be > 0, got -1"),
        ({"disk": [0, 0]}, "equation.domain.disk: expected a mapping of parameters (keys: center, radius, name)"),
        (
            {"polygon": {"vertices": [[0, 0], [1, 1], [1, 0], [0, 1]]}},
            "equation.domain.polygon: Polygon is self-intersecting",
        ),
        (
            {"box": {"lower": [0, 0], "upper": [1, 1], "names": {"x0-": 3}}},
            "equation.domain.box.names: expected a mapping",
        ),
        ({"union": [DISK]}, "equation.domain.union: expected a list of two or more geometries"),
        ({"union": DISK}, "equation.domain.union: expected a list of two or more geometries"),
        (
            {"union": [DISK, {"sphere": {"center": [0, 0, 0], "radius": 1}}]},
            "equation.domain.union: Union of a 2-D and a 3-D",
        ),
        (
            {"intersection": [DISK, 3]},
            "equation.domain.intersection[1]: expected a mapping with one key (one of: interval,",
        ),
        ({"disk": {"center": [0, 0], "radius": 1}, "box": {}}, "equation.domain: expected exactly one key"),
        ({}, "equation.domain: expected exactly one key"),
        ([DISK], "equation.domain: expected a mapping with one key"),
    ],
)
def test_errors_are_one_line_naming_the_path(spec, message):
    with pytest.raises(ConfigError) as err:
        from_spec(spec, where="equation.domain")
    text = str(err.value)
    assert "\n" not in text and text.startswith(message), text
