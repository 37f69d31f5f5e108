"""Input embeddings, weight factorisation and PirateNet (the expert's guide, Wang, Wang &
Perdikaris 2023; PirateNets, Wang, Li, Chen & Perdikaris 2024), each against its defining formula
written out here, and the physics-informed start against an independent least-squares fit."""

import math

import numpy as np
import pytest
import torch

from pinnrun.config import ModelConfig, ModelKind
from pinnrun.models import build_model, count_parameters
from pinnrun.models.embeddings import FactorizedLinear

from helpers import TINY, assert_one_line_error, build_task, eager, run_cli

VARIABLES = ("t", "x")
LOWER, UPPER = [0.0, -1.0], [1.0, 3.0]


def _model(dtype=torch.float64, seed=0, **kw):
    torch.manual_seed(seed)
    base = dict(width=12, depth=2)
    base.update(kw)
    return build_model(ModelConfig(**base), LOWER, UPPER, 2, VARIABLES).to(dtype)


def _points(n=50, seed=1):
    g = torch.Generator().manual_seed(seed)
    lo, hi = torch.tensor(LOWER, dtype=torch.float64), torch.tensor(UPPER, dtype=torch.float64)
    return lo + (hi - lo) * torch.rand(n, 2, generator=g, dtype=torch.float64)


def _x_hat(x):
    lo, hi = torch.tensor(LOWER, dtype=x.dtype), torch.tensor(UPPER, dtype=x.dtype)
    return 2 * (x - lo) / (hi - lo) - 1


@pytest.mark.parametrize("name", [ModelKind.mlp, ModelKind.modified_mlp, ModelKind.pirate, ModelKind.mscale])
def test_the_periodic_embedding_makes_the_network_periodic_in_that_variable(name):
    """u(t, x0) = u(t, x1) and every x-derivative too, for any parameters: the network sees x only
    through cos and sin of pi x_hat, whose period is the domain's length (4 here)."""
    from pinnrun.derivatives import Derivatives

    m = _model(name=name, periodic=["x"], fourier_features=10, alpha=0.4)
    t = torch.linspace(0, 1, 30, dtype=torch.float64)
    lo = torch.stack([t, torch.full_like(t, LOWER[1])], 1)
    hi = torch.stack([t, torch.full_like(t, UPPER[1])], 1)
    d_lo, d_hi = Derivatives(m, lo, VARIABLES, ("u", "v")), Derivatives(m, hi, VARIABLES, ("u", "v"))
    for n in ("u", "v", "u_x", "u_xx", "v_tx"):
        scale = float(d_lo[n].detach().abs().max())
        assert scale > 1e-6, n  # not periodic by being zero
        assert float((d_lo[n] - d_hi[n]).abs().max()) <= 1e-12 * max(scale, 1.0), n
    # and not periodic in t: a shift of the same size in t changes u
    shifted = torch.stack([t, torch.full_like(t, 1.0)], 1)
    assert float((m(shifted) - m(shifted + torch.tensor([0.5, 0.0], dtype=torch.float64))).abs().max()) > 1e-4


def test_the_embeddings_are_their_formulas():
    """z = (t_hat, cos(pi x_hat), sin(pi x_hat)), then [cos(z B), sin(z B)] with B drawn
    N(0, scale^2), shape (3, features / 2), and trained."""
    m = _model(periodic=["x"], fourier_features=4000, fourier_scale=3.0)
    x = _points()
    h = _x_hat(x)
    z = torch.stack([h[:, 0], torch.cos(math.pi * h[:, 1]), torch.sin(math.pi * h[:, 1])], 1)
    b = m.norm.fourier
    assert b.shape == (3, 2000) and b.requires_grad
    assert float(b.std()) == pytest.approx(3.0, rel=0.03) and abs(float(b.mean())) < 0.1
    want = torch.cat([torch.cos(z @ b), torch.sin(z @ b)], 1)
    torch.testing.assert_close(m.norm(x), want, rtol=1e-13, atol=1e-13)
    assert m.net[0].in_features == 4000


def test_a_learned_period_is_its_formula_and_trains():
    """model.learned_periods={t: w0}: (cos(w t), sin(w t)) of the physical t with w a parameter from
    w0 (jaxpi's trainable time period); with x exactly periodic the embedding is
    (cos(pi x_hat), cos(w t), sin(pi x_hat), sin(w t))."""
    m = _model(periodic=["x"], learned_periods={"t": 2 * math.pi})
    x = _points()
    w = m.norm.omega
    assert w.requires_grad and float(w) == pytest.approx(2 * math.pi)
    a = torch.stack([math.pi * _x_hat(x)[:, 1], w[0] * x[:, 0]], 1)
    torch.testing.assert_close(m.norm(x), torch.cat([torch.cos(a), torch.sin(a)], 1), rtol=1e-13, atol=1e-13)
    m(x).pow(2).sum().backward()
    assert float(w.grad.abs()) > 0
    # not periodic in t over the domain: the period is learned, not imposed
    t0, t1 = torch.tensor([[0.0, 0.5]], dtype=torch.float64), torch.tensor([[1.0, 0.5]], dtype=torch.float64)
    with torch.no_grad():
        w.fill_(5.0)
        assert float((m(t0) - m(t1)).abs().max()) > 1e-4


def test_weight_factorisation_keeps_the_initial_network_and_is_its_formula():
    """W = diag(g) V with g = exp(s), s ~ N(mean, std^2) per output neuron, V = W_init / g: the
    factorised network starts as the plain one with the same seed, and trains g and V (jaxpi)."""
    plain = _model(width=2000, depth=1)
    fact = _model(width=2000, depth=1, factorize=True, factorize_mean=0.5, factorize_std=0.1)
    x = _points()
    # to float32's rounding: the models are built in float32 (V = W / exp(s)) and then converted
    torch.testing.assert_close(fact(x), plain(x), rtol=1e-6, atol=1e-6)
    layer = fact.net[0]
    assert isinstance(layer, FactorizedLinear) and not any(isinstance(m, torch.nn.Linear) for m in fact.modules())
    torch.testing.assert_close(layer.weight, plain.net[0].weight, rtol=1e-6, atol=1e-8)
    # jaxpi's Dense with weight_fact: y = x (g * v) + b, its kernel (in, out) scaled per column by g;
    # here by hand from the stored factors, one output at a time
    g, v, b = layer.g.detach(), layer.v.detach(), layer.bias.detach()
    h = x.to(g.dtype) @ torch.eye(x.shape[1], 2, dtype=g.dtype)  # any inputs of the layer's width
    for j in (0, 7, 1999):
        want = sum(h[:, i] * (g[j] * v[j, i]) for i in range(2)) + b[j]
        torch.testing.assert_close(layer(h)[:, j].detach(), want, rtol=1e-6, atol=1e-7)
    log_g = torch.log(g)
    assert float(log_g.mean()) == pytest.approx(0.5, abs=0.01) and float(log_g.std()) == pytest.approx(0.1, rel=0.05)
    # one g per output neuron more than the plain network's parameters, per layer
    assert count_parameters(fact) == count_parameters(plain) + 2000 + 2
    names = {n for n, _ in fact.named_parameters()}
    assert {"net.0.g", "net.0.v", "net.0.bias"} <= names and not any(n.endswith(".s") for n in names)
    # g itself is trained: its gradient is sum_i v_ji dL/dW_ji (the chain rule through W = diag(g) V)
    fact.zero_grad()
    layer(h).pow(2).sum().backward()
    w = (g[:, None] * v).requires_grad_(True)
    (torch.nn.functional.linear(h, w, b).pow(2).sum()).backward()
    torch.testing.assert_close(layer.g.grad, (v * w.grad).sum(1), rtol=1e-5, atol=1e-6)
    # a state dict of the 0.2 parametrisation (s = log g) loads as g = exp(s)
    old = {k.replace("net.0.g", "net.0.s"): (t.log() if k == "net.0.g" else t) for k, t in fact.state_dict().items()}
    again = _model(width=2000, depth=1, factorize=True, factorize_mean=0.5, factorize_std=0.1)
    again.load_state_dict(old)
    torch.testing.assert_close(again.net[0].g, layer.g, rtol=1e-6, atol=0)


def test_pirate_net_is_the_authors_forward_pass():
    """Against the block written out (jaxpi branch pirate, archs.py PIModifiedBottleneck):
    f = tanh(x W1 + b1), x1 = f U + (1 - f) V; g = tanh(x1 W2 + b2), x2 = g U + (1 - g) V;
    h = tanh(x2 W3 + b3); x <- alpha h + (1 - alpha) x; y = x W (archs.py PirateNet with pi_init: a
    kernel, no bias, never factorised; without pi_init a Dense layer: bias, factorised with the rest)."""
    m = _model(name=ModelKind.pirate, depth=3, fourier_features=8, alpha=0.3)
    with torch.no_grad():  # gates of different sizes, so a mix-up of blocks shows
        for i, b in enumerate(m.blocks):
            b.alpha.fill_(0.2 + 0.25 * i)
    x = _points()
    z = m.norm(x)
    u = torch.tanh(z @ m.enc_u.weight.T + m.enc_u.bias)
    v = torch.tanh(z @ m.enc_v.weight.T + m.enc_v.bias)
    h = z
    for b in m.blocks:
        w1, w2, w3 = b.dense
        f = torch.tanh(h @ w1.weight.T + w1.bias)
        x1 = f * u + (1 - f) * v
        g = torch.tanh(x1 @ w2.weight.T + w2.bias)
        x2 = g * u + (1 - g) * v
        hh = torch.tanh(x2 @ w3.weight.T + w3.bias)
        h = b.alpha * hh + (1 - b.alpha) * h
    assert m.out.bias is None
    torch.testing.assert_close(m(x), h @ m.out.weight.T, rtol=1e-13, atol=1e-13)
    # alpha = 0: every block the identity, the network a linear map of the embeddings
    m0 = _model(name=ModelKind.pirate, depth=3, fourier_features=8, alpha=0.0)
    torch.testing.assert_close(m0(x), m0.norm(x) @ m0.out.weight.T, rtol=1e-14, atol=1e-14)
    fact = _model(name=ModelKind.pirate, depth=1, factorize=True)
    assert isinstance(fact.enc_u, FactorizedLinear) and type(fact.out) is not FactorizedLinear
    assert fact.out.bias is None and {n for n, _ in fact.out.named_parameters()} == {"weight"}
    dense = _model(name=ModelKind.pirate, depth=1, factorize=True, pi_init=False)
    assert isinstance(dense.out, FactorizedLinear) and dense.out.bias is not None


def test_pi_init_is_the_least_squares_fit_of_the_initial_condition():
    """Allen-Cahn: the output layer is argmin |Phi W - u0| over the reference grid's x and every
    10th time (numpy's lstsq here), no bias, and the starting network is close to u0 = x^2 cos(pi x)
    on t = 0."""
    task = build_task(
        ["equation=allen_cahn", "model=pirate", "model.width=32", "model.depth=1", "model.fourier_features=64"]
        + ["model.periodic=[x]", "trainer.dtype=float64"]
    )
    m = task.model
    grid, _ = task.problem.reference()
    t, x = grid["t"][::10], grid["x"]
    tt, xx = np.meshgrid(t, x, indexing="ij")
    pts = torch.as_tensor(np.stack([tt.ravel(), xx.ravel()], 1))
    u0 = np.tile(x**2 * np.cos(np.pi * x), len(t))
    phi = m.features(pts).detach().numpy()
    w, *_ = np.linalg.lstsq(phi, u0, rcond=None)
    np.testing.assert_allclose(m.out.weight.detach().numpy()[0], w, rtol=1e-6, atol=1e-8)
    assert m.out.bias is None  # a kernel, as jaxpi's pi_init
    xs = torch.linspace(-1, 1, 101, dtype=torch.float64)
    u = m(torch.stack([torch.zeros_like(xs), xs], 1))[:, 0].detach()
    exact = xs**2 * torch.cos(math.pi * xs)
    err = float(torch.linalg.norm(u - exact) / torch.linalg.norm(exact))
    assert err < 0.05 and err == pytest.approx(task.network.pi_init_residual, rel=0.5)
    assert any("pi_init" in n for n in task.notes())


def test_a_periodic_condition_drops_out_of_the_loss(tmp_path):
    """With model.periodic=[x] the periodic boundary condition holds by construction: no points,
    no loss term, a note says so, and the run trains the rest."""
    task = build_task(["equation=allen_cahn", "model.periodic=[x]", *TINY])
    assert not any(t.startswith("boundary") for t in task.objective.terms)
    assert task.objective.terms == ["initial_u", "residual_u"]
    assert any("boundary" in n and "model.periodic" in n for n in task.notes())
    proc = run_cli(
        eager(
            ["equation=allen_cahn", "model=pirate", "model.width=16", "model.depth=1"]
            + ["model.fourier_features=16", "model.periodic=[x]", *TINY, f"hydra.run.dir={tmp_path}"]
        )
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    header = (tmp_path / "metrics.csv").read_text().splitlines()[0]
    assert "loss/boundary_u" not in header and "loss/residual_u" in header


@pytest.mark.parametrize(
    "override, words",
    [
        ("model.periodic=[y]", ("model.periodic", "y")),
        ("model.fourier_features=7", ("model.fourier_features", "7")),
        ("model.fourier_scale=0", ("model.fourier_scale",)),
        ("+model.learned_periods={y: 1.0}", ("model.learned_periods", "y")),
        ("+model.learned_periods={x: 1.0}", ("model.periodic", "model.learned_periods", "x")),
        ("+model.learned_periods={t: 0}", ("model.learned_periods", "positive")),
    ],
)
def test_bad_embedding_settings_are_one_line_errors(tmp_path, override, words):
    base = ["equation=allen_cahn", "model.fourier_features=8", "model.periodic=[x]"]
    proc = run_cli([*base, override, *TINY, f"hydra.run.dir={tmp_path}"])
    assert_one_line_error(proc, *words)
    assert not (tmp_path / "metrics.csv").exists()


def test_pi_init_without_an_initial_condition_is_a_one_line_error(tmp_path):
    proc = run_cli(["equation=helmholtz", "model=pirate", *TINY, f"hydra.run.dir={tmp_path}"])
    assert_one_line_error(proc, "model.pi_init")


def test_standardised_inputs_have_mean_0_and_standard_deviation_1_over_the_domain():
    """model.inputs=standard: x_hat = sqrt(3) (2 (x - lower) / (upper - lower) - 1), the Wang et al.
    codes' standardisation by the moments of uniform interior points."""
    from pinnrun.config import InputScaling
    from pinnrun.models.embeddings import input_map

    cfg = ModelConfig(inputs=InputScaling.standard)
    m = input_map(cfg, [0.0, -5.0], [2.0, 5.0], ["t", "x"]).double()
    x = torch.rand(200000, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x = x * torch.tensor([2.0, 10.0], dtype=torch.float64) + torch.tensor([0.0, -5.0], dtype=torch.float64)
    z = m(x)
    assert torch.allclose(z.mean(0), torch.zeros(2, dtype=torch.float64), atol=1e-2)
    assert torch.allclose(z.std(0), torch.ones(2, dtype=torch.float64), atol=1e-2)
    corner = m(torch.tensor([[2.0, -5.0]], dtype=torch.float64))
    assert torch.allclose(corner, torch.tensor([[math.sqrt(3), -math.sqrt(3)]], dtype=torch.float64), atol=1e-15)


def test_raw_inputs_reach_the_first_layer_as_they_are():
    """model.inputs=none (DeepXDE's and PINNacle's networks): x_hat = x, also with Fourier features."""
    from pinnrun.config import InputScaling
    from pinnrun.models.embeddings import input_map

    x = torch.tensor([[0.5, -4.0], [100.0, 3.0]], dtype=torch.float64)
    m = input_map(ModelConfig(inputs=InputScaling.none), [0.0, -5.0], [2.0, 5.0], ["t", "x"]).double()
    assert torch.equal(m(x), x)
    f = input_map(ModelConfig(inputs=InputScaling.none, fourier_features=4), [0.0, -5.0], [2.0, 5.0], ["t", "x"])
    f = f.double()
    zb = x @ f.fourier.detach()
    assert torch.allclose(f(x), torch.cat([torch.cos(zb), torch.sin(zb)], 1), atol=1e-15)


def test_standardised_inputs_with_a_periodic_embedding_are_one_line(tmp_path):
    proc = run_cli([*TINY, "model.inputs=standard", "model.periodic=[x]", f"hydra.run.dir={tmp_path / 'r'}"])
    assert_one_line_error(proc, "model.inputs=standard", "model.periodic")
    assert not (tmp_path / "r").exists()
