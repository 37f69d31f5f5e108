"""Taylor mode through the networks: a :class:`~pinnrun.derivatives.Jet` of the inputs carried
layer by layer to the jet of the outputs (:func:`propagate`), for the compiled training step.

Every pinnrun layer and model gives its own jet beside its forward, ``jet(self, jet) -> Jet``
(the input map and the MscaleDNN scales multiply the streams, a gate combines them by the
Leibniz rule, ...): a new layer needs only its own ``jet`` method. :func:`propagate` calls it,
and carries torch's own modules, which cannot have one: a linear layer maps every stream (the
bias only the value), a Sequential each layer in turn, and each elementwise activation s
supplies s, s', ..., s^(n) at the pre-activations (:func:`activation_derivatives`): in closed
form for tanh, otherwise by nested forward-mode derivatives of the elementwise function
(torch.func.jvp with a tangent of ones). This module knows no pinnrun model class.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import jvp

from pinnrun.derivatives import Jet

#: torch's elementwise activations (those of ACTIVATIONS that have no ``jet`` of their own)
ELEMENTWISE = (nn.Tanh, nn.Sigmoid, nn.ReLU, nn.Softplus, nn.GELU, nn.SiLU)


def activation_derivatives(act: nn.Module, a: torch.Tensor, n: int) -> list[torch.Tensor]:
    """[s(a), s'(a), ..., s^(n)(a)] for the elementwise activation ``act``: its own
    ``derivatives(a, n)`` if it has them (sin: in closed form)."""
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
    if hasattr(act, "derivatives"):
        return act.derivatives(a, n)
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


def gate(z: Jet, u: Jet, v: Jet) -> Jet:
    """The jet of z * U + (1 - z) * V = V + z * (U - V)."""
    return v + z * (u - v)


def propagate(module: nn.Module, jet: Jet) -> Jet:
    """The jet of ``module``'s output, given the jet of its input: ``module.jet(jet)``, or torch's
    own Linear, Sequential and elementwise activations."""
    if hasattr(module, "jet"):
        return module.jet(jet)
    if isinstance(module, nn.Linear):  # W a + b for the value, W a_S for each partial
        w = module.weight
        return jet.map(lambda s: s @ w.T, lambda s: torch.nn.functional.linear(s, w, module.bias))
    if isinstance(module, nn.Sequential):
        for m in module:
            jet = propagate(m, jet)
        return jet
    if not isinstance(module, ELEMENTWISE):
        raise TypeError(f"no Taylor mode for {type(module).__name__}: give it a jet method")
    return jet.apply(activation_derivatives(module, jet.value, jet.order))


__all__ = ["activation_derivatives", "gate", "propagate", "sin_cos"]
