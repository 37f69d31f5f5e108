"""Inverse problems: unknown equation constants trained with the network from observations."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from pinnrun.config import ConfigError

from helpers import build_task, explain, run_cli

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
    pts, values = t.objective.observations
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
