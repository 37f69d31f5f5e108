"""The problems package on exact solutions: the NLS equation module (residual, initial and periodic
terms, reference grid), building a problem by name or import path and its config errors, and the
Problem helpers (reference datasets, with_params, misfit)."""

from __future__ import annotations

import math

import pytest
import torch

from pinnrun import reference
from pinnrun.config import ConfigError, EquationConfig
from pinnrun.derivatives import Derivatives
from pinnrun.problems import build, term_name
from pinnrun.problems.nls import NLS

from helpers import NLS_TERMS

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


def derivatives(fn, problem, pts):
    return Derivatives(fn, pts, problem.variables, problem.outputs)


def points(n=500, seed=0, **fixed):
    """n random points of the NLS domain (t, x), with the variables in ``fixed`` set to those values."""
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 2, generator=g, dtype=torch.float64)
    pts = torch.stack([u[:, 0] * math.pi / 2, -5 + 10 * u[:, 1]], 1)
    for var, value in fixed.items():
        pts[:, ("t", "x").index(var)] = value
    return pts


def test_nls_residual_vanishes_on_exact_soliton():
    p = nls_problem()
    res = p.residual(derivatives(soliton(), p, points()))
    assert set(res) == {"u", "v"}
    for r in res.values():
        assert r.abs().max().item() < 1e-12


def test_nls_residual_detects_a_wrong_solution():
    p = nls_problem()
    res = p.residual(derivatives(soliton(phase_sign=-1.0), p, points()))  # h conjugated: not a solution
    assert max(r.abs().max().item() for r in res.values()) > 1e-2


def test_initial_condition_term_is_zero_for_two_sech():
    p = nls_problem()
    pts = points(t=0.0)

    def exact(q):
        return torch.stack([2 / torch.cosh(q[:, 1]), torch.zeros_like(q[:, 1])], 1)

    res = p.initial(derivatives(exact, p, pts))
    assert max(r.abs().max().item() for r in res.values()) < 1e-14
    res_bad = p.initial(derivatives(soliton(a=2.0, c=0.0), p, pts))  # 2 sech(2x): wrong width
    assert res_bad["u"].abs().max().item() > 0.1


def test_periodic_terms_zero_only_for_periodic_functions():
    p = nls_problem()
    pts = points(x=-5.0)
    k = 2 * math.pi / 10  # period 10 = domain length

    def periodic(q):
        return torch.stack([torch.sin(k * q[:, 1]) * q[:, 0], torch.cos(3 * k * q[:, 1])], 1)

    res = p.conditions()["boundary"].residual(derivatives(periodic, p, pts))
    assert set(res) == {"u", "v", "u_x", "v_x"}
    assert max(r.abs().max().item() for r in res.values()) < 1e-12

    def not_periodic(q):
        return torch.stack([q[:, 1] ** 2, torch.sin(q[:, 1])], 1)  # u_x and v differ

    res = p.conditions()["boundary"].residual(derivatives(not_periodic, p, pts))
    assert res["u_x"].abs().min().item() > 1.0 and res["v"].abs().min().item() > 1.0


def test_nls_declares_the_papers_terms_and_fields():
    p = nls_problem()
    terms = [term_name(c, k) for c, cond in p.conditions().items() for k in cond.components]
    assert terms == NLS_TERMS
    assert p.fields == ("u", "v", "h_abs") and p.primary_field == "h_abs"


def test_primary_field_defaults_to_the_first_field():
    w = build(EquationConfig(name="wave", domain={"t": [0, 1], "x": [0, 1]}, points={}))
    assert w.primary_field == "u" and not hasattr(w, "metric")
    assert term_name("boundary", "u_x") == "boundary_u_x"


@pytest.fixture(scope="module")
def nls_dataset():
    """The NLS reference file in the data directory (built there once if it is missing)."""
    return reference.ensure("nls")


def test_reference_on_the_papers_grid(nls_dataset):
    p = nls_problem()
    assert p.reference_dataset() == "nls"
    grid, ref = p.reference()
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


# -- the Problem helpers ------------------------------------------------------------------------


def test_reference_of_a_missing_dataset_is_a_one_line_error_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNRUN_DATA_DIR", str(tmp_path / "data"))
    p = nls_problem()
    assert p.reference_dataset() == "nls"
    assert reference.path("nls") == tmp_path / "data" / "nls.h5"
    with pytest.raises(ConfigError) as info:
        p.reference()
    msg = str(info.value)
    assert "\n" not in msg and str(tmp_path / "data" / "nls.h5") in msg
    assert "python -m pinnrun.reference nls" in msg
    assert list(tmp_path.iterdir()) == []  # nothing built, not even the folder
    with pytest.raises(ConfigError, match="nosuch"):
        reference.path("nosuch")


def test_reference_dataset_only_for_its_domain_and_constants(tmp_path, monkeypatch):
    monkeypatch.setenv("PINNRUN_DATA_DIR", str(tmp_path))
    other = build(EquationConfig(name="nls", domain={"t": [0.0, 1.0], "x": [-5.0, 5.0]}, points={}))
    assert other.reference_dataset() is None and other.reference() is None
    burgers = build(EquationConfig(name="burgers", domain={"t": [0, 1], "x": [-1, 1]}, points={}))
    assert burgers.reference_dataset() == "burgers"
    assert burgers.with_params({"nu": 0.1}).reference_dataset() is None  # another equation's solution
    wave = build(EquationConfig(name="wave", domain={"t": [0, 1], "x": [0, 1]}, points={}))
    assert wave.reference_dataset() is None and wave.reference() is not None  # the exact solution
    assert list(tmp_path.iterdir()) == []


def test_with_params_leaves_the_problem_alone():
    wave = build(EquationConfig(name="wave", domain={"t": [0, 1], "x": [0, 1]}, points={}))
    grid, before = wave.reference()
    c = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
    trained = wave.with_params({"c": c})
    assert trained is not wave and trained.p["c"] is c and trained.p["a"] == 0.5
    assert wave.p == {"c": 2.0, "a": 0.5}
    _, after = wave.reference()
    assert (before["u"] == after["u"]).all()
    # the copy's residuals read its own constants: u_tt - c^2 u_xx = -c^2 u_xx for u = x^2 / 2
    pts = torch.rand(30, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    d = Derivatives(lambda q: q[:, 1:] ** 2 / 2, pts, wave.variables, wave.outputs)
    assert torch.allclose(wave.residual(d)["u"], torch.full((30,), -4.0, dtype=torch.float64))
    r = trained.residual(d)["u"]
    assert torch.allclose(r, torch.full((30,), -1.0, dtype=torch.float64))
    r.sum().backward()  # and their gradient reaches the constant
    assert c.grad is not None and abs(float(c.grad) - 30 * -2.0) < 1e-12
    with pytest.raises(ConfigError, match=r"equation.unknowns: \['nope'\] are not constants.*c, a"):
        wave.with_params({"nope": 1.0})


def test_misfit_of_the_exact_solution_vanishes():
    rogue = build(EquationConfig(name="nls_rogue", domain={"t": [-1.5, 1.5], "x": [-5, 5]}, points={}))
    g = torch.Generator().manual_seed(1)
    pts = torch.rand(200, 2, dtype=torch.float64, generator=g) * torch.tensor([3.0, 10.0]) - torch.tensor([1.5, 5])
    exact = rogue.exact_net()
    d = Derivatives(exact, pts, rogue.variables, rogue.outputs)
    m = rogue.misfit(d)
    assert set(m) == {"u", "v"} and max(r.abs().max().item() for r in m.values()) < 1e-14
    assert set(rogue.misfit(d, "v")) == {"v"}
    assert rogue.matches_exact("u")(d).keys() == {"u"}
    shifted = Derivatives(
        lambda q: exact(q) + torch.tensor([0.0, 0.25], dtype=torch.float64), pts, rogue.variables, rogue.outputs
    )
    m = rogue.matches_exact()(shifted)
    assert m["u"].abs().max().item() < 1e-14 and torch.allclose(m["v"], torch.full((200,), 0.25, dtype=torch.float64))
