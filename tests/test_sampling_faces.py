"""Points per face (equation.per_face) and the mean square of each face summed, shares of pooled
faces in proportion to their size, and the one-line errors of bad per_face settings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinnrun.derivatives import Derivatives

from helpers import assert_one_line_error, build_task, run_cli

TINY = ["model.width=6", "model.depth=2", "trainer.dtype=float64", "trainer.device=cpu", "trainer.progress=false"]


def faces_of(points: torch.Tensor, domain: dict) -> list[tuple[str, int]]:
    """The face each point lies on, as (variable, 0 lower | 1 upper), from its coordinates."""
    out = []
    for p in points.tolist():
        on = [(v, s) for i, (v, b) in enumerate(domain.items()) for s in (0, 1) if p[i] == b[s]]
        assert len(on) == 1, p
        out.append(on[0])
    return out


def test_per_face_points_and_the_sum_of_per_face_mean_squares():
    t = build_task([*TINY, "equation=helmholtz", "equation.points.boundary=6", "+equation.per_face=[boundary]"])
    pts = t.points.at(0)["boundary"]
    assert pts.shape == (24, 2)
    dom = {"x": (-1.0, 1.0), "y": (-1.0, 1.0)}
    assert faces_of(pts, dom) == [f for f in [("x", 0), ("x", 1), ("y", 0), ("y", 1)] for _ in range(6)]
    # the term is the sum over the 4 faces of each face's mean square, not one mean over the 24 points
    d = Derivatives(t.model, pts, t.problem.variables, t.problem.outputs)
    r2 = t.problem.conditions()["boundary"].residual(d)["u"].detach().pow(2)
    by_face = sum(float(r2[6 * f : 6 * f + 6].mean()) for f in range(4))
    got = float(t.objective.losses(0)["boundary_u"].detach())
    assert got == pytest.approx(by_face, rel=1e-12)
    assert got == pytest.approx(4 * float(r2.mean()), rel=1e-12)


def test_pooled_faces_share_the_points_in_proportion_to_their_size():
    """Burgers' initial_boundary: t = 0 (length 2) and the walls x = -1, 1 (length 1 each) -> 50/25/25."""
    t = build_task(
        [*TINY, "equation=burgers", "equation.points.initial=0", "equation.points.boundary=0"]
        + ["equation.points.initial_boundary=100"]
    )
    pts = t.points.at(0)["initial_boundary"]
    on = faces_of(pts, {"t": (0.0, 1.0), "x": (-1.0, 1.0)})
    assert {f: on.count(f) for f in set(on)} == {("t", 0): 50, ("x", 0): 25, ("x", 1): 25}
    assert sorted(set(on)) != on[:3]  # dealt out in random order, not face after face
    # the one term: u + sin(pi x) on all three faces, one mean over the 100 points
    d = Derivatives(t.model, pts, t.problem.variables, t.problem.outputs)
    expect = (d["u"] + torch.sin(math.pi * pts[:, 1])).pow(2).mean()
    got = float(t.objective.losses(0)["initial_boundary_u"].detach())
    assert got == pytest.approx(float(expect.detach()), rel=1e-12)
    assert t.objective.terms == ["initial_boundary_u", "residual_u"]
    # the two conditions given 0 points are left out of the loss, and the run's header says so
    assert [n for n in t.notes() if "0 points" in n] == [
        "condition 'initial' has 0 points (equation.points.initial=0): no loss term",
        "condition 'boundary' has 0 points (equation.points.boundary=0): no loss term",
    ]
    # a rectangle that is not a square: edges 1.5 (y faces) and 2 (x faces) long
    k = build_task([*TINY, "equation=kovasznay", "equation.points.boundary=70"])
    on = faces_of(k.points.at(0)["boundary"], {"x": (-0.5, 1.0), "y": (-0.5, 1.5)})
    assert {f: on.count(f) for f in set(on)} == {("x", 0): 20, ("x", 1): 20, ("y", 0): 15, ("y", 1): 15}


@pytest.mark.parametrize(
    "override, words",
    [
        ("+equation.per_face=[residual]", ["equation.per_face", "residual", "faces"]),
        ("+equation.per_face=[walls]", ["equation.per_face", "walls"]),
    ],
)
def test_bad_per_face_gets_one_line(tmp_path, override, words):
    proc = run_cli(["equation=wave", override, "trainer.max_steps=1", f"hydra.run.dir={tmp_path / 'run'}"])
    assert proc.returncode == 2
    assert_one_line_error(proc, *words)
    assert not (tmp_path / "run").exists()


def test_fixed_grids_per_face_are_exactly_jaxpis_grids():
    """jaxpi_wave: the initial condition on x_star = linspace(0, 1, 128) at t = 0, each wall on
    t_star = linspace(0, 1, 200) (its x the wall's), wall after wall, the same every round."""
    task = build_task(
        ["experiment=jaxpi_wave_cpu", "model.width=8", "model.fourier_features=8", "trainer.compile=false"]
    )
    for step in (0, 3):
        pts = task.points.at(step)
        initial, walls = pts["initial"].double().numpy(), pts["boundary"].double().numpy()
        np.testing.assert_allclose(initial, np.c_[np.zeros(128), np.linspace(0, 1, 128)], rtol=0, atol=1e-7)
        t = np.linspace(0, 1, 200)
        np.testing.assert_allclose(walls, np.r_[np.c_[t, np.zeros(200)], np.c_[t, np.ones(200)]], rtol=0, atol=1e-7)
    assert task.points.total("boundary", pts["boundary"]) == 200
