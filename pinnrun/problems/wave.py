"""1D wave equation (Wang, Yu & Perdikaris 2022, sec. 7.3).

    u_tt = c^2 u_xx,   x in [0, 1],  t in [0, 1],  c = 2
    u(t, 0) = u(t, 1) = 0,   u(0, x) = sin(pi x) + a sin(4 pi x),   u_t(0, x) = 0,   a = 0.5

Exact solution: u = sin(pi x) cos(c pi t) + a sin(4 pi x) cos(4 c pi t).
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class Wave(Problem):
    variables = ("t", "x")
    outputs = ("u",)
    fields = ("u",)
    params = {"c": 2.0, "a": 0.5}

    def conditions(self):
        return {
            "initial": Condition(("u", "u_t"), self.initial, fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u",), self.boundary, boundary=("x",)),
            "residual": Condition(("u",), self.residual),
        }

    def exact(self, x):
        c, a, pi = self.p["c"], self.p["a"], math.pi
        t, x = x["t"], x["x"]
        return {"u": torch.sin(pi * x) * torch.cos(c * pi * t) + a * torch.sin(4 * pi * x) * torch.cos(4 * c * pi * t)}

    def initial(self, d):
        return {**self.misfit(d, "u"), "u_t": d["u_t"]}

    def boundary(self, d):
        return {"u": d["u"]}

    def residual(self, d):
        return {"u": d["u_tt"] - self.p["c"] ** 2 * d["u_xx"]}


PROBLEM = Wave
