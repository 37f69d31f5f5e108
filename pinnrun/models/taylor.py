"""Taylor mode through the networks: a :class:`~pinnrun.derivatives.Jet` of the inputs carried
layer by layer to the jet of the outputs (:func:`propagate`), for the compiled training step.

Linear layers map every stream (the bias only the value), the input normalisation and the
MscaleDNN scales multiply them, and each activation s supplies s, s', ..., s^(n) at the
pre-activations: in closed form for tanh and sin, otherwise by nested forward-mode derivatives
of the elementwise function (torch.func.jvp with a tangent of ones).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import jvp

from pinnrun.derivatives import Jet
from pinnrun.models.activations import ACTIVATIONS, AdaptiveActivation, Sin
from pinnrun.models.constrained import HardConstrained
from pinnrun.models.embeddings import FactorizedLinear, InputMap, Normalize
from pinnrun.models.mlp import MLP, ModifiedMLP
from pinnrun.models.mscale import MscaleScaled, MscaleSubnets
from pinnrun.models.pirate import PirateNet

ELEMENTWISE = tuple({type(make()) for make in ACTIVATIONS.values()})


def activation_derivatives(act: nn.Module, a: torch.Tensor, n: int) -> list[torch.Tensor]:
    """[s(a), s'(a), ..., s^(n)(a)] for the elementwise activation ``act``."""
    if isinstance(act, nn.Tanh):
        t = torch.tanh(a)
        out = [t]
        if n >= 1:
            d1 = 1 - t * t
            out.append(d1)
        if n >= 2:
            out.append(-2 * t * d1)  # s'' = -2 t s'
        if n >= 3:
            out.append(-2 * (d1 * d1 + t * out[2]))  # s''' = -2 (s'^2 + t s'')
        if n >= 4:
            out.append(-2 * (3 * d1 * out[2] + t * out[3]))  # s'''' = -2 (3 s' s'' + t s''')
        return out[: n + 1]
    if isinstance(act, Sin):
        s, c = torch.sin(a), torch.cos(a)
        return [(s, c, -s, -c)[k % 4] for k in range(n + 1)]
    fns = [act]
    for _ in range(n):
        fns.append(_derivative(fns[-1]))
    return [f(a) for f in fns]


def _derivative(f):
    """x -> f'(x) for an elementwise f."""
    return lambda x: jvp(f, (x,), (torch.ones_like(x),))[1]


def sin_cos(jet: Jet) -> tuple[Jet, Jet]:
    """The jets of sin(a) and cos(a)."""
    s, c = torch.sin(jet.value), torch.cos(jet.value)
    n = jet.order
    sin = jet.apply([(s, c, -s, -c)[k % 4] for k in range(n + 1)])
    return sin, jet.apply([(c, -s, -c, s)[k % 4] for k in range(n + 1)])


def embed(module: InputMap, jet: Jet) -> Jet:
    """The jet of :meth:`InputMap.embed` (periodic embedding, then Fourier features)."""
    if module.periodic or module.learned:
        angles = []
        if module.periodic:
            angles.append(jet.map(lambda s: math.pi * s[..., module.periodic]))
        if module.learned:  # w (c1 x_hat + c0): c0 in the value only
            c1, c0 = (c.to(jet.value.dtype) for c in module.half_widths())
            w = module.omega
            angles.append(
                jet.map(lambda s: w * c1 * s[..., module.learned], lambda s: w * (c1 * s[..., module.learned] + c0))
            )
        sin, cos = sin_cos(Jet.cat(angles) if len(angles) > 1 else angles[0])
        jet = Jet.cat([jet.map(lambda s: s[..., module.plain]), cos, sin])
    if module.fourier is not None:
        sin, cos = sin_cos(jet.map(lambda s: s @ module.fourier))
        jet = Jet.cat([cos, sin])
    return jet


def gate(z: Jet, u: Jet, v: Jet) -> Jet:
    """The jet of z * U + (1 - z) * V = V + z * (U - V)."""
    return v + z * (u - v)


def propagate(module: nn.Module, jet: Jet) -> Jet:
    """The jet of ``module``'s output, given the jet of its input."""
    if isinstance(module, (nn.Linear, FactorizedLinear)):  # W a + b for the value, W a_S for each partial
        w = module.weight
        return jet.map(lambda s: s @ w.T, lambda s: torch.nn.functional.linear(s, w, module.bias))
    if isinstance(module, nn.Sequential):
        for m in module:
            jet = propagate(m, jet)
        return jet
    if isinstance(module, Normalize):
        c = (module.gain * 2.0 / (module.upper - module.lower)).to(jet.value.dtype)  # x_hat = c (x - lower) - gain
        x_hat = jet.map(lambda s: s * c, lambda s: Normalize.forward(module, s))
        return embed(module, x_hat) if isinstance(module, InputMap) else x_hat
    if isinstance(module, AdaptiveActivation):
        n_a = module.scale * module.slope
        return propagate(module.act, jet.map(lambda s: s * n_a))
    if isinstance(module, MLP):
        return propagate(module.net, propagate(module.norm, jet))
    if isinstance(module, ModifiedMLP):
        h = propagate(module.norm, jet)
        u = propagate(module.act_u, propagate(module.enc_u, h))
        v = propagate(module.act_v, propagate(module.enc_v, h))
        for lin, act in zip(module.hidden, module.acts):
            h = gate(propagate(act, propagate(lin, h)), u, v)
        return propagate(module.out, h)
    if isinstance(module, PirateNet):
        h = propagate(module.norm, jet)
        u = propagate(module.act_u, propagate(module.enc_u, h))
        v = propagate(module.act_v, propagate(module.enc_v, h))
        for b in module.blocks:
            z = h
            for i, (lin, act) in enumerate(zip(b.dense, b.acts)):
                z = propagate(act, propagate(lin, z))
                if i < 2:
                    z = gate(z, u, v)
            h = z.map(lambda s, a=b.alpha: a * s) + h.map(lambda s, a=b.alpha: (1 - a) * s)
        return propagate(module.out, h)
    if isinstance(module, HardConstrained):  # A + B N: the outermost module, ``jet`` the inputs' jet
        keys = tuple(jet.streams)
        a, b = Jet.of(module.particular, jet.value, keys), Jet.of(module.factor, jet.value, keys)
        return a + b * propagate(module.net, jet)
    if isinstance(module, MscaleScaled):
        z = propagate(module.first, propagate(module.norm, jet)).map(lambda s: s * module.K)
        return propagate(module.rest, propagate(module.act, z))
    if isinstance(module, MscaleSubnets):
        x_hat = propagate(module.norm, jet)
        out = None
        for a, f in zip(module.scales, module.subnets):
            y = propagate(f[1:], propagate(f[0], x_hat).map(lambda s, a=a: a * s))
            out = y if out is None else out + y
        return out
    if not isinstance(module, ELEMENTWISE):
        raise TypeError(f"no Taylor mode for {type(module).__name__}")
    return jet.apply(activation_derivatives(module, jet.value, jet.order))


__all__ = ["activation_derivatives", "propagate", "sin_cos"]
