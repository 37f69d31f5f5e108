"""What the papers' setups need: loss terms that share one weight (weighting.groups), points and
mean squares per face (equation.per_face), shares of faces in proportion to their size,
log-parametrised unknowns, the residual at the observed points, best.pt by an unweighted measure,
and the CPU thread count as part of the config."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from test_weighting import brute_jacobian

from pinnrun.derivatives import Derivatives
from pinnrun.weighting import GradNorm

from helpers import assert_one_line_error, build_task, read_rows, run_cli, run_task

TINY = ["model.width=6", "model.depth=2", "trainer.dtype=float64", "trainer.device=cpu", "trainer.progress=false"]
WAVE = ["equation=wave", "equation.points.initial=5", "equation.points.boundary=4", "equation.points.residual=9"]


def faces_of(points: torch.Tensor, domain: dict) -> list[tuple[str, int]]:
    """The face each point lies on, as (variable, 0 lower | 1 upper), from its coordinates."""
    out = []
    for p in points.tolist():
        on = [(v, s) for i, (v, b) in enumerate(domain.items()) for s in (0, 1) if p[i] == b[s]]
        assert len(on) == 1, p
        out.append(on[0])
    return out


# -- faces ---------------------------------------------------------------------------------


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


# -- weight groups -------------------------------------------------------------------------


def test_fixed_group_weight_multiplies_the_sum_of_its_terms(tmp_path):
    t = build_task(
        [*TINY, *WAVE, "+weighting.groups.u=[initial_u,boundary_u]", "+weighting.weights.u=3.0"]
        + ["optimizer=adam", "optimizer.phases.0.steps=2", "trainer.log_every=1"]
    )
    assert t.weighting.groups == {"u": ["initial_u", "boundary_u"], "initial_u_t": ["initial_u_t"]} | {
        "residual_u": ["residual_u"]
    }
    run_task(t, tmp_path / "run")
    rows = read_rows(tmp_path / "run")
    assert [c for c in rows[0] if c.startswith("weight/")] == ["weight/u", "weight/initial_u_t", "weight/residual_u"]
    for r in rows:
        assert float(r["weight/u"]) == 3.0
        parts = 3.0 * (float(r["loss/initial_u"]) + float(r["loss/boundary_u"]))
        total = parts + float(r["loss/initial_u_t"]) + float(r["loss/residual_u"])
        assert float(r["loss"]) == pytest.approx(total, rel=1e-12)


def test_ntk_group_weight_uses_one_kernel_on_the_groups_points_together():
    """The paper's lambda_u: one kernel K_uu over the initial points and the walls' together."""
    t = build_task(
        [*TINY, *WAVE, "+equation.per_face=[boundary]", "+weighting.groups.u=[initial_u,boundary_u]", "weighting=ntk"]
    )
    t.weighting.update(0)
    sets = {r.name: r for r in t.objective.residual_sets(0)}
    J = {}
    for r in sets.values():
        J.update(brute_jacobian(t, r))
    pooled = torch.cat([J["initial_u"], J["boundary_u"]])  # 5 + 4 on each wall
    assert pooled.shape[0] == 13
    mean = {
        "u": float((pooled @ pooled.T).trace()) / 13,
        "initial_u_t": float((J["initial_u_t"] @ J["initial_u_t"].T).trace()) / 5,
        "residual_u": float((J["residual_u"] @ J["residual_u"].T).trace()) / 9,
    }
    total = sum(mean.values())
    assert set(t.weighting.weights) == set(mean)
    for g, m in mean.items():
        assert t.weighting.weights[g] == pytest.approx(total / m, rel=1e-10), g
    # not the mean of the two terms' own weights: the two kernels differ
    own = [float((J[k] @ J[k].T).trace()) / len(J[k]) for k in ("initial_u", "boundary_u")]
    assert abs(own[0] - own[1]) > 0.05 * max(own)


def test_gradnorm_group_weight_from_the_groups_summed_loss():
    """Klein-Gordon as the authors' code: one weight for the initial u and u_t terms."""
    t = build_task(
        [*TINY, "equation=klein_gordon", "equation.points.initial=6", "equation.points.boundary=5"]
        + ["equation.points.residual=7", "+weighting.groups.initial=[initial_u,initial_u_t]", "weighting=gradnorm"]
        + ["weighting.alpha=1.0"]
    )
    assert isinstance(t.weighting, GradNorm)
    t.weighting.update(0)
    losses = t.objective.losses(0)
    weights = [m.weight for m in t.model.modules() if isinstance(m, torch.nn.Linear)]

    def layer_grads(loss):
        return [g.abs() for g in torch.autograd.grad(loss, weights, retain_graph=True)]

    top = max(float(g.max()) for g in layer_grads(losses["residual_u"]))
    for g, loss in (("initial", losses["initial_u"] + losses["initial_u_t"]), ("boundary_u", losses["boundary_u"])):
        mean = np.mean([float(x.mean()) for x in layer_grads(loss)])
        assert t.weighting.weights[g] == pytest.approx(top / mean, rel=1e-10), g
    assert set(t.weighting.weights) == {"initial", "boundary_u", "residual_u"}


@pytest.mark.parametrize(
    "overrides, words",
    [
        (["+weighting.groups.u=[initial_u,nonsense]"], ["weighting.groups.u", "unknown loss term", "nonsense"]),
        (["+weighting.groups.a=[initial_u]", "+weighting.groups.b=[initial_u]"], ["initial_u", "both"]),
        (["+weighting.groups.u=[initial_u,boundary_u]", "+weighting.weights.initial_u=2"], ["initial_u", "group 'u'"]),
        (["+weighting.groups.u=[]"], ["weighting.groups.u", "empty"]),
        (["+weighting.groups.boundary_u=[initial_u]"], ["weighting.groups.boundary_u", "name of the loss term"]),
        (
            ["weighting=gradnorm", "+weighting.groups.r=[residual_u,boundary_u]"],
            ["weighting.groups.r", "reference"],
        ),
    ],
)
def test_bad_groups_get_one_line(tmp_path, overrides, words):
    proc = run_cli(["equation=wave", *overrides, "trainer.max_steps=1", f"hydra.run.dir={tmp_path / 'run'}"])
    assert proc.returncode == 2
    assert_one_line_error(proc, *words)


# -- inverse problems: log-parametrised unknowns, the residual at the observed points ------------

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


# -- best.pt and threads -----------------------------------------------------------------------


def test_best_checkpoint_is_chosen_by_the_unweighted_sum_of_the_terms(tmp_path):
    """With NTK weights that change every 2 steps the weighted loss is not comparable across
    updates: best.pt holds the step whose unweighted fit terms sum lowest."""
    t = build_task(
        [*TINY, *WAVE, "weighting=ntk", "weighting.update_every=2", "optimizer=adam"]
        + ["optimizer.phases.0.steps=40", "optimizer.phases.0.lr=0.02", "trainer.log_every=1"]
        + ["trainer.checkpoint_every=1", "trainer.eval_every=40"]
    )
    run_task(t, tmp_path / "run")
    rows = read_rows(tmp_path / "run")
    terms = t.objective.terms
    score = {int(r["step"]): sum(float(r[f"loss/{k}"]) for k in terms) for r in rows}
    weighted = {int(r["step"]): float(r["loss"]) for r in rows}
    best = torch.load(tmp_path / "run" / "checkpoints" / "best.pt", weights_only=False)
    assert best["step"] == min(score, key=score.get)
    assert min(score, key=score.get) != min(weighted, key=weighted.get)  # else the test shows nothing


def test_threads_are_set_recorded_and_part_of_the_hash(tmp_path):
    run = tmp_path / "run"
    base = ["equation=burgers", "trainer.max_steps=4", "equation.points.residual=50", "model.width=8"]
    # the tests' subprocesses start with OMP_NUM_THREADS=1: the setting must win
    proc = run_cli([*base, "trainer.threads=2", f"hydra.run.dir={run}"])
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run / "summary.json").read_text())["threads"] == 2
    before = torch.get_num_threads()
    try:
        t1, t2 = build_task([*base, "trainer.threads=1"]), build_task([*base, "trainer.threads=2"])
        assert (t1.threads, t2.threads) == (1, 2)
        assert t1.config_hash != t2.config_hash
    finally:
        torch.set_num_threads(before)
    # resuming with another thread count is another run: refused, in one line
    proc = run_cli([*base, "trainer.threads=1", "trainer.resume=true", f"hydra.run.dir={run}"])
    assert proc.returncode == 2
    assert_one_line_error(proc, "another config", "CPU threads")
