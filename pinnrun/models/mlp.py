"""Plain fully connected network, the modified MLP, and the weight initialisation every model
shares. Every model starts with an :class:`~pinnrun.models.embeddings.InputMap` (normalisation to
[-1, 1] and the embeddings) that :func:`~pinnrun.models.build_model` builds."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from pinnrun.config import EncoderBias, Init, ModelConfig
from pinnrun.derivatives import Jet
from pinnrun.models.activations import activation_factory
from pinnrun.models.embeddings import InputMap
from pinnrun.models.taylor import gate, propagate

#: weight initialisations by name (the bias starts at zero)
INITS: dict[Init, Callable[[torch.Tensor], object]] = {
    Init.xavier_normal: nn.init.xavier_normal_,  # N(0, s^2), s = sqrt(2 / (fan_in + fan_out))
    Init.xavier_uniform: nn.init.xavier_uniform_,  # U(-b, b), b = sqrt(6 / (fan_in + fan_out))
    Init.kaiming_normal: lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),  # s = sqrt(2 / fan_in)
    Init.kaiming_uniform: lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),  # b = sqrt(6 / fan_in)
}


def init_linear(layer: nn.Linear, init: Init) -> None:
    """Initialise ``layer.weight`` by ``init``; bias zero."""
    INITS[init](layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def hidden_widths(cfg: ModelConfig) -> list[int]:
    """The hidden-layer widths: ``cfg.widths``, or ``cfg.depth`` layers of ``cfg.width``."""
    return list(cfg.widths) if cfg.widths is not None else [cfg.width] * cfg.depth


def fully_connected(
    in_dim: int, hidden: Sequence[int], out_dim: int, activation: Callable[[int], nn.Module], init: Init
) -> nn.Sequential:
    """in_dim -> hidden[0] -> ... -> hidden[-1] (``activation(width)`` after each) -> out_dim (linear)."""
    layers: list[nn.Module] = []
    fan_in = in_dim
    for width in hidden:
        lin = nn.Linear(fan_in, width)
        init_linear(lin, init)
        layers += [lin, activation(width)]  # h_{k+1} = sigma(W_k h_k + b_k)
        fan_in = width
    out = nn.Linear(fan_in, out_dim)  # y = W_L h_L + b_L
    init_linear(out, init)
    layers.append(out)
    return nn.Sequential(*layers)


class MLP(nn.Module):
    """u(x) = FCN(z), z = InputMap(x)."""

    def __init__(self, cfg: ModelConfig, inputs: InputMap, out_dim: int):
        super().__init__()
        self.norm = inputs
        self.net = fully_connected(inputs.width, hidden_widths(cfg), out_dim, activation_factory(cfg), cfg.init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(x))

    def jet(self, jet: Jet) -> Jet:
        return propagate(self.net, propagate(self.norm, jet))


class ModifiedMLP(nn.Module):
    """The modified fully connected network of Wang, Teng & Perdikaris (SIAM J. Sci. Comput. 43,
    2021, sec. 3.2, eqs. 42-46), as the authors' code computes it (GradientPathologiesPINNs,
    Helmholtz2D_model_tf.py, ``forward_pass`` of models M3/M4): two encoders of the normalised
    input x_hat, U = s(x_hat W_u + b_u) and V = s(x_hat W_v + b_v), and every hidden layer gated
    between them,

        Z_k = s(H_k W_k + b_k),   H_{k+1} = Z_k * U + (1 - Z_k) * V,   H_1 = x_hat,

    then the linear output layer. Every hidden layer has the encoders' width. The encoders'
    biases start as the code draws them, normal with the Xavier standard deviation of a
    1 x width matrix, sqrt(2 / (1 + width)), or at zero as in jaxpi's archs.py
    (``model.encoder_bias=zero``); all other biases at zero.
    """

    def __init__(self, cfg: ModelConfig, inputs: InputMap, out_dim: int):
        super().__init__()
        widths = hidden_widths(cfg)
        assert len(set(widths)) == 1, widths  # config.validate says so in one line
        width, act = widths[0], activation_factory(cfg)
        self.norm = inputs
        d = inputs.width
        self.enc_u, self.enc_v = nn.Linear(d, width), nn.Linear(d, width)
        for enc in (self.enc_u, self.enc_v):
            init_linear(enc, cfg.init)
            if cfg.encoder_bias is EncoderBias.random:
                nn.init.normal_(enc.bias, std=(2.0 / (1 + width)) ** 0.5)
        self.act_u, self.act_v = act(width), act(width)
        self.hidden = nn.ModuleList()
        self.acts = nn.ModuleList()
        fan_in = d
        for _ in widths:
            lin = nn.Linear(fan_in, width)
            init_linear(lin, cfg.init)
            self.hidden.append(lin)
            self.acts.append(act(width))
            fan_in = width
        self.out = nn.Linear(width, out_dim)
        init_linear(self.out, cfg.init)

    def weight_layers(self) -> list[nn.Linear]:
        """The layers whose weights the authors' grad-norm statistics take: the hidden and output
        layers, not the encoders (Helmholtz2D_model_tf.py loops over ``self.weights`` only)."""
        return [*self.hidden, self.out]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        u, v = self.act_u(self.enc_u(h)), self.act_v(self.enc_v(h))
        for lin, act in zip(self.hidden, self.acts):
            z = act(lin(h))
            h = v + z * (u - v)  # = z u + (1 - z) v
        return self.out(h)

    def jet(self, jet: Jet) -> Jet:
        h = propagate(self.norm, jet)
        u = propagate(self.act_u, propagate(self.enc_u, h))
        v = propagate(self.act_v, propagate(self.enc_v, h))
        for lin, act in zip(self.hidden, self.acts):
            h = gate(propagate(act, propagate(lin, h)), u, v)  # the Leibniz rule
        return propagate(self.out, h)
