"""The approximate distance functions of hard constraints (``Geometry.adf``): 0 on the chosen
parts, positive in the domain, the distance to first order near a part (against the exact numpy
distance), finite derivatives inside, and a one-line error where a union would put a zero inside
the domain."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pinnrun.config import ConfigError
from pinnrun.geometry import Cuboid, Disk, Ellipse, Interval, Polygon, Rectangle, Sphere


def domains():
    plate = Rectangle([-0.5, -0.5], [0.5, 0.5], name="outer")
    for c in ((0.3, 0.3), (-0.3, 0.3), (0.3, -0.3), (-0.3, -0.3)):
        plate = plate - Disk(c, 0.1, name="holes")
    return {
        "plate": plate,  # PINNacle's Poisson2d-C
        "l-shape": Polygon([[0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2]]),
        "ellipse": Ellipse([0.1, 0.2], [1.0, 0.5], angle=0.4),
        "annulus": Disk([0, 0], 1.0, name="outer") - Disk([0, 0], 0.4, name="hole"),
        "cube-ball": Cuboid([0, 0, 0], [1, 1, 1]) - Sphere([0.5, 0.5, 0.5], 0.2, name="ball"),
        "interval": Interval(0.0, 1.0),
        "notched": Rectangle([0, 0], [1, 1]) - Rectangle([0.5, 0.5], [1.5, 1.5], name="notch"),  # a cut face
    }


def tensor(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(domains()))
def test_zero_on_the_boundary_positive_inside_and_the_distance_near_it(name):
    g = domains()[name]
    rng = np.random.default_rng(0)
    xb, nb = g.boundary_points(2000, rng, normals=True)
    assert float(g.adf(tensor(xb)).max()) < 1e-12
    xi = g.interior_points(2000, rng)
    xi = xi[g.distance(xi) > 1e-6]
    assert float(g.adf(tensor(xi)).min()) > 0
    # a step h inward from boundary points away from corners and edges: adf = h to first order
    h = 1e-4
    x = xb - h * nb
    # the nearest boundary is the piece stepped from, and no other piece within 50 h (points near
    # corners and edges left out)
    far = g.distance(x) > 0.99 * h
    near = sum((piece.distance(x) < 50 * h).astype(int) for piece in g._pieces)
    keep = far & (near == 1)
    assert keep.sum() > 1000
    ratio = g.adf(tensor(x[keep])).numpy() / h
    assert np.all((ratio > 0.98) & (ratio < 1.02)), (ratio.min(), ratio.max())


def test_only_the_chosen_parts_vanish_and_derivatives_are_finite_inside():
    g = domains()["plate"]
    rng = np.random.default_rng(1)
    outer = g.boundary_points(500, rng, part="outer")
    holes = g.boundary_points(500, rng, part="holes")
    assert float(g.adf(tensor(outer), "holes").min()) > 0.05
    assert float(g.adf(tensor(holes), "holes").max()) < 1e-12
    assert float(g.adf(tensor(holes), "outer").min()) > 0.05
    x = tensor(g.interior_points(500, rng)).requires_grad_(True)
    (grad,) = torch.autograd.grad(g.adf(x).sum(), x, create_graph=True)
    (second,) = torch.autograd.grad(grad.sum(), x)
    assert torch.isfinite(grad).all() and torch.isfinite(second).all()
    # |grad adf| = 1 on the boundary (a distance): checked just inside the square's edge midpoints
    mid = tensor(np.array([[0.0, -0.5 + 1e-6], [0.5 - 1e-6, 0.0]])).requires_grad_(True)
    (g_mid,) = torch.autograd.grad(g.adf(mid, "outer").sum(), mid)
    torch.testing.assert_close(g_mid.norm(dim=1), torch.ones(2, dtype=torch.float64), rtol=1e-4, atol=0)


def test_a_union_that_cuts_a_piece_inside_the_domain_is_one_line():
    overlap = Disk([0, 0], 1.0) | Disk([1, 0], 1.0)
    with pytest.raises(ConfigError, match="union covers part of its boundary piece") as e:
        overlap.adf(torch.zeros(3, 2, dtype=torch.float64))
    assert "\n" not in str(e.value)
    apart = Disk([0, 0], 1.0) | Disk([3, 0], 1.0)  # nothing cut: the distance is fine
    assert float(apart.adf(torch.tensor([[0.0, 1.0], [3.0, -1.0]], dtype=torch.float64)).max()) < 1e-12
