"""Learned inverse problems (Holl, Koltun & Thuerey, "Scale-invariant learning by physics
inversion", NeurIPS 2022): a network f maps an observed state y* to x with P(x) = y*, P a
differentiable simulator. :class:`Inversion` is what a problem module states; the two
problems of the paper are :mod:`pinnrun.sip.synthetic` and :mod:`pinnrun.sip.heat`, and
:mod:`pinnrun.sip.task` trains them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from pinnrun.problems import Problem


class Inversion:
    """A learned inverse problem.

    A module states the simulator ``simulate`` (P, batched: (n, x_dim) -> (n, y_dim)), a local
    inverse ``local_inverse(x, y, y_target)`` (an x_tilde with P(x_tilde) near y_target, from x
    with y = P(x)), and ``draw(n, generator)``: n states x* with their observations y* = P(x*).
    ``proxy`` is the norm of SIP's proxy loss for the problem ("l2" or "l1"; see
    :func:`pinnrun.sip.task.proxy_loss`).
    ``domain`` names the axes of the predictions file (problem-specific); the evaluated fields
    are x (against ``reference``: x*, or for a many-to-one P the solution nearest the
    prediction) and y (P(f(y*)) against y*).
    """

    variables: tuple[str, ...] = ()
    params: dict[str, Any] = {}
    x_dim: int = 0
    y_dim: int = 0
    fields = ("x", "y")
    proxy = "l2"
    primary_field = "x"

    def __init__(self, domain: Mapping[str, Sequence[float]], params: Mapping[str, Any] | None = None):
        Problem.check(self, domain, params)  # the checks of domain and params every equation gets
        self.domain = {v: (float(lo), float(hi)) for v, (lo, hi) in domain.items()}
        self.p = {**self.params, **(params or {})}

    def simulate(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def local_inverse(self, x: torch.Tensor, y: torch.Tensor, y_target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def draw(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(y*, x*), float64, each (n, dim)."""
        raise NotImplementedError

    def reference(self, x: torch.Tensor, y_star: torch.Tensor, x_star: torch.Tensor) -> torch.Tensor:
        """What a prediction x = f(y*) is measured against (default: the drawn x*)."""
        return x_star

    def input_bounds(self) -> tuple[list[float], list[float]]:
        """Bounds of y* for the network's input normalisation (default: y* as it is)."""
        return [-1.0] * self.y_dim, [1.0] * self.y_dim

    def axes(self, n: int) -> dict[str, np.ndarray]:
        """The predictions file's axes for n samples: sample index and component of x."""
        return {"sample": np.arange(n), "component": np.arange(self.x_dim)}


#: the norms of SIP's proxy loss
PROXIES = ("l2", "l1")

#: the built-in learned inverse problems: equation name -> "module:Class"
PROBLEMS = {"sip_synthetic": "pinnrun.sip.synthetic:SipSynthetic", "sip_heat": "pinnrun.sip.heat:SipHeat"}

__all__ = ["Inversion", "PROBLEMS", "PROXIES"]
