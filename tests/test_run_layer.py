"""The run layer's objects on their own, without a run directory: the objective, the evaluation,
the optimizer plan and L-BFGS driver, the weighting schemes, and what building them writes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from rich.console import Console

from pinnrun import problems, reference
from pinnrun.config import ConfigError, EquationConfig, PhaseConfig, PhaseKind, SamplerMethod
from pinnrun.evaluation import Evaluation
from pinnrun.objective import Objective
from pinnrun.optim import clear_history, lbfgs_chunk, make_optimizer, plan_phases
from pinnrun.sampling import PointSets
from pinnrun.tasks import build_task as tasks_build_task
from pinnrun.training import LossStep, PinnTask

from helpers import build_task, compose, run_task


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


# -- the objective ---------------------------------------------------------------------------


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


# -- the evaluation --------------------------------------------------------------------------


def test_evaluation_of_the_exact_solution_and_of_zero():
    name, domain, counts = WAVE
    p = problem(name, domain, counts)
    exact = Evaluation(p, ExactNet(p), test_points=100, seed=3)
    m = exact.metrics()
    assert m["l2/u"] < 1e-14 and m["test_loss"] < 1e-28
    zero = Evaluation(p, ZeroNet(1), test_points=100, seed=3).metrics()
    assert zero["l2/u"] == pytest.approx(1.0, rel=1e-12)  # ||0 - ref|| / ||ref||
    assert zero["test_loss"] > 0.1
    (variables, grid, pred, ref), final = exact.payload()
    assert variables == ("t", "x") and pred["u"].shape == ref["u"].shape == (len(grid["t"]), len(grid["x"]))
    assert final == pytest.approx(m)


def test_evaluation_without_reference_predicts_on_a_plain_grid():
    p = problem("nls", {"t": [0.0, 1.0], "x": [-5.0, 5.0]}, {"initial": 5, "boundary": 5, "residual": 5})
    ev = Evaluation(p, ZeroNet(2))
    assert ev.fields == [] and ev.metrics() == {} and ev.points.shape == (201 * 201, 2)
    with pytest.raises(ConfigError, match="exact solution"):
        Evaluation(p, ZeroNet(2), test_points=10)


# -- the optimizer plan and the L-BFGS driver ---------------------------------------------------

PHASES = [PhaseConfig(kind=PhaseKind.adam, steps=500), PhaseConfig(kind=PhaseKind.lbfgs, steps=2500)]


@pytest.mark.parametrize("max_steps, steps", [(None, [500, 2500]), (300, [300, 0]), (800, [500, 300]), (0, [0, 0])])
def test_phase_plan_caps_the_total(max_steps, steps):
    plan = plan_phases(PHASES, max_steps)
    assert [p.steps for p in plan] == steps and [p.index for p in plan] == [0, 1]
    assert [p.first_order for p in plan] == [True, False] and plan[1].name == "lbfgs"


def test_first_order_optimizers_and_their_schedule():
    w = torch.nn.Parameter(torch.ones(3))
    for kind, cls in (
        (PhaseKind.adam, torch.optim.Adam),
        (PhaseKind.gd, torch.optim.SGD),
        (PhaseKind.sip, torch.optim.Adam),
    ):
        phase = plan_phases([PhaseConfig(kind=kind, lr=0.1, decay_rate=0.5, decay_steps=10)], None)[0]
        opt, sched = make_optimizer(phase, [w])
        assert isinstance(opt, cls)
        for _ in range(10):
            opt.step()
            sched.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(0.05, rel=1e-12)  # lr * 0.5 ** (10 / 10)
    opt, sched = make_optimizer(plan_phases(PHASES, None)[1], [w])
    assert isinstance(opt, torch.optim.LBFGS) and sched is None


def test_lbfgs_chunk_counts_iterations_and_converges_on_a_quadratic():
    target = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    scale = torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64)
    w = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    phase = plan_phases(
        [PhaseConfig(kind=PhaseKind.lbfgs, steps=100, tolerance_grad=1e-9, tolerance_change=1e-30)], None
    )[0]
    opt, _ = make_optimizer(phase, [w])

    def closure():
        opt.zero_grad()
        loss = (scale * (w - target) ** 2).sum()
        loss.backward()
        return loss

    done, converged = lbfgs_chunk(opt, closure, 2)
    assert (done, converged) == (2, False)
    done, converged = lbfgs_chunk(opt, closure, 100)
    assert converged and 0 < done < 100
    torch.testing.assert_close(w.detach(), target, rtol=0, atol=1e-8)
    clear_history(opt)
    assert opt.state[w] == {}


def test_lbfgs_history_is_cleared_where_points_are_resampled(tmp_path):
    """Curvature pairs of two objectives must not mix: with new points every 5 steps, the
    L-BFGS state at the end holds only the iterations since the last new points."""
    args = [
        "equation=wave",
        "model.width=8",
        "model.depth=2",
        "equation.points.residual=50",
        "optimizer=lbfgs",
        "optimizer.phases.0.steps=10",
        "trainer.log_every=5",
        "trainer.progress=false",
    ]
    fixed = run_task_state(tmp_path / "a", args)
    resampled = run_task_state(tmp_path / "b", [*args, "sampler.resample_every=5"])
    assert fixed == 10 and resampled == 5


def run_task_state(run_dir, args) -> int:
    task = build_task(args)
    run_task(task, run_dir)
    state = task.opt.state[task.opt.param_groups[0]["params"][0]]
    return state["n_iter"]


# -- weighting ---------------------------------------------------------------------------------


def test_weighting_leaves_regularizers_out_of_lbfgs_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    task = build_task(
        [
            "equation=wave",
            "model.width=6",
            "model.depth=2",
            "model.adaptive=neuron",
            "equation.points.residual=30",
            "equation.points.initial=10",
            "equation.points.boundary=10",
            "weighting=ntk",
            "weighting.spectrum=true",
            "weighting.points=10",
            "trainer.device=cpu",
        ]
    )
    adam, lbfgs = task.phases
    assert task.weighting.update(0) and task.weighting.weights["slope_recovery"] == 1.0
    assert task.weighting.weights_for(adam)["slope_recovery"] == 1.0
    assert task.weighting.weights_for(lbfgs)["slope_recovery"] == 0.0
    assert task.weighting.weights_for(lbfgs)["residual_u"] == task.weighting.weights["residual_u"] != 1.0
    spectra = task.weighting.take_diagnostics()
    assert [s for s, _ in spectra] == [0] and set(spectra[0][1]) == {
        "initial_u",
        "initial_u_t",
        "boundary_u",
        "residual_u",
    }
    assert task.weighting.take_diagnostics() == []
    assert list(tmp_path.iterdir()) == []  # the scheme wrote no file


# -- building writes nothing --------------------------------------------------------------------


def test_building_a_task_writes_nothing_and_the_reference_is_an_explicit_step(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("PINNRUN_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    cfg = compose(["equation=burgers", "model.width=6", "model.depth=1", "equation.points.residual=20"])
    with pytest.raises(ConfigError, match="burgers"):
        PinnTask(cfg)
    assert list(data.iterdir()) == []
    console = Console(record=True, width=200)
    task = tasks_build_task(cfg, console)
    assert "building the reference dataset 'burgers'" in console.export_text()
    assert (data / "burgers.h5").is_file() and task.evaluation.fields == ["u"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]
    assert reference.path("burgers") == data / "burgers.h5"


def test_a_task_needs_no_run_directory_for_a_loss(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    task = build_task(["model.width=6", "model.depth=1", "equation.points.residual=20"])
    loss = sum(task.objective.losses(0).values())
    assert math.isfinite(float(loss)) and float(loss) > 0
    assert set(task.evaluate()) == {"l2/u", "l2/v", "l2/h_abs"}
    assert list(tmp_path.iterdir()) == []
    assert np.isfinite(task.evaluation.predict()["h_abs"]).all()
