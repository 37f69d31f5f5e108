"""Function fitting (equation=fit_mscale_1d): a real run writes train and test loss and the
learned and true curves."""

from __future__ import annotations

import csv
import json

import h5py
import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import assert_one_line_error, compose_config, explain, run_cli, run_report, run_task


def test_fit_run_logs_train_and_test_loss_and_writes_both_curves(tmp_path):
    run = tmp_path / "fit"
    run_task(
        [
            "equation=fit_mscale_1d",
            "model=mscale",
            "model.widths=[60,20]",
            "model.activation=s2relu",
            "equation.points.fit=2000",
            "equation.test_points=500",
            "sampler=uniform",
            "optimizer=adam",
            "optimizer.phases.0.steps=150",
            "optimizer.phases.0.lr=3e-3",
            "trainer.eval_every=50",
            "trainer.log_every=50",
            "trainer.progress=false",
            "trainer.device=cpu",
            "trainer.plots=true",
        ],
        run,
    )
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["50", "100", "150"]
    assert "loss/fit_u" in rows[0] and all(r["test_loss"] for r in rows)
    test = [float(r["test_loss"]) for r in rows]
    assert test[-1] < test[0], test  # it learns (the mean and the left half)
    with h5py.File(run / "predictions.h5", "r") as f:
        x, pred, ref = f["grid/x"][()], f["pred/u"][()], f["ref/u"][()]
    assert x.shape == (8001,) and x[0] == pytest.approx(-np.pi) and x[-1] == pytest.approx(np.pi)
    left, right = x <= 0, x > 0
    np.testing.assert_allclose(ref[left], np.sin(x[left]) + np.sin(3 * x[left]) + 1, atol=1e-12)
    np.testing.assert_allclose(
        ref[right], np.sin(23 * x[right]) + np.sin(137 * x[right]) + np.sin(203 * x[right]) + 1, atol=1e-12
    )
    # the held-out MSE (500 random points) estimates the same integral as the grid's mean square error
    s = json.loads((run / "summary.json").read_text())
    assert s["final"]["test_loss"] == pytest.approx(np.mean((pred - ref) ** 2), rel=0.15)
    assert (run / "plots" / "loss.png").exists()


def test_test_points_need_an_exact_solution(tmp_path):
    p = run_cli(["equation=burgers", "equation.test_points=10", f"hydra.run.dir={tmp_path / 'r'}"])
    assert_one_line_error(p, "equation.test_points")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("model", ["mlp", "mscale"])
def test_mscale_fit_preset_is_the_papers_setup(model):
    """1-3000-100-100-100-1, Adam lr 1e-4 decayed by 1e-7 per step, 10000 random training and 2000
    test samples; MscaleDNN with scales 1..200 and sin, the plain network with tanh."""
    cfg = compose_config(["experiment=mscale_fit_1d", f"model={model}"])
    assert cfg.equation.name == "fit_mscale_1d" and cfg.model.name.value == model
    assert list(cfg.model.widths) == [3000, 100, 100, 100]
    assert cfg.equation.points.fit == 10000 and cfg.equation.test_points == 2000
    assert cfg.sampler.method.value == "uniform"
    [phase] = cfg.optimizer.phases
    assert phase.kind.value == "adam" and phase.lr == 1e-4
    assert phase.decay_steps == 1 and phase.decay_rate == pytest.approx(1 - 1e-7, abs=1e-15)
    assert cfg.model.activation == ("sin" if model == "mscale" else "tanh")
    if model == "mscale":
        assert cfg.model.structure.value == "scaled" and cfg.model.n_scales == 200
    assert "MscaleDNN" in cfg.published.claim


def test_mscale_fit_multirun_runs_both_models_and_compares_them(tmp_path):
    """The documented sweep `pinnrun -m experiment=mscale_fit_1d model=mlp,mscale` (shrunk), then
    pinnrun-report on its directory (a row per job) and on its two jobs (one figure, with the curves)."""
    sweep = tmp_path / "sweep"
    p = run_cli(
        [
            "-m",
            "experiment=mscale_fit_1d",
            "model=mlp,mscale",
            "model.widths=[64,16]",
            "model.n_scales=16",
            "equation.points.fit=600",
            "equation.test_points=300",
            "optimizer.phases.0.steps=40",
            "optimizer.phases.0.lr=3e-3",
            "trainer.eval_every=20",
            "trainer.progress=false",
            f"hydra.sweep.dir={sweep}",
        ]
    )
    assert p.returncode == 0, explain(p)
    summaries = [json.loads((sweep / job / "summary.json").read_text()) for job in ("0", "1")]
    for s in summaries:
        assert s["steps"] == 40 and np.isfinite(s["final"]["test_loss"])
    assert [s["model"] for s in summaries] == ["mlp", "mscale"]
    r = run_report([sweep])
    assert r.returncode == 0, explain(r)
    with open(sweep / "report.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["model"] for row in rows] == ["mlp", "mscale"]
    assert [float(row["test_loss"]) for row in rows] == [s["final"]["test_loss"] for s in summaries]
    assert (sweep / "report_model.png").stat().st_size > 10_000
    r = run_report([sweep / "0", sweep / "1", "--zoom", "2.0", "2.6", "--out", tmp_path])
    assert r.returncode == 0, explain(r)
    assert "mlp" in r.stdout and "mscale" in r.stdout and "test_loss" in r.stdout
    img = plt.imread(tmp_path / "comparison.png")
    assert img.shape[1] > 4.5 * img.shape[0], "four panels: curves, zoom, loss, L2"
