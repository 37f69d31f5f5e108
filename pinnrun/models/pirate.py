"""PirateNet (Wang, Li, Chen & Perdikaris 2024, "PirateNets: Physics-informed deep learning with
residual adaptive networks", JMLR 25; sec. 4, eqs. 4.1-4.8), as the authors' jaxpi code (branch
``pirate``, archs.py ``PirateNet`` and ``PIModifiedBottleneck``) computes it.

With z = InputMap(x) (the embeddings) and two encoders U = s(z W_u + b_u), V = s(z W_v + b_v),
each of the L blocks maps x (x_0 = z) to

    f = s(x W_1 + b_1),  z1 = f * U + (1 - f) * V,
    g = s(z1 W_2 + b_2), z2 = g * U + (1 - g) * V,
    h = s(z2 W_3 + b_3)                      (back to z's width),
    x <- alpha h + (1 - alpha) x,

with a trainable gate alpha per block starting at ``model.alpha`` (0: every block the identity,
so the network starts as a linear model of the embeddings), then the linear output layer.

Physics-informed initialisation (``model.pi_init``, sec. 4.2): the output layer starts as the
least-squares fit of the initial condition on the last features, min_W |Phi W - u_0|, at the
points where the fit is asked (:func:`fit_output`). It is then a plain kernel, without bias and
never factorised, as in jaxpi (archs.py, ``pi_init``); without ``pi_init`` it is a dense layer
like the others (bias, factorisation where ``model.factorize``).
"""

from __future__ import annotations

import torch
from torch import nn

from pinnrun.config import ModelConfig
from pinnrun.derivatives import Jet
from pinnrun.models.activations import activation_factory
from pinnrun.models.embeddings import InputMap, Kernel, set_weight
from pinnrun.models.mlp import hidden_widths, init_linear
from pinnrun.models.taylor import gate, propagate


class PirateBlock(nn.Module):
    """One adaptive residual block: three dense layers, two gated by U and V, and the gate alpha."""

    def __init__(self, in_dim: int, width: int, act, init, alpha: float):
        super().__init__()
        self.dense = nn.ModuleList([nn.Linear(in_dim, width), nn.Linear(width, width), nn.Linear(width, in_dim)])
        for lin in self.dense:
            init_linear(lin, init)
        self.acts = nn.ModuleList([act(width), act(width), act(in_dim)])
        self.alpha = nn.Parameter(torch.tensor(float(alpha)))


class PirateNet(nn.Module):
    """``model.depth`` blocks (or one per ``model.widths`` entry, all equal) of width ``model.width``
    after the input embeddings."""

    def __init__(self, cfg: ModelConfig, inputs: InputMap, out_dim: int):
        super().__init__()
        widths = hidden_widths(cfg)  # one width (config.validate), one block per entry
        width = widths[0]
        act = activation_factory(cfg)
        self.norm = inputs
        d = inputs.width
        self.enc_u, self.enc_v = nn.Linear(d, width), nn.Linear(d, width)
        for enc in (self.enc_u, self.enc_v):
            init_linear(enc, cfg.init)
        self.act_u, self.act_v = act(width), act(width)
        self.blocks = nn.ModuleList(PirateBlock(d, width, act, cfg.init, cfg.alpha) for _ in widths)
        self.out = Kernel(d, out_dim) if cfg.pi_init else nn.Linear(d, out_dim)
        init_linear(self.out, cfg.init)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last blocks' output Phi(x), what the output layer maps."""
        h = self.norm(x)
        u, v = self.act_u(self.enc_u(h)), self.act_v(self.enc_v(h))
        for b in self.blocks:
            z = h
            for i, (lin, act) in enumerate(zip(b.dense, b.acts)):
                z = act(lin(z))
                if i < 2:
                    z = v + z * (u - v)  # = z U + (1 - z) V
            h = b.alpha * z + (1 - b.alpha) * h
        return h

    def features_jet(self, jet: Jet) -> Jet:
        """The jet of :meth:`features`."""
        h = propagate(self.norm, jet)
        u = propagate(self.act_u, propagate(self.enc_u, h))
        v = propagate(self.act_v, propagate(self.enc_v, h))
        for b in self.blocks:
            z = h
            for i, (lin, act) in enumerate(zip(b.dense, b.acts)):
                z = propagate(act, propagate(lin, z))
                if i < 2:
                    z = gate(z, u, v)
            h = z.map(lambda s, a=b.alpha: a * s) + h.map(lambda s, a=b.alpha: (1 - a) * s)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x))

    def jet(self, jet: Jet) -> Jet:
        return propagate(self.out, self.features_jet(jet))


def fit_output(model: PirateNet, points: torch.Tensor, values: torch.Tensor) -> float:
    """The output layer made the least-squares fit of ``values`` (n, outputs) at ``points`` on the
    features (a kernel without bias, as the authors' code fits it); returns the fit's relative
    residual |Phi W - u| / |u|."""
    with torch.no_grad():
        phi = model.features(points).double()
        target = values.to(phi)
        w = torch.linalg.lstsq(phi, target, driver="gelsd").solution  # (features, outputs)
        set_weight(model.out, w.T.to(points.dtype))
        if model.out.bias is not None:
            model.out.bias.zero_()
        return float(torch.linalg.norm(phi @ w - target) / torch.linalg.norm(target).clamp_min(1e-300))


__all__ = ["PirateBlock", "PirateNet", "fit_output"]
