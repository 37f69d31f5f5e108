"""Every built-in equation, checked on its exact or reference solution, independently of training.

For each ``conf/equation/<name>.yaml``: the exact solution (or the reference
dataset, through a spline of it) is put in place of the network, and every
condition (initial, boundary, residual ...) must then be near zero at the
points the sampler draws. A perturbed solution must not pass: that shows each
residual really tests something.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from pinnrun import reference
from pinnrun.config import EquationConfig, SamplerMethod
from pinnrun.derivatives import Derivatives
from pinnrun.problems import available, build, term_name
from pinnrun.sampling import PointSets, scattered_points
from pinnrun.sip import PROBLEMS as SIP_PROBLEMS
from pinnrun.sip import Inversion
from pinnrun.tasks import load

from helpers import compose_config

CONF = Path(__file__).resolve().parents[1] / "conf" / "equation"
EQUATIONS = sorted(p.stem for p in CONF.glob("*.yaml"))


def problem(name: str):
    cfg = OmegaConf.merge(OmegaConf.structured(EquationConfig), OmegaConf.load(CONF / f"{name}.yaml"))
    return load(OmegaConf.to_object(cfg)), cfg


@functools.cache
def kind(name: str):
    """The problem of ``name``, built once, for sorting the equations into the lists below at
    collection (each test builds its own)."""
    return problem(name)[0]


def condition_residuals(p, cfg, net, seed=0):
    """max |residual| of every loss term, at the sampler's points (float64; 50 points for a condition
    the config leaves out)."""
    counts = {c: n or 50 for c, n in cfg.points.items()}
    pts = PointSets(p, counts, SamplerMethod.lhs, {}, 0, seed, torch.device("cpu"), torch.float64).at(0)
    out = {}
    for name, cond in p.conditions().items():
        res = cond.residual(Derivatives(net, pts[name], p.variables, p.outputs, p.space if cond.on else ()))
        assert set(res) == set(cond.components), name
        for comp, r in res.items():
            out[term_name(name, comp)] = r.detach().abs().max().item()
    return out


def with_data(p):
    """``p``, with its reference dataset built in the data directory if it has one and it is missing
    (building a problem or asking for its reference never builds it)."""
    name = p.reference_dataset()
    if name is not None:
        reference.ensure(name)
    if reference.pinnacle.file_of(p.reference_file) and reference.pinnacle.ensure(p.reference_file) is None:
        pytest.skip(f"PINNacle's {p.reference_file} cannot be fetched here (no shared copy beside the checkout)")
    return p


def test_every_config_names_a_module_and_every_module_has_a_config():
    assert set(EQUATIONS) == set(available()) | set(SIP_PROBLEMS)


# learned inverse problems (SIP) have no conditions to check here: tests/test_sip.py covers them
CONDITIONED = [n for n in EQUATIONS if not isinstance(kind(n), Inversion)]
EXACT = [n for n in CONDITIONED if kind(n).has_exact()]


def test_inversion_problems_are_the_sip_ones():
    assert set(EQUATIONS) - set(CONDITIONED) == {"sip_synthetic", "sip_heat"}


def test_equations_with_exact_solutions():
    assert set(EXACT) == {
        "advection",
        "wave",
        "helmholtz",
        "klein_gordon",
        "poisson_multiscale",
        "heat_multiscale",
        "beam",
        "nls_rogue",
        "kovasznay",
        "fit_mscale_1d",
        "poisson_annulus",
        "poisson_ball3d",
        "heat2d_multiscale",
        "poisson_nd",
        "heat_inverse",
    }


@pytest.mark.parametrize("name", EXACT)
def test_exact_solution_satisfies_every_condition(name):
    p, cfg = problem(name)
    worst = condition_residuals(p, cfg, p.exact_net())
    assert worst.keys() == {term_name(c, k) for c, cond in p.conditions().items() for k in cond.components}
    assert max(worst.values()) < 1e-9, worst


@pytest.mark.parametrize("name", EXACT)
def test_perturbed_solution_fails_the_residual(name):
    p, cfg = problem(name)
    exact = p.exact_net()
    lo, hi = torch.tensor(p.lower, dtype=torch.float64), torch.tensor(p.upper, dtype=torch.float64)

    def perturbed(q):
        s = (q - lo) / (hi - lo)  # in [0, 1]^d
        bump = torch.prod(torch.sin(math.pi * s), dim=1, keepdim=True) * torch.cos(3 * s.sum(1, keepdim=True))
        return exact(q) + 1e-2 * bump  # zero on the box boundary, not a solution inside

    worst = condition_residuals(p, cfg, perturbed)
    residual_terms = [k for k in worst if k.startswith(("residual_", "fit_"))]  # fit_: function fitting
    assert max(worst[k] for k in residual_terms) > 1e-3, worst


@pytest.mark.parametrize("name", [n for n in EXACT if kind(n).geometry is not None])
def test_exact_reference_points_of_a_geometry(name):
    """On a geometry the evaluation's reference is the exact solution at scattered points inside it
    (a tenth on its boundary)."""
    p, _ = problem(name)
    assert p.reference() is None  # no file: the evaluation draws the points
    ref = p.exact_at(scattered_points(p, p.reference_points))
    assert isinstance(ref, reference.PointReference) and ref.variables == p.variables
    assert len(ref.points) == p.reference_points and p.inside(ref.points).all()
    space = ref.points[:, [p.variables.index(v) for v in p.space]]
    assert p.geometry.on_boundary(space, tol=1e-9).sum() >= p.reference_points // 10
    assert set(ref.fields) == set(p.fields)
    for f, a in ref.fields.items():
        assert a.shape == (len(ref.points),) and np.isfinite(a).all() and np.abs(a).max() > 0.1, f


def _scattered(name: str) -> bool:
    """Whether the box problem ``name`` evaluates its exact solution at its own scattered test
    points (HInv: PINNacle's points) rather than on a grid."""
    return isinstance(kind(name).reference(), reference.PointReference)


BOX_EXACT = [n for n in EXACT if kind(n).geometry is None]


@pytest.mark.parametrize("name", [n for n in BOX_EXACT if not _scattered(n)])
def test_exact_reference_grid(name):
    p, _ = problem(name)
    grid, ref = p.reference()
    assert list(grid) == list(p.variables)
    shape = tuple(len(a) for a in grid.values())
    for v, (lo, hi) in p.domain.items():
        assert grid[v][0] == lo and grid[v][-1] == hi
    assert set(ref) == set(p.fields)
    for f, a in ref.items():
        assert a.shape == shape and np.isfinite(a).all() and np.abs(a).max() > 0.1, f


@pytest.mark.parametrize("name", [n for n in BOX_EXACT if _scattered(n)])
def test_exact_reference_at_scattered_points_of_a_box(name):
    p, _ = problem(name)
    ref = p.reference()
    assert ref.variables == p.variables and len(ref.points) > 1000
    assert p.inside(ref.points).all()
    assert set(ref.fields) == set(p.fields)
    for f, a in ref.fields.items():
        assert a.shape == (len(ref.points),) and np.isfinite(a).all() and np.abs(a).max() > 0.1, f


# -- the paper presets ---------------------------------------------------------------------------
# (their settings against the papers and the authors' code: tests/test_conf_presets.py)


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (CONF.parent / "experiment").glob("*.yaml") if not p.stem.startswith("holl_sip"))
)
def test_experiment_preset_has_a_reference_for_its_published_field(name):
    cfg = compose_config([f"experiment={name}"])
    p = with_data(build(OmegaConf.to_object(cfg).equation))
    # "all": the outputs pooled (PINNacle's metric), on a scattered reference of several outputs
    # (a PINNacle file, or the exact solution at PINNacle's test points)
    pooled = cfg.published.field == "all" and len(p.outputs) > 1 and isinstance(p.reference(), reference.PointReference)
    assert (cfg.published.field in p.fields or pooled) and p.reference() is not None


# -- equations whose reference is a dataset ------------------------------------------------------


def _pde_solution(name, p):
    """An exact solution of the equation itself (not of its initial/boundary data)."""
    if name == "burgers":  # a viscous shock travelling at speed c (Galilean invariance)
        nu, a, c = p.p["nu"], 0.5, 0.3
        return lambda q: (c - a * torch.tanh(a * (q[:, 1] - c * q[:, 0]) / (2 * nu)))[:, None]
    if name == "allen_cahn":  # a standing front: eps u'' + a (u - u^3) = 0 for tanh(b x)
        b = math.sqrt(p.p["a"] / (2 * p.p["eps"]))
        return lambda q: torch.tanh(b * (q[:, 1] - 0.1))[:, None]
    if name == "kdv":  # one soliton of u_t + u u_x + delta u_xxx = 0
        c, delta = 1.0, p.p["lambda2"]
        return lambda q: (3 * c / torch.cosh(math.sqrt(c / delta) * (q[:, 1] - c * q[:, 0]) / 2) ** 2)[:, None]
    if name == "nls":  # a moving one-soliton
        a, c = 1.3, 0.7

        def h(q):
            t, x = q[:, 0], q[:, 1]
            amp, th = a / torch.cosh(a * (x - c * t)), c * x + (a * a - c * c) * t / 2
            return torch.stack([amp * torch.cos(th), amp * torch.sin(th)], 1)

        return h
    raise KeyError(name)


DATASET = [n for n in CONDITIONED if kind(n).dataset]


def test_equations_with_datasets():
    assert set(DATASET) == {"nls", "burgers", "allen_cahn", "kdv"}
    assert {n: problem(n)[0].reference_dataset() for n in DATASET} == {n: n for n in DATASET}


@pytest.mark.parametrize("name", DATASET)
def test_residual_vanishes_on_an_exact_solution_of_the_pde(name):
    p, cfg = problem(name)
    worst = condition_residuals(p, cfg, _pde_solution(name, p))
    res = {k: v for k, v in worst.items() if k.startswith("residual_")}
    assert res and max(res.values()) < 1e-8, res


@pytest.mark.parametrize("name", DATASET)
def test_initial_condition_term_vanishes_on_the_reference_data(name):
    """The module's initial condition is the one the reference dataset starts from."""
    p, cfg = problem(name)
    grid, ref = with_data(p).reference()
    x = grid["x"]

    def at_t0(q):  # the reference's first row, linearly interpolated (periodically) in x
        cols = [
            torch.as_tensor(np.interp(q[:, 1].detach().numpy(), x, ref[o][0], period=x[-1] - x[0] + (x[1] - x[0])))
            for o in p.outputs
        ]
        return torch.stack(cols, 1)

    pts = PointSets(p, cfg.points, SamplerMethod.lhs, {}, 0, 0, torch.device("cpu"), torch.float64).at(0)
    ic = p.conditions()["initial"]
    # only values are compared: the interpolant is piecewise linear, its derivatives are not the data's
    res = ic.residual(Derivatives(at_t0, pts["initial"], p.variables, p.outputs))
    worst = max(r.abs().max().item() for r in res.values())
    assert worst < 1e-3, worst
    assert grid["t"][0] == p.domain["t"][0]
