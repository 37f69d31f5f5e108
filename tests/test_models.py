"""Networks: shapes, input normalisation, MscaleDNN formulas, activations, init."""

import math

import pytest
import torch

from pinnrun.config import Adaptive, ConfigError, EncoderBias, Init, ModelConfig, ModelKind, MscaleStructure, ScaleKind
from pinnrun.models import (
    AdaptiveActivation,
    activation_names,
    build_model,
    count_parameters,
    get_activation,
    slope_recovery,
)
from pinnrun.models.mscale import group_sizes, resolve_scales

from helpers import compose_config

LOWER = [0.0, -5.0]
UPPER = [math.pi / 2, 5.0]


def _cfg(**kw) -> ModelConfig:
    base = dict(width=20, depth=3, activation="tanh")
    base.update(kw)
    return ModelConfig(**base)


def _points(n=17, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    lo, hi = torch.tensor(LOWER, dtype=dtype), torch.tensor(UPPER, dtype=dtype)
    return lo + (hi - lo) * torch.rand(n, 2, generator=g, dtype=dtype)


ALL_MODELS = [
    dict(name=ModelKind.mlp),
    dict(name=ModelKind.modified_mlp),
    dict(name=ModelKind.pirate),
    dict(name=ModelKind.mscale, structure=MscaleStructure.scaled, activation="s2relu"),
    dict(name=ModelKind.mscale, structure=MscaleStructure.subnets, activation="sin"),
]


@pytest.mark.parametrize("kw", ALL_MODELS)
@pytest.mark.parametrize("out_dim", [1, 2])
def test_output_shape(kw, out_dim):
    model = build_model(_cfg(**kw), LOWER, UPPER, out_dim)
    assert model(_points(17)).shape == (17, out_dim)


@pytest.mark.parametrize("kw", ALL_MODELS)
def test_normalize_maps_bounds_to_unit_interval(kw):
    model = build_model(_cfg(**kw), LOWER, UPPER, 1)
    x = torch.tensor([LOWER, UPPER, [math.pi / 4, 0.0]])
    x_hat = model.norm(x)
    expected = torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]])
    torch.testing.assert_close(x_hat, expected, atol=1e-6, rtol=0)
    names = dict(model.named_buffers())
    assert any(n.endswith("lower") for n in names) and any(n.endswith("upper") for n in names)
    assert any(k.endswith("lower") for k in model.state_dict())


def test_scale_lists():
    assert resolve_scales(ModelConfig(scale_kind=ScaleKind.linear, n_scales=5)) == [1, 2, 3, 4, 5]
    assert resolve_scales(ModelConfig(scale_kind=ScaleKind.powers2, n_scales=5)) == [1, 2, 4, 8, 16]
    assert resolve_scales(ModelConfig(scales=[1, 3, 9], n_scales=5)) == [1.0, 3.0, 9.0]


def test_group_sizes_even_split():
    assert group_sizes(10, 3) == [4, 3, 3]
    assert group_sizes(12, 4) == [3, 3, 3, 3]
    assert sum(group_sizes(101, 7)) == 101


def test_scaled_first_layer_matches_hand_computation():
    cfg = _cfg(
        name=ModelKind.mscale,
        structure=MscaleStructure.scaled,
        width=10,
        scale_kind=ScaleKind.powers2,
        n_scales=3,
        activation="s2relu",
    )
    model = build_model(cfg, LOWER, UPPER, 1)
    x = _points(9)
    lo, hi = torch.tensor(LOWER), torch.tensor(UPPER)
    x_hat = 2 * (x - lo) / (hi - lo) - 1
    W0, b0 = model.first.weight.detach(), model.first.bias.detach()
    z = model.first_preactivation(x).detach()
    # groups: sizes 4, 3, 3 with scales 1, 2, 4; the scale multiplies weights and bias
    for (start, stop), a in zip([(0, 4), (4, 7), (7, 10)], [1.0, 2.0, 4.0]):
        torch.testing.assert_close(z[:, start:stop], a * (x_hat @ W0[start:stop].T + b0[start:stop]))
    # the forward pass goes through this layer
    h = model.act(z)
    torch.testing.assert_close(model(x).detach(), model.rest(h).detach())


@pytest.mark.parametrize("structure", list(MscaleStructure))
def test_scaled_layer_starts_uniform_on_minus_one_one(structure):
    """Weights and biases of the scaled layer ~ U(-1, 1) whatever model.init says (Xavier would
    give std sqrt(2 / (d + width)) = 0.03 for 2 inputs and 2000 neurons); the rest follows init."""
    torch.manual_seed(0)
    cfg = _cfg(name=ModelKind.mscale, structure=structure, width=2000, depth=2, n_scales=4, init=Init.xavier_normal)
    model = build_model(cfg, LOWER, UPPER, 1)
    first = [model.first] if structure is MscaleStructure.scaled else [f[0] for f in model.subnets]
    for p in [t for layer in first for t in (layer.weight, layer.bias)]:
        assert p.abs().max() <= 1.0 and p.abs().max() > 0.99
        assert p.std().item() == pytest.approx(1 / math.sqrt(3), rel=0.06)  # std of U(-1, 1)
    second = model.rest[0] if structure is MscaleStructure.scaled else model.subnets[0][2]
    fan_in, fan_out = second.in_features, second.out_features
    assert second.weight.std().item() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.06)


def test_subnets_output_is_sum_of_scaled_subnets():
    cfg = _cfg(
        name=ModelKind.mscale, structure=MscaleStructure.subnets, width=12, scales=[1.0, 3.0, 5.0], activation="sin"
    )
    model = build_model(cfg, LOWER, UPPER, 2)
    assert len(model.subnets) == 3
    assert model.subnets[0][0].out_features == 4  # width // N
    x = _points(11)
    x_hat = model.norm(x)

    def subnet(f, a):  # g(a (W x_hat + b)) by hand: first layer, scale, activation, the rest
        W, b = f[0].weight, f[0].bias
        return f[2:](f[1](a * (x_hat @ W.T + b)))

    expected = sum(subnet(f, a) for a, f in zip([1.0, 3.0, 5.0], model.subnets))
    torch.testing.assert_close(model(x), expected)
    # not the unscaled sum
    assert not torch.allclose(model(x), sum(subnet(f, 1.0) for f in model.subnets))


def _relu(v):
    return max(v, 0.0)


FORMULAS = {
    "tanh": math.tanh,
    "sin": math.sin,
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "relu": _relu,
    "softplus": lambda v: math.log1p(math.exp(v)),
    "gelu": lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
    "silu": lambda v: v / (1 + math.exp(-v)),
    "srelu": lambda v: _relu(v) * _relu(1 - v),
    "s2relu": lambda v: math.sin(2 * math.pi * v) * _relu(v) * _relu(1 - v),
    "phi": lambda v: _relu(v) ** 2 - 3 * _relu(v - 1) ** 2 + 3 * _relu(v - 2) ** 2 - _relu(v - 3) ** 2,
}
# points away from the kinks at 0, 1, 2, 3
POINTS = [-1.3, 0.25, 0.6, 1.5, 2.4, 3.7]


def test_registry_covers_formulas():
    assert sorted(FORMULAS) == activation_names()


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_activation_matches_formula_and_is_twice_differentiable(name):
    act = get_activation(name)
    x = torch.tensor(POINTS, dtype=torch.float64, requires_grad=True)
    y = act(x)
    expected = torch.tensor([FORMULAS[name](v) for v in POINTS], dtype=torch.float64)
    torch.testing.assert_close(y.detach(), expected, atol=1e-12, rtol=1e-10)
    (dy,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (d2y,) = torch.autograd.grad(dy.sum(), x)
    assert torch.isfinite(d2y).all()
    # second derivative against a central difference of the first derivative
    h = 1e-5
    xp = (x.detach() + h).requires_grad_(True)
    xm = (x.detach() - h).requires_grad_(True)
    (dp,) = torch.autograd.grad(act(xp).sum(), xp)
    (dm,) = torch.autograd.grad(act(xm).sum(), xm)
    torch.testing.assert_close(d2y, (dp - dm) / (2 * h), atol=1e-5, rtol=1e-5)


def test_phi_known_values():
    phi = get_activation("phi")
    x = torch.tensor([-1.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0])
    # B-spline: 0, 1/4, 1, 3/2, 1, 0, 0
    torch.testing.assert_close(phi(x), torch.tensor([0.0, 0.25, 1.0, 1.5, 1.0, 0.0, 0.0]))


def test_unknown_activation_lists_options():
    with pytest.raises(ConfigError) as err:
        build_model(_cfg(activation="foo"), LOWER, UPPER, 1)
    msg = str(err.value)
    assert "model.activation" in msg and "'foo'" in msg and "\n" not in msg
    for name in activation_names():
        assert name in msg


@pytest.mark.parametrize(
    "init, std",
    [
        (Init.xavier_normal, math.sqrt(2 / (800 + 800))),
        (Init.xavier_uniform, math.sqrt(2 / (800 + 800))),
        (Init.kaiming_normal, math.sqrt(2 / 800)),
        (Init.kaiming_uniform, math.sqrt(2 / 800)),
    ],
)
def test_init_std(init, std):
    torch.manual_seed(0)
    model = build_model(_cfg(width=800, depth=2, init=init), LOWER, UPPER, 1)
    hidden = model.net[2]  # second Linear: 800 x 800
    assert hidden.weight.shape == (800, 800)
    assert abs(hidden.weight.std().item() - std) < 0.1 * std
    assert torch.all(hidden.bias == 0)


@pytest.mark.parametrize("kw", ALL_MODELS)
def test_same_seed_same_parameters(kw):
    torch.manual_seed(123)
    a = build_model(_cfg(**kw), LOWER, UPPER, 2)
    torch.manual_seed(123)
    b = build_model(_cfg(**kw), LOWER, UPPER, 2)
    torch.manual_seed(124)
    c = build_model(_cfg(**kw), LOWER, UPPER, 2)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


@pytest.mark.parametrize("kw", ALL_MODELS)
def test_float64(kw):
    model = build_model(_cfg(**kw), LOWER, UPPER, 2).to(torch.float64)
    assert all(t.dtype == torch.float64 for t in model.state_dict().values())
    x = _points(5, dtype=torch.float64).requires_grad_(True)
    y = model(x)
    assert y.dtype == torch.float64 and y.shape == (5, 2)
    # second input derivative, as a PINN residual needs
    (g,) = torch.autograd.grad(y[:, 0].sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad(g[:, 1].sum(), x)
    assert g2.dtype == torch.float64 and torch.isfinite(g2).all()


def test_count_parameters():
    model = build_model(_cfg(width=10, depth=2), LOWER, UPPER, 3)
    # 2*10+10 + 10*10+10 + 10*3+3
    assert count_parameters(model) == 30 + 110 + 33
    mscale = build_model(_cfg(name=ModelKind.mscale, width=10, depth=2, n_scales=3), LOWER, UPPER, 3)
    assert count_parameters(mscale) == 30 + 110 + 33  # scales are buffers, not parameters


# -- locally adaptive activations (Jagtap, Kawaguchi & Karniadakis 2020) -------------------------


@pytest.mark.parametrize("kw", ALL_MODELS)
@pytest.mark.parametrize("kind", [Adaptive.layer, Adaptive.neuron])
def test_adaptive_network_starts_as_the_plain_one(kw, kind):
    torch.manual_seed(5)
    plain = build_model(_cfg(**kw), LOWER, UPPER, 2)
    torch.manual_seed(5)
    adaptive = build_model(_cfg(**kw, adaptive=kind, adaptive_scale=10.0), LOWER, UPPER, 2)
    acts = [m for m in adaptive.modules() if isinstance(m, AdaptiveActivation)]
    assert acts and all(torch.all(m.slope == 0.1) for m in acts)
    sizes = {m.slope.numel() for m in acts}
    assert sizes == ({1} if kind is Adaptive.layer else sizes - {1}) and sizes
    assert count_parameters(adaptive) == count_parameters(plain) + sum(m.slope.numel() for m in acts)
    x = _points(11)
    torch.testing.assert_close(adaptive(x), plain(x), rtol=1e-6, atol=1e-7)


def test_adaptive_activation_and_slope_recovery_formulas():
    model = build_model(_cfg(adaptive=Adaptive.neuron, adaptive_scale=5.0), LOWER, UPPER, 1)
    acts = [m for m in model.modules() if isinstance(m, AdaptiveActivation)]
    assert len(acts) == 3 and all(m.slope.shape == (20,) for m in acts)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in acts:
            m.slope.copy_(torch.rand(20, generator=g))
    z = torch.linspace(-2, 2, 20)
    torch.testing.assert_close(acts[0](z), torch.tanh(5.0 * acts[0].slope * z))
    expected = 1.0 / (sum(math.exp(float(m.slope.detach().mean())) for m in acts) / 3)
    assert float(slope_recovery(model).detach()) == pytest.approx(expected, rel=1e-6)
    assert slope_recovery(build_model(_cfg(), LOWER, UPPER, 1)) is None


@pytest.mark.parametrize("kw", [k for k in ALL_MODELS if k["name"] not in (ModelKind.modified_mlp, ModelKind.pirate)])
def test_widths_list_sets_each_hidden_layer(kw):
    model = build_model(_cfg(**kw, widths=[40, 8, 6], n_scales=4), LOWER, UPPER, 1)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if kw.get("structure") is MscaleStructure.subnets:  # 4 subnets of [10, 2, 1]
        shapes = [tuple(m.weight.shape) for m in linears[:4]]
        assert shapes == [(10, 2), (2, 10), (1, 2), (1, 1)]
    else:
        assert [tuple(m.weight.shape) for m in linears] == [(40, 2), (8, 40), (6, 8), (1, 6)]
    assert model(_points(5)).shape == (5, 1)


# -- where the model group's rules are checked -----------------------------------------------------


@pytest.mark.parametrize(
    "overrides, key",
    [
        (["model.width=0"], "model.width"),
        (["model.depth=0"], "model.depth"),
        (["model.widths=[]"], "model.widths"),
        (["model.widths=[8,0]"], "model.widths"),
        (["model=mscale", "model.n_scales=0"], "model.n_scales"),
        (["model=mscale", "model.scales=[1.0,-2.0]"], "model.scales"),
        (["model=modified_mlp", "model.widths=[8,16]"], "model=modified_mlp"),
    ],
)
def test_config_validate_checks_the_model_group(overrides, key):
    """The rules a type cannot express are config.validate's; the models trust them."""
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        compose_config(overrides)


@pytest.mark.parametrize(
    "kw, key",
    [
        (dict(adaptive=Adaptive.layer, adaptive_scale=0.0), "model.adaptive_scale"),
        (dict(name=ModelKind.mscale, structure=MscaleStructure.scaled, width=6, n_scales=8), "at least one per scale"),
    ],
)
def test_rules_only_the_models_check(kw, key):
    with pytest.raises(ConfigError, match=key) as err:
        build_model(_cfg(**kw), LOWER, UPPER, 1)
    assert "\n" not in str(err.value)


# -- the modified MLP (Wang, Teng & Perdikaris 2021) ---------------------------------------------


def test_modified_mlp_gates_its_encoders_as_the_paper_on_numbers():
    """Wang, Teng & Perdikaris 2021, eqs. 42-46, evaluated by hand on a one-neuron network: the
    point (t, x) = (3 pi / 8, -2.5) normalises to x_hat = (0.5, -0.5); U = tanh(0.5) = 0.46212,
    V = tanh(-0.5) = -0.46212; layer 1: Z = tanh(0.5 - 0.5 + 0.5) = 0.46212, H = Z U + (1 - Z) V =
    -0.035013; output 2 H + 0.5 = 0.42997. Layer 2 (weight 3, bias -0.25): Z = tanh(3 H - 0.25) =
    -0.34084, H = -0.77713, output -1.05426. U and V swapped would give +0.035013 after layer 1."""
    x = torch.tensor([[3 * math.pi / 8, -2.5]], dtype=torch.float64)
    for depth, want in ((1, 0.42997475361627085), (2, -1.0542585806420548)):
        m = build_model(_cfg(name=ModelKind.modified_mlp, width=1, depth=depth), LOWER, UPPER, 1).double()
        with torch.no_grad():
            for p in m.parameters():
                p.zero_()
            m.enc_u.weight[:] = torch.tensor([[1.0, 0.0]])
            m.enc_v.weight[:] = torch.tensor([[0.0, 1.0]])
            m.hidden[0].weight[:], m.hidden[0].bias[:] = torch.tensor([[1.0, 1.0]]), 0.5
            if depth == 2:
                m.hidden[1].weight[:], m.hidden[1].bias[:] = 3.0, -0.25
            m.out.weight[:], m.out.bias[:] = 2.0, 0.5
            assert float(m(x)) == pytest.approx(want, rel=1e-12), depth


def test_modified_mlp_has_the_authors_layers_and_initial_biases():
    """The parameters and the initial biases of the authors' code (GradientPathologiesPINNs,
    Helmholtz2D_model_tf.py, models M3/M4); the forward pass on numbers: the test above."""
    m = build_model(_cfg(name=ModelKind.modified_mlp, width=7, depth=3), LOWER, UPPER, 2).double()
    # 2 encoders (2 -> 7), 3 gated layers (2 -> 7, 7 -> 7, 7 -> 7), the output (7 -> 2)
    assert count_parameters(m) == 2 * (2 * 7 + 7) + (2 * 7 + 7) + 2 * (7 * 7 + 7) + (7 * 2 + 2)
    # the encoders' biases start as the code draws them (std sqrt(2 / (1 + width))), the others at 0
    big = build_model(_cfg(name=ModelKind.modified_mlp, width=4000, depth=1), LOWER, UPPER, 1)
    assert float(big.enc_u.bias.detach().std()) == pytest.approx((2 / 4001) ** 0.5, rel=0.05)
    assert float(big.hidden[0].bias.abs().max()) == 0.0
    # or at zero, as jaxpi's Dense starts every bias (model.encoder_bias=zero, the jaxpi presets)
    jaxpi = build_model(
        _cfg(name=ModelKind.modified_mlp, width=50, depth=1, encoder_bias=EncoderBias.zero), LOWER, UPPER, 1
    )
    assert all(float(b.abs().max()) == 0.0 for n, b in jaxpi.named_parameters() if n.endswith("bias"))
    # the grad-norm statistics take the hidden and output weights, not the encoders' (as the code)
    assert big.weight_layers() == [*big.hidden, big.out]
