"""Loss weighting: the NTK traces and kernels against a brute-force Jacobian, the weights
against their formulas at an update step, the schemes in real runs, and the weights of each phase
(L-BFGS leaves the regularizers out) with a scheme that writes no file."""

from __future__ import annotations

import csv
import json

import h5py
import numpy as np
import pytest
import torch

from pinnrun import ntk
from pinnrun.derivatives import Derivatives
from pinnrun.training import PinnTask

from helpers import assert_one_line_error, build_task, read_rows, run_cli, run_task

TINY = ["model.width=6", "model.depth=2", "trainer.dtype=float64", "trainer.device=cpu", "trainer.progress=false"]


def task(overrides) -> PinnTask:
    return build_task([*TINY, *overrides])


def brute_jacobian(t: PinnTask, group: ntk.ResidualSet) -> dict[str, torch.Tensor]:
    """J of each component, row by row: one autograd.grad of one point's residual per row,
    through the batched derivative engine (not torch.func)."""
    params = [p for p in t.model.parameters()]
    res = group.residual(Derivatives(t.model, group.points, t.problem.variables, t.problem.outputs))
    out = {}
    for c in group.components:
        rows = []
        for p in range(len(group.points)):
            g = torch.autograd.grad(res[c][p], params, retain_graph=True, allow_unused=True)
            rows.append(
                torch.cat([(torch.zeros_like(q) if gi is None else gi).reshape(-1) for gi, q in zip(g, params)])
            )
        out[group.term(c)] = torch.stack(rows)
    return out


# equations covering 2nd and 4th derivatives, a periodic condition, several outputs and components,
# and data terms of an inverse problem
CASES = {
    "wave": ["equation=wave", "equation.points.initial=7", "equation.points.boundary=6", "equation.points.residual=9"],
    "beam": ["equation=beam", "equation.points.initial=5", "equation.points.boundary=6", "equation.points.residual=8"],
    "nls": ["equation=nls", "equation.points.initial=5", "equation.points.boundary=6", "equation.points.residual=7"],
    "kovasznay": ["equation=kovasznay", "equation.points.boundary=8", "equation.points.residual=6"],
    "burgers_inverse": [
        "experiment=raissi_burgers_inverse",
        *TINY,
        "equation.points.residual=9",
        "equation.observations.count=9",
    ],
    # the other networks: MscaleDNN sub-networks with sin, and adaptive (per-neuron) activations
    "wave_mscale_adaptive": [
        "equation=wave",
        "model=mscale",
        "model.structure=subnets",
        "model.activation=sin",
        "model.width=8",
        "model.n_scales=2",
        "model.adaptive=neuron",
        "equation.points.initial=4",
        "equation.points.boundary=5",
        "equation.points.residual=6",
    ],
}


@pytest.mark.parametrize("case", CASES)
def test_ntk_traces_and_kernels_equal_brute_force_jacobian(tmp_path, case):
    t = task(CASES[case])
    groups = t.objective.residual_sets(0)
    assert {g.term(c) for g in groups for c in g.components} == set(t.objective.terms) - {"slope_recovery"}
    for group in groups:
        brute = brute_jacobian(t, group)
        traces = ntk.traces(t.model, group, t.problem.variables, t.problem.outputs, chunk=4)
        kernels = ntk.kernel(t.model, group, t.problem.variables, t.problem.outputs, chunk=3)
        for term, J in brute.items():
            K = J @ J.T
            assert float(K.trace()) > 1e-8, f"{term}: vanishing kernel, the comparison would be empty"
            assert traces[term] == pytest.approx(float(K.trace()), rel=1e-12), term
            torch.testing.assert_close(kernels[term], K, rtol=1e-11, atol=1e-13 * float(K.abs().max()))


def test_hutchinson_estimate_is_close_to_the_exact_trace(tmp_path):
    """The mean of N Rademacher probes v^T K v is unbiased with variance 2 (||K||_F^2 - sum K_ii^2) / N:
    the estimate lies within 4 standard deviations of the exact trace, and that band is narrower
    than a quarter of the trace (a wrong scaling or a lost term would fall outside it)."""
    t = task(CASES["wave"])
    gen = torch.Generator().manual_seed(0)
    n = 500
    for group in t.objective.residual_sets(0):
        exact = ntk.traces(t.model, group, t.problem.variables, t.problem.outputs)
        kernels = ntk.kernel(t.model, group, t.problem.variables, t.problem.outputs)
        est = ntk.hutchinson_traces(t.model, group, t.problem.variables, t.problem.outputs, n, gen)
        for term, K in kernels.items():
            sd = float(2 * (K.pow(2).sum() - K.diagonal().pow(2).sum()) / n) ** 0.5
            assert 4 * sd < 0.25 * exact[term], (term, sd, exact[term])
            assert abs(est[term] - exact[term]) < 4 * sd, (term, est[term], exact[term], sd)


def mean_diagonals(t: PinnTask, step: int, subsample) -> dict[str, float]:
    out = {}
    for group in t.objective.residual_sets(step):
        g = subsample(group, step)
        for term, J in brute_jacobian(t, g).items():
            out[term] = float((J * J).sum()) / len(g.points)
    return out


def test_ntk_points_zero_takes_every_point_of_each_term():
    """weighting.points=0 (the jaxpi presets): the traces on all of a step's points, as jaxpi's
    compute_diag_ntk over the batch; the same weights as a subsample larger than every term."""
    args = [*CASES["wave"], "equation.points.residual=40", "weighting=ntk"]
    every, large = task([*args, "weighting.points=0"]), task([*args, "weighting.points=100000"])
    for group in every.objective.residual_sets(0):
        assert len(every.weighting.subsample(group, 0).points) == len(group.points) > 0
    assert every.weighting.compute(0) == large.weighting.compute(0)
    small = task([*args, "weighting.points=8"])
    assert small.weighting.compute(0) != every.weighting.compute(0)
    assert_one_line_error(run_cli([*TINY, "weighting=ntk", "weighting.points=-1"]), "weighting.points must be >= 0")


@pytest.mark.parametrize("alpha", [1.0, 0.25])
def test_ntk_weights_are_the_trace_ratio_at_an_update_step(tmp_path, alpha):
    """After a real run, the update at the next step gives sum_j t_j / t_i (t: mean kernel
    diagonal on the scheme's subsample), blended with the old weights by alpha."""
    t = task(
        [
            *CASES["wave"],
            "equation.points.residual=20",
            "weighting=ntk",
            "weighting.update_every=3",
            "weighting.points=8",
            f"weighting.alpha={alpha}",
            "optimizer=adam",
            "optimizer.phases.0.steps=5",
            "trainer.log_every=1",
        ]
    )
    run_task(t, tmp_path / "run")
    before = dict(t.weighting.weights)
    assert len(set(before.values())) == len(before), "weights after the run are not distinct"
    assert t.weighting.update(5) is False  # not an update step
    assert t.weighting.weights == before
    assert t.weighting.update(6) is True
    tr = mean_diagonals(t, 6, t.weighting.subsample)
    assert len(t.weighting.subsample(t.objective.residual_sets(6)[-1], 6).points) == 8  # residual: 8 of its 20 points
    total = sum(tr.values())
    for term, w in t.weighting.weights.items():
        assert w == pytest.approx((1 - alpha) * before[term] + alpha * total / tr[term], rel=1e-10), term
    # the metrics log the weights the steps used: updated at steps 0 and 3
    with open(tmp_path / "run" / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    w = [float(r["weight/residual_u"]) for r in rows]  # rows after steps 1..5
    assert w[0] == w[1] == w[2] and w[3] == w[4] and w[2] != w[3]


def gradnorm_update(tmp_path, *overrides, scheme="gradnorm"):
    """A 3-step gradnorm (or ``scheme``) run on the wave problem (weights every 2 steps, alpha 0.3),
    then one more update at step 4: (the task, the weights before it, the loss terms at step 4)."""
    t = task(
        [
            *CASES["wave"],
            f"weighting={scheme}",
            "weighting.update_every=2",
            "weighting.alpha=0.3",
            *overrides,
            "optimizer=adam",
            "optimizer.phases.0.steps=3",
        ]
    )
    run_task(t, tmp_path / "run")
    before = dict(t.weighting.weights)
    assert t.weighting.update(4)
    return t, before, t.objective.losses(4)


@pytest.mark.parametrize("stats", ["layers", "flat"])
def test_gradnorm_weights_follow_the_annealing_formula(tmp_path, stats):
    """layers: as the authors' code (GradientPathologiesPINNs, Helmholtz2D_model_tf.py) computes
    it: gradients w.r.t. the weight matrices only (tf.gradients(loss, self.weights[i])),
    max_grad_res = reduce_max of the per-layer reduce_max |.|, mean_grad_bcs = reduce_mean of
    the per-layer reduce_mean |.|. flat: eq. 40 as printed, over every network parameter."""
    t, before, losses = gradnorm_update(tmp_path, f"weighting.grad_stats={stats}", "+weighting.weights.boundary_u=2.0")
    weights = [m.weight for m in t.model.modules() if isinstance(m, torch.nn.Linear)]
    everything = list(t.model.parameters())
    assert len(weights) == 3 and len(everything) == 6  # 2 hidden layers and the output: W and b each

    def grads(loss, params):  # (a bias does not reach u_t: zero)
        g = [torch.autograd.grad(loss, p, retain_graph=True, allow_unused=True)[0] for p in params]
        return [torch.zeros_like(p) if gi is None else gi.abs() for gi, p in zip(g, params)]

    def top_and_mean(term):
        res = grads(before["residual_u"] * losses["residual_u"], weights if stats == "layers" else everything)
        other = grads(before[term] * losses[term], weights if stats == "layers" else everything)
        if stats == "layers":
            return max(float(g.max()) for g in res), sum(float(g.mean()) for g in other) / len(other)
        n = sum(p.numel() for p in everything)
        return max(float(g.max()) for g in res), sum(float(g.sum()) for g in other) / n

    assert t.weighting.weights["residual_u"] == before["residual_u"] == 1.0  # the reference is fixed
    for term in ("initial_u", "initial_u_t", "boundary_u"):
        top, mean = top_and_mean(term)
        assert t.weighting.weights[term] == pytest.approx(0.7 * before[term] + 0.3 * top / mean, rel=1e-10)
        assert t.weighting.weights[term] != pytest.approx(before[term], rel=1e-3)


def test_gradnorm_mean_is_the_expert_guides_formula(tmp_path):
    """weighting=gradnorm_mean, as jaxpi's compute_weights ("grad_norm") computes it: every term, the
    residual's too, w_k = mean_j |grad L_j| / |grad L_k| with the unweighted terms and |.| the L2
    norm of the gradient over every parameter (a factorised network here: s and V)."""
    t, before, losses = gradnorm_update(tmp_path, "model.factorize=true", scheme="gradnorm_mean")
    params = list(t.model.parameters())

    def norm(loss):
        g = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        return float(torch.sqrt(sum((gi**2).sum() for gi in g if gi is not None)))

    norms = {k: norm(v) for k, v in losses.items()}
    mean = sum(norms.values()) / len(norms)
    assert len(norms) == 4
    for term, n in norms.items():
        assert t.weighting.weights[term] == pytest.approx(0.7 * before[term] + 0.3 * mean / n, rel=1e-8), term
    assert t.weighting.weights["residual_u"] != pytest.approx(1.0, rel=1e-3)  # no fixed reference


def test_grad_stats_norm_of_earlier_versions_names_the_scheme_it_became(tmp_path):
    proc = run_cli(["weighting=gradnorm", "weighting.grad_stats=norm", f"hydra.run.dir={tmp_path / 'r'}"])
    assert_one_line_error(proc, "weighting.grad_stats=norm", "weighting=gradnorm_mean", "CHANGELOG.md")
    assert not (tmp_path / "r").exists()


def test_adaptive_weights_in_cli_runs_with_every_model_and_phase(tmp_path):
    """ntk (mscale, Adam then L-BFGS, weights frozen in L-BFGS, spectrum) and gradnorm (mlp,
    Hutchinson-free), whole runs; weights logged, plots drawn."""
    common = [
        "equation=wave",
        "model.width=12",
        "model.depth=2",
        "equation.points.residual=100",
        "optimizer=adam_lbfgs",
        "optimizer.phases.0.steps=60",
        "optimizer.phases.1.steps=40",
        "trainer.log_every=10",
        "trainer.progress=false",
        "trainer.device=cpu",
        "trainer.plots=true",
    ]
    ntk_dir, gn_dir = tmp_path / "ntk", tmp_path / "gn"
    run_task(
        [
            *common,
            "model=mscale",
            "weighting=ntk",
            "weighting.update_every=20",
            "weighting.spectrum=true",
            "weighting.points=50",
        ],
        ntk_dir,
    )
    run_task([*common, "weighting=gradnorm"], gn_dir)
    for d in (ntk_dir, gn_dir):
        rows = read_rows(d)
        adam = [float(r["weight/boundary_u"]) for r in rows if r["phase"] == "adam"]
        lbfgs = [float(r["weight/boundary_u"]) for r in rows if r["phase"] == "lbfgs"]
        assert len(set(adam)) > 2 and lbfgs, (d, adam, lbfgs)
        assert set(lbfgs) == {adam[-1]}, f"{d}: weights changed during L-BFGS: {lbfgs}"
        assert (d / "plots" / "weights.png").stat().st_size > 10_000
        assert json.loads((d / "summary.json").read_text())["status"] == "completed"
    with h5py.File(ntk_dir / "ntk.h5", "r") as f:
        assert sorted(f) == ["boundary_u", "initial_u", "initial_u_t", "residual_u"]
        for term in f:
            np.testing.assert_array_equal(f[term]["steps"][()], [0, 20, 40])
            eig = f[term]["eigenvalues"][()]
            n = 50 if term != "residual_u" else 50
            assert eig.shape == (3, n)
            assert (np.diff(eig, axis=1) <= 1e-12 * eig.max()).all(), "eigenvalues not descending"
            assert eig.min() > -1e-6 * eig.max(), "a kernel J J^T must be positive semidefinite"
    assert (ntk_dir / "plots" / "ntk_spectrum.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "override, message",
    [
        ("weighting.alpha=0", "weighting.alpha must be in (0, 1]"),
        ("weighting.update_every=0", "weighting.update_every must be a positive number"),
        ("weighting.trace=exactly", "weighting.trace"),
        ("+weighting.weights.nonsense=2", "unknown loss term ['nonsense']"),
    ],
)
def test_bad_weighting_settings_get_one_line(tmp_path, override, message):
    assert_one_line_error(run_cli(["weighting=ntk", override, f"hydra.run.dir={tmp_path / 'r'}"]), message)
    assert not (tmp_path / "r").exists()


def test_adaptive_activations_train_log_their_slopes_and_keep_the_recovery_weight(tmp_path):
    """model.adaptive=neuron with NTK weights: slopes trained, logged, checkpointed; the
    slope-recovery term is logged as a loss term and keeps weight 1."""
    run = tmp_path / "run"
    run_task(
        [
            "equation=wave",
            "model.width=12",
            "model.depth=2",
            "model.adaptive=neuron",
            "equation.points.residual=100",
            "optimizer=adam",
            "optimizer.phases.0.steps=60",
            "optimizer.phases.0.lr=1e-2",
            "weighting=ntk",
            "weighting.update_every=20",
            "trainer.log_every=20",
            "trainer.progress=false",
            "trainer.device=cpu",
        ],
        run,
    )
    rows = read_rows(run)
    assert [r["step"] for r in rows] == ["20", "40", "60"]
    for r in rows:
        assert float(r["weight/slope_recovery"]) == 1.0
    slopes = [[float(r[f"slope/{i}"]) for r in rows] for i in range(2)]
    assert all(abs(s[-1] - 1.0) > 1e-3 for s in slopes), slopes  # n * mean(a) moved from 1
    ck = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    keys = [k for k in ck["model"] if k.endswith("slope")]
    assert len(keys) == 2 and all(ck["model"][k].shape == (12,) for k in keys)
    assert float(ck["model"][keys[0]].mean()) * 10 == pytest.approx(slopes[0][-1], rel=1e-5)
    # the logged term is S(a) = 1 / mean_k exp(mean a_k) of the slopes the last step used
    s = 1 / np.mean([np.exp(float(ck["model"][k].mean())) for k in keys])
    assert float(rows[-1]["loss/slope_recovery"]) == pytest.approx(s, rel=1e-2)


def test_lbfgs_phases_leave_out_the_slope_recovery_term(tmp_path):
    """S(a) has no minimum: an L-BFGS line search would follow it to runaway slopes. Adam phases
    train with it (weight 1), L-BFGS phases without (weight 0, logged), and the slopes stay put."""
    run = tmp_path / "run"
    run_task(
        [
            "equation=nls_rogue",
            "model.width=24",
            "model.depth=2",
            "model.adaptive=neuron",
            "equation.points.residual=400",
            "optimizer.phases.0.steps=100",
            "optimizer.phases.1.steps=150",
            "trainer.log_every=25",
            "trainer.eval_every=50",
            "trainer.progress=false",
        ],
        run,
    )
    rows = read_rows(run)
    terms = [k[len("loss/") :] for k in rows[0] if k.startswith("loss/")]
    assert "slope_recovery" in terms
    for r in rows:
        w = 1.0 if r["phase"] == "adam" else 0.0
        assert float(r["weight/slope_recovery"]) == w, r["step"]
        total = sum(float(r[f"weight/{t}"]) * float(r[f"loss/{t}"]) for t in terms)
        assert float(r["loss"]) == pytest.approx(total, rel=1e-4)
    adam_end = next(r for r in rows if r["step"] == "100")
    end = rows[-1]
    assert end["phase"] == "lbfgs" and end["step"] == "250"
    for i in range(2):  # with S(a) in the L-BFGS objective they went from 1.1 to 7.2 here
        assert abs(float(end[f"slope/{i}"]) - float(adam_end[f"slope/{i}"])) < 0.5


def test_weighting_leaves_regularizers_out_of_lbfgs_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    task = build_task(
        [
            "equation=wave",
            "model.width=6",
            "model.depth=2",
            "model.adaptive=neuron",
            "equation.points.residual=30",
            "equation.points.initial=10",
            "equation.points.boundary=10",
            "weighting=ntk",
            "weighting.spectrum=true",
            "weighting.points=10",
            "trainer.device=cpu",
        ]
    )
    adam, lbfgs = task.phases
    assert task.weighting.update(0) and task.weighting.weights["slope_recovery"] == 1.0
    assert task.weighting.weights_for(adam)["slope_recovery"] == 1.0
    assert task.weighting.weights_for(lbfgs)["slope_recovery"] == 0.0
    assert task.weighting.weights_for(lbfgs)["residual_u"] == task.weighting.weights["residual_u"] != 1.0
    spectra = task.weighting.take_diagnostics()
    assert [s for s, _ in spectra] == [0] and set(spectra[0][1]) == {
        "initial_u",
        "initial_u_t",
        "boundary_u",
        "residual_u",
    }
    assert task.weighting.take_diagnostics() == []
    assert list(tmp_path.iterdir()) == []  # the scheme wrote no file


def test_unknown_adaptive_kind_gets_one_line(tmp_path):
    assert_one_line_error(run_cli(["model.adaptive=cell", f"hydra.run.dir={tmp_path / 'r'}"]), "model.adaptive")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("after", [False, True])
def test_weights_change_before_the_step_or_after_it_on_its_points(after):
    """weighting.update_after_step=false: step 0 already trains with the weights recomputed on the
    parameters before it (Algorithm 1 as printed). true (the authors' codes): step 0 trains with the
    starting weights; after its optimizer step the weights are recomputed on the parameters it left
    and on its own points (not the next step's), and step 1 trains with them."""
    t = task(
        [
            *CASES["wave"],
            "weighting=gradnorm",
            "weighting.update_every=2",
            "weighting.alpha=0.3",
            f"weighting.update_after_step={str(after).lower()}",
            "sampler=uniform",
            "sampler.resample_every=1",  # every step its own points
            "optimizer=adam",
            "optimizer.phases.0.steps=4",
        ]
    )
    phase = t.phases[0]
    t.start_phase(phase, None)
    start = dict(t.weighting.weights)
    first = t.advance(phase, 0, 1)
    used = start if after else t.weighting.weights  # the weights step 0 trained with
    assert first.loss == pytest.approx(sum(used[g] * first.terms[g] for g in first.terms), rel=1e-10)
    assert (first.loss == pytest.approx(sum(first.terms.values()), rel=1e-6)) is after  # start: all 1
    w1 = dict(t.weighting.weights)
    if after:  # w_hat again, from the starting weights (gradnorm's w_hat depends on w): now, the
        t.weighting.weights = dict(start)  # parameters after step 0, and step 0's points
        new, next_points = t.weighting.compute(0), t.weighting.compute(1)
        t.weighting.weights = dict(w1)
        assert w1["boundary_u"] == pytest.approx(0.7 * start["boundary_u"] + 0.3 * new["boundary_u"], rel=1e-10)
        assert new["boundary_u"] != pytest.approx(next_points["boundary_u"], rel=1e-3)  # not step 1's points
    second = t.advance(phase, 1, 2)  # no update at step 1 in either order
    assert t.weighting.weights == w1
    assert second.loss == pytest.approx(sum(w1[g] * second.terms[g] for g in second.terms), rel=1e-10)
