"""1D Poisson equation with a two-scale solution (the frequency-principle test case).

    -u'' = f(x),   x in [0, 1],   u(0) = u(1) = 0,
    u = sin(k1 pi x) + a sin(k2 pi x),   k1 = 2, k2 = 50, a = 0.1,
    f = (k1 pi)^2 sin(k1 pi x) + a (k2 pi)^2 sin(k2 pi x).

A plain network fits the low frequency quickly and the high one slowly; a
multiscale network (model=mscale) is meant to fit both.
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class PoissonMultiscale(Problem):
    variables = ("x",)
    outputs = ("u",)
    fields = ("u",)
    params = {"k1": 2.0, "k2": 50.0, "a": 0.1}
    grid_points = 2001

    def conditions(self):
        return {
            "boundary": Condition(("u",), self.matches_exact(), boundary=("x",)),
            "residual": Condition(("u",), self.residual),
        }

    def exact(self, x):
        k1, k2, a = self.p["k1"] * math.pi, self.p["k2"] * math.pi, self.p["a"]
        return {"u": torch.sin(k1 * x["x"]) + a * torch.sin(k2 * x["x"])}

    def residual(self, d):
        k1, k2, a, x = self.p["k1"] * math.pi, self.p["k2"] * math.pi, self.p["a"], d.input("x")
        f = k1**2 * torch.sin(k1 * x) + a * k2**2 * torch.sin(k2 * x)
        return {"u": -d["u_xx"] - f}


PROBLEM = PoissonMultiscale
