"""Normal derivatives on the boundary of a geometry: ``d.normal("u")`` and ``d["u_n"]`` are
n . grad u over the geometry's space variables, with the outward normals carried as extra point
columns, equal in reverse mode, Taylor mode and the per-point transforms of the NTK; and one line
where a condition inside the domain asks for one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pinnrun.config import ConfigError, ModelConfig
from pinnrun.derivatives import Derivatives, JetDerivatives, PointDerivatives, Recorder, closure
from pinnrun.geometry import Disk
from pinnrun.models import build_model
from pinnrun.models.taylor import propagate

VARIABLES, OUTPUTS, SPACE = ("x", "y", "t"), ("u", "v"), ("x", "y")


def boundary_points(n=40, seed=0):
    """Points on the unit circle at random times, with their normals: (n, 3 + 2)."""
    rng = np.random.default_rng(seed)
    xy, normals = Disk([0.0, 0.0], 1.0).boundary_points(n, rng, normals=True)
    t = rng.random((n, 1))
    return torch.as_tensor(np.concatenate([xy, t, normals], 1))


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_model(ModelConfig(width=16, depth=2), [-1.0, -1.0, 0.0], [1.0, 1.0, 1.0], 2, VARIABLES).double()


def test_the_normal_derivative_is_the_gradient_along_the_outward_normal(model):
    pts = boundary_points()
    d = Derivatives(model, pts, VARIABLES, OUTPUTS, SPACE)
    xy = pts[:, :2]
    # on the unit circle centred at 0 the outward normal is the point itself
    want = xy[:, 0] * d["u_x"] + xy[:, 1] * d["u_y"]
    torch.testing.assert_close(d.normal("u"), want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(d["u_n"], want, rtol=1e-12, atol=1e-12)
    assert d.points.shape == (40, 3) and d.input("t").shape == (40,)
    # the time derivative takes no part: a network that depends on t only has u_n = 0
    flat = Derivatives(lambda q: torch.stack([q[:, 2] ** 2, q[:, 2]], 1), pts, VARIABLES, OUTPUTS, SPACE)
    assert float(flat["u_n"].detach().abs().max()) == 0.0
    torch.testing.assert_close(flat["u_t"].detach(), 2 * pts[:, 2])  # while its time derivative is not 0


def test_taylor_mode_and_the_per_point_transforms_give_reverse_modes_normal_derivatives(model):
    pts = boundary_points()
    rec = Recorder(pts[:1], VARIABLES, OUTPUTS, space=SPACE)
    rec.normal("u"), rec["v_n"], rec.at(t=0.5)["u_n"]
    assert rec.keys == {(0,), (1,)}  # u_x, u_y (v's too): not u_t
    reverse = Derivatives(model, pts, VARIABLES, OUTPUTS, SPACE)
    taylor = JetDerivatives(lambda j: propagate(model, j), pts, VARIABLES, OUTPUTS, closure(rec.keys), SPACE)
    for d_rev, d_tay in ((reverse, taylor), (reverse.at(t=0.5), taylor.at(t=0.5))):
        for name in ("u_n", "v_n"):
            torch.testing.assert_close(d_tay[name], d_rev[name].detach(), rtol=1e-11, atol=1e-12)
    one = PointDerivatives(model, pts[3:4], VARIABLES, OUTPUTS, SPACE)
    torch.testing.assert_close(one["u_n"], reverse["u_n"][3:4].detach(), rtol=1e-11, atol=1e-12)

    def gradient(d):  # the parameter gradient of a loss on u_n through either engine
        model.zero_grad()
        (d["u_n"] + 0.5 * d["u"]).pow(2).mean().backward()
        return [p.grad.clone() for p in model.parameters()]

    keys = closure(rec.keys | {()})
    for g_rev, g_tay in zip(
        gradient(Derivatives(model, pts, VARIABLES, OUTPUTS, SPACE)),
        gradient(JetDerivatives(lambda j: propagate(model, j), pts, VARIABLES, OUTPUTS, keys, SPACE)),
    ):
        torch.testing.assert_close(g_tay, g_rev, rtol=1e-9, atol=1e-12)


def test_a_normal_derivative_inside_the_domain_is_one_line(model):
    inside = torch.zeros(5, 3, dtype=torch.float64)
    for d in (Derivatives(model, inside, VARIABLES, OUTPUTS), Recorder(inside, VARIABLES, OUTPUTS)):
        with pytest.raises(ConfigError, match=r"normal derivative needs a condition on the boundary") as e:
            d["u_n"]
        assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="expected 3 \\+ 2"):
        Derivatives(model, inside, VARIABLES, OUTPUTS, SPACE)
