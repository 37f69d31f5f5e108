"""Constructive solid geometry: measures against exact values, which pieces of the children's
boundaries the result keeps (with their names and the normals' signs), distances for hard
constraints, and empty results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pinnrun.config import ConfigError
from pinnrun.geometry import (
    Ball,
    Box,
    Cuboid,
    Difference,
    Disk,
    Intersection,
    Interval,
    Polygon,
    Rectangle,
    Sphere,
    Union,
)

HOLES = [((-0.4, 0.0), 0.3), ((0.5, 0.5), 0.2)]  # two disjoint disks inside [-1, 1]^2


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def within(fraction: float, p: float, n: int, sigmas: float = 4.0) -> bool:
    return abs(fraction - p) <= sigmas * math.sqrt(p * (1 - p) / n)


def plate() -> Difference:
    """PINNacle's plate with holes: a square minus two disjoint disks."""
    holes = [Disk(c, r, name="holes") for c, r in HOLES]
    return Rectangle([-1, -1], [1, 1], name="outer") - (holes[0] | holes[1])


def plate_distance(x: np.ndarray) -> np.ndarray:
    """The exact distance to the plate's boundary, by hand: the nearest face or hole."""
    faces = np.minimum(1 - np.abs(x[:, 0]), 1 - np.abs(x[:, 1]))
    holes = [np.linalg.norm(x - c, axis=1) - r for c, r in HOLES]
    return np.minimum(faces, np.minimum(*holes))


def test_operators_build_the_csg_classes_and_names_survive():
    a, b = Disk([0, 0], 1, name="a"), Rectangle([0, 0], [2, 2], name="b")
    assert isinstance(a | b, Union) and isinstance(a - b, Difference) and isinstance(a & b, Intersection)
    assert plate().parts == ("outer", "holes")
    assert (a | b).parts == ("a", "b")
    with pytest.raises(ConfigError, match=r"^geometry: Union of a 2-D and a 3-D geometry \(dims must agree\)$"):
        a | Sphere([0, 0, 0], 1)
    with pytest.raises(ConfigError, match="Difference needs two geometries"):
        Difference(a, "disk")


def test_plate_with_holes_measures_match_the_exact_values():
    g = plate()
    area = 4 - math.pi * sum(r * r for _, r in HOLES)
    assert g.measure == pytest.approx(area, rel=1e-3)
    perimeter = 8 + 2 * math.pi * sum(r for _, r in HOLES)
    assert g.boundary_measure() == pytest.approx(perimeter, rel=1e-12)  # no piece is clipped: exact
    assert g.boundary_measure("holes") == pytest.approx(2 * math.pi * 0.5, rel=1e-12)
    assert g.boundary_measure("outer") == pytest.approx(8, rel=1e-12)


def test_plate_with_holes_boundary_points_are_on_it_in_proportion_to_length_with_outward_normals():
    g, n = plate(), 20000
    x, nrm = g.boundary_points(n, rng(1), normals=True)
    assert x.shape == (n, 2) and g.on_boundary(x, tol=1e-9).all()
    share = 2 * math.pi * 0.5 / (8 + 2 * math.pi * 0.5)
    on_holes = g.on_boundary(x, part="holes")
    assert within(float(on_holes.mean()), share, n)
    for c, r in HOLES:  # a hole's normal points into the hole: minus the disk's outward normal
        mine = np.abs(np.linalg.norm(x - c, axis=1) - r) < 1e-9
        np.testing.assert_allclose(nrm[mine], -(x[mine] - c) / r, atol=1e-12)
        np.testing.assert_allclose(g.normal(x[mine]), -(x[mine] - c) / r, atol=1e-12)
    outer = ~on_holes
    assert (np.abs(x[outer]).max(axis=1) == 1).all()
    np.testing.assert_array_equal(np.abs(nrm[outer]).sum(axis=1), 1)
    np.testing.assert_allclose(nrm, g.normal(x), atol=1e-15)
    h = g.boundary_points(500, rng(2), part="holes")
    assert g.on_boundary(h, part="holes").all() and not g.on_boundary(h, part="outer").any()


def test_plate_with_holes_interior_points_avoid_the_holes():
    g = plate()
    for n in (1, 7, 1000):
        x = g.interior_points(n, rng(3))
        assert x.shape == (n, 2) and g.inside(x, tol=0.0).all()
        assert all((np.linalg.norm(x - c, axis=1) >= r).all() for c, r in HOLES)
    x = g.interior_points(20000, rng(4))
    left = 2 - math.pi * 0.09  # [-1, 0] x [-1, 1] minus the first hole
    assert within(float((x[:, 0] < 0).mean()), left / g.measure, 20000)


def test_plate_with_holes_distance_is_exact():
    g = plate()
    x = g.interior_points(2000, rng(5))
    np.testing.assert_allclose(g.distance(x), plate_distance(x), atol=1e-12)
    assert (g.distance(x) > 0).all()
    assert g.distance(g.boundary_points(2000, rng(6))).max() < 1e-9
    np.testing.assert_allclose(g.distance([[0.0, 0.0], [0.9, 0.9], [-0.4, 0.5], [-0.4, -0.9]]), [0.1, 0.1, 0.2, 0.1])
    np.testing.assert_allclose(g.distance([[0.0, 0.0], [-0.4, -0.9]], parts="outer"), [1.0, 0.1])
    np.testing.assert_allclose(g.distance([[-0.4, -0.9]], parts="holes"), [0.6])
    hole = g.boundary_points(200, rng(7), part="holes")
    assert g.distance(hole, parts="holes").max() < 1e-9 and g.distance(hole, parts="outer").min() > 0.09


def test_a_square_minus_a_centred_disk_distance_by_hand():
    g = Rectangle([-1, -1], [1, 1]) - Disk([0, 0], 0.5)
    np.testing.assert_allclose(g.distance([[0.75, 0.0], [0.0, 0.8], [0.9, 0.9]]), [0.25, 0.2, 0.1])


def test_cube_minus_spheres_measure_normals_and_distance():
    centres, r = [(0.3, 0.3, 0.3), (0.7, 0.7, 0.6)], 0.2
    g = Cuboid([0, 0, 0], [1, 1, 1], name="walls") - (Sphere(centres[0], r, "holes") | Sphere(centres[1], r, "holes"))
    assert g.measure == pytest.approx(1 - 2 * 4 / 3 * math.pi * r**3, rel=1e-3)
    assert g.boundary_measure() == pytest.approx(6 + 2 * 4 * math.pi * r * r, rel=1e-12)
    x, nrm = g.boundary_points(3000, rng(8), normals=True)
    assert g.on_boundary(x).all()
    for c in centres:
        mine = np.abs(np.linalg.norm(x - c, axis=1) - r) < 1e-9
        assert mine.sum() > 100
        np.testing.assert_allclose(nrm[mine], -(x[mine] - c) / r, atol=1e-12)
    y = g.interior_points(1000, rng(9))
    exact = np.minimum(
        np.minimum(y, 1 - y).min(axis=1), np.min([np.linalg.norm(y - c, axis=1) - r for c in centres], axis=0)
    )
    np.testing.assert_allclose(g.distance(y), exact, atol=1e-12)
    assert g.distance(x).max() < 1e-9


def test_touching_boxes_union_drops_the_shared_face():
    g = Rectangle([0, 0], [1, 1]) | Rectangle([1, 0], [2, 1])
    assert g.boundary_measure() == pytest.approx(6, rel=1e-12)  # the face x = 1 is inside
    assert g.measure == pytest.approx(2, rel=1e-3)
    assert not g.on_boundary([[1.0, 0.5]]).any() and g.on_boundary([[1.0, 1.0], [2.0, 0.5]]).all()
    x = g.boundary_points(4000, rng(10))
    middle = np.abs(x[:, 0] - 1) < 1e-9  # on the line x = 1: only at the corners (1, 0) and (1, 1)
    assert set(x[middle, 1]) <= {0.0, 1.0}


def test_overlapping_faces_in_the_same_direction_are_kept_once():
    g = Rectangle([0, 0], [1, 1]) | Rectangle([0.5, 0], [1.5, 1])  # bottoms and tops overlap on [0.5, 1]
    assert g.boundary_measure() == pytest.approx(5, rel=1e-3)
    n = 20000
    x = g.boundary_points(n, rng(11))
    assert within(float((x[:, 1] == 0).mean()), 1.5 / 5, n)


def test_a_notch_sharing_the_outer_face_is_cut_out():
    g = Rectangle([0, 0], [1, 1]) - Rectangle([0.5, 0.25], [1, 0.75])
    assert g.boundary_measure() == pytest.approx(5, rel=1e-3)  # 4 - 0.5 + 0.5 + 2 * 0.5
    assert g.measure == pytest.approx(0.75, rel=1e-3)
    assert not g.on_boundary([[1.0, 0.5]]).any() and g.on_boundary([[0.5, 0.5], [1.0, 0.1]]).all()
    np.testing.assert_array_equal(g.normal([[0.5, 0.5], [0.75, 0.75], [0.75, 0.25]]), [[1, 0], [0, -1], [0, 1]])


def test_overlapping_disks_union_and_lens_intersection_match_the_exact_arcs():
    a, b = Disk([0, 0], 1), Disk([1, 0], 1)
    lens = 2 * math.pi / 3 - math.sqrt(3) / 2  # the overlap of two unit disks at distance 1
    u, i = a | b, a & b
    assert u.measure == pytest.approx(2 * math.pi - lens, rel=1e-3)
    assert i.measure == pytest.approx(lens, rel=1e-3)
    assert u.boundary_measure() == pytest.approx(2 * (2 * math.pi - 2 * math.pi / 3), rel=1e-3)
    assert i.boundary_measure() == pytest.approx(2 * 2 * math.pi / 3, rel=1e-3)
    x, nrm = i.boundary_points(2000, rng(12), normals=True)
    assert i.on_boundary(x).all() and a.inside(x).all() and b.inside(x).all()
    right = x[:, 0] > 0.5  # the arc of the first disk
    np.testing.assert_allclose(nrm[right], x[right], atol=1e-12)
    # the distance vanishes on the union's boundary and not on the arcs inside it
    y = u.boundary_points(2000, rng(13))
    assert u.distance(y).max() < 1e-9
    assert u.distance([[1.0, 0.0]])[0] == pytest.approx(1.0, abs=2e-3)  # on a's circle, inside b
    np.testing.assert_allclose(u.distance([[0.5, 0.8]]), [math.sqrt(0.75) - 0.8], atol=1e-3)
    assert (u.distance(u.interior_points(2000, rng(14))) > 0).all()


def test_nested_differences_flip_normals_at_each_level():
    ring = Disk([0, 0], 0.6, name="ring") - Disk([0, 0], 0.3, name="island")
    g = Rectangle([-1, -1], [1, 1], name="outer") - ring  # the island is part of the domain again
    assert g.boundary_measure() == pytest.approx(8 + 2 * math.pi * 0.9, rel=1e-12)
    assert g.measure == pytest.approx(4 - math.pi * (0.36 - 0.09), rel=1e-3)
    x, nrm = g.boundary_points(3000, rng(15), normals=True)
    island, ring_pts = g.on_boundary(x, part="island"), g.on_boundary(x, part="ring")
    np.testing.assert_allclose(nrm[island], x[island] / 0.3, atol=1e-12)  # outward of the island
    np.testing.assert_allclose(nrm[ring_pts], -x[ring_pts] / 0.6, atol=1e-12)  # into the removed ring
    assert g.inside([[0.0, 0.0]]).all() and not g.inside([[0.45, 0.0]]).any()
    two = Rectangle([-1, -1], [1, 1]) - (Disk([0, 0], 0.4) | Disk([0.4, 0], 0.4))  # overlapping holes
    y, m = two.boundary_points(3000, rng(16), normals=True)
    left = np.abs(np.linalg.norm(y, axis=1) - 0.4) < 1e-9
    np.testing.assert_allclose(m[left], -y[left] / 0.4, atol=1e-12)
    assert two.boundary_measure() == pytest.approx(8 + 2 * (2 * math.pi - 2 * math.pi / 3) * 0.4, rel=1e-3)


def test_one_dimensional_csg():
    g = Interval(0, 3) - Interval(1, 2)
    assert g.measure == pytest.approx(2, rel=1e-3) and g.boundary_measure() == 4
    x, nrm = g.boundary_points(400, rng(17), normals=True)
    assert set(x[:, 0]) == {0.0, 1.0, 2.0, 3.0}
    outward = {0.0: -1.0, 1.0: 1.0, 2.0: -1.0, 3.0: 1.0}  # the hole's end points face into the hole
    np.testing.assert_array_equal(nrm[:, 0], [outward[v] for v in x[:, 0]])


def test_an_empty_result_raises_on_interior_points():
    disjoint = Disk([0, 0], 1) & Disk([3, 0], 1)
    diagonal = Disk([0, 0], 1) & Disk([1.5, 1.5], 1)  # the boxes overlap, the disks do not
    everything = Disk([0, 0], 1) - Rectangle([-2, -2], [2, 2])
    for g in (disjoint, diagonal, everything):
        with pytest.raises(ConfigError, match="empty") as err:
            g.interior_points(10, rng())
        assert "\n" not in str(err.value)
        assert g.measure == 0
    with pytest.raises(ConfigError, match="empty"):
        everything.boundary_points(10, rng())
    swallowed = Disk([0, 0], 1) | Disk([0.2, 0], 0.5, name="inner")  # a part CSG clips away entirely
    assert swallowed.parts == ("boundary", "inner") and swallowed.boundary_measure("inner") == 0
    for call in (
        lambda: swallowed.boundary_points(5, rng(), part="inner"),
        lambda: swallowed.distance([[0, 0]], "inner"),
    ):
        with pytest.raises(ConfigError, match=r"^geometry: part\(s\) 'inner' is empty: every piece of it is clipped"):
            call()


def test_same_seed_same_points_other_seed_other_points():
    g = plate()
    for draw in (g.interior_points, g.boundary_points):
        a, b, c = draw(100, rng(0)), draw(100, rng(0)), draw(100, rng(1))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_a_ball_minus_a_box_in_four_dimensions():
    g = Ball([0, 0, 0, 0], 1.0) - Box([0, 0, 0, 0], [2, 2, 2, 2])  # one orthant removed
    assert g.measure == pytest.approx(15 / 16 * math.pi**2 / 2, rel=2e-3)
    x = g.boundary_points(500, rng(18))
    assert g.on_boundary(x).all() and g.inside(g.interior_points(100, rng(19))).all()


def test_an_l_shape_built_by_csg_matches_the_polygon():
    poly = Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)])
    g = Rectangle([0, 0], [2, 2]) - Rectangle([1, 1], [3, 3])  # the notch's faces overrun the square's
    assert g.measure == pytest.approx(3, rel=1e-3) and g.boundary_measure() == pytest.approx(8, rel=1e-3)
    x, nrm = g.boundary_points(2000, rng(20), normals=True)
    assert poly.on_boundary(x).all()
    np.testing.assert_array_equal(nrm, poly.normal(x))  # no corner is drawn: the first piece is the only one
    y = poly.interior_points(2000, rng(21))
    np.testing.assert_allclose(g.distance(y), poly.distance(y), atol=1e-12)
    np.testing.assert_allclose(g.distance([[0.9, 0.9], [1.5, 0.9], [0.5, 1.5]]), [math.sqrt(0.02), 0.1, 0.5])


def test_a_hole_that_misses_the_domain_is_a_warning_and_one_inside_is_not():
    import warnings

    from pinnrun.geometry import GeometryWarning

    square = Rectangle([0, 0], [1, 1])
    with pytest.warns(GeometryWarning, match=r"removes nothing: Disk\(center=\[3.0, 3.0\]"):
        far = square - Disk([3, 3], 0.1)  # the bounding boxes do not overlap
    with pytest.warns(GeometryWarning, match="removes nothing"):
        square - Disk([1.2, 1.2], 0.25)  # the boxes overlap at the corner, the disk misses it (0.283 > 0.25)
    assert far.measure == pytest.approx(1.0, rel=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GeometryWarning)
        square - Disk([0.5, 0.5], 0.1)
        square - Disk([1.2, 1.2], 0.3)  # cuts the corner
