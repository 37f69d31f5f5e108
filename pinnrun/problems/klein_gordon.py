"""Nonlinear Klein-Gordon equation (Wang, Teng & Perdikaris 2021, sec. 2.5).

    u_tt - u_xx + u^3 = f(t, x),   x in [0, 1],  t in [0, 1],
    initial u(0, x) = x, u_t(0, x) = 0; Dirichlet data at x = 0 and x = 1 from the exact solution,

with f chosen so that u = x cos(5 pi t) + (x t)^3 is the exact solution:
f = -25 pi^2 x cos(5 pi t) + 6 x^3 t - 6 x t^3 + u^3.
"""

from __future__ import annotations

import math

import torch

from pinnrun.problems import Condition, Problem


class KleinGordon(Problem):
    variables = ("t", "x")
    outputs = ("u",)
    fields = ("u",)

    def conditions(self):
        return {
            "initial": Condition(("u", "u_t"), self.initial, fixed={"t": self.domain["t"][0]}),
            "boundary": Condition(("u",), self.matches_exact(), boundary=("x",)),
            "residual": Condition(("u",), self.residual),
        }

    def exact(self, x):
        t, x = x["t"], x["x"]
        return {"u": x * torch.cos(5 * math.pi * t) + (x * t) ** 3}

    def initial(self, d):
        t, x = d.input("t"), d.input("x")
        u_t = -5 * math.pi * x * torch.sin(5 * math.pi * t) + 3 * x**3 * t**2
        return {**self.misfit(d, "u"), "u_t": d["u_t"] - u_t}

    def residual(self, d):
        t, x = d.input("t"), d.input("x")
        ue = self.exact({"t": t, "x": x})["u"]
        f = -25 * math.pi**2 * x * torch.cos(5 * math.pi * t) + 6 * x**3 * t - 6 * x * t**3 + ue**3
        return {"u": d["u_tt"] - d["u_xx"] + d["u"] ** 3 - f}


PROBLEM = KleinGordon
