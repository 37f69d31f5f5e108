"""The objective on its own, without a run directory: each loss term is the mean square of its
residual (near zero on the exact solution, not on a wrong one), the total is the terms' weighted
sum, and the unknown constants belong to the objective, not to the problem."""

from __future__ import annotations

import pytest
import torch

from pinnrun import problems
from pinnrun.config import ConfigError, EquationConfig, SamplerMethod
from pinnrun.objective import Objective
from pinnrun.sampling import PointSets
from pinnrun.training import LossStep


class ExactNet(torch.nn.Module):
    """The problem's exact solution as a 'network' (with one parameter, as an optimizer needs)."""

    def __init__(self, problem):
        super().__init__()
        self.f = problem.exact_net()
        self.zero = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x):
        return self.f(x) + self.zero


class ZeroNet(torch.nn.Module):
    def __init__(self, outputs: int):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(outputs, dtype=torch.float64))

    def forward(self, x):
        return x[:, :1] * 0.0 + self.w


def problem(name: str, domain: dict, points: dict):
    return problems.build(EquationConfig(name=name, domain=domain, points=points))


WAVE = ("wave", {"t": [0.0, 1.0], "x": [0.0, 1.0]}, {"initial": 64, "boundary": 64, "residual": 256})
KOVASZNAY = ("kovasznay", {"x": [-0.5, 1.0], "y": [-0.5, 1.5]}, {"boundary": 80, "outlet": 20, "residual": 200})


def point_sets(p, counts):
    return PointSets(p, counts, SamplerMethod.lhs, {}, 0, 0, torch.device("cpu"), torch.float64)


@pytest.mark.parametrize("case", [WAVE, KOVASZNAY], ids=["wave", "kovasznay"])
def test_the_exact_solution_has_near_zero_loss_terms(case):
    name, domain, counts = case
    p = problem(name, domain, counts)
    obj = Objective(p, ExactNet(p), point_sets(p, counts))
    losses = obj.losses(0)
    assert list(losses) == obj.terms and len(obj.terms) >= 4
    for term, value in losses.items():
        assert float(value.detach()) < 1e-20, term
    # and a wrong solution does not
    wrong = Objective(p, ZeroNet(len(p.outputs)), point_sets(p, counts)).losses(0)
    assert max(float(v) for v in wrong.values()) > 1e-2


def test_loss_terms_are_mean_squares_of_the_residuals_and_the_total_is_weighted():
    name, domain, counts = WAVE
    p = problem(name, domain, counts)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    obj = Objective(p, model, point_sets(p, counts))
    losses = obj.losses(0)
    pts = obj.points.at(0)["initial"]
    res = p.conditions()["initial"].residual(obj.derivatives("initial", pts))
    assert float(losses["initial_u_t"]) == pytest.approx(float(res["u_t"].pow(2).mean()), rel=1e-14)
    w = {k: float(i + 1) for i, k in enumerate(obj.terms)}
    opt = torch.optim.SGD(obj.parameters(), lr=0.0)
    total, terms = LossStep(obj, compiled=False, cuda_graphs=False)(
        obj.points.at(0), torch.tensor([w[k] for k in obj.terms], dtype=torch.float64), opt
    )
    assert terms.tolist() == [float(losses[k]) for k in obj.terms]
    assert float(total) == pytest.approx(sum(w[k] * float(v) for k, v in losses.items()), rel=1e-14)
    assert all(q.grad is not None for q in obj.parameters())
    assert obj.condition_terms("initial") == ["initial_u", "initial_u_t"]


def test_unknowns_belong_to_the_objective_not_the_problem():
    counts = {"initial": 0, "boundary": 0, "initial_boundary": 0, "residual": 50}
    p = problem("burgers", {"t": [0.0, 1.0], "x": [-1.0, 1.0]}, counts)
    true_nu = p.p["nu"]
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    obj = Objective(p, model, point_sets(p, counts), unknowns={"nu": 0.5})
    assert p.p["nu"] == true_nu and not isinstance(p.p["nu"], torch.Tensor)
    assert obj.unknowns.constants() == {"nu": 0.5} and len(obj.parameters()) == len(list(model.parameters())) + 1
    obj.losses(0)["residual_u"].backward()
    assert obj.unknowns["nu"].grad is not None and float(obj.unknowns["nu"].grad) != 0.0
    with pytest.raises(ConfigError, match="not constants"):
        Objective(p, model, point_sets(p, counts), unknowns={"mu": 1.0})
