"""Residual-based adaptive distribution, RAD (Wu, Zhu, Tan, Kartha & Lu 2023, CMAME 403, 115671).

At resampling round r >= 1 the points of a RAD condition are chosen among fresh candidates with
probability p(x) ~ |r(x)|^k / mean |r|^k + c (pinnrun/sampling.py); round 0 is a plain draw.
Checked here: the drawn density against that formula integrated in closed form (chi-square), the
seeding, the residual norm the task scores candidates with against the training loss's own
residuals, a capped-and-resumed RAD run against the uninterrupted one, and the one-line errors.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from scipy import stats

from pinnrun.config import ConfigError, EquationConfig, RadConfig, SamplerMethod
from pinnrun.problems import Condition, Problem, build
from pinnrun.sampling import PointSets

from helpers import assert_one_line_error, build_task, explain, read_rows, run_cli


class Line(Problem):
    """u on x in [-1, 1] with one condition; the tests give its residual's norm themselves."""

    variables = ("x",)
    outputs = ("u",)
    fields = ("u",)

    def conditions(self):
        return {"residual": Condition(("u",), lambda d: {"u": d["u"]})}


def line_points(n, candidates, k, c, seed=0):
    return PointSets(
        Line({"x": [-1.0, 1.0]}),
        {"residual": n},
        SamplerMethod.uniform,
        {},
        1,
        seed,
        torch.device("cpu"),
        torch.float64,
        rad=RadConfig(conditions=["residual"], candidates=candidates, k=k, c=c),
    )


def bin_probabilities(edges: np.ndarray, k: float, c: float) -> np.ndarray:
    """The RAD density of |r| = |x| on [-1, 1], integrated over each bin in closed form:
    q(x) = (|x|^k / E|x|^k + c) / (2 (1 + c)), E|x|^k = 1 / (k + 1) under the uniform candidates,
    and the integral of |x|^k from a to b is G(b) - G(a), G(x) = sign(x) |x|^(k+1) / (k + 1)."""

    def antiderivative(x):
        return (k + 1) * np.sign(x) * np.abs(x) ** (k + 1) / (k + 1) + c * x  # (k+1) G(x) + c x

    return np.diff(antiderivative(edges)) / (2 * (1 + c))


@pytest.mark.parametrize(("k", "c"), [(1.0, 1.0), (2.0, 0.5), (0.0, 1.0)])
def test_drawn_density_is_the_residual_formula(k, c):
    """100 rounds of 200 points from 20000 candidates, scored |r| = |x|: the histogram of the
    20000 draws against the closed-form bin probabilities (chi-square), and, where k > 0, not
    against the uniform density (the test sees the difference)."""
    s = line_points(200, 20000, k, c)
    s.scorer = lambda cond, x: x[:, 0].abs()
    draws = np.concatenate([s.draw_rad("residual", r)[:, 0].numpy() for r in range(1, 101)])
    edges = np.linspace(-1, 1, 21)
    counts, _ = np.histogram(draws, edges)
    expected = bin_probabilities(edges, k, c)
    assert math.isclose(expected.sum(), 1.0)
    p = stats.chisquare(counts, expected * len(draws)).pvalue
    assert p > 1e-3, (p, counts, np.round(expected * len(draws)))
    if k > 0:
        uniform = stats.chisquare(counts, np.full(20, len(draws) / 20)).pvalue
        assert uniform < 1e-6, uniform


def test_norm_over_components_and_zero_residual():
    """Two residual components: the score is their Euclidean norm; a network with no residual
    anywhere (mean 0) draws uniformly instead of dividing by zero."""
    s = line_points(200, 20000, 1.0, 1.0)
    seen = {}

    def scorer(cond, x):  # |r| = sqrt(x^2 + x^2) = sqrt(2) |x|: same density as |x|
        seen["n"] = len(x)
        return torch.stack([x[:, 0], x[:, 0]]).pow(2).sum(0).sqrt()

    s.scorer = scorer
    draws = np.concatenate([s.draw_rad("residual", r)[:, 0].numpy() for r in range(1, 51)])
    assert seen["n"] == 20000
    edges = np.linspace(-1, 1, 11)
    counts, _ = np.histogram(draws, edges)
    assert stats.chisquare(counts, bin_probabilities(edges, 1.0, 1.0) * len(draws)).pvalue > 1e-3
    s.scorer = lambda cond, x: torch.zeros(len(x), dtype=x.dtype)
    zero = np.concatenate([s.draw_rad("residual", r)[:, 0].numpy() for r in range(1, 51)])
    counts, _ = np.histogram(zero, edges)
    assert stats.chisquare(counts).pvalue > 1e-3  # uniform


def burgers_points(seed=0, rad=True):
    p = build(EquationConfig(name="burgers", domain={"t": [0.0, 1.0], "x": [-1.0, 1.0]}, points={}))
    counts = {"initial": 30, "boundary": 20, "initial_boundary": 0, "residual": 300}
    cfg = RadConfig(conditions=["residual"], candidates=3000) if rad else None
    s = PointSets(p, counts, SamplerMethod.lhs, {}, 10, seed, torch.device("cpu"), torch.float64, rad=cfg)
    calls = []

    def scorer(cond, x):  # a fixed |r| with a peak at x = 0 (Burgers' shock)
        calls.append((cond, x.clone()))
        return 1.0 / (0.05 + x[:, 1].abs())

    s.scorer = scorer
    return s, calls


def test_rad_rounds_are_seeded_and_round_zero_is_a_plain_draw():
    a, calls = burgers_points()
    b, _ = burgers_points()
    other, _ = burgers_points(seed=1)
    plain, _ = burgers_points(rad=False)
    rounds = {}
    for step in (0, 10, 20):
        pa = {c: v.clone() for c, v in a.at(step).items()}
        pb, po, pp = b.at(step), other.at(step), plain.at(step)
        for c in pa:
            assert torch.equal(pa[c], pb[c]), (step, c)  # same seed: same points
            assert not torch.equal(pa[c], po[c]), (step, c)  # another seed: others
            if c != "residual" or step == 0:  # round 0, and the other conditions, are plain draws
                assert torch.equal(pa[c], pp[c]), (step, c)
        rounds[step] = pa["residual"]
    assert not torch.equal(rounds[0], rounds[10]) and not torch.equal(rounds[10], rounds[20])
    assert not torch.equal(rounds[10], plain.at(10)["residual"])
    # the scorer is asked once per RAD round (never at round 0), on 3000 fresh candidates each time,
    # and the points are 300 distinct ones of them, concentrated near the shock
    assert [c for c, _ in calls] == ["residual", "residual"]
    for (_, cand), step in zip(calls, (10, 20)):
        assert cand.shape == (3000, 2)
        pts = rounds[step]
        assert pts.shape == (300, 2) and len(torch.unique(pts, dim=0)) == 300
        assert torch.isin(pts[:, 1], cand[:, 1]).all()
        near = lambda x: (x.abs() < 0.1).double().mean().item()  # noqa: E731
        assert near(pts[:, 1]) > 2 * near(cand[:, 1])
    assert not torch.equal(calls[0][1], calls[1][1])


def test_checkpointed_points_restore_the_round():
    a, _ = burgers_points()
    before = {c: v.clone() for c, v in a.at(15).items()}
    state = a.state_dict()
    assert state["round"] == 1 and set(state["rad"]) == {"residual"}
    b, calls = burgers_points()
    b.scorer = None  # restoring needs no scorer: the RAD points come from the checkpoint
    b.load_state_dict(state)
    for c, v in b.at(19).items():
        assert torch.equal(v, before[c]), c
    assert calls == []
    with pytest.raises(ConfigError, match="no RAD points"):
        burgers_points()[0].load_state_dict({"round": 1, "rad": {}})


@pytest.mark.parametrize("compile_", ["false", "true"])
def test_task_scores_candidates_by_the_training_residual(compile_):
    """The task's scorer (reverse mode, or Taylor mode under no_grad with trainer.compile=true)
    equals |r| from the training loss's own terms at single points (NLS: two components, u and v),
    for any batch size, and leaves no graph or gradient behind."""
    args = ["equation=nls", "model.width=16", "model.depth=2", "trainer.dtype=float64", "trainer.device=cpu"]
    task = build_task([*args, "trainer.compile=false"])
    scorer = build_task([*args, f"trainer.compile={compile_}", "sampler=rad"])
    assert scorer.points.scorer is not None
    x = task.points.draw("residual", 0)[:9]
    got = scorer.objective.residual_norms("residual", x)
    assert not got.requires_grad
    torch.testing.assert_close(scorer.objective.residual_norms("residual", x, batch=4), got, rtol=1e-12, atol=0)
    assert all(p.grad is None for p in scorer.model.parameters())
    want = []
    for i in range(len(x)):
        terms = task.objective.losses_on({"residual": x[i : i + 1]})
        want.append(math.sqrt(terms["residual_u"].item() + terms["residual_v"].item()))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)
    assert min(want) > 0


# -- a run: resumed from a capped run's checkpoint, it ends as the uninterrupted run ---------------

ADAM, LBFGS = 40, 60
RUN = [
    "equation=burgers",
    "sampler=rad",
    "sampler.resample_every=25",
    "sampler.rad.candidates=2000",
    "equation.points.residual=200",
    "equation.points.initial=20",
    "equation.points.boundary=20",
    "model.width=16",
    "model.depth=2",
    "optimizer=adam_lbfgs",
    f"optimizer.phases.0.steps={ADAM}",
    f"optimizer.phases.1.steps={LBFGS}",
    "trainer.dtype=float64",
    "trainer.device=cpu",
    "trainer.log_every=5",
    "trainer.eval_every=10",
    "trainer.checkpoint_every=10",
    "trainer.progress=false",
]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("rad") / "A"
    proc = run_cli([*RUN, f"hydra.run.dir={run_dir}"])
    assert proc.returncode == 0, explain(proc)
    return run_dir


@pytest.mark.parametrize("cap", [30, 60])  # inside RAD round 1 (Adam), round 2 (L-BFGS); eval steps
def test_resumed_rad_run_equals_uninterrupted(uninterrupted, tmp_path, cap):
    run_b = tmp_path / "B"
    first = run_cli([*RUN, f"trainer.max_steps={cap}", f"hydra.run.dir={run_b}"])
    assert first.returncode == 0, explain(first)
    ck = torch.load(run_b / "checkpoints" / "last.pt", weights_only=True)
    assert ck["step"] == cap and ck["sampler"]["round"] == cap // 25 >= 1
    assert ck["sampler"]["rad"]["residual"].shape == (200, 2)
    more = run_cli([*RUN, "trainer.resume=true", f"hydra.run.dir={run_b}"])
    assert more.returncode == 0, explain(more)
    assert f"resuming at step {cap}" in more.stdout + more.stderr
    rows_a, rows_b = read_rows(uninterrupted), read_rows(run_b)
    assert [r["step"] for r in rows_b] == [r["step"] for r in rows_a]
    for ra, rb in zip(rows_a, rows_b):
        for col in ra:
            if col in ("time_s", "phase") or ra[col] == "":
                assert col == "time_s" or ra[col] == rb[col], (ra["step"], col)
                continue
            assert math.isclose(float(ra[col]), float(rb[col]), rel_tol=1e-12, abs_tol=0.0), (
                f"step {ra['step']} {col}: uninterrupted {ra[col]} != resumed {rb[col]}"
            )
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (uninterrupted, run_b))
    assert sa["status"] == sb["status"] == "completed" and sa["steps"] == sb["steps"]
    for k, v in sa["final"].items():
        assert math.isclose(sb["final"][k], v, rel_tol=1e-12, abs_tol=0.0), (k, v, sb["final"][k])


# -- bad settings: one line naming the key ---------------------------------------------------------

BAD = [
    (["sampler.rad.conditions=[residual,nope]"], ["sampler.rad.conditions", "nope"]),
    (["sampler.rad.candidates=1000"], ["sampler.rad.candidates", "2000"]),
    (["sampler.rad.k=-1"], ["sampler.rad.k"]),
    (["sampler.rad.c=-0.5"], ["sampler.rad.c"]),
    (["sampler.resample_every=0"], ["sampler.resample_every", "sampler.rad.conditions"]),
    (["equation.per_face=[boundary]", "sampler.rad.conditions=[boundary]"], ["sampler.rad.conditions", "per_face"]),
]


def test_bad_rad_settings_are_one_line_errors(tmp_path):
    for i, (args, names) in enumerate(BAD):
        proc = run_cli(["equation=burgers", "sampler=rad", *args, f"hydra.run.dir={tmp_path / str(i)}"])
        assert_one_line_error(proc, *names)
    assert not any((tmp_path / str(i)).exists() for i in range(len(BAD)))
