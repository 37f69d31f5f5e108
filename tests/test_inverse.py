"""Inverse problems: unknown equation constants trained with the network from observations."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from pinnrun.config import ConfigError
from pinnrun.training import Trainer
from conftest import compose_config, explain, run_cli

TINY_INVERSE = ["experiment=raissi_burgers_inverse", "model.width=10", "model.depth=2",
                "equation.points.residual=200", "equation.observations.count=300",
                "trainer.progress=false", "trainer.dtype=float64", "trainer.device=cpu"]


def trainer(tmp_path, overrides):
    return Trainer(OmegaConf.to_object(compose_config(overrides)), tmp_path / "run")


def test_observations_are_reference_values_at_reference_grid_points(tmp_path):
    t = trainer(tmp_path, TINY_INVERSE)
    pts, values = t.observations
    assert pts.shape == (300, 2) and values.shape == (300, 1)
    # every observed point is a grid point, and its value the reference there
    ti = np.searchsorted(t.grid["t"], pts[:, 0].numpy())
    xi = np.searchsorted(t.grid["x"], pts[:, 1].numpy())
    np.testing.assert_allclose(t.grid["t"][ti], pts[:, 0].numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(t.grid["x"][xi], pts[:, 1].numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(values[:, 0].numpy(), t.ref["u"][ti, xi], rtol=0, atol=1e-15)
    assert len({(a, b) for a, b in zip(ti, xi)}) == 300           # drawn without replacement
    # the loss: only the residual and the data; no initial or boundary terms
    assert t.terms == ["residual_u", "data_u"]
    assert {k: v.item() for k, v in t.unknowns.items()} == {"lambda1": 0.0, "nu": 0.0}
    assert t.true_params == pytest.approx({"lambda1": 1.0, "nu": 0.01 / np.pi})


def test_noise_is_relative_to_the_standard_deviation(tmp_path):
    clean = trainer(tmp_path / "a", TINY_INVERSE).observations[1][:, 0].numpy()
    noisy = trainer(tmp_path / "b", [*TINY_INVERSE, "equation.observations.noise=0.05"]).observations[1][:, 0].numpy()
    ratio = (noisy - clean).std() / clean.std()
    assert 0.04 < ratio < 0.06, ratio


def test_unknowns_get_gradients_from_the_residual(tmp_path):
    t = trainer(tmp_path, TINY_INVERSE)
    loss = t.total(t.term_losses(0))
    loss.backward()
    for name, p in t.unknowns.items():
        assert p.grad is not None and p.grad.abs().item() > 0, name


@pytest.mark.parametrize("override, message", [
    ("+equation.unknowns.viscosity=0.1", "viscosity"),
    ("equation.observations.count=-1", "observations.count"),
    ("equation.observations.count=100000", "more than"),
    ("equation.domain.t=[0.0,0.5]", "no reference solution"),
])
def test_bad_inverse_settings(tmp_path, override, message):
    with pytest.raises(ConfigError, match=message):
        trainer(tmp_path, [*TINY_INVERSE, override])


def test_inverse_run_logs_params_and_resumes_them(tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    args = [*TINY_INVERSE, "optimizer.phases.0.steps=40", "trainer.checkpoint_every=20", "trainer.log_every=10"]
    proc = run_cli([*args, f"hydra.run.dir={full}"])
    assert proc.returncode == 0, explain(proc)
    first = run_cli([*args, "trainer.max_steps=20", f"hydra.run.dir={part}"])
    more = run_cli([*args, "trainer.resume=true", f"hydra.run.dir={part}"])
    assert first.returncode == 0 and more.returncode == 0, explain(more)

    with open(full / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {"param/lambda1", "param/nu", "loss/data_u", "weight/data_u"} <= set(rows[0])
    lam = [float(r["param/lambda1"]) for r in rows]
    assert lam[0] != 0.0 and len(set(lam)) > 1                       # it trains
    s, r = (json.loads((d / "summary.json").read_text()) for d in (full, part))
    assert s["unknowns"]["lambda1"]["true"] == 1.0 and s["unknowns"]["lambda1"]["initial"] == 0.0
    assert s["final"]["param/lambda1"] == s["unknowns"]["lambda1"]["found"] == pytest.approx(lam[-1], rel=1e-12)
    for k in ("lambda1", "nu"):                                        # resumed = uninterrupted
        assert r["unknowns"][k]["found"] == pytest.approx(s["unknowns"][k]["found"], rel=1e-12, abs=0)
    assert torch.load(full / "checkpoints" / "last.pt", weights_only=True)["unknowns"].keys() == {"lambda1", "nu"}
    assert (full / "plots" / "params.png").stat().st_size > 10_000
