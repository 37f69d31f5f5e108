"""Inverse problems: unknown equation constants trained with the network from observations, and
log-parametrised unknowns (equation.log_unknowns) with the residual at the observed points
(equation.observations.collocate)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch

from pinnrun.config import ConfigError
from pinnrun.derivatives import Derivatives

from helpers import assert_one_line_error, build_task, explain, read_rows, run_cli, run_task

TINY_INVERSE = [
    "experiment=raissi_burgers_inverse",
    "model.width=10",
    "model.depth=2",
    "equation.points.residual=300",
    "equation.observations.count=300",
    "trainer.progress=false",
    "trainer.dtype=float64",
    "trainer.device=cpu",
]


def trainer(tmp_path, overrides):
    return build_task(overrides)


def test_observations_are_reference_values_at_reference_grid_points(tmp_path):
    t = trainer(tmp_path, TINY_INVERSE)
    pts, values, outputs = t.objective.observations
    assert outputs == ("u",)
    grid, ref = t.evaluation.grid, t.evaluation.ref
    assert pts.shape == (300, 2) and values.shape == (300, 1)
    # every observed point is a grid point, and its value the reference there
    ti = np.searchsorted(grid["t"], pts[:, 0].numpy())
    xi = np.searchsorted(grid["x"], pts[:, 1].numpy())
    np.testing.assert_allclose(grid["t"][ti], pts[:, 0].numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(grid["x"][xi], pts[:, 1].numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(values[:, 0].numpy(), ref["u"][ti, xi], rtol=0, atol=1e-15)
    assert len({(a, b) for a, b in zip(ti, xi)}) == 300  # drawn without replacement
    # the loss: only the residual and the data; no initial or boundary terms
    assert t.objective.terms == ["residual_u", "data_u"]
    # Raissi's parametrisation: lambda1 from 0, nu = exp(lambda2) from lambda2 = -6
    assert t.objective.unknowns.constants() == pytest.approx({"lambda1": 0.0, "nu": np.exp(-6.0)}, rel=1e-12)
    assert float(t.objective.unknowns["nu"]) == -6.0
    # the problem keeps its true constants (the residuals read the trainable ones)
    assert {k: t.problem.p[k] for k in ("lambda1", "nu")} == pytest.approx({"lambda1": 1.0, "nu": 0.01 / np.pi})
    assert t.evaluation.fields == ["u"] and t.problem.reference() is not None


def test_noise_is_relative_to_the_standard_deviation(tmp_path):
    clean = trainer(tmp_path / "a", TINY_INVERSE).objective.observations[1][:, 0].numpy()
    noisy = trainer(tmp_path / "b", [*TINY_INVERSE, "equation.observations.noise=0.05"]).objective.observations[1]
    noisy = noisy[:, 0].numpy()
    ratio = (noisy - clean).std() / clean.std()
    assert 0.04 < ratio < 0.06, ratio


def test_unknowns_get_gradients_from_the_residual(tmp_path):
    t = trainer(tmp_path, TINY_INVERSE)
    sum(t.objective.losses(0).values()).backward()
    for name, p in t.objective.unknowns.items():
        assert p.grad is not None and p.grad.abs().item() > 0, name


def test_the_residual_reads_the_unknowns_and_the_problem_keeps_its_constants(tmp_path):
    """The residual of the trainable copy moves with the unknowns; the problem's own residual,
    reference and exact values do not."""
    t = trainer(tmp_path, TINY_INVERSE)
    pts = t.points.at(0)["residual"]
    view = t.objective.conditions["residual"].residual
    own = t.problem.conditions()["residual"].residual
    before = view(t.objective.derivatives("residual", pts))["u"].detach().clone()
    with torch.no_grad():
        t.objective.unknowns["lambda1"].fill_(1.0)
        t.objective.unknowns["nu"].fill_(np.log(0.01 / np.pi))  # trained as log(nu)
    t.objective.bind_unknowns()
    after = view(t.objective.derivatives("residual", pts))["u"].detach()
    truth = own(t.objective.derivatives("residual", pts))["u"].detach()
    assert float((after - before).abs().max()) > 1e-6
    torch.testing.assert_close(after, truth, rtol=0, atol=1e-15)
    assert t.problem.p["lambda1"] == 1.0 and t.problem.reference() is not None


@pytest.mark.parametrize(
    "override, message",
    [
        ("+equation.unknowns.viscosity=0.1", "viscosity"),
        ("equation.observations.count=-1", "observations.count"),
        ("equation.observations.count=100000 equation.points.residual=100000", "more than"),
        ("equation.domain.t=[0.0,0.5]", "no reference solution"),
    ],
)
def test_bad_inverse_settings(tmp_path, override, message):
    with pytest.raises(ConfigError, match=message):
        trainer(tmp_path, [*TINY_INVERSE, *override.split()])


def test_inverse_run_logs_params_and_resumes_them(tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    args = [*TINY_INVERSE, "optimizer.phases.0.steps=40", "trainer.checkpoint_every=20", "trainer.log_every=10"]
    proc = run_cli(
        [*args, "trainer.plots=true", f"hydra.run.dir={full}"]
    )  # like the two below: one thread, the same rounding
    assert proc.returncode == 0, explain(proc)
    first = run_cli([*args, "trainer.max_steps=20", f"hydra.run.dir={part}"])
    more = run_cli([*args, "trainer.resume=true", f"hydra.run.dir={part}"])
    assert first.returncode == 0 and more.returncode == 0, explain(more)

    with open(full / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {"param/lambda1", "param/nu", "loss/data_u", "weight/data_u"} <= set(rows[0])
    lam = [float(r["param/lambda1"]) for r in rows]
    assert lam[0] != 0.0 and len(set(lam)) > 1  # it trains
    s, r = (json.loads((d / "summary.json").read_text()) for d in (full, part))
    assert s["unknowns"]["lambda1"]["true"] == 1.0 and s["unknowns"]["lambda1"]["initial"] == 0.0
    assert s["final"]["param/lambda1"] == s["unknowns"]["lambda1"]["found"] == pytest.approx(lam[-1], rel=1e-12)
    for k in ("lambda1", "nu"):  # resumed = uninterrupted
        assert r["unknowns"][k]["found"] == pytest.approx(s["unknowns"][k]["found"], rel=1e-12, abs=0)
    assert torch.load(full / "checkpoints" / "last.pt", weights_only=True)["unknowns"].keys() == {"lambda1", "nu"}
    assert (full / "plots" / "params.png").stat().st_size > 10_000


# -- log-parametrised unknowns, the residual at the observed points ------------------------------


TINY = ["model.width=6", "model.depth=2", "trainer.dtype=float64", "trainer.device=cpu", "trainer.progress=false"]
INVERSE = [
    "experiment=raissi_burgers_inverse",
    *TINY,
    "equation.points.residual=12",
    "equation.observations.count=12",
    "equation.unknowns.nu=0.0024787521766663585",  # exp(-6)
    "equation.unknowns.lambda1=0.0",
    "+equation.log_unknowns=[nu]",
    "+equation.observations.collocate=[residual]",
    "optimizer=adam",
    "optimizer.phases.0.steps=30",
    "optimizer.phases.0.lr=0.05",
    "trainer.log_every=1",
]


def test_log_unknown_trains_the_log_and_the_residual_reads_its_exp(tmp_path):
    t = build_task(INVERSE)
    raw = dict(t.objective.unknowns.items())
    assert float(raw["nu"]) == pytest.approx(-6.0, abs=1e-12)  # lambda2 = log(nu)
    assert float(raw["lambda1"]) == 0.0  # the other is trained as it is
    assert t.objective.unknowns.constants()["nu"] == pytest.approx(math.exp(-6), rel=1e-12)
    # d loss / d lambda2 = nu * d loss / d nu: the residual reads exp(lambda2)
    loss = t.objective.losses(0)["residual_u"]
    (g,) = torch.autograd.grad(loss, [raw["nu"]])
    d = Derivatives(t.model, t.points.at(0)["residual"], t.problem.variables, t.problem.outputs)
    nu = torch.tensor(math.exp(-6), dtype=torch.float64, requires_grad=True)
    by_hand = (d["u_t"] + 0.0 * d["u"] * d["u_x"] - nu * d["u_xx"]).pow(2).mean()
    (g_nu,) = torch.autograd.grad(by_hand, [nu])
    assert float(g) == pytest.approx(float(g_nu) * math.exp(-6), rel=1e-10)
    summary = run_task(t, tmp_path / "run")
    rows = read_rows(tmp_path / "run")
    nus = [float(r["param/nu"]) for r in rows]
    assert len(set(nus)) > 5 and min(nus) > 0  # it moved, and stays positive
    ident = json.loads((tmp_path / "run" / "summary.json").read_text())["unknowns"]["nu"]
    assert ident["initial"] == pytest.approx(math.exp(-6)) and ident["found"] == pytest.approx(nus[-1], rel=1e-12)
    assert summary["status"] == "completed"


def test_collocated_residual_is_at_the_observed_points():
    t = build_task(INVERSE)
    obs = t.objective.observations[0]
    assert torch.equal(t.points.at(0)["residual"], obs)
    assert torch.equal(t.points.at(7)["residual"], obs)


@pytest.mark.parametrize(
    "overrides, words",
    [
        (["equation.observations.count=11"], ["equation.points.residual", "equation.observations.count"]),
        (["+equation.log_unknowns=[lambda9]"], ["equation.log_unknowns", "lambda9"]),
        (["equation.unknowns.lambda1=0.0", "+equation.log_unknowns=[lambda1]"], ["equation.unknowns.lambda1", "> 0"]),
    ],
)
def test_bad_inverse_settings_get_one_line(tmp_path, overrides, words):
    base = [o for o in INVERSE if not o.startswith(("+equation.log_unknowns", "equation.observations.count"))]
    if not any(o.startswith("equation.observations.count") for o in overrides):
        base.append("equation.observations.count=12")
    if not any(o.startswith("+equation.log_unknowns") for o in overrides):
        base.append("+equation.log_unknowns=[nu]")
    proc = run_cli([*base, *overrides, f"hydra.run.dir={tmp_path / 'run'}"])
    assert proc.returncode == 2
    assert_one_line_error(proc, *words)
