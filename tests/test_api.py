"""The Python API (pinnrun.run, pinnrun.load, Run.predict, Run.residual) on real runs.

Each run is a real training run (tiny networks, tens of steps); predictions are checked
against what the run itself wrote (predictions.h5, summary.json), derivatives against finite
differences of predictions, and residuals against the equation written out here by hand.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import h5py
import numpy as np
import pytest
import torch

import pinnrun
from pinnrun.config import ConfigError

from helpers import REPO, cli_env, explain, read_rows, run_cli

TINY = [
    "equation=burgers",
    "model.width=16",
    "model.depth=2",
    "optimizer=adam",
    "trainer.max_steps=40",
    "trainer.log_every=10",
    "trainer.eval_every=20",
    "trainer.checkpoint_every=20",
    "trainer.compile=false",
    "trainer.threads=1",
    "trainer.progress=false",
    "trainer.plots=false",
    "equation.points.residual=300",
]
NU = 0.01 / math.pi  # Burgers' viscosity (Raissi et al. 2019, sec. 3.1)


@pytest.fixture(scope="module")
def burgers(tmp_path_factory):
    """A float32 Burgers run trained through pinnrun.run."""
    run_dir = tmp_path_factory.mktemp("api") / "run"
    return pinnrun.run(TINY, run_dir=run_dir, quiet=True)


@pytest.fixture(scope="module")
def burgers64(tmp_path_factory):
    """The same in float64, for derivative checks by finite differences."""
    run_dir = tmp_path_factory.mktemp("api64") / "run"
    return pinnrun.run([*TINY, "trainer.dtype=float64"], run_dir=run_dir, quiet=True)


def grid_of(run_dir):
    with h5py.File(run_dir / "predictions.h5") as f:
        variables = f.attrs["variables"].split(",")
        axes = {v: f[f"grid/{v}"][()] for v in variables}
        pred = {k: f[f"pred/{k}"][()] for k in f["pred"]}
    return variables, axes, pred


def test_run_and_the_command_line_give_the_same_numbers(burgers, tmp_path):
    cli_dir = tmp_path / "cli"
    p = run_cli([*TINY, f"hydra.run.dir={cli_dir}"])
    assert p.returncode == 0, explain(p)
    api_rows, cli_rows = read_rows(burgers.run_dir), read_rows(cli_dir)
    assert [r["step"] for r in api_rows] == [r["step"] for r in cli_rows] == ["10", "20", "30", "40"]
    for a, c in zip(api_rows, cli_rows):
        for col in a:
            if col not in ("time_s", "phase") and a[col] != "":
                assert float(a[col]) == pytest.approx(float(c[col]), rel=1e-6), (a["step"], col)
    assert burgers.status == "completed" and burgers.step == 40
    assert burgers.summary["final"]["l2/u"] == pytest.approx(
        json.loads((cli_dir / "summary.json").read_text())["final"]["l2/u"], rel=1e-6
    )


def test_a_loaded_run_predicts_what_predictions_h5_holds(burgers):
    variables, axes, saved = grid_of(burgers.run_dir)
    assert tuple(variables) == burgers.variables == ("t", "x")
    mesh = np.meshgrid(*(axes[v] for v in variables), indexing="ij")
    again = pinnrun.load(burgers.run_dir)  # a fresh load, not the object run() returned
    pred = again.predict(dict(zip(variables, mesh)))
    assert set(pred) == {"u"} and pred["u"].shape == saved["u"].shape
    np.testing.assert_allclose(pred["u"], saved["u"], rtol=1e-6, atol=1e-7)
    # the same points as an (n, d) array give the same values, flat
    flat = again.predict(np.stack([m.ravel() for m in mesh], 1))["u"]
    np.testing.assert_array_equal(flat, pred["u"].ravel())
    # the best checkpoint is another (earlier or equal) state of the same network
    best = pinnrun.load(burgers.run_dir, checkpoint="best")
    assert 0 < best.step <= 40
    assert again.metrics["step"].tolist() == [10, 20, 30, 40]


def test_derivatives_from_predict_match_finite_differences(burgers64):
    run = burgers64
    t, x = 0.37, np.linspace(-0.9, 0.9, 41)
    d = run.predict({"t": t, "x": x}, derivatives=["u_x", "u_xx", "u_t", "u_tx"])
    h = 1e-4
    u = {s: run.predict({"t": t + a, "x": x + b})["u"] for s, (a, b) in {
        "0": (0, 0), "x+": (0, h), "x-": (0, -h), "t+": (h, 0), "t-": (-h, 0),
        "tx++": (h, h), "tx+-": (h, -h), "tx-+": (-h, h), "tx--": (-h, -h),
    }.items()}  # fmt: skip
    np.testing.assert_allclose(d["u"], u["0"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(d["u_x"], (u["x+"] - u["x-"]) / (2 * h), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(d["u_t"], (u["t+"] - u["t-"]) / (2 * h), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(d["u_xx"], (u["x+"] - 2 * u["0"] + u["x-"]) / h**2, rtol=1e-4, atol=1e-5)
    mixed = (u["tx++"] - u["tx+-"] - u["tx-+"] + u["tx--"]) / (4 * h * h)
    np.testing.assert_allclose(d["u_tx"], mixed, rtol=1e-4, atol=1e-5)
    assert np.abs(d["u_xx"]).max() > 1e-3  # a real second derivative, not a zero


def test_the_residual_is_burgers_equation_at_the_given_points(burgers64):
    run = burgers64
    pts = np.random.default_rng(3).uniform([0, -1], [1, 1], (500, 2))
    res = run.residual(pts)
    d = run.predict(pts, derivatives=["u_t", "u_x", "u_xx"])
    by_hand = d["u_t"] + d["u"] * d["u_x"] - NU * d["u_xx"]
    assert set(res) == {"u"}
    np.testing.assert_allclose(res["u"], by_hand, rtol=1e-10, atol=1e-12)
    # the training loss term is the mean square of this residual at the run's points
    assert np.mean(res["u"] ** 2) == pytest.approx(run.summary["final"]["loss/residual_u"], rel=0.5)


def test_an_inverse_problem_predicts_with_its_learned_constants(tmp_path):
    run = pinnrun.run(
        [
            "experiment=raissi_burgers_inverse",
            "model.width=16",
            "model.depth=2",
            "equation.observations.count=300",
            "equation.points.residual=300",
            "trainer.max_steps=30",
            "trainer.compile=false",
            "trainer.threads=1",
            "trainer.dtype=float64",
            "trainer.plots=false",
        ],
        run_dir=tmp_path / "inverse",
        quiet=True,
    )
    found = run.summary["unknowns"]
    lam, nu = found["lambda1"]["found"], found["nu"]["found"]
    assert lam != 0.0 and nu != pytest.approx(math.exp(-6))  # trained away from the start
    pts = np.random.default_rng(4).uniform([0, -1], [1, 1], (200, 2))
    d = run.predict(pts, derivatives=["u_t", "u_x", "u_xx"])
    np.testing.assert_allclose(
        run.residual(pts)["u"], d["u_t"] + lam * d["u"] * d["u_x"] - nu * d["u_xx"], rtol=1e-8, atol=1e-10
    )


def test_a_learned_inverse_problem_loads_and_predicts(tmp_path):
    run = pinnrun.run(
        [
            "experiment=holl_sip_synthetic",
            "trainer.max_steps=30",
            "trainer.eval_every=30",
            "trainer.threads=1",
            "trainer.progress=false",
            "trainer.plots=false",
        ],
        run_dir=tmp_path / "sip",
        quiet=True,
    )
    assert run.variables == ("ystar0", "ystar1") and run.fields == ("x", "y")
    y_star, x_star = run.task.test  # the held-out observations the summary's errors are measured on
    pred = run.predict(y_star.numpy())
    assert pred["x"].shape == (len(y_star), 2) and pred["y"].shape == (len(y_star), 2)
    x = torch.as_tensor(pred["x"], dtype=y_star.dtype)
    np.testing.assert_allclose(pred["y"], run.problem.simulate(x).numpy(), rtol=1e-6, atol=1e-7)
    errors = run.task.errors(x, torch.as_tensor(pred["y"], dtype=y_star.dtype))
    assert errors["l2/x"] == pytest.approx(run.summary["final"]["l2/x"], rel=1e-5)
    with pytest.raises(ConfigError, match="no PDE residual"):
        run.residual(y_star.numpy())
    # pinnrun-predict on it: the inputs y*, then x and P(x), a column each
    from pinnrun.predict import main as predict_main

    out = tmp_path / "sip.csv"
    assert predict_main([str(run.run_dir), "--grid", "ystar0=-1:1:3", "ystar1=0.5", "--out", str(out)]) == 0
    table = np.genfromtxt(out, delimiter=",", names=True)
    assert table.dtype.names == ("ystar0", "ystar1", "x0", "x1", "y0", "y1")
    again = run.predict(np.stack([np.linspace(-1, 1, 3), np.full(3, 0.5)], 1))
    np.testing.assert_allclose(np.stack([table["x0"], table["x1"]], 1), again["x"], rtol=1e-12)


def test_bad_overrides_raise_the_command_lines_error(tmp_path):
    for bad in (["equation=no_such_equation"], ["model.width=wide"], ["equation.domain.x=[1, -1]"]):
        with pytest.raises(ConfigError) as e:
            pinnrun.run(bad, run_dir=tmp_path / "never")
        p = run_cli([*bad, f"hydra.run.dir={tmp_path / 'never'}"])
        assert p.returncode == 2 and p.stderr.strip() == f"pinnrun: error: {e.value}", (bad, p.stderr, str(e.value))
        assert not (tmp_path / "never").exists()
    with pytest.raises(ConfigError, match="sweep"):
        pinnrun.run(["seed=0,1"])


def test_an_existing_run_directory_is_refused(burgers):
    before = (burgers.run_dir / "metrics.csv").read_bytes()
    with pytest.raises(ConfigError, match="already"):
        pinnrun.run(TINY, run_dir=burgers.run_dir)
    assert (burgers.run_dir / "metrics.csv").read_bytes() == before


def test_load_names_what_is_wrong(burgers, tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        pinnrun.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no config.yaml"):
        pinnrun.load(tmp_path / "empty")
    torn = tmp_path / "torn"
    (torn / "checkpoints").mkdir(parents=True)
    (torn / "config.yaml").write_text((burgers.run_dir / "config.yaml").read_text())
    data = (burgers.run_dir / "checkpoints" / "last.pt").read_bytes()
    (torn / "checkpoints" / "last.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ConfigError, match="truncated or corrupt"):
        pinnrun.load(torn)
    with pytest.raises(ConfigError, match="device"):
        pinnrun.load(burgers.run_dir, device="tpu")
    # a checkpoint of another network
    wide = tmp_path / "wide"
    (wide / "checkpoints").mkdir(parents=True)
    (wide / "config.yaml").write_text((burgers.run_dir / "config.yaml").read_text().replace("width: 16", "width: 17"))
    (wide / "checkpoints" / "last.pt").write_bytes(data)
    with pytest.raises(ConfigError, match="does not fit"):
        pinnrun.load(wide)


def test_predict_refuses_bad_points_with_one_line(burgers):
    cases = [
        (np.zeros((3, 3)), "expected an \\(n, 2\\) array"),
        (np.array([[0.5, np.nan]]), "row 0 has x = nan"),
        (np.array([[0.5, 0.0], [0.5, 1.5]]), "row 1 has x = 1.5, outside the domain"),
        ({"t": 0.5}, "missing x"),
        ({"t": 0.5, "x": 0.0, "y": 1.0}, "unknown y"),
        ({"t": [0.1, 0.2], "x": [0.1, 0.2, 0.3]}, "do not broadcast"),
    ]
    for points, message in cases:
        with pytest.raises(ConfigError, match=message):
            burgers.predict(points)
    with pytest.raises(ConfigError, match="unknown field 'v'"):
        burgers.predict(np.zeros((1, 2)), fields=["v"])
    with pytest.raises(ConfigError, match="derivative 'u_y'"):
        burgers.predict(np.zeros((1, 2)), derivatives=["u_y"])
    outside = burgers.predict(np.array([[0.5, 1.5]]), allow_outside=True)["u"]
    assert np.isfinite(outside).all()


def test_importing_pinnrun_sets_nothing_and_loading_keeps_the_callers_random_state(burgers):
    code = (
        "import sys, pinnrun; assert 'torch' not in sys.modules, 'import pinnrun imported torch';"
        "import torch; torch.set_num_threads(1); torch.manual_seed(123); a = torch.rand(3);"
        "torch.manual_seed(123); r = pinnrun.load(sys.argv[1]); b = torch.rand(3);"
        "assert torch.equal(a, b), 'load moved the global random state';"
        "assert torch.get_num_threads() == 1, 'load changed the thread count'; print(type(r).__name__)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, str(burgers.run_dir)], cwd=REPO, env=cli_env(), capture_output=True, text=True
    )
    assert p.returncode == 0 and p.stdout.strip() == "Run", explain(p)
