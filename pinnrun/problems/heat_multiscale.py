"""1D heat equation whose solution mixes widely separated scales in x and t.

    u_t = kappa u_xx,   x in [0, 1],  t in [0, 1],   u(t, 0) = u(t, 1) = 0,
    u(0, x) = sin(pi x) + a sin(k pi x),
    u = exp(-kappa pi^2 t) sin(pi x) + a exp(-kappa (k pi)^2 t) sin(k pi x).

With k = 20 and kappa = 1 / (k pi)^2 the high-frequency mode decays by e^-1
over the run while the low one barely changes: frequency k in x against
time scales 1 and k^2 in t.
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class HeatMultiscale(Problem):
    variables = ("t", "x")
    outputs = ("u",)
    fields = ("u",)
    params = {"k": 20.0, "a": 1.0, "kappa": 1.0 / (20.0 * math.pi) ** 2}

    def conditions(self):
        return {
            "initial": Condition(("u",), self.matches_exact(), fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u",), self.matches_exact(), boundary=("x",)),
            "residual": Condition(("u",), self.residual),
        }

    def exact(self, x):
        k, a, kappa, pi = self.p["k"], self.p["a"], self.p["kappa"], math.pi
        t, x = x["t"], x["x"]
        return {
            "u": torch.exp(-kappa * pi**2 * t) * torch.sin(pi * x)
            + a * torch.exp(-kappa * (k * pi) ** 2 * t) * torch.sin(k * pi * x)
        }

    def residual(self, d):
        return {"u": d["u_t"] - self.p["kappa"] * d["u_xx"]}


PROBLEM = HeatMultiscale
