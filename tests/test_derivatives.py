"""The derivative engine on closed forms: partials by name to third order and mixed, the graph kept
for parameter gradients, and ``at`` (derivatives at moved points), batched and per point under
vmap and jacrev."""

from __future__ import annotations

import math

import pytest
import torch
from test_problems import points
from torch.func import jacrev, vmap

from pinnrun.derivatives import Derivatives, PointDerivatives


def test_derivatives_match_closed_forms():
    def fn(q):
        t, x = q[:, 0], q[:, 1]
        return torch.stack([torch.sin(2 * t) * x**3, torch.exp(t * x)], 1)

    pts = points(50)
    d = Derivatives(fn, pts, ("t", "x"), ("u", "w"))
    t, x = pts[:, 0], pts[:, 1]
    expected = {
        "u_t": 2 * torch.cos(2 * t) * x**3,
        "u_x": 3 * torch.sin(2 * t) * x**2,
        "u_xx": 6 * torch.sin(2 * t) * x,
        "u_xxx": 6 * torch.sin(2 * t),
        "u_tx": 6 * torch.cos(2 * t) * x**2,
        "u_xt": 6 * torch.cos(2 * t) * x**2,
        "u_tt": -4 * torch.sin(2 * t) * x**3,
        "w_tx": torch.exp(t * x) * (1 + t * x),
    }
    for name, value in expected.items():
        assert torch.allclose(d[name], value, rtol=1e-12, atol=1e-12), name
    assert torch.equal(d.input("x"), x)
    with pytest.raises(KeyError):
        d["q_x"]
    with pytest.raises(KeyError):
        d["u_y"]


def test_derivatives_keep_the_graph_for_parameter_gradients():
    lin = torch.nn.Linear(2, 1).double()

    def f(q):
        return torch.tanh(lin(q))

    d = Derivatives(f, points(20), ("t", "x"), ("u",))
    d["u_xx"].pow(2).mean().backward()
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0


def _field(q):
    t, x = q[:, 0], q[:, 1]
    return torch.stack([torch.sin(2 * t) * x**3 + t * x, torch.exp(t * x)], 1)


def test_derivatives_at_equal_derivatives_at_the_moved_points():
    pts = points(40, seed=3)
    d = Derivatives(_field, pts, ("t", "x"), ("u", "w"))
    moved = d.at(x=1.5)
    assert torch.equal(pts[:, 1], points(40, seed=3)[:, 1])  # the points themselves stay
    direct = Derivatives(_field, points(40, seed=3, x=1.5), ("t", "x"), ("u", "w"))
    assert torch.equal(moved.input("x"), torch.full((40,), 1.5, dtype=torch.float64))
    assert torch.equal(moved.input("t"), pts[:, 0])
    t = pts[:, 0]
    for name in ("u", "u_x", "u_xx", "u_t", "u_tx", "w_tx"):
        assert torch.equal(moved[name], direct[name]), name
    assert torch.allclose(moved["u_xx"], 6 * torch.sin(2 * t) * 1.5, rtol=1e-13, atol=0)
    assert not torch.allclose(moved["u"], d["u"])
    both = d.at(t=0.25, x=-1.0)
    assert torch.allclose(both["u_x"], torch.full((40,), 3 * math.sin(0.5) + 0.25, dtype=torch.float64))
    with pytest.raises(KeyError):
        d.at(y=0.0)


def test_point_derivatives_at_under_vmap_and_jacrev():
    """PointDerivatives.at inside the NTK's transforms: the per-point residual d["u"] - d.at(x=1.5)["u"]
    and its parameter Jacobian equal those computed from the moved points directly."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    pts = points(6, seed=4)

    def per_point(p, x, moved_by_at):
        def f(z):
            return torch.func.functional_call(model, p, (z,))

        d = PointDerivatives(f, x[None], ("t", "x"), ("u", "w"))
        hi = (
            d.at(x=1.5)
            if moved_by_at
            else PointDerivatives(f, torch.stack([x[0], x.new_tensor(1.5)])[None], ("t", "x"), ("u", "w"))
        )
        return torch.stack([(d["u_x"] - hi["u_x"]).reshape(()), hi["w_xx"].reshape(())])

    via_at = vmap(per_point, in_dims=(None, 0, None))(params, pts, True)
    direct = vmap(per_point, in_dims=(None, 0, None))(params, pts, False)
    assert torch.equal(via_at, direct) and via_at.abs().min() > 1e-6
    full = Derivatives(model, pts, ("t", "x"), ("u", "w"))
    assert torch.allclose(via_at[:, 0], full["u_x"] - full.at(x=1.5)["u_x"], rtol=1e-12, atol=1e-14)
    jac_at = vmap(jacrev(per_point), in_dims=(None, 0, None))(params, pts, True)
    jac_direct = vmap(jacrev(per_point), in_dims=(None, 0, None))(params, pts, False)
    for k in params:
        assert torch.equal(jac_at[k], jac_direct[k]), k
    assert max(float(j.abs().max()) for j in jac_at.values()) > 1e-3
