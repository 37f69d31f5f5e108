"""Hard constraints (model.hard_constraints): u = A + B N satisfies the equation's declared
conditions for every network N, the compiled step's Taylor mode through the wrapper equals
reverse mode, and a run leaves the satisfied conditions out of its loss.

The conditions are checked with the equations' own residual functions on the sampler's points
(float64), so "satisfied" means exactly what the loss would have measured; the bare network
must fail them, else the check could not fail.
"""

from __future__ import annotations

import math

import h5py
import numpy as np
import pytest
import torch
from test_problems_equations import problem

from pinnrun import problems
from pinnrun.config import ConfigError, ModelConfig, ModelKind, SamplerMethod
from pinnrun.derivatives import Derivatives, Jet, JetDerivatives, Recorder, closure
from pinnrun.models import build_model, weight_layers
from pinnrun.models.constrained import HardConstrained
from pinnrun.models.taylor import propagate
from pinnrun.network import exact_conditions
from pinnrun.problems import term_name
from pinnrun.sampling import PointSets

from helpers import assert_one_line_error, build_task, read_rows, run_cli, run_task

CONSTRAINED = {
    "advection": {"initial"},
    "allen_cahn": {"initial"},
    "burgers": {"initial", "boundary", "initial_boundary"},
    "burgers1d": {"initial", "boundary", "initial_boundary"},  # burgers against PINNacle's reference
    "helmholtz": {"boundary"},
    "poisson_holes": {"outer", "holes"},  # on a geometry: Problem.dirichlet and the geometry's distance functions
}


def wrapped(p, cfg=None, seed=0):
    """A random float64 network for ``p`` and the same network inside the hard-constraint wrapper."""
    torch.manual_seed(seed)
    cfg = cfg or ModelConfig(width=24, depth=3)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the domain bounds in float64 from the start
    try:
        net = build_model(cfg, p.lower, p.upper, len(p.outputs), p.variables)
    finally:
        torch.set_default_dtype(default)
    return net, HardConstrained(net, *p.hard_constraint().functions(p.variables, p.outputs))


def worst_residuals(p, net, conditions, n=500):
    """max |residual| of each component of the named conditions at n sampled points (LHS, float64)."""
    counts = {c: n if c in conditions else 0 for c in p.conditions()}
    pts = PointSets(p, counts, SamplerMethod.lhs, {}, 0, 1, torch.device("cpu"), torch.float64).at(0)
    out = {}
    for c in conditions:
        space = p.space if p.conditions()[c].on else ()  # boundary points on a geometry carry normals
        res = p.conditions()[c].residual(Derivatives(net, pts[c], p.variables, p.outputs, space))
        out.update({term_name(c, k): float(r.detach().abs().max()) for k, r in res.items()})
    return out


def test_the_equations_that_declare_a_transform_and_what_it_satisfies():
    declared = {n for n in problems.available() if problem(n)[0].hard_constraint() is not None}
    assert declared == set(CONSTRAINED)
    for name, conds in CONSTRAINED.items():
        p = problem(name)[0]
        assert set(p.hard_constraint().satisfies) == conds
        assert exact_conditions(p, ModelConfig(hard_constraints=True)) == dict.fromkeys(
            conds, "model.hard_constraints=true"
        )
        assert exact_conditions(p, ModelConfig()) == {}


@pytest.mark.parametrize("name", sorted(CONSTRAINED))
def test_the_constrained_output_satisfies_each_dropped_condition(name):
    p = problem(name)[0]
    conds = sorted(CONSTRAINED[name])
    net, model = wrapped(p)
    held = worst_residuals(p, model, conds)
    assert max(held.values()) < 1e-13, held
    bare = worst_residuals(p, net, conds)
    assert min(bare.values()) > 1e-3, bare  # the network alone does not: the wrapper does it
    # and u is affine in the network, u = A(x) + B(x) N(x), A and B functions of x alone (their formulas
    # are the equations' own; not restated here): from three networks, B = (u_i - u_j) / (N_i - N_j)
    # is one function, so is A = u_i - B N_i, and B is not zero inside the domain
    x = torch.rand(300, len(p.variables), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x = torch.tensor(p.lower, dtype=torch.float64) + x * (torch.tensor(p.upper) - torch.tensor(p.lower))
    with torch.no_grad():
        pairs = [wrapped(p, seed=seed) for seed in (1, 2, 3)]
        n = [bare(x)[:, 0] for bare, _ in pairs]
        u = [wrapper(x)[:, 0] for _, wrapper in pairs]
    apart = ((n[0] - n[1]).abs() > 1e-3) & ((n[0] - n[2]).abs() > 1e-3)
    assert apart.sum() > 200
    b = (u[0] - u[1]) / (n[0] - n[1])
    torch.testing.assert_close(((u[0] - u[2]) / (n[0] - n[2]))[apart], b[apart], rtol=1e-8, atol=1e-10)
    torch.testing.assert_close((u[2] - b * n[2])[apart], (u[0] - b * n[0])[apart], rtol=1e-8, atol=1e-10)
    assert float(b[apart].abs().max()) > 1e-2


def test_advection_with_a_periodic_network_satisfies_both_its_conditions():
    """A and B are periodic in x, so a periodic network (model.periodic=[x]) keeps u periodic."""
    p = problem("advection")[0]
    cfg = ModelConfig(width=24, depth=3, periodic=["x"], hard_constraints=True)
    assert set(exact_conditions(p, cfg)) == {"initial", "boundary"}
    net, model = wrapped(p, cfg)
    held = worst_residuals(p, model, ["initial", "boundary"])
    assert max(held.values()) < 1e-12, held
    assert worst_residuals(p, net, ["initial"])["initial_u"] > 1e-3


def test_the_jet_of_a_function_of_the_inputs_is_its_partials():
    """Jet.of against closed-form partials of f = (sin(x) y^2, exp(x y)), to third order."""
    x = torch.rand(30, 2, dtype=torch.float64) * 2 - 1
    s, y = x[:, 0], x[:, 1]

    def f(q):
        return torch.stack([torch.sin(q[:, 0]) * q[:, 1] ** 2, torch.exp(q[:, 0] * q[:, 1])], 1)

    e = torch.exp(s * y)
    want = {
        (): (torch.sin(s) * y**2, e),
        (0,): (torch.cos(s) * y**2, y * e),
        (1,): (2 * torch.sin(s) * y, s * e),
        (0, 0): (-torch.sin(s) * y**2, y**2 * e),
        (0, 1): (2 * torch.cos(s) * y, (1 + s * y) * e),
        (1, 1): (2 * torch.sin(s), s**2 * e),
        (0, 0, 1): (-2 * torch.sin(s) * y, (2 * y + s * y**2) * e),
        (1, 1, 1): (0 * s, s**3 * e),
    }
    jet = Jet.of(f, x, closure([(0, 0, 1), (1, 1, 1)]))
    assert set(jet.streams) == set(want)
    for key, (f0, f1) in want.items():
        torch.testing.assert_close(jet.streams[key], torch.stack([f0, f1], 1), rtol=1e-13, atol=1e-13, msg=str(key))


#: partials to third order, mixed ones included (v0, v1: the equation's two variables)
PARTIALS = [(), (0,), (1,), (0, 0), (0, 1), (1, 1), (0, 0, 1), (1, 1, 1)]


#: the modified MLP on the geometry (8 s: the distance functions' jets in eager mode) runs in `make
#: test-all`: its jet through the wrapper is the other equations' modified_mlp cases', the geometry's
#: the mlp-poisson_holes case's
SLOW_JET = pytest.mark.slow


@pytest.mark.parametrize(
    "name,kind",
    [
        pytest.param(n, k, marks=SLOW_JET if (n, k) == ("poisson_holes", "modified_mlp") else ())
        for k in ("mlp", "modified_mlp")
        for n in sorted(CONSTRAINED)
    ],
)
def test_taylor_mode_through_the_wrapper_equals_reverse_mode(name, kind):
    p = problem(name)[0]
    _, model = wrapped(p, ModelConfig(name=ModelKind(kind), width=16, depth=2))
    v = p.variables
    names = ["u" + ("_" + "".join(v[i] for i in k) if k else "") for k in PARTIALS]
    x = torch.tensor(p.lower, dtype=torch.float64) + torch.rand(40, 2, dtype=torch.float64) * (
        torch.tensor(p.upper) - torch.tensor(p.lower)
    )
    rec = Recorder(x[:1], v, p.outputs)
    for n in names:
        rec[n]
    keys = closure(rec.keys)
    moved = {v[1]: p.upper[1]}
    reverse = Derivatives(model, x, v, p.outputs)
    taylor = JetDerivatives(lambda j: propagate(model, j), x, v, p.outputs, keys)
    for d_rev, d_tay in ((reverse, taylor), (reverse.at(**moved), taylor.at(**moved))):
        for n in names:
            want, got = d_rev[n].detach(), d_tay[n].detach()
            assert float((want - got).abs().max()) <= 1e-11 * (float(want.abs().max()) + 1e-12), n

    def gradient(d):  # the parameter gradient of a loss through either engine
        model.zero_grad()
        (d[names[-1]].pow(2).mean() + d[names[4]].pow(2).mean()).backward()
        return [torch.zeros_like(q) if q.grad is None else q.grad.clone() for q in model.parameters()]

    for g_rev, g_tay in zip(
        gradient(Derivatives(model, x, v, p.outputs)),
        gradient(JetDerivatives(lambda j: propagate(model, j), x, v, p.outputs, keys)),
    ):
        # the geometry's distance functions have large third derivatives near corners: rounding
        torch.testing.assert_close(g_tay, g_rev, rtol=1e-9 if p.geometry is None else 1e-8, atol=1e-12)


def test_the_wrapper_adds_no_parameters_and_keeps_the_networks_layers():
    p = problem("burgers")[0]
    net, model = wrapped(p, ModelConfig(name=ModelKind.modified_mlp, width=16, depth=2))
    assert [id(q) for q in model.parameters()] == [id(q) for q in net.parameters()]
    assert model.state_dict().keys() == {f"net.{k}" for k in net.state_dict()}
    assert weight_layers(model) == weight_layers(net)  # grad-norm's layers: the network's own


SMALL = ["model.width=16", "model.depth=2", "trainer.progress=false", "optimizer=adam", "trainer.log_every=5"]


# make test-all (its compile: 25-30 s with an empty compile cache): in the default suite the wrapper's
# jets are held to reverse mode (test_taylor_mode_through_the_wrapper_equals_reverse_mode), the
# compiled Taylor-mode step to the eager one (tests/test_training_compiled.py), and the wrapper's
# dropped terms and predictions by the eager runs here and in tests/test_sampling_geometry.py
@pytest.mark.slow
def test_a_compiled_run_trains_without_the_satisfied_terms(tmp_path):
    run = ["equation=burgers", "equation.points.residual=300", "model.hard_constraints=true", *SMALL]
    compiled = run_task([*run, "trainer.compile=true", "trainer.max_steps=10"], tmp_path / "compiled")
    eager = run_task([*run, "trainer.compile=false", "trainer.max_steps=10"], tmp_path / "eager")
    engines = (compiled["status"], compiled["engine"], eager["engine"])
    assert engines == ("completed", "compiled", "eager"), compiled.get("warnings")
    assert compiled["final"]["loss"] == pytest.approx(eager["final"]["loss"], rel=1e-5)
    rows = read_rows(tmp_path / "compiled")
    assert [k for k in rows[0] if k.startswith("loss/")] == ["loss/residual_u"]
    assert all(math.isfinite(float(r["loss"])) for r in rows) and rows[0]["loss"] != rows[-1]["loss"]
    # the predictions come from the wrapper: the initial line is -sin(pi x) and the walls 0
    with h5py.File(tmp_path / "compiled" / "predictions.h5") as f:
        x, pred = f["grid/x"][:], f["pred/u"][:]
    np.testing.assert_allclose(pred[0], -np.sin(np.pi * x), atol=1e-6)
    np.testing.assert_allclose(pred[:, [0, -1]], 0, atol=1e-6)


def test_a_resumed_run_with_the_wrapper_equals_an_uninterrupted_one(tmp_path):
    run = ["equation=allen_cahn", "equation.points.residual=200", "model.hard_constraints=true", *SMALL]
    whole = run_task([*run, "trainer.max_steps=20"], tmp_path / "whole")
    run_task([*run, "trainer.max_steps=10", "trainer.checkpoint_every=5"], tmp_path / "cut")
    state = torch.load(tmp_path / "cut" / "checkpoints" / "last.pt", weights_only=True)
    assert all(k.startswith("net.") for k in state["model"])
    resumed = run_task([*run, "trainer.max_steps=20", "trainer.resume=true"], tmp_path / "cut")
    assert whole["steps"] == resumed["steps"] == 20
    assert resumed["final"]["loss"] == whole["final"]["loss"]
    assert [k for k in read_rows(tmp_path / "cut")[0] if k.startswith("loss/")] == [
        "loss/boundary_u",
        "loss/boundary_u_x",
        "loss/residual_u",
    ]


def test_an_equation_without_a_transform_is_one_line(tmp_path):
    proc = run_cli(["equation=wave", "model.hard_constraints=true", f"hydra.run.dir={tmp_path / 'run'}"])
    line = assert_one_line_error(proc, "model.hard_constraints", "wave")
    assert "advection, allen_cahn, burgers, burgers1d, helmholtz" in line
    assert not (tmp_path / "run" / "metrics.csv").exists()


@pytest.mark.parametrize(
    "overrides, names",
    [
        (["equation=allen_cahn", "model.periodic=[x]"], ["model.periodic", "not periodic in x"]),
        (["equation=burgers", "equation.domain.x=[-1.0,0.5]"], ["equation.domain.x", "walls"]),
        (["equation=helmholtz", "equation.params.a2=3.5"], ["a2=3.5", "not 0 on the edges"]),
        (["equation=sip_heat", "optimizer=adam"], ["learned inverse problem"]),
    ],
)
def test_transforms_that_cannot_hold_are_config_errors(overrides, names):
    with pytest.raises(ConfigError, match="model.hard_constraints") as err:
        build_task([*overrides, "model.hard_constraints=true", "trainer.progress=false"])
    assert "\n" not in str(err.value) and all(n in str(err.value) for n in names), str(err.value)
