"""Function fitting (equation=fit_mscale_1d): a real run writes train and test loss and the
learned and true curves."""
from __future__ import annotations

import csv
import json

import h5py
import numpy as np
import pytest

from conftest import assert_one_line_error, explain, run_cli


def test_fit_run_logs_train_and_test_loss_and_writes_both_curves(tmp_path):
    run = tmp_path / "fit"
    p = run_cli(["equation=fit_mscale_1d", "model=mscale", "model.widths=[60,20]", "model.activation=s2relu",
                 "equation.points.fit=2000", "equation.test_points=500", "sampler=uniform",
                 "optimizer=adam", "optimizer.phases.0.steps=150", "optimizer.phases.0.lr=3e-3",
                 "trainer.eval_every=50", "trainer.log_every=50", "trainer.progress=false",
                 "trainer.device=cpu", f"hydra.run.dir={run}"])
    assert p.returncode == 0, explain(p)
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["50", "100", "150"]
    assert "loss/fit_u" in rows[0] and all(r["test_loss"] for r in rows)
    test = [float(r["test_loss"]) for r in rows]
    assert test[-1] < test[0], test                      # it learns (the mean and the left half)
    with h5py.File(run / "predictions.h5", "r") as f:
        x, pred, ref = f["grid/x"][()], f["pred/u"][()], f["ref/u"][()]
    assert x.shape == (8001,) and x[0] == pytest.approx(-np.pi) and x[-1] == pytest.approx(np.pi)
    left, right = x <= 0, x > 0
    np.testing.assert_allclose(ref[left], np.sin(x[left]) + np.sin(3 * x[left]) + 1, atol=1e-12)
    np.testing.assert_allclose(ref[right], np.sin(23 * x[right]) + np.sin(137 * x[right])
                               + np.sin(203 * x[right]) + 1, atol=1e-12)
    # the held-out MSE (500 random points) estimates the same integral as the grid's mean square error
    s = json.loads((run / "summary.json").read_text())
    assert s["final"]["test_loss"] == pytest.approx(np.mean((pred - ref) ** 2), rel=0.15)
    assert (run / "plots" / "loss.png").exists()


def test_test_points_need_an_exact_solution(tmp_path):
    p = run_cli(["equation=burgers", "equation.test_points=10", f"hydra.run.dir={tmp_path / 'r'}"])
    assert_one_line_error(p, "equation.test_points")
    assert not (tmp_path / "r").exists()
