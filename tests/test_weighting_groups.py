"""Loss terms that share one weight (weighting.groups): a fixed group weight, the NTK weight of a group
from one kernel over its points together, the gradient-norm weight from its summed loss, and the
one-line errors of bad groups."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_weighting import brute_jacobian

from pinnrun.weighting import GradNorm

from helpers import assert_one_line_error, build_task, read_rows, run_cli, run_task

TINY = ["model.width=6", "model.depth=2", "trainer.dtype=float64", "trainer.device=cpu", "trainer.progress=false"]
WAVE = ["equation=wave", "equation.points.initial=5", "equation.points.boundary=4", "equation.points.residual=9"]


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
