"""MscaleDNN: multi-scale deep neural networks.

Z. Liu, W. Cai and Z.-Q. J. Xu, "Multi-scale deep neural network (MscaleDNN)
for solving Poisson-Boltzmann equation in complex domains", Commun. Comput.
Phys. 28 (2020). Two structures:

* ``scaled`` (the paper's compact-support MscaleDNN): one network whose first
  hidden layer scales the neurons group-wise,
      z = K ⊙ (W0 x_hat + b0),   K = (a_1, ..., a_1, a_2, ..., a_N, ..., a_N),
  the first hidden layer's neurons split into N groups as evenly as possible.
* ``subnets``: a sum of N sub-networks whose first layers are scaled the same way,
      f(x) = sum_i g_i(a_i (W_i x_hat + b_i)).

Scales: 1, 2, ..., N (linear) or 1, 2, 4, ..., 2^(N-1) (powers2), or an
explicit list. x_hat is the input mapped to [-1, 1].

The scale multiplies the bias as well as the weights, and the scaled layer's
weights and biases start uniform on [-1, 1] (whatever ``model.init`` says; it
sets the other layers). Neuron j then responds where W0_j x_hat + b0_j is of
order 1 / a_j: near a hyperplane that crosses the box [-1, 1]^d, so the
high-scale neurons (the narrow bumps of sReLU/s2ReLU/phi, the fast waves of
sin) are spread over the whole domain. A bias added after the scaling, or
Xavier's std sqrt(2 / (d + width)) for a layer with one input and thousands
of neurons, would pile them up near x_hat = 0 with tiny effective scales: on
the 1-D fitting example (s2ReLU, 500 neurons in the first layer, scales
1..200, Adam lr 1e-3) a bias added after the scaling leaves the test MSE at
0.36 after 1500 steps, where this layer reaches 2.0e-2.
"""

from __future__ import annotations

import torch
from torch import nn

from pinnrun.config import ConfigError, ModelConfig, MscaleStructure, ScaleKind
from pinnrun.derivatives import Jet
from pinnrun.models.activations import activation_factory
from pinnrun.models.embeddings import InputMap
from pinnrun.models.mlp import fully_connected, hidden_widths, init_linear
from pinnrun.models.taylor import propagate


def resolve_scales(cfg: ModelConfig) -> list[float]:
    """``cfg.scales`` if given, else a_i = i (linear) or a_i = 2^(i-1) (powers2), i = 1..N."""
    if cfg.scales is not None:
        return [float(a) for a in cfg.scales]
    n = cfg.n_scales
    if cfg.scale_kind is ScaleKind.linear:
        return [float(i) for i in range(1, n + 1)]  # 1, 2, ..., N
    assert cfg.scale_kind is ScaleKind.powers2, cfg.scale_kind
    return [float(2**i) for i in range(n)]  # 1, 2, 4, ..., 2^(N-1)


def group_sizes(width: int, n: int) -> list[int]:
    """``width`` neurons split into ``n`` groups as evenly as possible (larger groups first)."""
    q, r = divmod(width, n)
    return [q + 1 if i < r else q for i in range(n)]


def scaled_layer(in_dim: int, width: int) -> nn.Linear:
    """The layer whose output the scales multiply: weights and biases uniform on [-1, 1]."""
    layer = nn.Linear(in_dim, width)
    nn.init.uniform_(layer.weight, -1.0, 1.0)
    nn.init.uniform_(layer.bias, -1.0, 1.0)
    return layer


class MscaleScaled(nn.Module):
    """Compact-support MscaleDNN: first hidden layer z = K ⊙ (W0 x_hat + b0), then
    (depth - 1) ordinary hidden layers and a linear output."""

    def __init__(self, cfg: ModelConfig, inputs: InputMap, out_dim: int):
        super().__init__()
        self.norm = inputs
        scales = resolve_scales(cfg)
        hidden, init = hidden_widths(cfg), cfg.init
        width = hidden[0]
        # not a rule of config.validate: checked here only
        if width < len(scales):
            raise ConfigError(
                f"model: the first hidden layer ({width} neurons) must have at least one per scale "
                f"({len(scales)} scales) for model.structure=scaled"
            )
        self.register_buffer("scales", torch.tensor(scales, dtype=torch.get_default_dtype()))
        # K: neuron j of group i gets a_i
        k = torch.cat([torch.full((m,), a) for a, m in zip(scales, group_sizes(width, len(scales)))])
        self.register_buffer("K", k.to(torch.get_default_dtype()))

        self.first = scaled_layer(self.norm.width, width)  # holds W0 and b0
        act = activation_factory(cfg)
        self.act = act(width)
        # the rest: (depth - 1) hidden layers + linear output
        if len(hidden) > 1:
            self.rest = fully_connected(width, hidden[1:], out_dim, act, init)
        else:
            self.rest = nn.Linear(width, out_dim)
            init_linear(self.rest, init)

    def first_preactivation(self, x: torch.Tensor) -> torch.Tensor:
        """z = K ⊙ (W0 x_hat + b0) for physical inputs x."""
        return self.K * self.first(self.norm(x))  # K ⊙ (W0 x_hat + b0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rest(self.act(self.first_preactivation(x)))

    def jet(self, jet: Jet) -> Jet:
        z = propagate(self.first, propagate(self.norm, jet)).map(lambda s: s * self.K)  # K ⊙ every stream
        return propagate(self.rest, propagate(self.act, z))


class MscaleSubnets(nn.Module):
    """f(x) = sum_i g_i(a_i (W_i x_hat + b_i)), each sub-network an MLP of width max(1, width // N)
    and the same depth whose first layer (W_i, b_i) is scaled by a_i."""

    def __init__(self, cfg: ModelConfig, inputs: InputMap, out_dim: int):
        super().__init__()
        self.norm = inputs
        scales = resolve_scales(cfg)
        self.register_buffer("scales", torch.tensor(scales, dtype=torch.get_default_dtype()))
        sub_hidden = [max(1, w // len(scales)) for w in hidden_widths(cfg)]
        self.subnets = nn.ModuleList(
            fully_connected(self.norm.width, sub_hidden, out_dim, activation_factory(cfg), cfg.init) for _ in scales
        )
        for f in self.subnets:
            f[0] = scaled_layer(self.norm.width, sub_hidden[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_hat = self.norm(x)
        # sum_i g_i(a_i (W_i x_hat + b_i)): f[0] is the scaled layer, f[1:] the rest
        return torch.stack([f[1:](a * f[0](x_hat)) for a, f in zip(self.scales, self.subnets)]).sum(dim=0)

    def jet(self, jet: Jet) -> Jet:
        x_hat = propagate(self.norm, jet)
        out = None
        for a, f in zip(self.scales, self.subnets):  # the sum of g_i(a_i (W_i x_hat + b_i)) term by term
            y = propagate(f[1:], propagate(f[0], x_hat).map(lambda s, a=a: a * s))
            out = y if out is None else out + y
        return out


def build_mscale(cfg: ModelConfig, inputs: InputMap, out_dim: int) -> nn.Module:
    build = {MscaleStructure.scaled: MscaleScaled, MscaleStructure.subnets: MscaleSubnets}[cfg.structure]
    return build(cfg, inputs, out_dim)
