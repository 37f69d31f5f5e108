"""Causal training (Wang, Sankaran & Perdikaris 2022, "Respecting causality is all you need for
training physics-informed neural networks"), as jaxpi computes it: the residual's points sorted in
time, M chunks with mean squares L_i, the term mean_i w_i L_i with w_i = exp(-tol sum_{j<i} L_j)
(no gradient through w), a tol schedule that moves on once min w > delta, and the NTK diagonal
weighted per chunk by w (jaxpi's compute_diag_ntk).

The references here are computed independently of pinnrun's code: the Allen-Cahn residual by
plain autograd, the sort by numpy, the weights by a loop over the formula, the NTK diagonal by one
backward pass per point.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinnrun import ntk
from pinnrun.causal import Causal, causal_weights
from pinnrun.config import CausalConfig, ConfigError
from pinnrun.derivatives import Derivatives
from pinnrun.problems.allen_cahn import AllenCahn

from helpers import assert_one_line_error, build_task, read_rows, run_cli, run_task

M = 8
#: Allen-Cahn (t, x) on few points, float64, eager step: 64 residual points in 8 chunks of 8
AC = [
    "equation=allen_cahn",
    "equation.points.residual=64",
    "equation.points.initial=32",
    "equation.points.boundary=16",
    "model.width=16",
    "model.depth=2",
    "trainer.dtype=float64",
    "trainer.device=cpu",
    "trainer.progress=false",
    f"weighting.causal.chunks={M}",
]


def hand_weights(L, tol):
    """w_i = exp(-tol * sum_{j<i} L_j), term by term."""
    return [math.exp(-tol * sum(L[:i])) for i in range(len(L))]


def ac_residual(model, X, eps=1e-4, a=5.0):
    """u_t - eps u_xx + a u^3 - a u by plain autograd, X columns (t, x)."""
    X = X.detach().clone().requires_grad_(True)
    u = model(X)[:, 0]
    du = torch.autograd.grad(u.sum(), X, create_graph=True)[0]
    u_xx = torch.autograd.grad(du[:, 1].sum(), X, create_graph=True)[0][:, 1]
    return du[:, 0] - eps * u_xx + a * u**3 - a * u


def hand_chunks(r, t, m):
    """Chunk mean squares of the residuals r sorted by t (numpy's sort), as a (m,) tensor."""
    order = torch.as_tensor(np.argsort(t.detach().numpy(), kind="stable"))
    return r[order].pow(2).reshape(m, -1).mean(1)


def test_weights_are_the_formula():
    L = torch.tensor([0.5, 0.0, 2.0, 0.25, 1.0], dtype=torch.float64, requires_grad=True)
    for tol in (1.0, 0.1, 7.5):
        w = causal_weights(L, tol)
        assert not w.requires_grad  # no gradient through w
        assert w.tolist() == pytest.approx(hand_weights(L.tolist(), tol), rel=1e-14)
    assert causal_weights(L, 1.0).tolist() == pytest.approx(
        [1, math.exp(-0.5), math.exp(-0.5), math.exp(-2.5), math.exp(-2.75)]
    )


def test_the_causal_term_is_the_hand_computation_from_sorted_residuals():
    task = build_task([*AC, "weighting.causal.tol=[3.0]"])
    obj = task.objective
    pts = task.points.at(0)
    X = pts["residual"]
    # the points are not drawn in time order: the sort matters
    assert not torch.all(X[1:, 0] >= X[:-1, 0])
    L = hand_chunks(ac_residual(task.model, X), X[:, 0], M).tolist()
    want = sum(w * li for w, li in zip(hand_weights(L, 3.0), L)) / M
    got = {k: v.detach() for k, v in obj.losses_on(pts).items()}
    assert float(got["residual_u"]) == pytest.approx(want, rel=1e-12)
    # unsorted chunks would give another number (the test can tell)
    unsorted = ac_residual(task.model, X).pow(2).reshape(M, -1).mean(1).tolist()
    assert abs(sum(w * li for w, li in zip(hand_weights(unsorted, 3.0), unsorted)) / M - want) > 1e-6 * want
    # the other conditions keep their mean squares
    init = pts["initial"]
    u0 = task.model(init)[:, 0] - init[:, 1] ** 2 * torch.cos(math.pi * init[:, 1])
    assert float(got["initial_u"]) == pytest.approx(float(u0.detach().pow(2).mean()), rel=1e-12)


def test_two_components_share_the_weights_of_their_summed_chunk_losses():
    """NLS: residual_u and residual_v are each mean_i w_i L_{i,k}, w from L_{i,u} + L_{i,v}."""
    task = build_task([*AC[1:], "equation=nls", "equation.points.residual=64", "weighting.causal.tol=[2.0]"])
    obj = task.objective
    pts = task.points.at(0)
    X = pts["residual"]
    res = obj.conditions["residual"].residual(Derivatives(task.model, X, obj.variables, obj.outputs))
    Lu = hand_chunks(res["u"], X[:, 0], M).tolist()
    Lv = hand_chunks(res["v"], X[:, 0], M).tolist()
    w = hand_weights([a + b for a, b in zip(Lu, Lv)], 2.0)
    got = {k: v.detach() for k, v in obj.losses_on(pts).items()}
    assert float(got["residual_u"]) == pytest.approx(sum(a * b for a, b in zip(w, Lu)) / M, rel=1e-12)
    assert float(got["residual_v"]) == pytest.approx(sum(a * b for a, b in zip(w, Lv)) / M, rel=1e-12)


def test_no_gradient_flows_through_the_weights():
    """tol = 0.05: the weights spread over (0.2, 1], so a gradient through them would show."""
    task = build_task([*AC, "weighting.causal.tol=[0.05]"])
    params = list(task.model.parameters())
    X = task.points.at(0)["residual"]

    def grad(loss):
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params, retain_graph=True)])

    got = grad(task.objective.losses_on({"residual": X})["residual_u"])
    L = hand_chunks(ac_residual(task.model, X), X[:, 0], M)
    w_const = torch.tensor(hand_weights(L.tolist(), 0.05), dtype=L.dtype)  # plain numbers: no graph
    want = grad((w_const * L).sum() / M)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-14)
    # with w differentiated the gradient is another one
    cum = torch.cat([L.new_zeros(1), torch.cumsum(L, 0)[:-1]])
    through = grad((torch.exp(-0.05 * cum) * L).mean())
    assert (through - want).norm() > 1e-3 * want.norm()


def fixed_chunks(causal, chunk_losses):
    """Feed the causal object residuals whose chunk mean squares are ``chunk_losses`` (one point
    per chunk at t = i), as if a step had evaluated them."""
    t = torch.arange(len(chunk_losses), dtype=torch.float64).flip(0)  # reversed: the sort must undo it
    r = torch.tensor(chunk_losses, dtype=torch.float64).sqrt().flip(0)
    causal.terms({"u": r}, torch.stack([t, torch.zeros_like(t)], 1))


def test_the_schedule_moves_on_once_min_w_exceeds_delta_and_stays_at_the_last():
    problem = AllenCahn({"t": [0.0, 1.0], "x": [-1.0, 1.0]}, {})
    cfg = CausalConfig(chunks=4, tol=[1.0, 10.0, 100.0], delta=0.9)
    causal = Causal(cfg, problem, {"residual": 4}, dtype=torch.float64)
    L = [0.002, 0.001, 0.002, 0.5]  # sum before the last chunk: 0.005
    tols, lows = [], []
    for _ in range(4):
        fixed_chunks(causal, L)
        causal.advance()
        log = causal.log_values()
        tols.append(log["causal/tol"])
        lows.append(log["causal/min_weight"])
    # min w = exp(-tol * 0.005): 0.995 > 0.9 (move on), 0.951 > 0.9 (move on), 0.607 (stay)
    assert tols == [1.0, 10.0, 100.0, 100.0]
    assert lows == pytest.approx([math.exp(-0.005), math.exp(-0.05), math.exp(-0.5), math.exp(-0.5)], rel=1e-12)
    assert causal.state_dict() == {"position": 2} and float(causal.tol) == 100.0
    # at the last value: min w > delta does not move it past the end
    fixed_chunks(causal, [0.0, 0.0, 0.0, 0.0])
    assert not bool(causal.advance())
    assert causal.state_dict() == {"position": 2} and causal.log_values()["causal/min_weight"] == 1.0
    # exactly delta does not move on (min w must exceed it)
    again = Causal(CausalConfig(chunks=2, tol=[1.0, 2.0], delta=1.0), problem, {"residual": 2}, dtype=torch.float64)
    fixed_chunks(again, [0.0, 0.0])
    assert not bool(again.advance()) and again.state_dict() == {"position": 0}


#: a run whose schedule moves at steps 1, 2, 3 and 9 (measured: tol 0.03 until step 8)
SCHEDULE = [
    *AC,
    "weighting.causal.tol=[0.001,0.003,0.01,0.03,0.1]",
    "weighting.causal.delta=0.9",
    "optimizer.phases.0.lr=1e-2",
    "trainer.log_every=1",
    "trainer.eval_every=100",
]


def test_a_resumed_run_continues_the_schedule_where_it_stopped(tmp_path):
    whole = run_task([*SCHEDULE, "trainer.max_steps=15"], tmp_path / "whole")
    run_task([*SCHEDULE, "trainer.max_steps=5", "trainer.checkpoint_every=5"], tmp_path / "cut")
    resumed = run_task([*SCHEDULE, "trainer.max_steps=15", "trainer.resume=true"], tmp_path / "cut")
    assert whole["steps"] == resumed["steps"] == 15
    a, b = read_rows(tmp_path / "whole"), read_rows(tmp_path / "cut")
    tols = [float(r["causal/tol"]) for r in a]
    assert len(set(tols[:5])) >= 2 and tols[5] != tols[-1], f"the schedule should move before and after the cut: {tols}"
    assert [r["step"] for r in a] == [r["step"] for r in b]
    for ra, rb in zip(a, b):
        for col in ra:
            if col in ("time_s", "phase") or ra[col] == "":
                continue
            assert float(ra[col]) == pytest.approx(float(rb[col]), rel=1e-12), (ra["step"], col, ra[col], rb[col])
    assert all(0 < float(r["causal/min_weight"]) <= 1 for r in a)


def brute_force_diagonal(model, X):
    """K_pp = ||d r_p / d theta||^2 of the Allen-Cahn residual, one backward pass per point."""
    params = [p for p in model.parameters() if p.requires_grad]
    out = []
    for p in range(len(X)):
        g = torch.autograd.grad(ac_residual(model, X[p : p + 1])[0], params)
        out.append(float(sum(gi.pow(2).sum() for gi in g)))
    return torch.tensor(out, dtype=torch.float64)


def test_the_ntk_weighs_the_residual_diagonal_per_chunk_like_jaxpi():
    task = build_task([*AC, "weighting=ntk", "weighting.points=1000", "weighting.causal.tol=[2.0]"])
    obj = task.objective
    X = task.points.at(0)["residual"]
    # jaxpi's compute_diag_ntk: the diagonal sorted in time, the mean over each chunk times w_i,
    # then (compute_weights) the mean over the chunks
    order = torch.as_tensor(np.argsort(X[:, 0].detach().numpy(), kind="stable"))
    diag = brute_force_diagonal(task.model, X)[order].reshape(M, -1).mean(1)
    L = hand_chunks(ac_residual(task.model, X), X[:, 0], M).detach()
    t_res = float((torch.tensor(hand_weights(L.tolist(), 2.0), dtype=torch.float64) * diag).mean())
    sets = {s.name: s for s in obj.residual_sets(0)}
    res = sets["residual"]
    assert res.weights is not None and sets["initial"].weights is None
    tr = ntk.traces(task.model, res, obj.variables, obj.outputs, chunk=5)  # chunks of 5 cut across the chunks of 8
    assert tr["residual_u"] / len(X) == pytest.approx(t_res, rel=1e-10)
    # the weighting: w_init / w_res = t_res / t_init (every other kernel as without causal training)
    init = sets["initial"]
    t_init = ntk.traces(task.model, init, obj.variables, obj.outputs)["initial_u"] / len(init.points)
    w = task.weighting.compute(0)
    assert w["initial_u"] / w["residual_u"] == pytest.approx(t_res / t_init, rel=1e-10)
    # the same from the kernel's rows (weighting.spectrum=true), and estimated by Hutchinson
    task.weighting.cfg.spectrum = True
    assert task.weighting.compute(0)["residual_u"] == pytest.approx(w["residual_u"], rel=1e-10)
    gen = torch.Generator().manual_seed(0)
    est = ntk.hutchinson_traces(task.model, res, obj.variables, obj.outputs, 400, gen)["residual_u"] / len(X)
    assert est == pytest.approx(t_res, rel=0.1)


def test_gradnorm_differentiates_the_causal_term():
    """Learning-rate annealing (grad_stats=flat) with the causal residual term as its reference."""
    task = build_task(
        [*AC, "weighting=gradnorm", "weighting.alpha=1.0", "weighting.grad_stats=flat", "weighting.causal.tol=[3.0]"]
    )
    params = [p for p in task.model.parameters() if p.requires_grad]
    pts = task.points.at(0)
    X = pts["residual"]
    L = hand_chunks(ac_residual(task.model, X), X[:, 0], M)
    causal = (torch.tensor(hand_weights(L.tolist(), 3.0), dtype=L.dtype) * L).mean()
    init = pts["initial"]
    u0 = task.model(init)[:, 0] - init[:, 1] ** 2 * torch.cos(math.pi * init[:, 1])

    def flat(loss):
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params, retain_graph=True)]).abs()

    want = float(flat(causal).max() / flat(u0.pow(2).mean()).mean())
    assert task.weighting.compute(0)["initial_u"] == pytest.approx(want, rel=1e-9)


BAD = [
    (["weighting.causal.chunks=-1"], ["weighting.causal.chunks"]),
    (["weighting.causal.chunks=4", "weighting.causal.tol=[]"], ["weighting.causal.tol"]),
    (["weighting.causal.chunks=4", "weighting.causal.tol=[1.0,0.0]"], ["weighting.causal.tol"]),
    (["weighting.causal.chunks=4", "weighting.causal.delta=1.5"], ["weighting.causal.delta"]),
    (["weighting.causal.chunks=4", "weighting.causal.delta=0"], ["weighting.causal.delta"]),
    (["weighting.causal.chunks=4", "weighting.causal.condition=nope"], ["weighting.causal.condition", "nope"]),
    (["weighting.causal.chunks=4", "weighting.causal.variable=y"], ["weighting.causal.variable", "'y'"]),
    (["weighting.causal.chunks=7"], ["weighting.causal.chunks=7", "equation.points.residual=64"]),
    (["weighting.causal.chunks=4", "weighting.causal.condition=initial"], ["weighting.causal.variable", "fixed"]),
    (["weighting.causal.chunks=4", "model.periodic=[x]", "weighting.causal.condition=boundary"], ["no points"]),
    (
        ["weighting.causal.chunks=4", "weighting.causal.condition=boundary", "+equation.per_face=[boundary]"],
        ["per_face"],
    ),
]
COMMON = ["equation.points.residual=64", "trainer.max_steps=1", "trainer.progress=false"]


@pytest.mark.parametrize("bad, names", BAD, ids=[" ".join(b[1:] or b) for b, _ in BAD])
def test_bad_causal_settings_raise_one_line_naming_the_key(bad, names):
    """Every rule, in process: validate's (type-free) and the objective's (problem-dependent)."""
    with pytest.raises(ConfigError) as e:
        build_task(
            [*COMMON, "equation=burgers" if "+equation.per_face=[boundary]" in bad else "equation=allen_cahn", *bad]
        )
    msg = str(e.value)
    assert "\n" not in msg and msg.strip()
    for word in names:
        assert word in msg, msg


def test_bad_causal_settings_are_one_line_errors_on_the_command_line(tmp_path):
    """One rule of config.validate and one of the objective's, through the real CLI."""
    cases = [BAD[3], BAD[7]]
    args = [
        [*COMMON, "equation=allen_cahn", *bad, f"hydra.run.dir={tmp_path / str(i)}"] for i, (bad, _) in enumerate(cases)
    ]
    for a, (_, names) in zip(args, cases):
        assert_one_line_error(run_cli(a, cwd=tmp_path), *names)
    assert list(tmp_path.iterdir()) == [], f"wrote {list(tmp_path.iterdir())}"


def test_lbfgs_moves_the_schedule_between_chunks_and_forgets_its_history_there():
    """L-BFGS trains each chunk of iterations on one tol; where it moves on, the curvature pairs
    (of the old objective) are dropped."""
    from pinnrun.optim import _lbfgs_state

    task = build_task(
        [
            *AC,
            "optimizer.phases=[{kind:lbfgs,steps:6}]",
            "weighting.causal.tol=[1e-6,1e-5,1.0]",
            "weighting.causal.delta=0.9",
        ]
    )
    phase = task.phases[0]
    task.start_phase(phase, None)
    seen, step = [], 0
    while step < 6:
        step = task.advance(phase, step, step + 2).step
        seen.append(
            (task.log_values(phase)["causal/tol"], int(task.objective.causal.position), len(_lbfgs_state(task.opt)))
        )
    # min w ~ 1 at tol 1e-6 and 1e-5 (> delta: move on, history cleared); at the last value it stays
    assert [(tol, pos) for tol, pos, _ in seen] == [(1e-6, 1), (1e-5, 2), (1.0, 2)]
    assert seen[0][2] == seen[1][2] == 0 and seen[2][2] > 0
