"""The NLS equation module and the derivative engine on exact solutions."""
import math

import pytest
import torch

from pinnrun.config import ConfigError, EquationConfig
from pinnrun.derivatives import Derivatives
from pinnrun.problems import build
from pinnrun.problems.nls import NLS

DOMAIN = {"t": [0.0, math.pi / 2], "x": [-5.0, 5.0]}


def nls_problem():
    return build(EquationConfig(name="nls", domain=DOMAIN, points={}))


def soliton(a=1.3, c=0.7, phase_sign=1.0):
    """h = a sech(a (x - c t)) exp(i (c x + (a^2 - c^2) t / 2)): an exact NLS solution."""
    def f(p):
        t, x = p[:, 0], p[:, 1]
        amp = a / torch.cosh(a * (x - c * t))
        theta = phase_sign * (c * x + (a * a - c * c) * t / 2)
        return torch.stack([amp * torch.cos(theta), amp * torch.sin(theta)], 1)
    return f


def evaluator(fn, problem):
    return lambda pts: Derivatives(fn, pts, problem.variables, problem.outputs)


def points(n=500, seed=0):
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 2, generator=g, dtype=torch.float64)
    return torch.stack([u[:, 0] * math.pi / 2, -5 + 10 * u[:, 1]], 1)


def test_nls_residual_vanishes_on_exact_soliton():
    p = nls_problem()
    res = p.residual(points(), evaluator(soliton(), p))
    assert set(res) == {"u", "v"}
    for r in res.values():
        assert r.abs().max().item() < 1e-12


def test_nls_residual_detects_a_wrong_solution():
    p = nls_problem()
    res = p.residual(points(), evaluator(soliton(phase_sign=-1.0), p))  # h conjugated: not a solution
    assert max(r.abs().max().item() for r in res.values()) > 1e-2


def test_initial_condition_term_is_zero_for_two_sech():
    p = nls_problem()
    pts = p.at(points(), t=0.0)
    exact = lambda q: torch.stack([2 / torch.cosh(q[:, 1]), torch.zeros_like(q[:, 1])], 1)
    res = p.initial(pts, evaluator(exact, p))
    assert max(r.abs().max().item() for r in res.values()) < 1e-14
    res_bad = p.initial(pts, evaluator(soliton(a=2.0, c=0.0), p))  # 2 sech(2x): wrong width
    assert res_bad["u"].abs().max().item() > 0.1


def test_periodic_terms_zero_only_for_periodic_functions():
    p = nls_problem()
    pts = p.at(points(), x=-5.0)
    k = 2 * math.pi / 10  # period 10 = domain length
    periodic = lambda q: torch.stack([torch.sin(k * q[:, 1]) * q[:, 0], torch.cos(3 * k * q[:, 1])], 1)
    res = p.conditions()["boundary"].loss(pts, evaluator(periodic, p))
    assert set(res) == {"u", "v", "u_x", "v_x"}
    assert max(r.abs().max().item() for r in res.values()) < 1e-12
    not_periodic = lambda q: torch.stack([q[:, 1] ** 2, torch.sin(q[:, 1])], 1)  # u_x and v differ
    res = p.conditions()["boundary"].loss(pts, evaluator(not_periodic, p))
    assert res["u_x"].abs().min().item() > 1.0 and res["v"].abs().min().item() > 1.0


def test_nls_declares_the_papers_terms_and_fields():
    p = nls_problem()
    assert p.terms() == ["initial_u", "initial_v", "boundary_u", "boundary_v", "boundary_u_x",
                         "boundary_v_x", "residual_u", "residual_v"]
    assert p.fields == ("u", "v", "h_abs") and p.primary_field == "h_abs"


def test_reference_on_the_papers_grid():
    grid, ref = nls_problem().reference()
    assert list(grid) == ["t", "x"] and grid["t"].shape == (201,) and grid["x"].shape == (256,)
    assert ref["h_abs"].shape == (201, 256)
    assert abs(ref["h_abs"][0] - 2 / torch.cosh(torch.as_tensor(grid["x"])).numpy()).max() < 1e-12


def test_unknown_equation_and_bad_variables_are_config_errors():
    with pytest.raises(ConfigError, match="unknown equation 'nope'.*nls"):
        build(EquationConfig(name="nope", domain=DOMAIN, points={}))
    with pytest.raises(ConfigError, match="variables"):
        build(EquationConfig(name="nls", domain={"x": [-5, 5], "t": [0, 1]}, points={}))
    with pytest.raises(ConfigError, match="unknown"):
        build(EquationConfig(name="nls", domain=DOMAIN, points={}, params={"nu": 1.0}))


def test_user_problem_by_import_path():
    p = build(EquationConfig(name="pinnrun.problems.nls:NLS", domain=DOMAIN, points={}))
    assert isinstance(p, NLS)


def test_derivatives_match_closed_forms():
    def fn(q):
        t, x = q[:, 0], q[:, 1]
        return torch.stack([torch.sin(2 * t) * x ** 3, torch.exp(t * x)], 1)

    pts = points(50)
    d = Derivatives(fn, pts, ("t", "x"), ("u", "w"))
    t, x = pts[:, 0], pts[:, 1]
    expected = {
        "u_t": 2 * torch.cos(2 * t) * x ** 3,
        "u_x": 3 * torch.sin(2 * t) * x ** 2,
        "u_xx": 6 * torch.sin(2 * t) * x,
        "u_xxx": 6 * torch.sin(2 * t),
        "u_tx": 6 * torch.cos(2 * t) * x ** 2,
        "u_xt": 6 * torch.cos(2 * t) * x ** 2,
        "u_tt": -4 * torch.sin(2 * t) * x ** 3,
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
    f = lambda q: torch.tanh(lin(q))
    d = Derivatives(f, points(20), ("t", "x"), ("u",))
    d["u_xx"].pow(2).mean().backward()
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0
