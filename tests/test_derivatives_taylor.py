"""Taylor mode (the input derivatives of the compiled training step, trainer.compile=true) against
reverse mode (the eager step's).

Taylor mode takes every partial a residual needs in one forward pass (:class:`pinnrun.derivatives.Jet`,
propagated through the layers by :mod:`pinnrun.models.taylor`); reverse mode nests autograd. Checked
here: the chain-rule (Faa di Bruno) and product-rule (Leibniz) terms, each activation's derivatives
against autograd, the recorder that asks a residual for its partials, and the two engines partial by
partial, to fourth order, on every activation and model (float64, no compiling). The compiled step
itself against the eager one is in tests/test_training_compiled.py.
"""

from __future__ import annotations

import pytest
import torch

from pinnrun.config import Adaptive, InputScaling, ModelConfig, ModelKind, MscaleStructure
from pinnrun.derivatives import Derivatives, Jet, JetDerivatives, Recorder, closure, faa_di_bruno, leibniz
from pinnrun.models import build_model
from pinnrun.models.taylor import activation_derivatives, propagate

VARIABLES, OUTPUTS = ("x", "t"), ("u", "v")
#: partials up to fourth order, mixed ones included
NAMES = ["u", "u_x", "u_t", "u_xx", "u_tx", "u_tt", "u_xxx", "u_ttx", "u_xxxx", "u_xxtt", "v_xx", "v_t"]
MODELS = [
    ("mlp", "tanh", {}),
    ("mlp", "sin", {}),
    ("mlp", "gelu", {}),
    ("mlp", "sigmoid", {"adaptive": Adaptive.neuron}),
    ("mlp", "silu", {"adaptive": Adaptive.layer}),
    ("mlp", "softplus", {"inputs": InputScaling.none}),  # the raw coordinates: no map
    ("mscale", "s2relu", {"structure": MscaleStructure.scaled}),
    ("mscale", "srelu", {"structure": MscaleStructure.scaled}),
    ("mscale", "sin", {"structure": MscaleStructure.subnets}),
    ("mscale", "phi", {"structure": MscaleStructure.subnets}),
    ("modified_mlp", "tanh", {"inputs": InputScaling.standard}),  # the gates: the Leibniz rule
    ("modified_mlp", "sin", {"adaptive": Adaptive.neuron}),
    # embeddings (cos/sin of jets, columns side by side) and factorised layers
    ("mlp", "tanh", {"periodic": ["x"], "fourier_features": 10, "fourier_scale": 2.0, "factorize": True}),
    ("pirate", "tanh", {"periodic": ["t"], "fourier_features": 10, "alpha": 0.3, "factorize": True}),
    ("modified_mlp", "tanh", {"periodic": ["x"], "learned_periods": {"t": 3.0}, "fourier_features": 10}),
    ("mscale", "sin", {"structure": MscaleStructure.scaled, "factorize": True}),
]


def test_chain_rule_terms_are_the_set_partitions():
    # d2 s(a)/dx2 = s'' a_x^2 + s' a_xx
    assert sorted(faa_di_bruno((0, 0))) == [(1, 1, ((0, 0),)), (1, 2, ((0,), (0,)))]
    # d4 s(a)/dx4 = s' a_xxxx + 4 s'' a_x a_xxx + 3 s'' a_xx^2 + 6 s''' a_x^2 a_xx + s'''' a_x^4
    assert sorted((c, o, b) for c, o, b in faa_di_bruno((0, 0, 0, 0))) == sorted(
        [
            (1, 1, ((0, 0, 0, 0),)),
            (4, 2, ((0,), (0, 0, 0))),
            (3, 2, ((0, 0), (0, 0))),
            (6, 3, ((0,), (0,), (0, 0))),
            (1, 4, ((0,), (0,), (0,), (0,))),
        ]
    )
    assert sum(c for c, _, _ in faa_di_bruno((0, 1, 1, 2))) == 15  # Bell number B4: all partitions distinct
    assert closure([(0, 0, 1)]) == ((), (0,), (1,), (0, 0), (0, 1), (0, 0, 1))
    # d2 (f g)/dx2 = f g_xx + 2 f_x g_x + f_xx g; d2 (f g)/dx dt = f g_xt + f_x g_t + f_t g_x + f_xt g
    assert sorted(leibniz((0, 0))) == [(1, (), (0, 0)), (1, (0, 0), ()), (2, (0,), (0,))]
    assert sorted(leibniz((0, 1))) == [(1, (), (0, 1)), (1, (0,), (1,)), (1, (0, 1), ()), (1, (1,), (0,))]
    assert sum(c for c, _, _ in leibniz((0, 0, 1, 1))) == 16  # 2^4 subsets


@pytest.mark.parametrize("act", ["tanh", "sin", "gelu", "relu", "srelu"])
def test_activation_derivatives_match_autograd(act):
    from pinnrun.models import get_activation

    f = get_activation(act)
    a = torch.linspace(-2.3, 2.7, 41, dtype=torch.float64).requires_grad_(True)
    ours = activation_derivatives(f, a, 4)
    want = [f(a)]
    for _ in range(4):
        (g,) = torch.autograd.grad(want[-1].sum(), a, create_graph=True, allow_unused=True)
        want.append(torch.zeros_like(a) if g is None else g)
    for k in range(5):
        torch.testing.assert_close(ours[k], want[k], rtol=1e-10, atol=1e-10, msg=f"{act}: derivative {k}")


#: make test-all only (15 s): nested forward-mode derivatives of an activation (gelu, sigmoid, silu,
#: srelu ...) and MscaleDNN's subnets (mscale-sin) are held to reverse mode by the other cases
SLOW_MODELS = {("mscale", "phi")}


@pytest.mark.parametrize(
    "name, act, extra",
    [pytest.param(*m, marks=pytest.mark.slow) if m[:2] in SLOW_MODELS else m for m in MODELS],
    ids=[f"{m}-{a}" for m, a, _ in MODELS],
)
def test_taylor_mode_equals_reverse_mode_to_fourth_order(name, act, extra):
    cfg = ModelConfig(name=ModelKind(name), activation=act, width=24, depth=3, **extra)
    torch.manual_seed(0)
    model = build_model(cfg, [-1.0, 0.0], [2.0, 1.0], 2, VARIABLES).double()
    x = torch.rand(40, 2, dtype=torch.float64) * torch.tensor([3.0, 1.0], dtype=torch.float64)
    x = x + torch.tensor([-1.0, 0.0], dtype=torch.float64)
    reverse = Derivatives(model, x, VARIABLES, OUTPUTS)
    rec = Recorder(x[:1], VARIABLES, OUTPUTS)
    for n in NAMES:
        rec[n]
    taylor = JetDerivatives(lambda j: propagate(model, j), x, VARIABLES, OUTPUTS, closure(rec.keys))
    for d_rev, d_tay in ((reverse, taylor), (reverse.at(x=2.0), taylor.at(x=2.0))):
        for n in NAMES:
            want, got = d_rev[n].detach(), d_tay[n].detach()
            scale = float(want.abs().max()) + 1e-12
            assert float((want - got).abs().max()) <= 1e-11 * scale, f"{n}: Taylor mode differs from reverse mode"

    # the parameter gradient of a loss through Taylor mode is reverse mode's
    def gradient(d):
        model.zero_grad()
        (d["u_xxxx"].pow(2).mean() + d["v_tx"].pow(2).mean()).backward()
        return [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in model.parameters()]

    keys = taylor.keys
    for g_rev, g_tay in zip(
        gradient(Derivatives(model, x, VARIABLES, OUTPUTS)),
        gradient(JetDerivatives(lambda j: propagate(model, j), x, VARIABLES, OUTPUTS, keys)),
    ):
        torch.testing.assert_close(g_tay, g_rev, rtol=1e-9, atol=1e-12)


def test_recorder_asks_the_residual_for_its_partials():
    rec = Recorder(torch.zeros(1, 2), VARIABLES, OUTPUTS)
    r = rec["u_t"] + rec["u"] * rec["u_x"] - rec.at(x=1.0)["v_xx"]
    assert r.shape == (1,) and rec.keys == {(1,), (), (0,), (0, 0)}
    assert Jet.inputs(torch.zeros(3, 2), closure([(0, 1)])).order == 2
