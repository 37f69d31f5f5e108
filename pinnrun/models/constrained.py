"""Hard constraints: a network whose output satisfies some conditions by construction.

    u(x) = A(x) + B(x) * N(x),

with N the wrapped network and A, B functions of the input points only, (n, d) -> (n, m): A
meets the conditions' data, B vanishes where they are imposed, so u meets them for every N
(Lagaris, Likas & Fotiadis 1998, "Artificial neural networks for solving ordinary and partial
differential equations", IEEE Trans. Neural Netw. 9(5); Lu, Pestourie, Yao, Wang, Verdugo &
Johnson 2021, "Physics-informed neural networks with hard constraints for inverse design", SIAM
J. Sci. Comput. 43(6)). The equation supplies A and B
(:meth:`pinnrun.problems.Problem.hard_constraint`); the model never knows which equation it is.

The wrapper adds no parameters: its parameters are the inner network's, under ``net.``.
Taylor mode (:meth:`HardConstrained.jet`) takes the jets of A and B by nested forward-mode
derivatives (:meth:`pinnrun.derivatives.Jet.of`) and combines them with the network's by the
Leibniz rule.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from pinnrun.derivatives import Jet
from pinnrun.models.taylor import propagate

PointFunction = Callable[[torch.Tensor], torch.Tensor]  # points (n, d) -> (n, m)


class HardConstrained(nn.Module):
    """``u = particular(x) + factor(x) * net(x)`` (A + B N, elementwise per output)."""

    def __init__(self, net: nn.Module, particular: PointFunction, factor: PointFunction) -> None:
        super().__init__()
        self.net = net
        self.particular, self.factor = particular, factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.particular(x) + self.factor(x) * self.net(x)

    def jet(self, jet: Jet) -> Jet:
        """A + B N, ``jet`` the inputs' (the outermost module)."""
        keys = tuple(jet.streams)
        a, b = Jet.of(self.particular, jet.value, keys), Jet.of(self.factor, jet.value, keys)
        return a + b * propagate(self.net, jet)


__all__ = ["HardConstrained"]
