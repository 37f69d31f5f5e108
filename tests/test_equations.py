"""Every built-in equation, checked on its exact or reference solution, independently of training.

For each ``conf/equation/<name>.yaml``: the exact solution (or the reference
dataset, through a spline of it) is put in place of the network, and every
condition (initial, boundary, residual ...) must then be near zero at the
points the sampler draws. A perturbed solution must not pass: that shows each
residual really tests something.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from pinnrun.config import EquationConfig, SamplerMethod
from pinnrun.derivatives import Derivatives
from pinnrun.problems import available, build
from pinnrun.sampling import PointSets

CONF = Path(__file__).resolve().parents[1] / "conf" / "equation"
EQUATIONS = sorted(p.stem for p in CONF.glob("*.yaml"))


def problem(name: str):
    cfg = OmegaConf.merge(OmegaConf.structured(EquationConfig), OmegaConf.load(CONF / f"{name}.yaml"))
    return build(OmegaConf.to_object(cfg)), cfg


def condition_residuals(p, cfg, net, seed=0):
    """max |residual| of every loss term, at the sampler's points (float64)."""
    pts = PointSets(p, cfg.points, SamplerMethod.lhs, {}, 0, seed, torch.device("cpu"), torch.float64).at(0)
    out = {}
    for name, cond in p.conditions().items():
        res = cond.loss(pts[name], lambda q: Derivatives(net, q, p.variables, p.outputs))
        assert set(res) == set(cond.terms), name
        for comp, r in res.items():
            out[f"{name}_{comp}"] = r.detach().abs().max().item()
    return out


def test_every_config_names_a_module_and_every_module_has_a_config():
    assert set(EQUATIONS) == set(available())


EXACT = [n for n in EQUATIONS if problem(n)[0].has_exact()]


def test_equations_with_exact_solutions():
    assert set(EXACT) == {"wave", "helmholtz", "klein_gordon", "poisson_multiscale", "heat_multiscale",
                          "beam", "nls_rogue", "kovasznay"}


@pytest.mark.parametrize("name", EXACT)
def test_exact_solution_satisfies_every_condition(name):
    p, cfg = problem(name)
    worst = condition_residuals(p, cfg, p.exact_net())
    assert worst.keys() == set(p.terms())
    assert max(worst.values()) < 1e-9, worst


@pytest.mark.parametrize("name", EXACT)
def test_perturbed_solution_fails_the_residual(name):
    p, cfg = problem(name)
    exact = p.exact_net()
    lo, hi = torch.tensor(p.lower, dtype=torch.float64), torch.tensor(p.upper, dtype=torch.float64)

    def perturbed(q):
        s = (q - lo) / (hi - lo)                   # in [0, 1]^d
        bump = torch.prod(torch.sin(math.pi * s), dim=1, keepdim=True) * torch.cos(3 * s.sum(1, keepdim=True))
        return exact(q) + 1e-2 * bump               # zero on the box boundary, not a solution inside

    worst = condition_residuals(p, cfg, perturbed)
    residual_terms = [k for k in worst if k.startswith("residual_")]
    assert max(worst[k] for k in residual_terms) > 1e-3, worst


@pytest.mark.parametrize("name", EXACT)
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
