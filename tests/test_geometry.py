"""The geometry primitives: exact measures, exactly n points inside or on the boundary, uniform in
area and arc length, normals, distances, named parts, and one-line errors for bad shapes."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.spatial import cKDTree

from pinnrun.config import ConfigError, SamplerMethod
from pinnrun.geometry import Ball, Box, Cuboid, Disk, Ellipse, Interval, Polygon, Rectangle, Sphere, Triangle
from pinnrun.sampling import sample_box

L_SHAPE = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]  # [0,2]^2 minus [1,2]^2
L_EDGES = ["bottom", "right", "step", "riser", "top", "left"]
L_LENGTHS = [2, 1, 1, 1, 1, 2]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def within(fraction: float, p: float, n: int, sigmas: float = 4.0) -> bool:
    """A sampled fraction is within ``sigmas`` binomial standard deviations of ``p``."""
    return abs(fraction - p) <= sigmas * math.sqrt(p * (1 - p) / n)


def ramanujan(a: float, b: float) -> float:
    h = ((a - b) / (a + b)) ** 2
    return math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))


PRIMITIVES = {
    "interval": Interval(-1.0, 2.0),
    "box3": Box([0, 0, 0], [1, 2, 0.5]),
    "disk": Disk([0.5, -0.5], 0.7),
    "sphere": Sphere([0, 0, 1], 2.0),
    "ball4": Ball([0, 0, 0, 0], 1.0),
    "ellipse": Ellipse([1.0, 0.0], [2.0, 0.5], angle=0.4),
    "triangle": Triangle([0, 0], [3, 0], [0, 1]),
    "l_shape": Polygon(L_SHAPE),
}


def test_measures_of_the_primitives_are_exact():
    assert Interval(-1, 2).measure == 3
    assert Box([0, 0, 0], [1, 2, 0.5]).measure == 1
    assert Disk([1, 1], 0.3).measure == pytest.approx(math.pi * 0.09, rel=1e-14)
    assert Sphere([0, 0, 0], 2.0).measure == pytest.approx(4 / 3 * math.pi * 8, rel=1e-14)
    assert Ball([0] * 4, 1.5).measure == pytest.approx(math.pi**2 / 2 * 1.5**4, rel=1e-14)
    assert Ellipse([0, 0], [2, 0.5], angle=1.0).measure == pytest.approx(math.pi, rel=1e-14)
    assert Triangle([0, 0], [3, 0], [0, 1]).measure == pytest.approx(1.5, rel=1e-14)
    assert Polygon(L_SHAPE).measure == pytest.approx(3.0, rel=1e-14)


def test_boundary_measures_of_the_primitives_are_exact():
    assert Interval(-1, 2).boundary_measure() == 2  # two end points
    assert Box([0, 0, 0], [1, 2, 0.5]).boundary_measure() == pytest.approx(2 * (2 + 0.5 + 1), rel=1e-14)
    assert Disk([1, 1], 0.3).boundary_measure() == pytest.approx(2 * math.pi * 0.3, rel=1e-14)
    assert Sphere([0, 0, 0], 2.0).boundary_measure() == pytest.approx(4 * math.pi * 4, rel=1e-14)
    assert Polygon(L_SHAPE).boundary_measure() == pytest.approx(8.0, rel=1e-14)
    assert Triangle([0, 0], [3, 0], [0, 1]).boundary_measure() == pytest.approx(4 + math.sqrt(10), rel=1e-14)
    for a, b in [(2.0, 0.5), (0.5, 2.0), (1.0, 1.0), (3.0, 2.5)]:
        assert Ellipse([0, 0], [a, b]).boundary_measure() == pytest.approx(ramanujan(a, b), rel=1e-6)
    assert Box([0, 0], [2, 1], names={"x0-": "inlet"}).boundary_measure("inlet") == 1.0


@pytest.mark.parametrize("kind", list(PRIMITIVES))
@pytest.mark.parametrize("n", [1, 7, 1000])
def test_interior_and_boundary_points_are_exactly_n_inside_and_on_the_boundary(kind, n):
    g = PRIMITIVES[kind]
    x = g.interior_points(n, rng())
    assert x.shape == (n, g.dim) and x.dtype == np.float64 and g.inside(x, tol=0.0).all()
    lower, upper = g.bbox
    assert ((x >= lower) & (x <= upper)).all()
    b = g.boundary_points(n, rng())
    assert b.shape == (n, g.dim) and g.on_boundary(b, tol=1e-9).all()
    assert np.abs(np.linalg.norm(g.normal(b), axis=1) - 1).max() < 1e-12


def test_interior_points_fill_a_half_disk_and_a_quarter_ellipse_in_proportion_to_their_area():
    n = 20000
    x = Disk([0.3, -0.2], 0.5).interior_points(n, rng(1))
    assert within(float((x[:, 0] > 0.3).mean()), 0.5, n)
    assert within(float((np.linalg.norm(x - [0.3, -0.2], axis=1) < 0.25).mean()), 0.25, n)  # inner disk: 1/4
    e = Ellipse([0, 0], [2, 1])
    y = e.interior_points(n, rng(2))
    assert within(float(((y[:, 0] > 0) & (y[:, 1] > 0)).mean()), 0.25, n)


def test_a_box_with_a_sobol_draw_returns_the_draw_itself():
    draw = partial(sample_box, SamplerMethod.sobol)
    box = Rectangle([-1, 0], [1, 3])
    got = box.interior_points(256, rng(5), draw=draw)
    np.testing.assert_array_equal(got, sample_box(SamplerMethod.sobol, 256, [-1, 0], [1, 3], rng(5)))
    # another shape rejects from the same draw, keeping the first n accepted in draw order
    disk = Disk([0, 0], 1)
    kept = disk.interior_points(100, rng(5), draw=draw)
    first = sample_box(SamplerMethod.sobol, 100, [-1, -1], [1, 1], rng(5))
    inside = first[disk.inside(first, 0.0)]
    np.testing.assert_array_equal(kept[: len(inside)], inside)


def test_l_shape_boundary_points_fall_on_each_edge_in_proportion_to_its_length():
    n = 20000
    g = Polygon(L_SHAPE, edge_names=L_EDGES)
    assert g.parts == tuple(L_EDGES)
    x = g.boundary_points(n, rng(3))
    for name, length in zip(L_EDGES, L_LENGTHS):
        assert within(float(g.on_boundary(x, part=name).mean()), length / 8, n), name
        assert g.boundary_measure(name) == length


def test_a_disk_and_an_ellipse_boundary_are_uniform_in_arc_length():
    n = 20000
    x = Disk([1, 1], 2).boundary_points(n, rng(4))
    angle = np.arctan2(x[:, 1] - 1, x[:, 0] - 1)
    assert within(float((np.abs(angle) < 0.5).mean()), 1 / (2 * math.pi), n)
    a, b, turn = 2.0, 0.5, 0.4
    e = Ellipse([1.0, 0.0], [a, b], angle=turn)
    y = e.boundary_points(n, rng(5))
    c, s = math.cos(turn), math.sin(turn)
    u = (y - [1.0, 0.0]) @ np.array([[c, -s], [s, c]])
    t = np.mod(np.arctan2(u[:, 1] / b, u[:, 0] / a), 2 * math.pi)
    speed = lambda t: math.hypot(a * math.sin(t), b * math.cos(t))  # noqa: E731
    for t0, t1 in [(0.0, 0.3), (0.3, math.pi / 2), (1.0, 4.0)]:
        share = quad(speed, t0, t1)[0] / ramanujan(a, b)
        assert within(float(((t >= t0) & (t < t1)).mean()), share, n), (t0, t1)


def test_a_sphere_boundary_is_uniform_in_area():
    n = 20000
    x = Sphere([0, 0, 0], 1.0).boundary_points(n, rng(6))
    assert within(float((x[:, 2] > 0.5).mean()), 0.25, n)  # Archimedes: a cap's area is 2 pi r h
    assert within(float((x[:, 0] > 0).mean()), 0.5, n)
    y = Ball([0, 0, 0, 0], 1.0).boundary_points(n, rng(7))
    assert within(float((y[:, 3] > 0).mean()), 0.5, n) and np.allclose(np.linalg.norm(y, axis=1), 1)


def test_an_interval_boundary_is_its_two_end_points_split_at_random():
    g = Interval(-1.0, 2.0, names={"x0-": "left", "x0+": "right"})
    x = g.boundary_points(10000, rng(8))
    assert set(x[:, 0]) == {-1.0, 2.0} and within(float((x[:, 0] == -1).mean()), 0.5, 10000)
    assert (g.boundary_points(5, rng(), part="right") == 2.0).all()
    assert g.normal([[-1.0], [2.0]]).tolist() == [[-1.0], [1.0]]
    np.testing.assert_allclose(g.distance([[0.0], [1.5]], parts="left"), [1.0, 2.5])


def test_box_faces_have_default_names_a_shared_name_or_names_of_their_own():
    assert Box([0, 0, 0], [1, 1, 1]).parts == ("x0-", "x0+", "x1-", "x1+", "x2-", "x2+")
    assert Rectangle([0, 0], [1, 1], name="walls").parts == ("walls",)
    g = Rectangle([0, 0], [2, 1], name="walls", names={"x0-": "inlet", "x0+": "outlet"})
    assert g.parts == ("inlet", "outlet", "walls")
    x = g.boundary_points(300, rng(), part="inlet")
    assert (x[:, 0] == 0).all() and x.shape == (300, 2)
    y = g.boundary_points(300, rng(), part=["inlet", "outlet"])
    assert set(y[:, 0]) == {0.0, 2.0}
    z = g.boundary_points(1000, rng(), part="walls")
    assert set(z[:, 1]) == {0.0, 1.0} and g.boundary_measure("walls") == 4.0
    with pytest.raises(ConfigError, match=r"unknown boundary part 'wall' \(parts: inlet, outlet, walls\)"):
        g.boundary_points(3, rng(), part="wall")


def test_normals_of_a_disk_a_box_an_ellipse_and_the_l_shape_edges():
    d = Disk([0.5, -0.5], 0.7)
    x = d.boundary_points(500, rng())
    np.testing.assert_allclose(d.normal(x), (x - [0.5, -0.5]) / 0.7, atol=1e-12)
    b = Cuboid([0, 0, 0], [1, 2, 3])
    pts, nrm = b.boundary_points(600, rng(), normals=True)
    np.testing.assert_array_equal(nrm, b.normal(pts))
    for axis in range(3):
        low, high = np.isclose(pts[:, axis], 0), np.isclose(pts[:, axis], [1, 2, 3][axis])
        assert (nrm[low, axis] == -1).all() and (nrm[high, axis] == 1).all()
    e = Ellipse([0, 0], [2, 1])
    got = e.normal([[2, 0], [0, 1], [math.sqrt(2), math.sqrt(0.5)]])  # grad of (x/2)^2 + y^2: (x/4, y)
    np.testing.assert_allclose(got, [[1, 0], [0, 1], [1 / 5**0.5, 2 / 5**0.5]], atol=1e-12)
    for vertices in (L_SHAPE, L_SHAPE[::-1]):  # either orientation
        g = Polygon(vertices)
        got = g.normal([[1.0, 0.0], [2.0, 0.5], [1.5, 1.0], [1.0, 1.5], [0.5, 2.0], [0.0, 1.0]])
        np.testing.assert_array_equal(got, [[0, -1], [1, 0], [0, 1], [1, 0], [0, 1], [-1, 0]])
    assert np.isnan(Polygon(L_SHAPE).normal([[0.5, 0.5], [3.0, 3.0]])).all()  # off the boundary: nan


def test_clockwise_vertices_keep_their_edge_names():
    # clockwise from (0, 2): the edges run top, riser, step, right, bottom, left
    g = Polygon(L_SHAPE[::-1], edge_names=["top", "riser", "step", "right", "bottom", "left"])
    assert g.vertices.tolist() == [list(v) for v in L_SHAPE] and g.measure == 3  # counter-clockwise now
    assert g.parts == ("bottom", "right", "step", "riser", "top", "left")
    for name, point in [("bottom", [1.0, 0.0]), ("riser", [1.0, 1.5]), ("step", [1.5, 1.0]), ("left", [0.0, 1.0])]:
        assert g.on_boundary([point], part=name).all(), name
    assert (g.boundary_points(50, rng(), part="top")[:, 1] == 2).all()


def test_distance_is_zero_on_the_boundary_positive_inside_and_exact():
    for kind, g in PRIMITIVES.items():
        assert g.distance(g.boundary_points(500, rng())).max() < 1e-9, kind
        assert (g.distance(g.interior_points(500, rng(1))) > 0).all(), kind
    L = Polygon(L_SHAPE, edge_names=L_EDGES)
    np.testing.assert_allclose(L.distance([[1.2, 0.8], [0.5, 0.5], [0.9, 1.8]]), [0.2, 0.5, 0.1])
    np.testing.assert_allclose(L.distance([[1.2, 0.8], [0.5, 1.5]], parts="bottom"), [0.8, 1.5])
    np.testing.assert_allclose(L.distance([[1.2, 0.8]], parts=["step", "riser"]), [0.2])
    np.testing.assert_allclose(L.distance([[0.8, 1.2]], parts="step"), [math.hypot(0.2, 0.2)])  # the segment ends
    np.testing.assert_allclose(Disk([1, 0], 2).distance([[1, 0], [2, 0.5]]), [2, 2 - math.hypot(1, 0.5)])
    box = Rectangle([0, 0], [2, 1], names={"x0-": "inlet"})
    np.testing.assert_allclose(box.distance([[0.5, 0.5], [0.5, 1.5]], parts="inlet"), [0.5, math.hypot(0.5, 0.5)])
    np.testing.assert_allclose(box.distance([[0.5, 0.5], [1.8, 0.9]]), [0.5, 0.1])


def test_ellipse_distance_matches_a_dense_search():
    e = Ellipse([0.5, -1.0], [2.0, 0.7], angle=-0.6)
    t = np.linspace(0, 2 * math.pi, 400001)
    c, s = math.cos(-0.6), math.sin(-0.6)
    curve = np.stack([2.0 * np.cos(t), 0.7 * np.sin(t)], axis=1) @ np.array([[c, -s], [s, c]]).T + [0.5, -1.0]
    x = np.vstack([e.interior_points(40, rng(2)), rng(3).uniform(-3, 3, (40, 2)), [[0.5, -1.0]]])
    brute = cKDTree(curve).query(x)[0]
    np.testing.assert_allclose(e.distance(x), brute, atol=1e-7)
    assert e.distance([[0.5, -1.0]])[0] == pytest.approx(0.7, abs=1e-12)  # from the centre: the minor semi-axis
    inner = e.inside(x, tol=0.0)
    on_axis = Ellipse([0, 0], [2, 1]).distance([[1.0, 0.0], [0.0, 0.0], [3.0, 0.0]])
    np.testing.assert_allclose(on_axis, [math.sqrt(1 / 9 + 5 / 9), 1.0, 1.0])  # (1, 0) is nearest to (4/3, +-0.745)
    assert inner.any() and (~inner).any()


def test_inside_counts_the_boundary_within_tol():
    d = Disk([0, 0], 1)
    assert d.inside([[1 + 5e-10, 0]]).all() and not d.inside([[1 + 5e-9, 0]]).any()
    e = Ellipse([0, 0], [2, 1])
    assert e.inside([[2 + 5e-10, 0]]).all() and not e.inside([[2 + 5e-9, 0]], tol=1e-9).any()
    L = Polygon(L_SHAPE)
    assert L.inside([[1.5, 1 + 5e-10], [1.0, 1.0], [2.0, 0.0]]).all()
    assert not L.inside([[1.5, 1.5], [1.5, 1 + 5e-9]]).any()
    assert not Box([0, 0], [1, 1]).inside([[1.0 + 5e-9, 0.5]]).any()


@pytest.mark.parametrize(
    "build, words",
    [
        (lambda: Box([0, 1], [1, 1]), ["lower < upper", "axis 1"]),
        (lambda: Box([0, 0], [1, 1, 1]), ["upper", "2 numbers"]),
        (lambda: Rectangle([0, 0, 0], [1, 1, 1]), ["Rectangle lower", "2 numbers"]),
        (lambda: Box([0, 0], [1, 1], names={"x2-": "a"}), ["unknown face 'x2-'", "x0-, x0+, x1-, x1+"]),
        (lambda: Interval(1.0, 0.0), ["lower < upper"]),
        (lambda: Disk([0, 0], 0.0), ["radius", "> 0"]),
        (lambda: Disk([0, 0, 0], 1.0), ["Disk center", "2 numbers"]),
        (lambda: Ball([0, 0], "big"), ["radius", "number"]),
        (lambda: Ellipse([0, 0], [1, -1]), ["semi_axes", "> 0"]),
        (lambda: Polygon([(0, 0), (1, 0)]), ["at least 3 vertices"]),
        (lambda: Polygon([(0, 0), (1, 1), (2, 2)]), ["zero area"]),
        (lambda: Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), ["self-intersecting"]),  # a bow tie
        (lambda: Polygon([(0, 0), (2, 0), (2, 2), (1, 0), (0, 2)]), ["self-intersecting"]),  # a vertex on an edge
        (lambda: Polygon([(0, 0), (1, 0), (1, 0), (0, 1)]), ["repeated vertex"]),
        (lambda: Polygon(L_SHAPE, edge_names=["a", "b"]), ["edge_names", "6 names"]),
        (lambda: Triangle([0, 0], [1, 0], [2, 0]), ["zero area"]),
    ],
)
def test_bad_shapes_are_refused_with_one_line(build, words):
    with pytest.raises(ConfigError) as err:
        build()
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("geometry: ")
    for word in words:
        assert word in msg, msg


def test_same_seed_same_points_other_seed_other_points():
    for g in PRIMITIVES.values():
        a = (g.interior_points(50, rng(0)), g.boundary_points(50, rng(0)))
        b = (g.interior_points(50, rng(0)), g.boundary_points(50, rng(0)))
        c = (g.interior_points(50, rng(1)), g.boundary_points(50, rng(1)))
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
        assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[1], c[1])
