"""PINNacle's HInv (heat_inverse: the diffusivity a learned with u from noisy data of u; i207M/PINNacle
src/pde/inverse.py:91-167 at 6f8d69c), and observations at a file of points
(equation.observations.at, outputs, noise_sd), which it is the first user of.

The equation is checked on its exact solution (every condition vanishes, a wrong diffusivity fails
the residual), its evaluation points against the counts DeepXDE's uniform_points gives (typed from
PINNacle's documented test sets), its data against PINNacle's file (the shared copy; skipped where
it is absent), and bad observation settings each get one line.
"""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pytest
import torch
from test_problems_pinnacle import worst

from pinnrun.config import ConfigError

from helpers import assert_one_line_error, build_task, read_rows, run_cli, run_task
from helpers import equation as problem

#: a small HInv: the preset's settings, fewer points, a small network, float64
SMALL = [
    "experiment=pinnacle_hinv",
    "equation.points.residual=256",
    "equation.points.boundary=64",
    "model.width=16",
    "model.depth=2",
    "trainer.dtype=float64",
    "trainer.device=cpu",
    "trainer.progress=false",
]


def test_the_problem_is_pinnacles_heat_inverse():
    p = problem("heat_inverse")
    assert p.variables == ("x", "y", "t") and p.outputs == p.fields == ("u", "a")  # inverse.py:95
    assert p.domain == {"x": (-1.0, 1.0), "y": (-1.0, 1.0), "t": (0.0, 1.0)}  # inverse.py:97-100
    conditions = p.conditions()
    # PINNacle's terms: pde (on u's equation), bc_a (a on the spatial boundary); the data is separate
    assert list(conditions) == ["residual", "boundary"]
    assert conditions["residual"].components == ("u",) and conditions["boundary"].components == ("a",)
    assert tuple(conditions["boundary"].boundary) == ("x", "y")
    # the exact solution, typed from inverse.py:116-122 at a few points
    pts = {
        "x": torch.tensor([0.5, -0.5, 0.25]),
        "y": torch.tensor([0.5, 0.5, -1.0]),
        "t": torch.tensor([0.0, 1.0, 0.3]),
    }
    ex = p.exact({k: v.double() for k, v in pts.items()})
    np.testing.assert_allclose(ex["u"].numpy(), [1.0, -math.exp(-1.0), 0.0], atol=1e-15)
    np.testing.assert_allclose(ex["a"].numpy(), [3.0, 1.0, 2.0], atol=1e-15)


def test_the_exact_solution_meets_every_condition_and_a_wrong_diffusivity_fails():
    p = problem("heat_inverse")
    exact = p.exact_net()
    assert worst(p, "residual", exact) < 1e-9
    assert worst(p, "boundary", exact) < 1e-9

    def constant_a(q):  # u exact, a = 2 everywhere: right on the walls, wrong inside
        out = exact(q)
        return torch.cat([out[:, :1], torch.full_like(out[:, 1:], 2.0)], 1)

    assert worst(p, "boundary", constant_a) < 1e-9
    assert worst(p, "residual", constant_a) > 1.0


def test_the_error_is_pooled_over_u_and_a_at_pinnacles_test_points():
    # 20000 points of the space-time box asked (src/utils/callbacks.py:136): 17 x 17 x 71
    # the problem evaluates there, pooled over u and a (PINNacle's L2RE)
    t = build_task(SMALL)
    assert t.evaluation.layout == "points" and len(t.evaluation.points) == 20519
    assert t.evaluation.fields == ["u", "a"] and t.evaluation.pooled == ["u", "a"]


def test_the_data_is_u_at_pinnacles_points_with_noise_of_sd_0_1(shared):
    file = np.loadtxt(shared("heatinv_points.dat"))
    assert file.shape == (2500, 3)  # inverse.py:150, 155: 2500 points (x, y, t)
    t = build_task(SMALL)
    obs = t.objective.observations
    assert obs.outputs == ("u",) and obs.values.shape == (2500, 1)
    np.testing.assert_array_equal(obs.points.numpy(), file)  # all of them, in the file's order
    u = np.exp(-file[:, 2]) * np.sin(np.pi * file[:, 0]) * np.sin(np.pi * file[:, 1])
    noise = obs.values[:, 0].numpy() - u
    # N(0, 0.1): the sample sd of 2500 draws lies within 5 % of 0.1, the mean within 0.01 of 0
    assert 0.095 < noise.std() < 0.105 and abs(noise.mean()) < 0.01
    assert t.objective.terms == ["residual_u", "boundary_a", "data_u"]
    # the noise is drawn from the run's seed: the same seed, the same data; another, other data
    same = build_task(SMALL).objective.observations.values
    other = build_task([*SMALL, "seed=1"]).objective.observations.values
    assert torch.equal(same, obs.values) and not torch.equal(other, obs.values)
    # count draws that many of the file's points, without replacement
    few = build_task([*SMALL, "equation.observations.count=100"]).objective.observations.points.numpy()
    assert few.shape == (100, 3) and len({tuple(r) for r in few}) == 100
    assert {tuple(r) for r in few} <= {tuple(r) for r in file}


def test_data_term_is_the_mean_square_misfit_of_the_observed_output_only():
    t = build_task(SMALL)
    obs = t.objective.observations
    pred = t.model(obs.points).detach()
    losses = t.objective.losses(0)
    want = float(((pred[:, 0] - obs.values[:, 0]) ** 2).mean())  # column 0 is u; a is not observed
    assert float(losses["data_u"].detach()) == pytest.approx(want, rel=1e-12)
    assert "data_a" not in losses


def write(path, rows):
    path.write_text("\n".join(" ".join(str(v) for v in r) for r in rows) + "\n")
    return str(path)


def test_bad_observation_settings_each_get_a_clear_error(tmp_path):
    good = write(tmp_path / "pts.txt", [[0.1, 0.2, 0.5], [-0.3, 0.4, 0.9]])
    base = [*SMALL, f"equation.observations.at={good}"]
    t = build_task(base)  # an absolute path of the user's own: read as it is
    assert t.objective.observations.points.shape == (2, 3)
    cases = [
        ([f"equation.observations.at={tmp_path / 'nope.txt'}"], "does not exist"),
        ([f"equation.observations.at={write(tmp_path / 'two.txt', [[0.1, 0.2], [0.3, 0.4]])}"], "3 columns"),
        (
            [f"equation.observations.at={write(tmp_path / 'out.txt', [[0.1, 0.2, 0.5], [2.0, 0.0, 0.5]])}"],
            "1 of 2 points",
        ),
        ([f"equation.observations.at={write(tmp_path / 'words.txt', [['a', 'b', 'c']])}"], "not a table of numbers"),
        ([f"equation.observations.at={write(tmp_path / 'nan.txt', [[0.1, 'nan', 0.5]])}"], "not finite"),
        ([f"equation.observations.at={good}", "equation.observations.count=3"], "more than the 2 points"),
        ([f"equation.observations.at={good}", "equation.observations.outputs=[v]"], "outputs"),
        ([f"equation.observations.at={good}", "equation.observations.noise_sd=-1"], "noise_sd must be >= 0"),
    ]
    for extra, words in cases:
        with pytest.raises(ConfigError, match=words):
            build_task([*SMALL, *extra])


def test_a_missing_pinnacle_file_is_one_line_and_no_run_directory(tmp_path):
    run = tmp_path / "run"
    proc = run_cli(
        ["experiment=pinnacle_hinv", f"hydra.run.dir={run}", "trainer.progress=false"],
        env={"PINNRUN_DATA_DIR": str(tmp_path / "data"), "PINNRUN_PINNACLE_URL": (tmp_path / "none").as_uri()},
    )
    # the line saying what is being fetched, then the one error line saying what to place where
    *fetching, last = proc.stderr.splitlines()
    assert [line for line in fetching if line.startswith("fetching PINNacle's heatinv_points.dat")] == fetching
    assert_one_line_error(
        subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout, last + "\n"),
        "could not be fetched",
        "place PINNacle's heatinv_points.dat at " + str(tmp_path / "data" / "pinnacle" / "heatinv_points.dat"),
    )
    assert not (run / "metrics.csv").exists()


def test_a_short_run_learns_from_the_data(tmp_path):
    run = tmp_path / "run"
    summary = run_task(
        [
            *SMALL,
            "trainer.max_steps=60",
            "trainer.compile=false",
            "trainer.plots=false",
            "trainer.log_every=30",
            "trainer.eval_every=60",
        ],
        run,
    )
    assert summary["status"] == "completed"
    rows = read_rows(run)
    assert {"loss/residual_u", "loss/boundary_a", "loss/data_u", "l2/u", "l2/a", "l2/all"} <= set(rows[0])
    # the PDE's terms dominate the sum at the start (the source f is up to 4 pi^2); 60 Adam steps
    # take off more than a tenth of it (measured: 172 at step 30, 141 at step 60)
    assert float(rows[-1]["loss"]) < 0.9 * float(rows[0]["loss"])
    assert 0 < summary["final"]["l2/all"] < 2
